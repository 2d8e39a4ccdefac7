//! "More than N days" is elapsed time, `now − start > N × 24 h`,
//! never rounded to whole days, and a date means 00:00 UTC. Each rule is
//! tried one second either side of the instant it fires, and the warning
//! ahead of it names that instant.

mod common;

use common::*;
use lapse::model::{Action, Finding, FindingKind};
use lapse::plan::plan;
use lapse::state::Actual;

const DEPLOY: &str = "github:acme/deploy";

/// Jane, holding `deploy` as the roster entry's extra lines say.
fn jane(extra: &str) -> String {
    format!(
        "- email: jane@example.gov.uk\n  github_username: jane\n  attestations: [bpss]\n{extra}"
    )
}

/// The one finding about Jane on the deploy team as of `now`, if any.
fn on_deploy(roster_yaml: &str, world: &Actual, now: &str) -> Option<Finding> {
    let config = config();
    let now = at(now);
    let roster = roster(&config, roster_yaml, now);
    let findings: Vec<Finding> = plan(&config, &roster, world, now)
        .findings
        .into_iter()
        .filter(|f| f.target == DEPLOY && f.principal == "jane")
        .collect();
    assert!(findings.len() <= 1, "{findings:#?}");
    findings.into_iter().next()
}

/// Jane on the deploy team and the developer role, and nobody else anywhere.
fn jane_holds_deploy() -> Actual {
    world(&["jane"], &[], &[&user_arn("jane")], &[])
}

/// As [`jane_holds_deploy`], with Jane's IAM user last used at `last_used`.
fn jane_last_used(last_used: &str) -> Actual {
    let mut world = jane_holds_deploy();
    world.aws.as_mut().unwrap().users = Some(
        serde_json::from_value(serde_json::json!([{
            "arn": user_arn("jane"),
            "created": "2025-01-01T00:00:00Z",
            "password_last_used": last_used,
        }]))
        .unwrap(),
    );
    world
}

/// What the finding on Jane's deploy grant is: revoked, warned about
/// (with the reason), or nothing.
#[derive(Debug, PartialEq)]
enum Seen {
    Revoked(FindingKind),
    Warned(String),
    Nothing,
}

fn seen(finding: Option<Finding>) -> Seen {
    match finding {
        None => Seen::Nothing,
        Some(f) if f.action == Action::Revoke => Seen::Revoked(f.kind),
        Some(f) if f.kind == FindingKind::ExpiringSoon => Seen::Warned(f.reason),
        Some(f) => panic!("unexpected finding {f:#?}"),
    }
}

fn warned(reason: &str) -> Seen {
    Seen::Warned(reason.into())
}

#[test]
fn declared_absence_passes_its_limit_after_exactly_n_days() {
    const SINCE_ONE_AM: &str = "declared absence since 2026-09-01T01:00:00Z passes the 42-day limit at 2026-10-13T01:00:00Z";
    const SINCE_A_DATE: &str =
        "declared absence since 2026-09-01 passes the 42-day limit on 2026-10-13";
    let one_am = jane("  access: deploy\n  absent_since: 2026-09-01T01:00:00Z\n");
    let a_date = jane("  access: deploy\n  absent_since: 2026-09-01\n");
    for (roster, now, verdict) in [
        (&one_am, "2026-10-13T00:59:59Z", warned(SINCE_ONE_AM)),
        (&one_am, "2026-10-13T01:00:00Z", warned(SINCE_ONE_AM)),
        (
            &one_am,
            "2026-10-13T01:00:01Z",
            Seen::Revoked(FindingKind::Absent),
        ),
        // A date is 00:00 UTC that day.
        (&a_date, "2026-10-12T23:59:59Z", warned(SINCE_A_DATE)),
        (&a_date, "2026-10-13T00:00:00Z", warned(SINCE_A_DATE)),
        (
            &a_date,
            "2026-10-13T00:00:01Z",
            Seen::Revoked(FindingKind::Absent),
        ),
        // Outside the 7-day warning window, nothing yet.
        (&a_date, "2026-10-05T23:59:59Z", Seen::Nothing),
        (&a_date, "2026-10-06T00:00:00Z", warned(SINCE_A_DATE)),
    ] {
        assert_eq!(
            seen(on_deploy(roster, &jane_holds_deploy(), now)),
            verdict,
            "{roster} at {now}"
        );
    }
}

