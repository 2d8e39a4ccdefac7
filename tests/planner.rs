//! Table tests of the planner: every rule of what counts as drift, and its edges.

mod common;

use common::*;
use lapse::model::{Action, Finding, FindingKind, System};
use lapse::plan::plan;

fn find<'a>(findings: &'a [Finding], target: &str, principal: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.target == target && f.principal == principal)
        .collect()
}

fn only(findings: &[Finding], target: &str, principal: &str) -> Finding {
    let found = find(findings, target, principal);
    assert_eq!(
        found.len(),
        1,
        "expected one finding for {principal} on {target}, got {found:#?}"
    );
    found[0].clone()
}

const JANE_DEPLOY: &str = "
- email: jane@example.gov.uk
  github_username: Jane
  access: deploy
  attestations: [bpss]
";

#[test]
fn an_entitled_present_person_is_not_drift() {
    let config = config();
    let now = at("2026-11-22");
    let roster = roster(&config, JANE_DEPLOY, now);
    let world = world(&["jane"], &[], &[&user_arn("jane")], &[]);
    let plan = plan(&config, &roster, &world, now);
    assert!(plan.findings.is_empty(), "{:#?}", plan.findings);
    assert!(!plan.has_drift());
}

#[test]
fn github_logins_compare_case_insensitively_and_report_in_lower_case() {
    let config = config();
    let now = at("2026-11-22");
    let roster = roster(&config, JANE_DEPLOY, now);
    let world = world(&["JANE"], &["JaNe"], &[&user_arn("jane")], &[]);
    let plan = plan(&config, &roster, &world, now);
    let f = only(&plan.findings, "github:acme/admin", "jane");
    assert_eq!(f.kind, FindingKind::Unexpected);
    assert!(find(&plan.findings, "github:acme/deploy", "jane").is_empty());
}

fn absent_roster(since: &str) -> String {
    format!("{JANE_DEPLOY}  absent_since: {since}\n")
}

#[test]
fn absence_of_exactly_42_days_keeps_access_and_43_revokes_it() {
    let config = config();
    let world = world(&["jane"], &[], &[&user_arn("jane")], &[]);
    // 2026-10-11 + 42 × 24 h = 2026-11-22T00:00:00Z: not yet more than 42 days.
    let now = at("2026-11-22");
    let plan42 = plan(
        &config,
        &roster(&config, &absent_roster("2026-10-11"), now),
        &world,
        now,
    );
    assert!(
        plan42.revocations().next().is_none(),
        "{:#?}",
        plan42.findings
    );
    let now = at("2026-11-23");
    let plan43 = plan(
        &config,
        &roster(&config, &absent_roster("2026-10-11"), now),
        &world,
        now,
    );
    let gh = only(&plan43.findings, "github:acme/deploy", "jane");
    assert_eq!((gh.kind, gh.action), (FindingKind::Absent, Action::Revoke));
    assert!(
        gh.reason
            .contains("declared absence since 2026-10-11 (43 days"),
        "{}",
        gh.reason
    );
    let aws = only(&plan43.findings, DEV, &user_arn("jane"));
    assert_eq!(aws.kind, FindingKind::Absent);
    assert_eq!(aws.person.as_deref(), Some("jane@example.gov.uk"));
}

#[test]
fn an_absence_about_to_pass_its_limit_warns_once_per_grant() {
    let config = config();
    let now = at("2026-11-18");
    let world = world(&["jane"], &[], &[&user_arn("jane")], &[]);
    let plan = plan(
        &config,
        &roster(&config, &absent_roster("2026-10-11"), now),
        &world,
        now,
    );
    let kinds: Vec<_> = plan
        .findings
        .iter()
        .map(|f| (f.kind, f.target.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::ExpiringSoon, "github:acme/deploy"),
            (FindingKind::ExpiringSoon, DEV)
        ]
    );
    assert!(
        plan.findings[0].reason.contains("on 2026-11-22"),
        "{}",
        plan.findings[0].reason
    );
    assert!(!plan.has_drift(), "expiring_soon alone is not drift");
}

fn temporary_admin(expires: &str) -> String {
    format!(
        "{JANE_DEPLOY}  temporary:
    - access: admin
      expires: {expires}
      approved_by: lead@example.gov.uk
      supervised_by: senior@example.gov.uk
"
    )
}

