//! `safety:`: the gates that stop an apply revoking too much, and the
//! principals it never revokes.

use crate::diag::Diagnostic;
use crate::yaml;

use super::{Check, ProtectedPrincipal, RawSafety, Safety, SpannedString, pos};

/// The section, checked field by field; protected principals are read once, here.
pub(super) fn safety(check: &mut Check, s: &RawSafety) -> Safety {
    ratio(check, "max_revocation_ratio", s.max_revocation_ratio);
    let protected = protected(check, &s.protected);
    ratio(check, "max_target_ratio", s.max_target_ratio);
    Safety {
        max_revocations: s.max_revocations,
        max_revocation_ratio: s.max_revocation_ratio,
        protected,
        max_target_ratio: s.max_target_ratio,
    }
}

/// A share of current grants: a ratio of 0 would refuse every revocation.
fn ratio(check: &mut Check, key: &str, value: f64) {
    if !(value > 0.0 && value <= 1.0) {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, key),
            format!("safety.{key} is {value}; it must be more than 0 and at most 1"),
        ));
    }
}

/// Each entry as the planner and the gates will both read it; one that
/// cannot be read is reported where it is written.
fn protected(check: &mut Check, written: &[SpannedString]) -> Vec<ProtectedPrincipal> {
    let mut protected = Vec::new();
    for p in written {
        match ProtectedPrincipal::parse(&p.value) {
            Ok(principal) => protected.push(principal),
            Err((msg, help)) => check
                .diags
                .push(Diagnostic::error(check.source, pos(p), msg).help(help)),
        }
    }
    protected
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, section, source, spanned_list};
    use super::*;

    #[test]
    fn ratio_table() {
        let source = source("safety:\n  max_revocation_ratio: 0\n");
        for (ratio_written, told) in [
            (0.25, vec![]),
            (1.0, vec![]),
            (f64::MIN_POSITIVE, vec![]),
            (
                0.0,
                vec![
                    "error: safety.max_revocation_ratio is 0; it must be more than 0 and at most 1",
                ],
            ),
            (
                1.5,
                vec![
                    "error: safety.max_revocation_ratio is 1.5; it must be more than 0 and at most 1",
                ],
            ),
            (
                -0.1,
                vec![
                    "error: safety.max_revocation_ratio is -0.1; it must be more than 0 and at most 1",
                ],
            ),
            (
                f64::NAN,
                vec![
                    "error: safety.max_revocation_ratio is NaN; it must be more than 0 and at most 1",
                ],
            ),
        ] {
            let mut run = check(&source);
            ratio(&mut run, "max_revocation_ratio", ratio_written);
            assert_eq!(said(run), told, "{ratio_written}");
        }
    }

    #[test]
    fn max_target_ratio_table() {
        for (yaml, kept, told) in [
            ("{}", 0.5, vec![]),
            ("{max_target_ratio: 1}", 1.0, vec![]),
            ("{max_target_ratio: 0.01}", 0.01, vec![]),
            (
                "{max_target_ratio: 0}",
                0.0,
                vec!["error: safety.max_target_ratio is 0; it must be more than 0 and at most 1"],
            ),
            (
                "{max_target_ratio: 1.01}",
                1.01,
                vec![
                    "error: safety.max_target_ratio is 1.01; it must be more than 0 and at most 1",
                ],
            ),
        ] {
            let source = source(yaml);
            let raw: RawSafety = section(&source);
            let mut run = check(&source);
            assert_eq!(safety(&mut run, &raw).max_target_ratio, kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn protected_table() {
        const EMPTY: &str = "error: an empty protected principal protects nobody";
        let source = source("");
        for (yaml, kept, told) in [
            ("[]", vec![], vec![]),
            (
                "['github:govuk-ci-bot', 'arn:aws:iam::111111111111:user/break-glass']",
                vec![
                    ProtectedPrincipal::GithubLogin("govuk-ci-bot".into()),
                    ProtectedPrincipal::AwsArn("arn:aws:iam::111111111111:user/break-glass".into()),
                ],
                vec![],
            ),
            (
                "[' GitHub:Bot ']",
                vec![ProtectedPrincipal::GithubLogin("bot".into())],
                vec![],
            ),
            ("['']", vec![], vec![EMPTY]),
            ("['  ']", vec![], vec![EMPTY]),
            (
                "['github:', ' github: ', 'github:x']",
                vec![ProtectedPrincipal::GithubLogin("x".into())],
                vec![EMPTY, EMPTY],
            ),
            (
                "['*', ci-bot]",
                vec![],
                vec![
                    "error: protected principal `*` is a wildcard; lapse protects named principals only",
                    "error: protected principal `ci-bot` is neither github:LOGIN nor an IAM ARN",
                ],
            ),
        ] {
            let mut run = check(&source);
            let got = protected(&mut run, &spanned_list(yaml));
            assert_eq!(got, kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }
}
