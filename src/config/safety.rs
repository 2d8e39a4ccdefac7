//! `safety:`: the gates that stop an apply revoking too much, and the
//! principals it never revokes.

use crate::diag::Diagnostic;
use crate::yaml;

use super::{Check, RawSafety, Safety, SpannedString, pos};

/// The section, checked field by field; protected principals are trimmed.
pub(super) fn safety(check: &mut Check, s: &RawSafety) -> Safety {
    ratio(check, s.max_revocation_ratio);
    protected(check, &s.protected);
    Safety {
        max_revocations: s.max_revocations,
        max_revocation_ratio: s.max_revocation_ratio,
        protected: s
            .protected
            .iter()
            .map(|p| p.value.trim().to_string())
            .collect(),
    }
}

/// A share of current grants: a ratio of 0 would refuse every revocation.
fn ratio(check: &mut Check, max_revocation_ratio: f64) {
    if !(max_revocation_ratio > 0.0 && max_revocation_ratio <= 1.0) {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "max_revocation_ratio"),
            format!(
                "safety.max_revocation_ratio is {max_revocation_ratio}; it must be more than 0 and at most 1"
            ),
        ));
    }
}

/// An empty principal (or a bare `github:`) would look protected and protect nobody.
fn protected(check: &mut Check, protected: &[SpannedString]) {
    for p in protected {
        if p.value.trim().is_empty() || p.value.trim() == "github:" {
            check.diags.push(Diagnostic::error(
                check.source,
                pos(p),
                "an empty protected principal protects nobody",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source, spanned_list};
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
            ratio(&mut run, ratio_written);
            assert_eq!(said(run), told, "{ratio_written}");
        }
    }

    #[test]
    fn protected_table() {
        const EMPTY: &str = "error: an empty protected principal protects nobody";
        let source = source("");
        for (yaml, told) in [
            ("[]", vec![]),
            (
                "['github:govuk-ci-bot', 'arn:aws:iam::111111111111:user/break-glass']",
                vec![],
            ),
            ("['']", vec![EMPTY]),
            ("['  ']", vec![EMPTY]),
            ("['github:', ' github: ', 'github:x']", vec![EMPTY, EMPTY]),
        ] {
            let mut run = check(&source);
            protected(&mut run, &spanned_list(yaml));
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn protected_principals_are_kept_trimmed() {
        let source = source("");
        let raw = RawSafety {
            protected: spanned_list("[' github:bot ']"),
            ..RawSafety::default()
        };
        let got = safety(&mut check(&source), &raw);
        assert_eq!(got.protected, vec!["github:bot"]);
    }
}
