//! Table tests of the planner for IAM Identity Center: permission sets held
//! directly and through groups (managed or not), managed groups, and every
//! finding kind on both paths.

mod common;

use common::*;
use lapse::model::{Action, Finding, FindingKind, Revocation, System};
use lapse::plan::plan;
use lapse::state::Actual;
use serde_json::json;

const CONFIG: &str = r#"
roster: users.yaml
access_levels:
  deploy:
    requires: [bpss]
    aws_permission_sets: [staging/DeployAccess]
  admin:
    requires: [bpss]
    temporary_requires: [bpss]
    aws_permission_sets: [production/AdminAccess]
    identity_center_groups: [prod-admins]
aws:
  accounts:
    production: {id: "210987654321"}
    staging: {id: "123456789012"}
  identity_center:
    instance_arn: arn:aws:sso:::instance/ssoins-1234567890abcdef
    identity_store_id: d-1234567890
safety:
  protected: ["sso:break.glass@example.org"]
"#;

const ADMIN: &str = "sso:production/AdminAccess";
const DEPLOY: &str = "sso:staging/DeployAccess";
const GROUP: &str = "sso-group:prod-admins";

const ROSTER: &str = "
- email: alice@example.org
  access: admin
  attestations: [bpss]
- email: bob@example.org
  access: deploy
  attestations: [bpss]
- email: carol@example.org
  attestations: [bpss]
  temporary:
    - access: admin
      expires: 2026-11-01
      approved_by: alice@example.org
      supervised_by: alice@example.org
- email: dave@example.org
  access: admin
  attestations: [bpss]
  absent_since: 2026-08-01
- email: erin@example.org
  access: admin
  attestations: [bpss]
- email: frank@example.org
  access: deploy
  attestations: [bpss]
  temporary:
    - access: admin
      expires: 2026-11-25
      approved_by: alice@example.org
      supervised_by: alice@example.org
";

fn user(name: &str) -> serde_json::Value {
    json!({"id": format!("id-{name}"), "user_name": format!("{name}@example.org")})
}

/// Alice holds admin directly and through the group; Bob holds admin both
/// ways though he deploys; Carol's temporary admin lapsed; Dave is absent;
/// Erin holds nothing; Frank's temporary admin ends soon; Mallory is nobody,
/// assigned deploy and holding admin through an unmanaged group; a deleted
/// user is still assigned admin; break-glass is protected.
fn world() -> Actual {
    let break_glass = json!({"id": "id-bg", "user_name": "break.glass@example.org"});
    actual(json!({"sso": {
        "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "permission_sets": [
            {"account": "production", "account_id": "210987654321", "name": "AdminAccess",
             "arn": "arn:ps-admin",
             "users": [user("alice"), user("bob"), user("dave"), user("frank"), break_glass,
                       {"id": "id-deleted", "user_name": null}],
             "groups": ["g-admins", "g-contractors"]},
            {"account": "staging", "account_id": "123456789012", "name": "DeployAccess",
             "arn": "arn:ps-deploy",
             "users": [user("bob"), user("frank"), user("mallory")], "groups": []}
        ],
        "groups": [
            {"id": "g-admins", "name": "prod-admins",
             "members": [user("alice"), user("bob"), user("carol"), user("frank")]},
            {"id": "g-contractors", "name": "contractors", "members": [user("mallory")]}
        ]
    }}))
}

fn findings_on<'a>(findings: &'a [Finding], target: &str, principal: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.target == target && f.principal == principal)
        .collect()
}

fn planned() -> Vec<Finding> {
    let config = config_from(CONFIG);
    let now = at("2026-11-22");
    let roster = roster(&config, ROSTER, now);
    plan(&config, &roster, &world(), now).findings
}

