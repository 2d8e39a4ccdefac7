//! `access_levels:`: what each level a roster may grant gives, as GitHub
//! team slugs and IAM roles resolved against the `aws` accounts.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Pos};
use crate::hygiene::quote;
use crate::yaml;

use super::{AwsConfig, Check, Level, RawLevel, RoleRef, SpannedString, pos};

/// The planner keeps a person's levels as one bit each in a `u128`.
const MAX_LEVELS: usize = 128;

/// Every level, checked in name order.
pub(super) fn levels(
    check: &mut Check,
    raw: &BTreeMap<String, Spanned<RawLevel>>,
    has_github: bool,
    aws: Option<&AwsConfig>,
) -> BTreeMap<String, Level> {
    count(check, raw.len());
    let mut levels = BTreeMap::new();
    for (name, level) in raw {
        grants_something(
            check,
            name,
            &level.value,
            Pos::from_location(&level.referenced),
        );
        levels.insert(
            name.clone(),
            self::level(check, name, &level.value, has_github, aws),
        );
    }
    levels
}

/// A level that names no team and no role gives nothing: probably a level
/// half written. A warning, since holding it harms nobody.
fn grants_something(check: &mut Check, name: &str, level: &RawLevel, at: Pos) {
    if level.github_teams.is_empty()
        && level.aws_roles.is_empty()
        && level.aws_permission_sets.is_empty()
        && level.identity_center_groups.is_empty()
    {
        check.diags.push(
            Diagnostic::warning(
                check.source,
                at,
                format!(
                    "level `{}` grants no GitHub team and no AWS role",
                    quote(name)
                ),
            )
            .help("add github_teams, aws_roles, aws_permission_sets or identity_center_groups, or remove the level"),
        );
    }
}

/// At least one level, and no more than lapse can track.
fn count(check: &mut Check, levels: usize) {
    if levels > MAX_LEVELS {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "access_levels"),
            format!("{levels} access levels; lapse supports at most 128"),
        ));
    }
    if levels == 0 {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "access_levels"),
            "access_levels is empty: there is nothing for lapse to manage",
        ));
    }
}

/// One level: its teams, then its roles. `temporary_requires` defaults to `requires`.
fn level(
    check: &mut Check,
    name: &str,
    level: &RawLevel,
    has_github: bool,
    aws: Option<&AwsConfig>,
) -> Level {
    let mut teams = teams(check, name, &level.github_teams, has_github);
    let mut roles = roles(check, &level.aws_roles, aws);
    let identity_center = aws.is_some_and(|a| a.identity_center.is_some());
    let mut permission_sets = super::identity_center::permission_sets(
        check,
        &level.aws_permission_sets,
        aws.map(|a| &a.accounts),
        identity_center,
    );
    let mut groups =
        super::identity_center::groups(check, &level.identity_center_groups, identity_center);
    let requires: BTreeSet<String> = level.requires.iter().map(|s| s.value.clone()).collect();
    let temporary_requires = match &level.temporary_requires {
        Some(t) => t.iter().map(|s| s.value.clone()).collect(),
        None => requires.clone(),
    };
    teams.sort();
    teams.dedup();
    roles.sort();
    roles.dedup();
    permission_sets.sort();
    permission_sets.dedup();
    groups.sort();
    groups.dedup();
    Level {
        name: name.to_string(),
        requires,
        temporary_requires,
        github_teams: teams,
        aws_roles: roles,
        aws_permission_sets: permission_sets,
        identity_center_groups: groups,
    }
}

/// Team slugs, in lower case, in a `github` section's org.
fn teams(
    check: &mut Check,
    level: &str,
    written: &[SpannedString],
    has_github: bool,
) -> Vec<String> {
    let mut teams = Vec::new();
    for team in written {
        let slug = team.value.to_ascii_lowercase();
        if !has_github {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(team),
                    format!(
                        "level `{level}` names GitHub team `{}` but there is no `github` section",
                        team.value
                    ),
                )
                .help("add github: {org: ...}"),
            );
        }
        if let Err(help) = team_slug(&team.value) {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(team),
                    format!("`{}` is not a team slug", quote(&team.value)),
                )
                .help(help),
            );
        }
        teams.push(slug);
    }
    teams
}

