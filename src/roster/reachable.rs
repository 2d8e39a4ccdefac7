//! A level that gives teams to someone with no GitHub username (or roles to
//! someone with no IAM user) cannot be granted: say so rather than let it
//! quietly mean nothing.

use crate::config::Level;
use crate::diag::{Diagnostic, Pos};

use super::{Check, Grantee};

/// Warns for each system `level` reaches that the grantee has no identity in.
pub(super) fn check_reachable(
    check: &mut Check,
    name: &str,
    level: &Level,
    at: Pos,
    grantee: &Grantee,
) {
    let who = grantee.who;
    if !level.github_teams.is_empty() && grantee.github_username.is_none() {
        check.diags.push(
            Diagnostic::warning(
                check.source,
                at,
                format!("`{name}` gives GitHub teams but {who} has no github_username"),
            )
            .help("add github_username so lapse can check their team membership"),
        );
    }
    if !level.aws_roles.is_empty() && grantee.aws_user_arn.is_none() {
        check.diags.push(
            Diagnostic::warning(
                check.source,
                at,
                format!("`{name}` gives IAM roles but {who} has no IAM user"),
            )
            .help("add aws_user_arn, or set aws.user_arn_template"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Fixture;
    use super::*;

    #[test]
    fn check_reachable_table() {
        let fx = Fixture::new();
        let login = Some("janedoe");
        let arn = Some("arn:aws:iam::111111111111:user/jane");
        for (level, github_username, aws_user_arn, said) in [
            ("deploy", login, arn, vec![]),
            (
                "deploy",
                None,
                None,
                vec![
                    "warning: `deploy` gives GitHub teams but jane@example.gov.uk has no github_username",
                    "warning: `deploy` gives IAM roles but jane@example.gov.uk has no IAM user",
                ],
            ),
            (
                "deploy",
                login,
                None,
                vec!["warning: `deploy` gives IAM roles but jane@example.gov.uk has no IAM user"],
            ),
            // Only the systems the level reaches matter.
            ("admin", login, None, vec![]),
            (
                "admin",
                None,
                arn,
                vec![
                    "warning: `admin` gives GitHub teams but jane@example.gov.uk has no github_username",
                ],
            ),
            ("reader", None, arn, vec![]),
        ] {
            let attestations = fx.attestations(&[]);
            let grantee = Grantee {
                github_username,
                aws_user_arn,
                ..fx.grantee(&attestations)
            };
            let mut check = fx.check();
            check_reachable(
                &mut check,
                level,
                &fx.config.levels[level],
                Pos::default(),
                &grantee,
            );
            assert_eq!(
                fx.said(check),
                said,
                "{level} {github_username:?} {aws_user_arn:?}"
            );
        }
    }
}
