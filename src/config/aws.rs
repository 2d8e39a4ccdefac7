//! `aws:`: the accounts holding managed roles, the account where people's
//! IAM users live, and the template that names a person's IAM user.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::yaml;

use super::urls::endpoint_url;
use super::{Account, AwsConfig, Check, Level, Policy, RawAccount, RawAws, SpannedString, pos};

/// The section, checked field by field.
pub(super) fn aws(check: &mut Check, a: &RawAws) -> AwsConfig {
    let accounts = accounts(check, &a.accounts);
    let users_account = a.users_account.as_ref().map(|u| users_account(check, u));
    user_arn_template(check, a.user_arn_template.as_ref());
    if let Some(url) = &a.endpoint_url {
        endpoint_url(check, "aws.endpoint_url", url);
    }
    AwsConfig {
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.as_ref().map(|u| u.value.trim().to_string()),
        revoke_active_sessions: a.revoke_active_sessions,
        user_arn_template: a.user_arn_template.as_ref().map(|t| t.value.clone()),
        users_account,
        accounts,
        concurrency: a.concurrency.unwrap_or(8).clamp(1, 64),
        identity_center: a
            .identity_center
            .as_ref()
            .map(|ic| super::identity_center::identity_center(check, ic, a.region.as_deref())),
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
                write_role_arn: write_role_arn(check, alias, acct),
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
        // Nothing is written in the users account: activity is only read.
        write_role_arn: None,
    }
}

/// A write role is an IAM role in the account it writes in: a role in
/// another account would write somewhere else, or nowhere.
fn write_role_arn(check: &mut Check, alias: &str, account: &RawAccount) -> Option<String> {
    let written = account.write_role_arn.as_ref()?;
    let arn = written.value.trim();
    let in_account = crate::state::role_arn_key(arn)
        .is_some_and(|(id, name)| id == account.id.value.trim() && !name.is_empty());
    if !in_account {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                format!(
                    "aws.accounts.{alias}.write_role_arn `{}` is not an IAM role in account {}",
                    crate::hygiene::quote(arn),
                    account.id.value.trim()
                ),
            )
            .help("arn:aws:iam::ACCOUNT_ID:role/NAME, in the account it writes in"),
        );
        return None;
    }
    Some(arn.to_string())
}

/// In enforce mode every account should name a write role, so that the
/// credentials lapse reads with cannot change anything.
pub(super) fn write_roles_when_enforcing(
    check: &mut Check,
    mode: super::Mode,
    aws: Option<&super::raw::RawAws>,
) {
    let Some(aws) = aws else { return };
    if mode != super::Mode::Enforce {
        return;
    }
    for (alias, account) in &aws.accounts {
        if account.write_role_arn.is_none() {
            check.diags.push(
                Diagnostic::warning(
                    check.source,
                    pos(&account.id),
                    format!("account `{alias}` names no write_role_arn: lapse will revoke with the role it reads with"),
                )
                .help("give lapse a separate write role (write_role_arn) so that its read credentials cannot change anything"),
            );
        }
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

/// Observed inactivity is read from the IAM users in `aws.users_account`:
/// with the limit on, roles managed and no such account, it would silently
/// never apply.
pub(super) fn inactivity_is_observable(
    check: &mut Check,
    policy: &Policy,
    aws: Option<&AwsConfig>,
    levels: &BTreeMap<String, Level>,
) {
    let manages_roles = levels.values().any(|l| !l.aws_roles.is_empty());
    let has_users_account = aws.is_some_and(|a| a.users_account.is_some());
    let Some(limit) = policy.inactivity_limit_days else {
        return;
    };
    if !manages_roles || has_users_account {
        return;
    }
    check.diags.push(
        Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "aws"),
            format!(
                "policy.inactivity_limit_days is {limit}, but there is no aws.users_account to observe inactivity in"
            ),
        )
        .help(
            "add aws.users_account: {id: \"ACCOUNT_ID\"} (where people's IAM users live), or set policy.inactivity_limit_days: null to turn observed inactivity off",
        ),
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
    fn inactivity_is_observable_table() {
        const UNOBSERVABLE: &str = "policy.inactivity_limit_days is 42, but there is no aws.users_account to observe inactivity in";
        let role = "access_levels: {ops: {aws_roles: [prod/ops]}}\n";
        let team = "access_levels: {ops: {github_teams: [ops]}}\ngithub: {org: acme}\n";
        let accounts = "aws:\n  accounts: {prod: {id: \"210987654321\"}}\n";
        let users = "  users_account: {id: \"111111111111\"}\n";
        let off = "policy: {inactivity_limit_days: null}\n";
        for (text, told) in [
            // The default limit is on: with roles, it needs the users account.
            (format!("{role}{accounts}"), vec![UNOBSERVABLE]),
            (format!("{role}{accounts}{users}"), vec![]),
            (format!("{off}{role}{accounts}"), vec![]),
            // Nothing to observe when no role is managed.
            (team.to_string(), vec![]),
            (format!("{team}{accounts}"), vec![]),
        ] {
            let source = source(&format!("roster: users.yaml\n{text}"));
            let told_now: Vec<String> =
                match super::super::from_source(&source, Path::new("lapse.yaml")) {
                    Ok(_) => vec![],
                    Err(d) => d.0.iter().map(|d| d.message.clone()).collect(),
                };
            assert_eq!(told_now, told, "{text}");
        }
    }

    #[test]
    fn unobservable_inactivity_is_reported_at_the_aws_section() {
        let source = source(
            "roster: users.yaml\naccess_levels: {ops: {aws_roles: [prod/ops]}}\naws:\n  accounts: {prod: {id: \"210987654321\"}}\n",
        );
        let err = super::super::from_source(&source, Path::new("lapse.yaml")).unwrap_err();
        assert_eq!((err.0[0].pos.line, err.0[0].pos.column), (3, 1));
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