#[test]
fn every_finding_is_an_sso_finding_in_report_order() {
    let findings = planned();
    assert!(findings.iter().all(|f| f.system == System::Sso));
    let keys: Vec<_> = findings.iter().map(|f| f.sort_key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn a_direct_assignment_not_entitled_is_deleted() {
    let findings = planned();
    let bob = findings_on(&findings, ADMIN, "bob@example.org");
    let direct: Vec<_> = bob
        .iter()
        .filter(|f| matches!(f.revocation, Some(Revocation::SsoAssignment { .. })))
        .collect();
    assert_eq!(direct.len(), 1, "{bob:#?}");
    assert_eq!(direct[0].kind, FindingKind::Unexpected);
    assert_eq!(direct[0].person.as_deref(), Some("bob@example.org"));
    assert_eq!(
        direct[0].revocation,
        Some(Revocation::SsoAssignment {
            target: ADMIN.into(),
            account_id: "210987654321".into(),
            permission_set_arn: "arn:ps-admin".into(),
            user_id: "id-bob".into(),
            user_name: "bob@example.org".into(),
        })
    );
}

#[test]
fn a_grant_through_a_managed_group_is_two_findings_and_one_removal() {
    let findings = planned();
    let removal = Some(Revocation::SsoGroupMembership {
        group_id: "g-admins".into(),
        group: "prod-admins".into(),
        user_id: "id-bob".into(),
        user_name: "bob@example.org".into(),
    });
    let through_group: Vec<_> = findings_on(&findings, ADMIN, "bob@example.org")
        .into_iter()
        .filter(|f| f.revocation == removal)
        .collect();
    assert_eq!(through_group.len(), 1);
    assert!(
        through_group[0].reason.contains(GROUP),
        "{through_group:#?}"
    );
    let on_group = findings_on(&findings, GROUP, "bob@example.org");
    assert_eq!(on_group.len(), 1);
    assert_eq!(on_group[0].revocation, removal);
    assert_eq!(on_group[0].kind, FindingKind::Unexpected);
}

#[test]
fn expired_and_absent_on_both_paths() {
    let findings = planned();
    for target in [ADMIN, GROUP] {
        let carol = findings_on(&findings, target, "carol@example.org");
        assert_eq!(carol.len(), 1, "{target}: {carol:#?}");
        assert_eq!(carol[0].kind, FindingKind::Expired);
        assert_eq!(carol[0].action, Action::Revoke);
    }
    let dave = findings_on(&findings, ADMIN, "dave@example.org");
    assert_eq!(dave.len(), 1);
    assert_eq!(dave[0].kind, FindingKind::Absent);
    assert!(matches!(
        dave[0].revocation,
        Some(Revocation::SsoAssignment { .. })
    ));
}

#[test]
fn missing_grants_are_reported_not_acted_on() {
    let findings = planned();
    for target in [ADMIN, GROUP] {
        let erin = findings_on(&findings, target, "erin@example.org");
        assert_eq!(erin.len(), 1, "{target}");
        assert_eq!(erin[0].kind, FindingKind::Missing);
        assert_eq!(erin[0].action, Action::None);
    }
    assert!(findings_on(&findings, GROUP, "alice@example.org").is_empty());
    assert!(findings_on(&findings, ADMIN, "alice@example.org").is_empty());
}

#[test]
fn an_unmanaged_group_is_reported_with_its_name_and_left_alone() {
    let findings = planned();
    let mallory = findings_on(&findings, ADMIN, "mallory@example.org");
    assert_eq!(mallory.len(), 1);
    assert_eq!(mallory[0].action, Action::None);
    assert_eq!(mallory[0].person, None);
    assert!(
        mallory[0].reason.contains("sso-group:contractors"),
        "{}",
        mallory[0].reason
    );
    let deploy = findings_on(&findings, DEPLOY, "mallory@example.org");
    assert_eq!(deploy.len(), 1);
    assert_eq!(deploy[0].action, Action::Revoke);
    assert_eq!(deploy[0].reason, "not in the roster");
}

#[test]
fn a_deleted_user_still_assigned_is_orphaned() {
    let findings = planned();
    let orphan = findings_on(&findings, ADMIN, "id-deleted");
    assert_eq!(orphan.len(), 1);
    assert_eq!(orphan[0].kind, FindingKind::Orphaned);
    assert_eq!(orphan[0].action, Action::Revoke);
}

#[test]
fn protected_users_are_left_alone() {
    let findings = planned();
    assert!(
        findings
            .iter()
            .all(|f| f.principal != "break.glass@example.org")
    );
}

#[test]
fn a_temporary_grant_ending_soon_warns_on_each_of_its_grants() {
    let findings = planned();
    for target in [ADMIN, GROUP] {
        let frank = findings_on(&findings, target, "frank@example.org");
        assert_eq!(frank.len(), 1, "{target}: {frank:#?}");
        assert_eq!(frank[0].kind, FindingKind::ExpiringSoon);
    }
    assert!(findings_on(&findings, DEPLOY, "frank@example.org").is_empty());
}

#[test]
fn a_person_entitled_to_the_group_keeps_it_when_the_group_gives_more() {
    // Bob's deploy level gives the group; the group holds admin, which it
    // does not give him: the membership stays, the grant is reported.
    let text = CONFIG.replace(
        "    aws_permission_sets: [staging/DeployAccess]\n",
        "    aws_permission_sets: [staging/DeployAccess]\n    identity_center_groups: [prod-admins]\n",
    );
    let config = config_from(&text);
    let now = at("2026-11-22");
    let roster = roster(&config, ROSTER, now);
    let findings = plan(&config, &roster, &world(), now).findings;
    assert!(findings_on(&findings, GROUP, "bob@example.org").is_empty());
    let through: Vec<_> = findings_on(&findings, ADMIN, "bob@example.org")
        .into_iter()
        .filter(|f| f.reason.contains(GROUP))
        .collect();
    assert_eq!(through.len(), 1);
    assert_eq!(through[0].action, Action::None);
}

#[test]
fn user_names_follow_the_template() {
    let text = CONFIG.replace(
        "    identity_store_id: d-1234567890\n",
        "    identity_store_id: d-1234567890\n    user_name: \"{github_username}\"\n",
    );
    let config = config_from(&text);
    let now = at("2026-11-22");
    let roster = roster(
        &config,
        "- email: jo@example.org\n  github_username: Jo\n  access: deploy\n  attestations: [bpss]\n",
        now,
    );
    let world = actual(json!({"sso": {
        "instance_arn": "arn:aws:sso:::instance/ssoins-1234567890abcdef",
        "permission_sets": [
            {"account": "production", "account_id": "210987654321", "name": "AdminAccess",
             "arn": "arn:ps-admin", "users": [], "groups": []},
            {"account": "staging", "account_id": "123456789012", "name": "DeployAccess",
             "arn": "arn:ps-deploy", "users": [{"id": "u1", "user_name": "JO"}], "groups": []}
        ],
        "groups": [{"id": "g-admins", "name": "prod-admins", "members": []}]
    }}));
    let findings = plan(&config, &roster, &world, now).findings;
    assert!(findings.is_empty(), "{findings:#?}");
}