#[test]
fn a_grant_expiring_today_holds_all_day_and_lapses_at_midnight() {
    let config = config();
    let held = world(
        &["jane"],
        &["jane"],
        &[&user_arn("jane")],
        &[&user_arn("jane")],
    );
    let today = at("2026-11-22T23:59:59Z");
    let plan_today = plan(
        &config,
        &roster(&config, &temporary_admin("2026-11-22"), today),
        &held,
        today,
    );
    assert!(
        plan_today.revocations().next().is_none(),
        "{:#?}",
        plan_today.findings
    );
    assert!(
        plan_today
            .findings
            .iter()
            .all(|f| f.kind == FindingKind::ExpiringSoon)
    );

    let tomorrow = at("2026-11-23");
    let plan = plan(
        &config,
        &roster(&config, &temporary_admin("2026-11-22"), tomorrow),
        &held,
        tomorrow,
    );
    let revoked: Vec<(&str, &str)> = plan
        .revocations()
        .map(|f| (f.target.as_str(), f.kind.as_str()))
        .collect();
    assert_eq!(
        revoked,
        vec![
            ("github:acme/admin", "expired"),
            (STAGING_ADMIN, "expired"),
            (PROD_ADMIN, "expired")
        ],
        "standing deploy access stays; exactly the admin grants go"
    );
    assert!(
        plan.findings
            .iter()
            .all(|f| f.reason == "temporary admin grant expired 2026-11-22")
    );
}

#[test]
fn a_lapsing_temporary_grant_warns_only_for_what_it_alone_gives() {
    let config = config();
    let now = at("2026-11-20");
    let held = world(
        &["jane"],
        &["jane"],
        &[&user_arn("jane")],
        &[&user_arn("jane")],
    );
    let plan = plan(
        &config,
        &roster(&config, &temporary_admin("2026-11-22"), now),
        &held,
        now,
    );
    let warned: Vec<&str> = plan.findings.iter().map(|f| f.target.as_str()).collect();
    assert_eq!(warned, vec!["github:acme/admin", STAGING_ADMIN, PROD_ADMIN]);
    assert!(
        plan.findings
            .iter()
            .all(|f| f.kind == FindingKind::ExpiringSoon && f.action == Action::None)
    );
}

#[test]
fn people_not_in_the_roster_are_unexpected_with_no_person() {
    let config = config();
    let now = at("2026-11-22");
    let plan = plan(
        &config,
        &roster(&config, JANE_DEPLOY, now),
        &world(
            &["jane", "mallory"],
            &[],
            &[&user_arn("jane"), &user_arn("mallory")],
            &[],
        ),
        now,
    );
    let gh = only(&plan.findings, "github:acme/deploy", "mallory");
    assert_eq!(
        (gh.kind, gh.action, gh.person.clone()),
        (FindingKind::Unexpected, Action::Revoke, None)
    );
    assert_eq!(gh.reason, "not in the roster");
    let aws = only(&plan.findings, DEV, &user_arn("mallory"));
    assert_eq!(
        (aws.kind, aws.action),
        (FindingKind::Unexpected, Action::Revoke)
    );
}

#[test]
fn protected_principals_are_never_revoked_and_are_not_drift() {
    let config = config();
    let now = at("2026-11-22");
    let break_glass = "arn:aws:iam::111111111111:user/break-glass";
    let plan = plan(
        &config,
        &roster(&config, JANE_DEPLOY, now),
        &world(
            &["jane", "CI-Bot"],
            &["ci-bot"],
            &[&user_arn("jane")],
            &[break_glass],
        ),
        now,
    );
    assert!(plan.findings.is_empty(), "{:#?}", plan.findings);
    assert!(
        plan.notes.is_empty(),
        "both protected entries matched: {:?}",
        plan.notes
    );
}

#[test]
fn a_protected_entry_that_matches_nothing_earns_a_note() {
    let config = config();
    let now = at("2026-11-22");
    let plan = plan(
        &config,
        &roster(&config, JANE_DEPLOY, now),
        &world(&["jane"], &[], &[&user_arn("jane")], &[]),
        now,
    );
    assert_eq!(plan.notes.len(), 2, "{:?}", plan.notes);
    assert!(plan.notes.iter().any(|n| n.contains("github:ci-bot")));
}

#[test]
fn principals_that_are_not_people_are_classified() {
    let config = config();
    let now = at("2026-11-22");
    let principals = [
        "AIDAJQABLZS4A3QDU576Q",
        "AROAEXAMPLEEXAMPLE12",
        "arn:aws:iam::210987654321:root",
        "999988887777",
        "arn:aws:iam::210987654321:role/ci",
        "arn:aws:sts::210987654321:assumed-role/ci/session",
        "*",
    ];
    let plan = plan(
        &config,
        &roster(&config, JANE_DEPLOY, now),
        &world(&["jane"], &[], &[&user_arn("jane")], &principals),
        now,
    );
    let kinds: Vec<(&str, FindingKind, Action)> = plan
        .findings
        .iter()
        .filter(|f| f.target == PROD_ADMIN)
        .map(|f| (f.principal.as_str(), f.kind, f.action))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("*", FindingKind::Unattributable, Action::None),
            ("999988887777", FindingKind::Unattributable, Action::None),
            (
                "AIDAJQABLZS4A3QDU576Q",
                FindingKind::Orphaned,
                Action::Revoke
            ),
            (
                "AROAEXAMPLEEXAMPLE12",
                FindingKind::Orphaned,
                Action::Revoke
            ),
            (
                "arn:aws:iam::210987654321:role/ci",
                FindingKind::Unattributable,
                Action::None
            ),
            (
                "arn:aws:iam::210987654321:root",
                FindingKind::Unattributable,
                Action::None
            ),
            (
                "arn:aws:sts::210987654321:assumed-role/ci/session",
                FindingKind::Unattributable,
                Action::None
            ),
        ]
    );
}

