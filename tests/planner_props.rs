//! Property tests of the planner: it never revokes an entitled, present
//! person; it is deterministic and sorted; and applying its revocations
//! then planning again leaves nothing to revoke.

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use common::*;
use lapse::model::{Action, Revocation};
use lapse::plan::plan;
use lapse::roster::{Person, Roster, TemporaryGrant};
use lapse::state::{Actual, Invitation, PermissionSetState, SsoGroup, SsoState, SsoUser};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct PersonSpec {
    deploy: bool,
    admin: bool,
    absent_days: Option<i64>,
    temporary_admin_days: Option<i64>,
    idle_days: Option<i64>,
}

#[derive(Debug, Clone)]
struct World {
    people: Vec<PersonSpec>,
    /// People not in the roster who hold grants (logins after the roster's).
    #[allow(dead_code)]
    strangers: usize,
    /// For each of deploy team, admin team, dev role, admin roles: who holds it
    /// (indices into people, then strangers), plus orphans and roots for roles.
    holders: [Vec<bool>; 4],
    invitations: Vec<(usize, u8)>,
    orphan: bool,
    root: bool,
    /// Who is assigned the admin permission set directly, and who is a
    /// member of the admins group (which is assigned it too).
    sso: [Vec<bool>; 2],
}

const SSO_ADMIN: &str = "sso:production/AdminAccess";
const SSO_GROUP: &str = "sso-group:admins";

/// The common config, with admin also giving an Identity Center permission
/// set and group; people are Identity Store users by their login.
fn config() -> lapse::config::Config {
    config_from(
        &CONFIG
            .replace(
                "    aws_roles: [production/admin, staging/admin]\n",
                "    aws_roles: [production/admin, staging/admin]\n    aws_permission_sets: [production/AdminAccess]\n    identity_center_groups: [admins]\n",
            )
            .replace(
                "    staging: {id: \"123456789012\"}\n",
                "    staging: {id: \"123456789012\"}\n  identity_center: {instance_arn: \"arn:aws:sso:::instance/ssoins-1234567890abcdef\", identity_store_id: d-1234567890, user_name: \"{github_username}\"}\n",
            ),
    )
}

fn person_spec() -> impl Strategy<Value = PersonSpec> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0i64..90),
        prop::option::of(-30i64..30),
        prop::option::of(0i64..100),
    )
        .prop_map(
            |(deploy, admin, absent_days, temporary_admin_days, idle_days)| PersonSpec {
                deploy,
                admin,
                absent_days,
                temporary_admin_days,
                idle_days,
            },
        )
}

fn world_spec() -> impl Strategy<Value = World> {
    (prop::collection::vec(person_spec(), 1..10), 0usize..4).prop_flat_map(|(people, strangers)| {
        let n = people.len() + strangers;
        (
            Just(people),
            Just(strangers),
            [
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(any::<bool>(), n),
            ],
            prop::collection::vec((0..n, 1u8..8), 0..4),
            any::<bool>(),
            any::<bool>(),
            [
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(any::<bool>(), n),
            ],
        )
            .prop_map(
                |(people, strangers, holders, invitations, orphan, root, sso)| World {
                    people,
                    strangers,
                    holders,
                    invitations,
                    orphan,
                    root,
                    sso,
                },
            )
    })
}

fn now() -> DateTime<Utc> {
    at("2026-11-22T12:00:00Z")
}

fn login(i: usize, people: usize) -> String {
    if i < people {
        format!("p{i}")
    } else {
        format!("x{}", i - people)
    }
}

