//! `aws.identity_center:` and the levels' `aws_permission_sets` and
//! `identity_center_groups`: IAM Identity Center as a third system, its
//! permission sets resolved against the `aws` accounts.

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::hygiene::quote;

use super::raw::RawIdentityCenter;
use super::{Account, Check, IdentityCenterConfig, PermissionSetRef, SpannedString, pos};

/// The section, checked field by field.
pub(super) fn identity_center(
    check: &mut Check,
    raw: &RawIdentityCenter,
    aws_region: Option<&str>,
) -> IdentityCenterConfig {
    report(
        check,
        &raw.instance_arn,
        instance_arn(&raw.instance_arn.value),
    );
    report(
        check,
        &raw.identity_store_id,
        identity_store_id(&raw.identity_store_id.value),
    );
    for (key, role) in [
        ("assume_role_arn", &raw.assume_role_arn),
        ("write_role_arn", &raw.write_role_arn),
    ] {
        if let Some(role) = role {
            report(check, role, role_arn(key, &role.value));
        }
    }
    report(
        check,
        &raw.user_name,
        user_name_template(&raw.user_name.value),
    );
    IdentityCenterConfig {
        instance_arn: raw.instance_arn.value.trim().to_string(),
        identity_store_id: raw.identity_store_id.value.trim().to_string(),
        region: raw
            .region
            .clone()
            .or_else(|| aws_region.map(str::to_string)),
        assume_role_arn: raw.assume_role_arn.as_ref().map(|r| r.value.trim().into()),
        write_role_arn: raw.write_role_arn.as_ref().map(|r| r.value.trim().into()),
        user_name: raw.user_name.value.clone(),
    }
}

/// A message and its help, for a value that breaks a rule.
type Problem = Option<(String, String)>;

fn report(check: &mut Check, at: &SpannedString, problem: Problem) {
    if let Some((message, help)) = problem {
        check
            .diags
            .push(Diagnostic::error(check.source, pos(at), message).help(help));
    }
}

/// `arn:PARTITION:sso:::instance/ssoins-ID`, as ListInstances gives it.
fn instance_arn(text: &str) -> Problem {
    let id = text
        .trim()
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":sso:::instance/"))
        .filter(|(partition, _)| partition.starts_with("aws"))
        .map(|(_, id)| id);
    let well_formed = id.is_some_and(|id| {
        id.strip_prefix("ssoins-")
            .or_else(|| id.strip_prefix("ins-"))
            .is_some_and(|rest| {
                (16..=64).contains(&rest.len())
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            })
    });
    (!well_formed).then(|| {
        (
            format!(
                "aws.identity_center.instance_arn `{}` is not an Identity Center instance ARN",
                quote(text)
            ),
            "arn:aws:sso:::instance/ssoins-XXXXXXXXXXXXXXXX (aws sso-admin list-instances)".into(),
        )
    })
}