#[test]
fn service_principals_are_not_grants_and_denied_principals_hold_nothing() {
    let config = config();
    let now = at("2026-11-22");
    let mut world = world(&["jane"], &[], &[&user_arn("jane")], &[]);
    world.aws.as_mut().unwrap().roles[1].trust_policy = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com", "AWS": user_arn("mallory")}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": user_arn("mallory")}, "Action": "sts:AssumeRole"}
    ]});
    let plan = plan(&config, &roster(&config, JANE_DEPLOY, now), &world, now);
    assert!(plan.findings.is_empty(), "{:#?}", plan.findings);
}

#[test]
fn missing_grants_are_reported_but_a_pending_invitation_is_not_missing() {
    let config = config();
    let now = at("2026-11-22");
    let roster = roster(
        &config,
        "
- email: jane@example.gov.uk
  github_username: jane
  access: deploy
  attestations: [bpss]
- email: new@example.gov.uk
  github_username: newbie
  access: deploy
  attestations: [bpss]
",
        now,
    );
    let mut world = world(&[], &[], &[&user_arn("jane")], &[]);
    world.github.as_mut().unwrap().teams[0]
        .invitations
        .push(lapse::state::Invitation {
            id: 7,
            login: Some("NewBie".into()),
            email: None,
            teams: vec!["deploy".into()],
            user_id: None,
        });
    let plan = plan(&config, &roster, &world, now);
    let missing: Vec<(&str, &str)> = plan
        .findings
        .iter()
        .map(|f| (f.target.as_str(), f.principal.as_str()))
        .collect();
    assert_eq!(
        missing,
        vec![
            ("github:acme/deploy", "jane"),
            (DEV, user_arn("newbie").as_str())
        ]
    );
    assert!(
        plan.findings
            .iter()
            .all(|f| f.kind == FindingKind::Missing && f.action == Action::None)
    );
}

#[test]
fn invitations_are_cancelled_only_when_cancelling_touches_nothing_else() {
    let config = config();
    let now = at("2026-11-22");
    let roster = roster(&config, JANE_DEPLOY, now);
    let mut world = world(&["jane"], &[], &[&user_arn("jane")], &[]);
    let teams = &mut world.github.as_mut().unwrap().teams;
    let inv = |id, login: &str, teams: &[&str]| lapse::state::Invitation {
        id,
        login: Some(login.into()),
        email: None,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        user_id: None,
    };
    teams[1].invitations = vec![
        inv(1, "jane", &["admin"]),
        inv(2, "eve", &["admin", "website"]),
    ];
    // GitHub lists an invitation on every team it covers.
    teams[1]
        .invitations
        .push(inv(3, "jane", &["deploy", "admin"]));
    teams[0].invitations = vec![inv(3, "jane", &["deploy", "admin"])];
    let plan = plan(&config, &roster, &world, now);
    let jane = find(&plan.findings, "github:acme/admin", "jane");
    assert_eq!(jane.len(), 2, "one per invitation: {jane:#?}");
    let by_id = |f: &&Finding| match &f.revocation {
        Some(lapse::model::Revocation::Invitation { invitation_id, .. }) => *invitation_id,
        _ => 0,
    };
    let revoked: Vec<u64> = jane
        .iter()
        .filter(|f| f.action == Action::Revoke)
        .map(by_id)
        .collect();
    assert_eq!(
        revoked,
        vec![1],
        "invitation 3 also covers deploy, which jane is entitled to"
    );
    let eve = only(&plan.findings, "github:acme/admin", "eve");
    assert_eq!(
        (eve.kind, eve.action),
        (FindingKind::PendingInvitation, Action::None)
    );
    assert!(eve.reason.contains("github:acme/website"), "{}", eve.reason);
}

