//! `policy:`: the day limits. Each counts whole days, so none may be zero.

use crate::diag::Diagnostic;
use crate::yaml;

use super::{Check, Policy, RawPolicy};

/// The limits as written; a zero is reported where its key stands.
pub(super) fn policy(check: &mut Check, p: &RawPolicy) -> Policy {
    if p.absence_limit_days == 0 {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "absence_limit_days"),
            "policy.absence_limit_days must be at least 1",
        ));
    }
    if p.inactivity_limit_days == Some(0) {
        check.diags.push(
            Diagnostic::error(
                check.source,
                yaml::key_pos(check.source, "inactivity_limit_days"),
                "policy.inactivity_limit_days must be at least 1",
            )
            .help("use null to turn observed inactivity off"),
        );
    }
    if p.max_temporary_days == 0 {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "max_temporary_days"),
            "policy.max_temporary_days must be at least 1",
        ));
    }
    Policy {
        absence_limit_days: p.absence_limit_days,
        inactivity_limit_days: p.inactivity_limit_days,
        warn_before_days: p.warn_before_days,
        max_temporary_days: p.max_temporary_days,
        approvers: p
            .approvers
            .iter()
            .map(|a| a.trim().to_lowercase())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source};
    use super::*;

    fn raw(absence: u32, inactivity: Option<u32>, max_temporary: u32) -> RawPolicy {
        RawPolicy {
            absence_limit_days: absence,
            inactivity_limit_days: inactivity,
            warn_before_days: 0,
            max_temporary_days: max_temporary,
            ..RawPolicy::default()
        }
    }

    #[test]
    fn policy_table() {
        let source = source("policy:\n  absence_limit_days: 0\n");
        for (written, told) in [
            (RawPolicy::default(), vec![]),
            (raw(1, Some(1), 1), vec![]),
            // null turns observed inactivity off.
            (raw(1, None, 1), vec![]),
            (
                raw(0, Some(0), 0),
                vec![
                    "error: policy.absence_limit_days must be at least 1",
                    "error: policy.inactivity_limit_days must be at least 1",
                    "error: policy.max_temporary_days must be at least 1",
                ],
            ),
            (
                raw(42, Some(42), 0),
                vec!["error: policy.max_temporary_days must be at least 1"],
            ),
        ] {
            let mut run = check(&source);
            let got = policy(&mut run, &written);
            assert_eq!(
                (
                    got.absence_limit_days,
                    got.inactivity_limit_days,
                    got.max_temporary_days
                ),
                (
                    written.absence_limit_days,
                    written.inactivity_limit_days,
                    written.max_temporary_days
                )
            );
            assert_eq!(said(run), told, "{written:?}");
        }
    }

    #[test]
    fn a_zero_limit_is_reported_where_its_key_stands() {
        let source = source("roster: users.yaml\npolicy:\n  absence_limit_days: 0\n");
        let mut run = check(&source);
        policy(&mut run, &raw(0, None, 1));
        assert_eq!((run.diags.0[0].pos.line, run.diags.0[0].pos.column), (3, 3));
    }
}