/// `d-` and ten lower-case letters or digits (AWS issues hexadecimal ones,
/// emulators any), or a UUID, as Identity Center names stores.
fn identity_store_id(text: &str) -> Problem {
    let text = text.trim();
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let short = text.strip_prefix("d-").is_some_and(|rest| {
        rest.len() == 10
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let groups: Vec<&str> = text.split('-').collect();
    let uuid = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && groups.iter().all(|g| hex(g));
    (!(short || uuid)).then(|| {
        (
            format!(
                "aws.identity_center.identity_store_id `{}` is not an identity store ID",
                quote(text)
            ),
            "d-XXXXXXXXXX (aws sso-admin list-instances shows it)".into(),
        )
    })
}

/// An IAM role lapse assumes: a role ARN, in whichever account administers
/// Identity Center.
fn role_arn(key: &str, text: &str) -> Problem {
    let ok = crate::state::role_arn_key(text.trim())
        .is_some_and(|(account, name)| account.len() == 12 && !name.is_empty());
    (!ok).then(|| {
        (
            format!(
                "aws.identity_center.{key} `{}` is not an IAM role ARN",
                quote(text)
            ),
            "arn:aws:iam::ACCOUNT_ID:role/NAME".into(),
        )
    })
}

/// A template must tell people apart, and name only what a roster entry has.
fn user_name_template(text: &str) -> Problem {
    let mut rest = text;
    let mut names_someone = false;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let placeholder = match after.find('}') {
            Some(close) => &after[..=close],
            None => after,
        };
        match placeholder {
            "{email}" | "{github_username}" => names_someone = true,
            other => {
                return Some((
                    format!(
                        "aws.identity_center.user_name: `{}` is not a placeholder lapse knows",
                        quote(other)
                    ),
                    "use {email} or {github_username}".into(),
                ));
            }
        }
        rest = &after[placeholder.len()..];
    }
    (!names_someone).then(|| {
        (
            "aws.identity_center.user_name must contain {email} or {github_username}".into(),
            "e.g. \"{email}\", the default".into(),
        )
    })
}

/// Permission sets a level gives, each `ACCOUNT/NAME` in a known account.
pub(super) fn permission_sets(
    check: &mut Check,
    written: &[SpannedString],
    accounts: Option<&BTreeMap<String, Account>>,
    has_identity_center: bool,
) -> Vec<PermissionSetRef> {
    let mut sets = Vec::new();
    for entry in written {
        if !has_identity_center {
            report(
                check,
                entry,
                Some(no_section("permission set", &entry.value)),
            );
            continue;
        }
        match permission_set(&entry.value, accounts) {
            Ok(set) => sets.push(set),
            Err(problem) => report(check, entry, Some(problem)),
        }
    }
    sets
}

/// Group display names a level gives membership of.
pub(super) fn groups(
    check: &mut Check,
    written: &[SpannedString],
    has_identity_center: bool,
) -> Vec<String> {
    let mut groups = Vec::new();
    for entry in written {
        if !has_identity_center {
            report(check, entry, Some(no_section("group", &entry.value)));
            continue;
        }
        match group_name(&entry.value) {
            None => groups.push(entry.value.clone()),
            problem => report(check, entry, problem),
        }
    }
    groups
}

fn no_section(what: &str, text: &str) -> (String, String) {
    (
        format!(
            "Identity Center {what} `{}` is named but there is no aws.identity_center section",
            quote(text)
        ),
        "add aws: {identity_center: {instance_arn: ..., identity_store_id: ...}}".into(),
    )
}

/// `ACCOUNT/PERMISSION_SET_NAME`, the account one of `aws.accounts`.
fn permission_set(
    text: &str,
    accounts: Option<&BTreeMap<String, Account>>,
) -> Result<PermissionSetRef, (String, String)> {
    let empty = BTreeMap::new();
    let accounts = accounts.unwrap_or(&empty);
    let known = || {
        let aliases: Vec<&str> = accounts.keys().map(String::as_str).collect();
        format!("known accounts: {}", aliases.join(", "))
    };
    let Some((alias, name)) = text.split_once('/') else {
        return Err((
            format!("`{}` is not ACCOUNT/PERMISSION_SET_NAME", quote(text)),
            known(),
        ));
    };
    let Some(account) = accounts.get(alias) else {
        return Err((
            format!(
                "permission set `{}`: no account `{}` in aws.accounts",
                quote(text),
                quote(alias)
            ),
            known(),
        ));
    };
    if !is_permission_set_name(name) {
        return Err((
            format!(
                "`{}`: `{}` is not a permission set name",
                quote(text),
                quote(name)
            ),
            "1 to 32 letters, digits and + = , . @ - _".into(),
        ));
    }
    Ok(PermissionSetRef {
        account_alias: alias.to_string(),
        account_id: account.id.clone(),
        name: name.to_string(),
    })
}

/// Identity Center's permission set name grammar: `[\w+=,.@-]{1,32}`.
fn is_permission_set_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// A group display name: 1 to 1024 characters, none of them control characters.
fn group_name(name: &str) -> Problem {
    let bad =
        name.trim().is_empty() || name.chars().count() > 1024 || name.chars().any(char::is_control);
    bad.then(|| {
        (
            format!("`{}` is not an Identity Center group name", quote(name)),
            "the group's display name, as the Identity Center console shows it".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source, spanned, spanned_list};
    use super::*;

    #[test]
    fn instance_arn_table() {
        for (text, ok) in [
            ("arn:aws:sso:::instance/ssoins-1234567890abcdef", true),
            (
                "arn:aws-us-gov:sso:::instance/ssoins-1234567890abcdef",
                true,
            ),
            ("arn:aws:sso:::instance/ssoins-123", false),
            ("arn:aws:sso:::instance/1234567890abcdef", false),
            ("arn:aws:iam:::instance/ssoins-1234567890abcdef", false),
            ("ssoins-1234567890abcdef", false),
            ("", false),
        ] {
            assert_eq!(instance_arn(text).is_none(), ok, "{text:?}");
        }
    }

    #[test]
    fn identity_store_id_table() {
        for (text, ok) in [
            ("d-1234567890", true),
            ("d-abcdef0123", true),
            ("d-123456789", false),
            ("d-123456789g", true),
            ("d-123456789G", false),
            ("12345678-1234-1234-1234-123456789012", true),
            ("12345678-1234-1234-1234-12345678901", false),
            ("", false),
        ] {
            assert_eq!(identity_store_id(text).is_none(), ok, "{text:?}");
        }
    }

    #[test]
    fn role_arn_table() {
        for (text, ok) in [
            ("arn:aws:iam::111111111111:role/lapse", true),
            ("arn:aws:iam::111111111111:role/ops/lapse", true),
            ("arn:aws:iam::111111111111:user/lapse", false),
            ("arn:aws:iam::1111:role/lapse", false),
            ("lapse", false),
        ] {
            assert_eq!(role_arn("write_role_arn", text).is_none(), ok, "{text:?}");
        }
    }

    #[test]
    fn user_name_template_table() {
        let unknown = |p: &str| {
            Some(format!(
                "aws.identity_center.user_name: `{p}` is not a placeholder lapse knows"
            ))
        };
        let nobody = Some(
            "aws.identity_center.user_name must contain {email} or {github_username}".to_string(),
        );
        for (text, told) in [
            ("{email}", None),
            ("{github_username}", None),
            ("{github_username}@example.org", None),
            ("jane", nobody.clone()),
            ("", nobody),
            ("{login}", unknown("{login}")),
            ("{email", unknown("{email")),
        ] {
            assert_eq!(user_name_template(text).map(|(m, _)| m), told, "{text:?}");
        }
    }

    fn accounts() -> BTreeMap<String, Account> {
        BTreeMap::from([(
            "production".to_string(),
            Account {
                alias: "production".into(),
                id: "210987654321".into(),
                assume_role_arn: None,
                write_role_arn: None,
            },
        )])
    }

    #[test]
    fn permission_set_table() {
        let accounts = accounts();
        let known = "known accounts: production".to_string();
        for (text, resolved) in [
            (
                "production/AdministratorAccess",
                Ok(PermissionSetRef {
                    account_alias: "production".into(),
                    account_id: "210987654321".into(),
                    name: "AdministratorAccess".into(),
                }),
            ),
            (
                "AdministratorAccess",
                Err((
                    "`AdministratorAccess` is not ACCOUNT/PERMISSION_SET_NAME".to_string(),
                    known.clone(),
                )),
            ),
            (
                "prod/AdministratorAccess",
                Err((
                    "permission set `prod/AdministratorAccess`: no account `prod` in aws.accounts"
                        .to_string(),
                    known,
                )),
            ),
            (
                "production/Admin Access",
                Err((
                    "`production/Admin Access`: `Admin Access` is not a permission set name"
                        .to_string(),
                    "1 to 32 letters, digits and + = , . @ - _".to_string(),
                )),
            ),
        ] {
            assert_eq!(permission_set(text, Some(&accounts)), resolved, "{text}");
        }
    }

    #[test]
    fn is_permission_set_name_table() {
        for (name, ok) in [
            ("AdministratorAccess", true),
            ("a+=,.@-_1", true),
            ("", false),
            ("a/b", false),
            ("x".repeat(33).as_str(), false),
        ] {
            assert_eq!(is_permission_set_name(name), ok, "{name:?}");
        }
    }

    #[test]
    fn entries_need_the_section() {
        let source = source("");
        let written = spanned_list("[production/Admin]");
        let mut run = check(&source);
        assert!(permission_sets(&mut run, &written, Some(&accounts()), false).is_empty());
        assert!(groups(&mut run, &spanned_list("[admins]"), false).is_empty());
        assert_eq!(
            said(run),
            vec![
                "error: Identity Center permission set `production/Admin` is named but there is no aws.identity_center section",
                "error: Identity Center group `admins` is named but there is no aws.identity_center section",
            ]
        );
    }

    #[test]
    fn groups_table() {
        let source = source("");
        for (yaml, kept, told) in [
            (
                "[admins, 'Prod Admins']",
                vec!["admins", "Prod Admins"],
                vec![],
            ),
            (
                "['', \"a\\u0007b\"]",
                vec![],
                vec![
                    "error: `` is not an Identity Center group name",
                    "error: `a\\u{7}b` is not an Identity Center group name",
                ],
            ),
        ] {
            let mut run = check(&source);
            assert_eq!(groups(&mut run, &spanned_list(yaml), true), kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn the_section_reports_each_field() {
        let source = source("");
        let raw = RawIdentityCenter {
            instance_arn: spanned("arn:aws:sso:::instance/nope"),
            identity_store_id: spanned("d-1"),
            region: None,
            assume_role_arn: Some(spanned("arn:aws:iam::111111111111:role/read")),
            write_role_arn: Some(spanned("write")),
            user_name: spanned("{email}"),
        };
        let mut run = check(&source);
        let got = identity_center(&mut run, &raw, Some("eu-west-2"));
        assert_eq!(got.region.as_deref(), Some("eu-west-2"));
        assert_eq!(
            said(run),
            vec![
                "error: aws.identity_center.instance_arn `arn:aws:sso:::instance/nope` is not an Identity Center instance ARN",
                "error: aws.identity_center.identity_store_id `d-1` is not an identity store ID",
                "error: aws.identity_center.write_role_arn `write` is not an IAM role ARN",
            ]
        );
    }
}