/// GitHub's slug form: lower-case letters, digits, `-` and `_`. The error
/// is the help: the slug GitHub would have made of a team's name, when
/// there is one.
fn team_slug(written: &str) -> Result<(), String> {
    let is_slug_byte =
        |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
    if !written.is_empty() && written.bytes().all(is_slug_byte) {
        return Ok(());
    }
    const AS_IN_URL: &str = "write the team's slug as in its URL (github.com/orgs/ORG/teams/SLUG), without the organisation";
    if written.contains('/') {
        return Err(AS_IN_URL.into());
    }
    let suggested = slugified(written);
    if suggested.is_empty() {
        Err(AS_IN_URL.into())
    } else {
        Err(format!(
            "slugs are lower case, with `-` for spaces: write `{}`",
            quote(&suggested)
        ))
    }
}

/// A team name as GitHub makes it a slug: lower case, each run of other
/// characters one `-`, none at either end.
fn slugified(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}

/// The roles that resolve; the rest are reported where they are written.
fn roles(check: &mut Check, written: &[SpannedString], aws: Option<&AwsConfig>) -> Vec<RoleRef> {
    let mut roles = Vec::new();
    for role in written {
        match resolve_role(&role.value, aws) {
            Ok(r) => roles.push(r),
            Err((msg, help)) => check
                .diags
                .push(Diagnostic::error(check.source, pos(role), msg).help(help)),
        }
    }
    roles
}

/// `ACCOUNT_ALIAS/ROLE_NAME` or a role ARN, in an account lapse knows; the
/// error is a message and its help.
fn resolve_role(text: &str, aws: Option<&AwsConfig>) -> Result<RoleRef, (String, String)> {
    let Some(aws) = aws else {
        return Err((
            format!("role `{text}` is named but there is no `aws` section"),
            "add aws: {accounts: ...}".into(),
        ));
    };
    let aliases = || aws.accounts.keys().cloned().collect::<Vec<_>>().join(", ");
    if let Some(rest) = text.strip_prefix("arn:") {
        // arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() != 5 || parts[1] != "iam" || !parts[4].starts_with("role/") {
            return Err((
                format!("`{text}` is not an IAM role ARN"),
                "write arn:aws:iam::ACCOUNT_ID:role/NAME".into(),
            ));
        }
        let account_id = parts[3];
        let name = parts[4].rsplit('/').next().unwrap_or_default();
        let Some(account) = aws.accounts.values().find(|a| a.id == account_id) else {
            return Err((
                format!("role `{text}` is in account {account_id}, which is not in aws.accounts"),
                "add the account under aws.accounts so lapse knows how to reach it".into(),
            ));
        };
        if name.is_empty() {
            return Err((
                format!("`{text}` names no role"),
                "write arn:aws:iam::ACCOUNT_ID:role/NAME".into(),
            ));
        }
        return Ok(RoleRef {
            account_alias: account.alias.clone(),
            account_id: account_id.to_string(),
            name: name.to_string(),
            arn: text.to_string(),
        });
    }
    let Some((alias, name)) = text.split_once('/') else {
        return Err((
            format!("`{text}` is neither ACCOUNT/ROLE_NAME nor a role ARN"),
            format!("known accounts: {}", aliases()),
        ));
    };
    let Some(account) = aws.accounts.get(alias) else {
        return Err((
            format!("role `{text}`: no account `{alias}` in aws.accounts"),
            format!("known accounts: {}", aliases()),
        ));
    };
    if name.is_empty() || name.contains('/') {
        return Err((
            format!("`{text}`: `{name}` is not a role name"),
            "write ACCOUNT/ROLE_NAME, or a full ARN for a role with a path".into(),
        ));
    }
    Ok(RoleRef {
        account_alias: alias.to_string(),
        account_id: account.id.clone(),
        name: name.to_string(),
        arn: format!("arn:aws:iam::{}:role/{name}", account.id),
    })
}

#[cfg(test)]
mod tests {
    use super::super::Account;
    use super::super::tests::{check, said, section, source, spanned_list};
    use super::*;