fn build(world: &World) -> (Roster, Actual) {
    let now = now();
    let people = world
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut standing = BTreeSet::new();
            if p.deploy {
                standing.insert("deploy".to_string());
            }
            if p.admin {
                standing.insert("admin".to_string());
            }
            Person {
                name: None,
                email: format!("p{i}@example.gov.uk"),
                github_username: Some(format!("p{i}")),
                github_id: None,
                aws_user_arn: Some(user_arn(&format!("p{i}"))),
                standing: standing.iter().collect(),
                attestations: ["bpss", "probation", "admin-checklist"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                absent_since: p.absent_days.map(|d| now - Duration::days(d)),
                temporary: p
                    .temporary_admin_days
                    .map(|d| TemporaryGrant {
                        level: "admin".into(),
                        expires_at: now + Duration::days(d),
                        approved_by: "lead@example.gov.uk".into(),
                        supervised_by: "senior@example.gov.uk".into(),
                        reason: None,
                    })
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    let n = world.people.len();
    let holders = |k: usize| -> Vec<String> {
        world.holders[k]
            .iter()
            .enumerate()
            .filter(|(_, h)| **h)
            .map(|(i, _)| login(i, n))
            .collect()
    };
    let arns = |k: usize| -> Vec<String> {
        let mut v: Vec<String> = holders(k).iter().map(|l| user_arn(l)).collect();
        if k == 3 && world.orphan {
            v.push("AIDAEXAMPLEORPHAN0001".into());
        }
        if k == 3 && world.root {
            v.push("arn:aws:iam::210987654321:root".into());
        }
        v
    };
    let deploy = holders(0);
    let admin = holders(1);
    let dev = arns(2);
    let admins = arns(3);
    fn as_str(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let mut actual = common::world(
        &as_str(&deploy),
        &as_str(&admin),
        &as_str(&dev),
        &as_str(&admins),
    );
    let users = (0..n)
        .map(|i| {
            serde_json::json!({
                "arn": user_arn(&format!("p{i}")),
                "created": "2026-01-01T00:00:00Z",
                "password_last_used": world.people[i].idle_days.map(|d| (now - Duration::days(d)).to_rfc3339()),
            })
        })
        .collect::<Vec<_>>();
    actual.aws.as_mut().unwrap().users =
        Some(serde_json::from_value(serde_json::Value::Array(users)).unwrap());
    let teams = &mut actual.github.as_mut().unwrap().teams;
    for (id, (who, mask)) in world.invitations.iter().enumerate() {
        let covers: Vec<String> = [(1u8, "deploy"), (2, "admin"), (4, "website")]
            .iter()
            .filter(|(bit, _)| mask & bit != 0)
            .map(|(_, t)| t.to_string())
            .collect();
        let inv = Invitation {
            id: id as u64 + 1,
            login: Some(login(*who, n)),
            email: None,
            teams: covers.clone(),
            user_id: None,
        };
        for team in teams.iter_mut().filter(|t| covers.contains(&t.slug)) {
            team.invitations.push(inv.clone());
        }
    }
    actual.sso = Some(sso_state(world));
    (Roster { people }, actual)
}

/// Identity Center as the world says: the admin permission set assigned
/// to some users directly and to the admins group.
fn sso_state(world: &World) -> SsoState {
    let n = world.people.len();
    let users = |k: usize| -> Vec<SsoUser> {
        world.sso[k]
            .iter()
            .enumerate()
            .filter(|(_, held)| **held)
            .map(|(i, _)| SsoUser {
                id: format!("u-{}", login(i, n)),
                user_name: Some(login(i, n)),
            })
            .collect()
    };
    SsoState {
        instance_arn: "arn:aws:sso:::instance/ssoins-1234567890abcdef".into(),
        permission_sets: vec![PermissionSetState {
            account: "production".into(),
            account_id: "210987654321".into(),
            name: "AdminAccess".into(),
            arn: "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-admin".into(),
            users: users(0),
            groups: vec!["g-admins".into()],
        }],
        groups: vec![SsoGroup {
            id: "g-admins".into(),
            name: "admins".into(),
            members: users(1),
        }],
    }
}

/// An independent statement of entitlement: present, and an active level gives the target.
fn entitled(spec: &PersonSpec, target: &str) -> bool {
    let absent = spec.absent_days.is_some_and(|d| d > 42)
        || spec.idle_days.is_none_or(|d| d > 42) && (now() - at("2026-01-01")).num_days() > 42;
    if absent {
        return false;
    }
    let admin = spec.admin || spec.temporary_admin_days.is_some_and(|d| d > 0);
    match target {
        "github:acme/deploy" | DEV => spec.deploy,
        "github:acme/admin" | PROD_ADMIN | STAGING_ADMIN | SSO_ADMIN | SSO_GROUP => admin,
        _ => false,
    }
}

/// Carries out revocations on the state, as the live systems would.
fn apply(actual: &mut Actual, revocations: &[Revocation]) {
    for r in revocations {
        match r {
            Revocation::TeamMembership { team, login, .. } => {
                for t in &mut actual.github.as_mut().unwrap().teams {
                    if &t.slug == team {
                        t.members.retain(|m| &m.login != login);
                    }
                }
            }
            Revocation::Invitation { invitation_id, .. } => {
                for t in &mut actual.github.as_mut().unwrap().teams {
                    t.invitations.retain(|i| i.id != *invitation_id);
                }
            }
            Revocation::TrustPrincipal {
                role_arn,
                principal,
            } => {
                for role in &mut actual.aws.as_mut().unwrap().roles {
                    if &role.arn == role_arn {
                        for s in role.trust_policy["Statement"].as_array_mut().unwrap() {
                            s["Principal"]["AWS"]
                                .as_array_mut()
                                .unwrap()
                                .retain(|p| p.as_str() != Some(principal));
                        }
                    }
                }
            }
            Revocation::SsoAssignment { user_id, .. } => {
                for set in &mut actual.sso.as_mut().unwrap().permission_sets {
                    set.users.retain(|u| &u.id != user_id);
                }
            }
            Revocation::SsoGroupMembership {
                group_id, user_id, ..
            } => {
                for group in &mut actual.sso.as_mut().unwrap().groups {
                    if &group.id == group_id {
                        group.members.retain(|u| &u.id != user_id);
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_revokes_an_entitled_present_person(world in world_spec()) {
        let config = config();
        let (roster, actual) = build(&world);
        let plan = plan(&config, &roster, &actual, now());
        for f in plan.revocations() {
            if let Some(email) = &f.person {
                let i: usize = email.trim_start_matches('p').split('@').next().unwrap().parse().unwrap();
                prop_assert!(!entitled(&world.people[i], &f.target), "revoked an entitled person: {f:#?}");
            }
            prop_assert!(f.revocation.is_some());
            prop_assert!(!f.principal.contains("break-glass") && f.principal != "ci-bot");
        }
        for f in plan.findings.iter().filter(|f| f.action == Action::None) {
            prop_assert!(f.revocation.is_none());
        }
    }

    #[test]
    fn planning_is_deterministic_and_sorted(world in world_spec()) {
        let config = config();
        let (roster, actual) = build(&world);
        let first = plan(&config, &roster, &actual, now());
        let second = plan(&config, &roster, &actual, now());
        prop_assert_eq!(&first, &second);
        for pair in first.findings.windows(2) {
            prop_assert!(pair[0].sort_key() <= pair[1].sort_key(), "out of order: {:?} then {:?}", pair[0].sort_key(), pair[1].sort_key());
        }
    }

    #[test]
    fn applying_a_plan_then_planning_again_revokes_nothing(world in world_spec()) {
        let config = config();
        let (roster, mut actual) = build(&world);
        let first = plan(&config, &roster, &actual, now());
        let revocations: Vec<Revocation> = first.revocations().filter_map(|f| f.revocation.clone()).collect();
        apply(&mut actual, &revocations);
        let second = plan(&config, &roster, &actual, now());
        let left: Vec<_> = second.revocations().collect();
        prop_assert!(left.is_empty(), "still to revoke after applying: {left:#?}");
    }
}
