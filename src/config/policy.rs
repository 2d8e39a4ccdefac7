//! `policy:`: the day limits. Each is bounded: a limit of zero days would
//! revoke at once, and one of billions of days would overflow the dates the
//! planner counts to.

use std::ops::RangeInclusive;

use crate::diag::Diagnostic;
use crate::yaml;

use super::{Check, Policy, RawPolicy};

/// Ten years: absence and inactivity limits beyond it mean "never".
const LIMIT_DAYS: RangeInclusive<u32> = 1..=3650;
/// A year ahead, at most, for warnings and for temporary grants.
const WARN_DAYS: RangeInclusive<u32> = 0..=365;
const TEMPORARY_DAYS: RangeInclusive<u32> = 1..=365;

/// The limits as written; one out of bounds is reported where its key stands.
pub(super) fn policy(check: &mut Check, p: &RawPolicy) -> Policy {
    days(
        check,
        "absence_limit_days",
        p.absence_limit_days,
        LIMIT_DAYS,
        None,
    );
    if let Some(limit) = p.inactivity_limit_days {
        days(
            check,
            "inactivity_limit_days",
            limit,
            LIMIT_DAYS,
            Some("use null to turn observed inactivity off"),
        );
    }
    days(
        check,
        "warn_before_days",
        p.warn_before_days,
        WARN_DAYS,
        None,
    );
    days(
        check,
        "max_temporary_days",
        p.max_temporary_days,
        TEMPORARY_DAYS,
        None,
    );
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

/// One day limit within its bounds.
fn days(check: &mut Check, key: &str, value: u32, bounds: RangeInclusive<u32>, help: Option<&str>) {
    if bounds.contains(&value) {
        return;
    }
    let mut diag = Diagnostic::error(
        check.source,
        yaml::key_pos(check.source, key),
        format!(
            "policy.{key} is {value}; it must be from {} to {} days",
            bounds.start(),
            bounds.end()
        ),
    );
    if let Some(help) = help {
        diag = diag.help(help);
    }
    check.diags.push(diag);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source};
    use super::*;

    // The rest default, so fields added to the policy need no change here.
    #[allow(clippy::needless_update)]
    fn raw(absence: u32, inactivity: Option<u32>, warn: u32, max_temporary: u32) -> RawPolicy {
        RawPolicy {
            absence_limit_days: absence,
            inactivity_limit_days: inactivity,
            warn_before_days: warn,
            max_temporary_days: max_temporary,
            ..RawPolicy::default()
        }
    }

    #[test]
    fn policy_table() {
        let source = source("policy:\n  absence_limit_days: 0\n");
        for (written, told) in [
            (RawPolicy::default(), vec![]),
            // The lower bounds.
            (raw(1, Some(1), 0, 1), vec![]),
            // The upper bounds.
            (raw(3650, Some(3650), 365, 365), vec![]),
            // null turns observed inactivity off.
            (raw(1, None, 0, 1), vec![]),
            (
                raw(0, Some(0), 0, 0),
                vec![
                    "error: policy.absence_limit_days is 0; it must be from 1 to 3650 days",
                    "error: policy.inactivity_limit_days is 0; it must be from 1 to 3650 days",
                    "error: policy.max_temporary_days is 0; it must be from 1 to 365 days",
                ],
            ),
            (
                raw(3651, Some(3651), 366, 366),
                vec![
                    "error: policy.absence_limit_days is 3651; it must be from 1 to 3650 days",
                    "error: policy.inactivity_limit_days is 3651; it must be from 1 to 3650 days",
                    "error: policy.warn_before_days is 366; it must be from 0 to 365 days",
                    "error: policy.max_temporary_days is 366; it must be from 1 to 365 days",
                ],
            ),
            (
                raw(4_000_000_000, Some(42), 7, 90),
                vec![
                    "error: policy.absence_limit_days is 4000000000; it must be from 1 to 3650 days",
                ],
            ),
            (
                raw(42, Some(42), 7, 0),
                vec!["error: policy.max_temporary_days is 0; it must be from 1 to 365 days"],
            ),
        ] {
            let mut run = check(&source);
            let got = policy(&mut run, &written);
            assert_eq!(
                (
                    got.absence_limit_days,
                    got.inactivity_limit_days,
                    got.warn_before_days,
                    got.max_temporary_days
                ),
                (
                    written.absence_limit_days,
                    written.inactivity_limit_days,
                    written.warn_before_days,
                    written.max_temporary_days
                )
            );
            assert_eq!(said(run), told, "{written:?}");
        }
    }

    #[test]
    fn a_limit_out_of_bounds_is_reported_where_its_key_stands() {
        let source = source("roster: users.yaml\npolicy:\n  absence_limit_days: 0\n");
        let mut run = check(&source);
        policy(&mut run, &raw(0, None, 0, 1));
        assert_eq!((run.diags.0[0].pos.line, run.diags.0[0].pos.column), (3, 3));
    }
}