    fn aws() -> AwsConfig {
        let account = |alias: &str, id: &str| Account {
            alias: alias.into(),
            id: id.into(),
            assume_role_arn: None,
            write_role_arn: None,
        };
        AwsConfig {
            region: None,
            endpoint_url: None,
            revoke_active_sessions: false,
            user_arn_template: None,
            users_account: None,
            accounts: BTreeMap::from([
                ("production".into(), account("production", "210987654321")),
                ("staging".into(), account("staging", "123456789012")),
            ]),
            concurrency: 8,
            identity_center: None,
        }
    }

    fn role(alias: &str, id: &str, name: &str, arn: &str) -> RoleRef {
        RoleRef {
            account_alias: alias.into(),
            account_id: id.into(),
            name: name.into(),
            arn: arn.into(),
        }
    }

    fn refused(msg: &str, help: &str) -> Result<RoleRef, (String, String)> {
        Err((msg.into(), help.into()))
    }

    #[test]
    fn resolve_role_table() {
        let aws = aws();
        let known = "known accounts: production, staging";
        let write_arn = "write arn:aws:iam::ACCOUNT_ID:role/NAME";
        for (text, resolved) in [
            (
                "production/admin",
                Ok(role(
                    "production",
                    "210987654321",
                    "admin",
                    "arn:aws:iam::210987654321:role/admin",
                )),
            ),
            (
                "arn:aws:iam::123456789012:role/ops/deployer",
                Ok(role(
                    "staging",
                    "123456789012",
                    "deployer",
                    "arn:aws:iam::123456789012:role/ops/deployer",
                )),
            ),
            (
                "arn:aws:iam::999999999999:role/x",
                refused(
                    "role `arn:aws:iam::999999999999:role/x` is in account 999999999999, which is not in aws.accounts",
                    "add the account under aws.accounts so lapse knows how to reach it",
                ),
            ),
            (
                "arn:aws:iam::123456789012:user/x",
                refused(
                    "`arn:aws:iam::123456789012:user/x` is not an IAM role ARN",
                    write_arn,
                ),
            ),
            (
                "arn:aws:s3:::bucket",
                refused("`arn:aws:s3:::bucket` is not an IAM role ARN", write_arn),
            ),
            (
                "arn:aws:iam::123456789012:role/",
                refused("`arn:aws:iam::123456789012:role/` names no role", write_arn),
            ),
            (
                "admin",
                refused("`admin` is neither ACCOUNT/ROLE_NAME nor a role ARN", known),
            ),
            (
                "prod/admin",
                refused(
                    "role `prod/admin`: no account `prod` in aws.accounts",
                    known,
                ),
            ),
            (
                "production/",
                refused(
                    "`production/`: `` is not a role name",
                    "write ACCOUNT/ROLE_NAME, or a full ARN for a role with a path",
                ),
            ),
            (
                "production/ops/admin",
                refused(
                    "`production/ops/admin`: `ops/admin` is not a role name",
                    "write ACCOUNT/ROLE_NAME, or a full ARN for a role with a path",
                ),
            ),
        ] {
            assert_eq!(resolve_role(text, Some(&aws)), resolved, "{text}");
        }
        assert_eq!(
            resolve_role("production/admin", None),
            refused(
                "role `production/admin` is named but there is no `aws` section",
                "add aws: {accounts: ...}",
            )
        );
    }

    #[test]
    fn count_table() {
        let source = source("roster: users.yaml\naccess_levels: {}\n");
        for (levels, told) in [
            (1, vec![]),
            (128, vec![]),
            (
                129,
                vec!["error: 129 access levels; lapse supports at most 128"],
            ),
            (
                0,
                vec!["error: access_levels is empty: there is nothing for lapse to manage"],
            ),
        ] {
            let mut run = check(&source);
            count(&mut run, levels);
            assert_eq!(said(run), told, "{levels}");
        }
    }

