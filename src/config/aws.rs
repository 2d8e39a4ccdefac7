//! `aws:`: the accounts holding managed roles, the account where people's
//! IAM users live, and the template that names a person's IAM user.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;

use super::{Account, AwsConfig, Check, RawAccount, RawAws, SpannedString, pos};

/// The section, checked field by field.
pub(super) fn aws(check: &mut Check, a: &RawAws) -> AwsConfig {
    let accounts = accounts(check, &a.accounts);
    let users_account = a.users_account.as_ref().map(|u| users_account(check, u));
    user_arn_template(check, a.user_arn_template.as_ref());
    AwsConfig {
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
        revoke_active_sessions: a.revoke_active_sessions,
        user_arn_template: a.user_arn_template.as_ref().map(|t| t.value.clone()),
        users_account,
        accounts,
        concurrency: a.concurrency.unwrap_or(8).clamp(1, 64),
    }
}

/// Twelve digits, leading zeros kept.
fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The accounts by alias, each with a real account ID.
fn accounts(check: &mut Check, raw: &BTreeMap<String, RawAccount>) -> BTreeMap<String, Account> {
    let mut accounts = BTreeMap::new();
    for (alias, acct) in raw {
        if !is_account_id(&acct.id.value) {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(&acct.id),
                    format!(
                        "account `{alias}`: `{}` is not a 12-digit AWS account ID",
                        acct.id.value
                    ),
                )
                .help("quote the ID so YAML keeps its leading zeros: id: \"012345678901\""),
            );
        }
        accounts.insert(
            alias.clone(),
            Account {
                alias: alias.clone(),
                id: acct.id.value.clone(),
                assume_role_arn: acct.assume_role_arn.clone(),
            },
        );
    }
    accounts
}

/// The account where people's IAM users live, under the alias `users`.
fn users_account(check: &mut Check, u: &RawAccount) -> Account {
    if !is_account_id(&u.id.value) {
        check.diags.push(Diagnostic::error(
            check.source,
            pos(&u.id),
            format!(
                "users_account: `{}` is not a 12-digit AWS account ID",
                u.id.value
            ),
        ));
    }
    Account {
        alias: "users".into(),
        id: u.id.value.clone(),
        assume_role_arn: u.assume_role_arn.clone(),
    }
}

/// A template must make an ARN, and one that differs from person to person.
fn user_arn_template(check: &mut Check, template: Option<&SpannedString>) {
    if let Some(t) = template
        && (!t.value.starts_with("arn:aws")
            || !(t.value.contains("{email}") || t.value.contains("{github_username}")))
    {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(t),
                "aws.user_arn_template must be an IAM user ARN containing {email} or {github_username}",
            )
            .help("e.g. \"arn:aws:iam::111111111111:user/{email}\""),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, section, source, spanned};
    use super::*;

    #[test]
    fn is_account_id_table() {
        for (text, ok) in [
            ("012345678901", true),
            ("21098765432", false),
            ("2109876543210", false),
            ("21098765432x", false),
            ("", false),
        ] {
            assert_eq!(is_account_id(text), ok, "{text:?}");
        }
    }

    #[test]
    fn accounts_table() {
        for (yaml, told) in [
            ("{}", vec![]),
            (
                "{production: {id: \"012345678901\", assume_role_arn: \"arn:aws:iam::012345678901:role/lapse\"}}",
                vec![],
            ),
            (
                "{production: {id: \"21098765432\"}, staging: {id: \"123456789012\"}}",
                vec!["error: account `production`: `21098765432` is not a 12-digit AWS account ID"],
            ),
            (
                "{a: {id: \"1\"}, b: {id: \"2\"}}",
                vec![
                    "error: account `a`: `1` is not a 12-digit AWS account ID",
                    "error: account `b`: `2` is not a 12-digit AWS account ID",
                ],
            ),
        ] {
            let source = source(yaml);
            let raw: BTreeMap<String, RawAccount> = section(&source);
            let mut run = check(&source);
            let got = accounts(&mut run, &raw);
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                raw.keys().collect::<Vec<_>>()
            );
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn users_account_table() {
        for (yaml, told) in [
            ("{id: \"111111111111\"}", vec![]),
            (
                "{id: \"11111111111\"}",
                vec!["error: users_account: `11111111111` is not a 12-digit AWS account ID"],
            ),
        ] {
            let source = source(yaml);
            let raw: RawAccount = section(&source);
            let mut run = check(&source);
            let got = users_account(&mut run, &raw);
            assert_eq!(got.alias.as_str(), "users", "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn user_arn_template_table() {
        const WANTED: &str = "error: aws.user_arn_template must be an IAM user ARN containing {email} or {github_username}";
        let source = source("");
        for (template, told) in [
            (None, vec![]),
            (Some("arn:aws:iam::111111111111:user/{email}"), vec![]),
            (
                Some("arn:aws:iam::111111111111:user/{github_username}"),
                vec![],
            ),
            (
                Some("arn:aws-us-gov:iam::111111111111:user/{email}"),
                vec![],
            ),
            (Some("arn:aws:iam::111111111111:user/jane"), vec![WANTED]),
            (Some("{email}"), vec![WANTED]),
            (Some("arn:aws:iam::111111111111:user/{login}"), vec![WANTED]),
        ] {
            let mut run = check(&source);
            let template = template.map(spanned);
            user_arn_template(&mut run, template.as_ref());
            assert_eq!(said(run), told, "{template:?}");
        }
    }
}