#[test]
fn the_reason_for_an_absence_just_past_its_limit_says_more_than_the_limit() {
    let roster = jane("  access: deploy\n  absent_since: 2026-09-01T01:00:00Z\n");
    let found = on_deploy(&roster, &jane_holds_deploy(), "2026-10-13T01:00:01Z").unwrap();
    assert_eq!(
        found.reason,
        "declared absence since 2026-09-01T01:00:00Z (more than 42 days; the limit is 42)"
    );
    let found = on_deploy(&roster, &jane_holds_deploy(), "2026-10-14T01:00:00Z").unwrap();
    assert_eq!(
        found.reason,
        "declared absence since 2026-09-01T01:00:00Z (43 days; the limit is 42)"
    );
}

#[test]
fn observed_inactivity_passes_its_limit_after_exactly_n_days() {
    const WARNING: &str = "no console or access-key use since 2026-09-01T01:00:00Z (observed); passes the 42-day limit at 2026-10-13T01:00:00Z";
    let roster = jane("  access: deploy\n");
    let world = jane_last_used("2026-09-01T01:00:00Z");
    for (now, verdict) in [
        ("2026-10-13T00:59:59Z", warned(WARNING)),
        ("2026-10-13T01:00:00Z", warned(WARNING)),
        ("2026-10-13T01:00:01Z", Seen::Revoked(FindingKind::Absent)),
        ("2026-10-06T00:59:59Z", Seen::Nothing),
    ] {
        assert_eq!(seen(on_deploy(&roster, &world, now)), verdict, "{now}");
    }
    let revoked = on_deploy(&roster, &world, "2026-10-13T01:00:01Z").unwrap();
    assert_eq!(
        revoked.reason,
        "no console or access-key use since 2026-09-01 (more than 42 days, observed; the limit is 42)"
    );
}

#[test]
fn a_temporary_grant_ends_at_its_instant_or_at_the_end_of_its_day() {
    let grant = |expires: &str| {
        jane(&format!(
            "  temporary:\n    - access: deploy\n      expires: {expires}\n      approved_by: lead@example.gov.uk\n      supervised_by: sam@example.gov.uk\n"
        ))
    };
    let at_one_am = grant("2026-10-13T01:00:00Z");
    let a_date = grant("2026-10-13");
    for (roster, now, verdict) in [
        (
            &at_one_am,
            "2026-10-13T00:59:59Z",
            warned("temporary deploy grant expires 2026-10-13T01:00:00Z"),
        ),
        (
            &at_one_am,
            "2026-10-13T01:00:00Z",
            Seen::Revoked(FindingKind::Expired),
        ),
        (
            &at_one_am,
            "2026-10-13T01:00:01Z",
            Seen::Revoked(FindingKind::Expired),
        ),
        // `expires: 2026-10-13` holds all of that day.
        (
            &a_date,
            "2026-10-13T23:59:59Z",
            warned("temporary deploy grant expires 2026-10-13"),
        ),
        (
            &a_date,
            "2026-10-14T00:00:01Z",
            Seen::Revoked(FindingKind::Expired),
        ),
    ] {
        assert_eq!(
            seen(on_deploy(roster, &jane_holds_deploy(), now)),
            verdict,
            "{roster} at {now}"
        );
    }
}

#[test]
fn the_longest_limits_plan_without_overflow() {
    let config = config_from(&format!(
        "{CONFIG}policy:\n  absence_limit_days: 3650\n  inactivity_limit_days: 3650\n  warn_before_days: 365\n"
    ));
    let now = at("9999-12-01");
    let roster = roster(
        &config,
        &jane("  access: deploy\n  absent_since: 9999-11-01\n"),
        now,
    );
    let world = jane_last_used("9999-11-01T00:00:00Z");
    let planned = plan(&config, &roster, &world, now);
    assert!(
        planned
            .findings
            .iter()
            .all(|f| f.kind != FindingKind::Absent),
        "{:#?}",
        planned.findings
    );
}