#[test]
fn a_member_through_a_child_team_is_revoked_only_where_they_are_direct() {
    let config = config();
    let now = at("2026-11-22");
    let roster = roster(&config, JANE_DEPLOY, now);
    let mut world = world(&["jane"], &["root"], &[&user_arn("jane")], &[]);
    let teams = &mut world.github.as_mut().unwrap().teams;
    teams.push(actual_team("oncall", Some("admin"), &["jane", "root"]));
    teams.push(actual_team("oncall-nights", Some("oncall"), &["mallory"]));
    let plan = plan(&config, &roster, &world, now);
    let jane = only(&plan.findings, "github:acme/admin", "jane");
    assert_eq!(jane.action, Action::None);
    assert!(
        jane.reason
            .contains("held through child team github:acme/oncall"),
        "{}",
        jane.reason
    );
    let mallory = only(&plan.findings, "github:acme/admin", "mallory");
    assert!(
        mallory.reason.contains("github:acme/oncall-nights"),
        "grandchild teams count too: {}",
        mallory.reason
    );
    // root is a direct member of admin and in oncall too: the direct
    // membership is revoked, the grant through the child team reported.
    let root = find(&plan.findings, "github:acme/admin", "root");
    let actions: Vec<(Action, bool)> = root
        .iter()
        .map(|f| (f.action, f.reason.contains("child team github:acme/oncall")))
        .collect();
    assert_eq!(
        actions,
        vec![(Action::Revoke, false), (Action::None, true)],
        "{root:#?}"
    );
    assert!(matches!(
        &root[0].revocation,
        Some(lapse::model::Revocation::TeamMembership { team, login, .. })
            if team == "admin" && login == "root"
    ));
}

fn actual_team(slug: &str, parent: Option<&str>, members: &[&str]) -> lapse::state::TeamState {
    lapse::state::TeamState {
        slug: slug.into(),
        parent: parent.map(String::from),
        members: members
            .iter()
            .map(|l| lapse::state::Member {
                login: l.to_string(),
                role: Default::default(),
                id: None,
            })
            .collect(),
        invitations: vec![],
    }
}

fn with_users(mut world: lapse::state::Actual, users: serde_json::Value) -> lapse::state::Actual {
    world.aws.as_mut().unwrap().users = Some(serde_json::from_value(users).unwrap());
    world
}

#[test]
fn observed_inactivity_counts_only_for_users_older_than_the_limit() {
    let config = config();
    let now = at("2026-11-22");
    let roster = roster(
        &config,
        "
- email: old@example.gov.uk
  github_username: old
  access: deploy
  attestations: [bpss]
- email: new@example.gov.uk
  github_username: new
  access: deploy
  attestations: [bpss]
- email: keys@example.gov.uk
  github_username: keys
  access: deploy
  attestations: [bpss]
",
        now,
    );
    let world = with_users(
        world(
            &["old", "new", "keys"],
            &[],
            &[&user_arn("old"), &user_arn("new"), &user_arn("keys")],
            &[],
        ),
        serde_json::json!([
            {"arn": user_arn("old"), "created": "2025-01-01T00:00:00Z", "password_last_used": "2026-10-10T00:00:00Z"},
            {"arn": user_arn("new"), "created": "2026-11-01T00:00:00Z"},
            {"arn": user_arn("keys"), "created": "2025-01-01T00:00:00Z", "password_last_used": "2026-01-01T00:00:00Z",
             "access_keys": [{"id": "AKIA1", "last_used": "2026-11-20T00:00:00Z"}, {"id": "AKIA2", "last_used": null}]}
        ]),
    );
    let plan = plan(&config, &roster, &world, now);
    let absent: Vec<&str> = plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Absent)
        .map(|f| f.principal.as_str())
        .collect();
    assert_eq!(absent, vec!["old", user_arn("old").as_str()]);
    assert!(
        plan.findings[0].reason.contains("observed"),
        "{}",
        plan.findings[0].reason
    );
}

#[test]
fn a_person_with_no_iam_user_gets_a_note_not_an_error() {
    let config = config();
    let now = at("2026-11-22");
    let world = with_users(
        world(&["jane"], &[], &[&user_arn("jane")], &[]),
        serde_json::json!([]),
    );
    let plan = plan(&config, &roster(&config, JANE_DEPLOY, now), &world, now);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("jane@example.gov.uk") && n.contains("no IAM user")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn findings_are_sorted_by_system_target_principal() {
    let config = config();
    let now = at("2026-11-22");
    let world = world(
        &["zed", "amy"],
        &["bob"],
        &[&user_arn("zed"), &user_arn("amy")],
        &[],
    );
    let plan = plan(&config, &roster(&config, JANE_DEPLOY, now), &world, now);
    let keys: Vec<(System, String, String)> = plan
        .findings
        .iter()
        .map(|f| (f.system, f.target.clone(), f.principal.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.first().unwrap().0, System::Github);
}