    #[test]
    fn teams_table() {
        for (yaml, has_github, kept, told) in [
            (
                "[deploy, gov-uk_admins-2]",
                true,
                vec!["deploy", "gov-uk_admins-2"],
                vec![],
            ),
            (
                "[Gov-UK-Admin, 'gov uk']",
                true,
                vec!["gov-uk-admin", "gov uk"],
                vec![
                    "error: `Gov-UK-Admin` is not a team slug",
                    "error: `gov uk` is not a team slug",
                ],
            ),
            (
                "[deploy]",
                false,
                vec!["deploy"],
                vec![
                    "error: level `ops` names GitHub team `deploy` but there is no `github` section",
                ],
            ),
            (
                "[acme/deploy, '']",
                true,
                vec!["acme/deploy", ""],
                vec![
                    "error: `acme/deploy` is not a team slug",
                    "error: `` is not a team slug",
                ],
            ),
        ] {
            let source = source(yaml);
            let written = spanned_list(yaml);
            let mut run = check(&source);
            let got = teams(&mut run, "ops", &written, has_github);
            assert_eq!(got, kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn team_slug_table() {
        let as_in_url = Err("write the team's slug as in its URL (github.com/orgs/ORG/teams/SLUG), without the organisation".to_string());
        let write = |slug: &str| {
            Err(format!(
                "slugs are lower case, with `-` for spaces: write `{slug}`"
            ))
        };
        for (written, verdict) in [
            ("deploy", Ok(())),
            ("gov-uk-production-admin", Ok(())),
            ("team_2", Ok(())),
            ("a", Ok(())),
            ("-", Ok(())),
            ("Gov-UK-Admin", write("gov-uk-admin")),
            ("gov uk", write("gov-uk")),
            (" Admins ", write("admins")),
            ("ops.team", write("ops-team")),
            ("", as_in_url.clone()),
            (".", as_in_url.clone()),
            ("..", as_in_url.clone()),
            ("acme/deploy", as_in_url.clone()),
            ("../admin", as_in_url),
        ] {
            assert_eq!(team_slug(written), verdict, "{written:?}");
        }
    }

    #[test]
    fn a_level_that_grants_nothing_is_a_warning_where_it_is_written() {
        let text = "roster: users.yaml\naccess_levels:\n  reader:\n    requires: []\n  deploy:\n    github_teams: [deploy]\ngithub: {org: acme}\n";
        let config = super::super::from_source(&source(text), std::path::Path::new("lapse.yaml"))
            .expect("a warning does not stop validation");
        let said: Vec<_> = config
            .warnings
            .0
            .iter()
            .map(|d| (d.message.as_str(), d.pos.line, d.pos.column, d.is_error()))
            .collect();
        assert_eq!(
            said,
            vec![(
                "level `reader` grants no GitHub team and no AWS role",
                4,
                5,
                false
            )]
        );
    }

    #[test]
    fn level_table() {
        let aws = aws();
        for (yaml, teams, roles, temporary_requires) in [
            ("{}", vec![], vec![], vec![]),
            (
                "{requires: [bpss, probation], github_teams: [b, a, b], aws_roles: [staging/x, production/x, staging/x]}",
                vec!["a", "b"],
                vec!["production", "staging"],
                vec!["bpss", "probation"],
            ),
            (
                "{requires: [bpss, probation], temporary_requires: [bpss]}",
                vec![],
                vec![],
                vec!["bpss"],
            ),
            (
                "{requires: [bpss], temporary_requires: []}",
                vec![],
                vec![],
                vec![],
            ),
        ] {
            let source = source(yaml);
            let raw: RawLevel = section(&source);
            let mut run = check(&source);
            let got = level(&mut run, "ops", &raw, true, Some(&aws));
            assert_eq!(said(run), Vec::<String>::new(), "{yaml}");
            assert_eq!(got.github_teams, teams, "{yaml}");
            assert_eq!(
                got.aws_roles
                    .iter()
                    .map(|r| r.account_alias.as_str())
                    .collect::<Vec<_>>(),
                roles,
                "{yaml}"
            );
            assert_eq!(
                got.temporary_requires.iter().collect::<Vec<_>>(),
                temporary_requires,
                "{yaml}"
            );
        }
    }

    #[test]
    fn roles_are_reported_where_they_are_written() {
        let source = source("");
        let written = spanned_list("[production/admin, prod/admin]");
        let aws = aws();
        let mut run = check(&source);
        let got = roles(&mut run, &written, Some(&aws));
        assert_eq!(got.len(), 1);
        assert_eq!(
            said(run),
            vec!["error: role `prod/admin`: no account `prod` in aws.accounts"]
        );
    }
}
