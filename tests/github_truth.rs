//! What GitHub says, read truly, through the built binary against the fake
//! GitHub: people matched by their account's numeric id across a rename and
//! a reused login, a direct membership told apart from one through a child
//! team, revocations that count as done only once a read shows them gone,
//! and what cancelling an invitation really cancels.

mod github_support;

use std::process::Command;

use github_support::*;
use lapse_test_support::github::Role;
use serde_json::Value;

/// The world's roster, with each person's account id: alice, bob and grace
/// by the ids their accounts have now.
fn roster_with_ids(world: &World) -> String {
    let id = |login: &str| world.github.user_id(login).expect("seeded");
    ROSTER
        .replace(
            "  github_username: alice\n",
            &format!("  github_username: alice\n  github_id: {}\n", id("alice")),
        )
        .replace(
            "  github_username: bob\n",
            &format!("  github_username: bob\n  github_id: {}\n", id("bob")),
        )
        .replace(
            "  github_username: grace\n",
            &format!("  github_username: grace\n  github_id: {}\n", id("grace")),
        )
}

/// Every finding on `principal` at `team`, as (kind, action, reason, person).
fn on(report: &Value, team: &str, principal: &str) -> Vec<(String, String, String, Value)> {
    let target = format!("github:{ORG}/{team}");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["target"] == target.as_str() && f["principal"] == principal)
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["action"].as_str().unwrap().to_owned(),
                f["reason"].as_str().unwrap().to_owned(),
                f["person"].clone(),
            )
        })
        .collect()
}

fn notes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

fn logins(members: Vec<(String, Role)>) -> Vec<String> {
    members.into_iter().map(|(login, _)| login).collect()
}

/// alice renames her account; bob renames his, and a stranger takes the
/// login `bob` and joins deploy under it.
fn rename_alice_and_reuse_bobs_login(world: &World) {
    world.github.rename_user("alice", "alice-renamed");
    world.github.rename_user("bob", "bob-new");
    world
        .github
        .org(ORG)
        .team("deploy")
        .member("bob", Role::Member);
}

#[test]
fn a_renamed_member_is_still_that_person_and_a_reused_login_is_not() {
    let world = world();
    let files = files(
        world.github.base_url(),
        Auth::Token,
        &roster_with_ids(&world),
    );
    let (alice, bob) = (
        world.github.user_id("alice").unwrap(),
        world.github.user_id("bob").unwrap(),
    );
    rename_alice_and_reuse_bobs_login(&world);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    // alice, under her new login, still holds what the roster gives her.
    for team in ["admin", "deploy"] {
        assert_eq!(on(&report, team, "alice-renamed"), vec![], "{report:#}");
        assert_eq!(on(&report, team, "alice"), vec![], "not missing either");
    }
    assert_eq!(on(&report, "deploy", "bob-new"), vec![]);
    let notes = notes(&report);
    for (id, login) in [(alice, "alice-renamed"), (bob, "bob-new")] {
        let note =
            format!("github_id {id} is now login {login}; update github_username in the roster");
        assert!(notes.iter().any(|n| n.contains(&note)), "{notes:#?}");
    }
    // The account now holding the login `bob` is not bob.
    let stranger = on(&report, "deploy", "bob");
    assert_eq!(stranger.len(), 1, "{report:#}");
    let (kind, action, reason, person) = &stranger[0];
    assert_eq!((kind.as_str(), action.as_str()), ("unexpected", "revoke"));
    assert!(
        reason.contains("the login bob now belongs to another account"),
        "{reason}"
    );
    assert_eq!(person, &Value::Null);
    // bob, as bob-new, is in admin only through admin-oncall, as before.
    let through_child = on(&report, "admin", "bob-new");
    assert_eq!(through_child.len(), 1);
    assert_eq!(through_child[0].1, "none");
    assert_eq!(through_child[0].3, "bob@example.org");

    // Apply: the stranger goes, the renamed people stay.
    let run = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);
    run.assert_code(0);
    assert_eq!(
        logins(world.github.direct_members(ORG, "deploy")),
        ["alice-renamed", "bob-new"],
        "the stranger and carol (absent) are gone"
    );
    assert_eq!(
        logins(world.github.direct_members(ORG, "admin")),
        ["alice-renamed"],
        "mallory and dave are gone, alice stays"
    );
}

#[test]
fn an_invitation_to_a_reused_login_is_not_for_the_person_who_had_it() {
    let world = world();
    let files = files(
        world.github.base_url(),
        Auth::Token,
        &roster_with_ids(&world),
    );
    // grace renames the account her invitation is for (it follows her);
    // another account takes `grace` and is invited to deploy too.
    world.github.rename_user("grace", "grace-h");
    let stranger = world.github.org(ORG).invite_login("grace", &["deploy"]);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    assert_eq!(on(&report, "deploy", "grace-h"), vec![], "{report:#}");
    assert_eq!(on(&report, "deploy", "grace").len(), 1, "{report:#}");
    let (kind, action, reason, person) = &on(&report, "deploy", "grace")[0];
    assert_eq!(
        (kind.as_str(), action.as_str()),
        ("pending_invitation", "revoke")
    );
    assert!(
        reason.contains("the login grace now belongs to another account"),
        "{reason}"
    );
    assert_eq!(person, &Value::Null);
    // The invitation's account was read: each invited login once.
    assert_eq!(
        world
            .github
            .count_requests(|r| r.path_and_query == "/users/grace"),
        1
    );

    let run = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);
    run.assert_code(0);
    let open: Vec<u64> = world.github.invitations(ORG).iter().map(|i| i.id).collect();
    assert!(!open.contains(&stranger), "{open:?}");
    assert!(open.contains(&world.grace), "grace's own invitation stays");
}

#[test]
fn a_direct_member_also_in_a_child_team_loses_the_direct_membership() {
    let world = world();
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    let dave = on(&run.report(), "admin", "dave");
    let actions: Vec<&str> = dave.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(actions, ["revoke", "none"], "{dave:#?}");
    assert!(
        dave[1]
            .2
            .contains("held through child team github:acme/admin-oncall"),
        "{dave:#?}"
    );

    let run = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);

    run.assert_code(0);
    let report = run.report();
    let revoked = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["principal"] == "dave" && f["action"] == "revoke")
        .expect("dave's direct membership");
    assert_eq!(revoked["result"], "done", "{report:#}");
    assert!(!logins(world.github.direct_members(ORG, "admin")).contains(&"dave".to_owned()));
    assert!(
        logins(world.github.direct_members(ORG, "admin-oncall")).contains(&"dave".to_owned()),
        "the child team is not lapse's to change"
    );
    // What is left is the grant through the child team, for a person.
    let again = plan(&files.config());
    let dave = on(&again.report(), "admin", "dave");
    assert_eq!(dave.len(), 1, "{dave:#?}");
    assert_eq!(dave[0].1, "none");
}

#[test]
fn a_removal_that_does_not_stick_is_failed_not_verified() {
    for answer in [204, 404] {
        let world = world();
        world.github.ignore_deletes(answer);
        let files = files(world.github.base_url(), Auth::Token, ROSTER);

        let run = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);

        run.assert_code(4);
        let report = run.report();
        let revokes: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["action"] == "revoke")
            .collect();
        assert_eq!(revokes.len(), 4, "mallory, dave, eve, carol: {report:#}");
        for finding in &revokes {
            assert_eq!(finding["result"], "failed", "{finding:#}");
            let error = finding["error"].as_str().unwrap();
            assert!(error.starts_with("not verified: "), "{answer}: {error}");
        }
        assert_eq!(report["summary"]["revocations_failed"], 4);
        // The verifying reads are requests, and counted.
        assert_eq!(
            report["api_calls"]["github"],
            world.github.request_count() as u64,
            "{answer}"
        );
        assert!(
            world
                .github
                .count_requests(|r| r.method == "GET" && r.path_and_query.contains("/memberships/"))
                >= 3
        );
        // Nothing changed, and the next plan still shows every revocation.
        assert_eq!(world.github.direct_members(ORG, "admin").len(), 3);
        assert_eq!(world.github.invitations(ORG).len(), 3);
        world.github.reset_counters();
        let again = plan(&files.config());
        again.assert_code(2);
        assert_eq!(findings(&again.report()), expected_findings(), "{answer}");
    }
}

#[test]
fn cancelling_an_invitation_says_it_withdraws_the_whole_invitation() {
    let world = world();
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    let eve = &on(&report, "admin", "eve")[0];
    assert_eq!(eve.1, "revoke");
    assert!(
        eve.2
            .contains("withdraws their whole invitation to the acme organisation"),
        "{}",
        eve.2
    );
    // An invitation kept (frank's covers an unmanaged team) says nothing of it.
    let frank = &on(&report, "admin", "frank")[0];
    assert_eq!(frank.1, "none");
    assert!(!frank.2.contains("whole invitation"), "{}", frank.2);
}

#[test]
fn a_snapshot_keeps_account_ids_so_it_plans_like_the_live_org() {
    let world = world();
    let files = files(
        world.github.base_url(),
        Auth::Token,
        &roster_with_ids(&world),
    );
    rename_alice_and_reuse_bobs_login(&world);
    let snapshot = files.dir.path().join("snapshot.json");
    let taken = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .arg("snapshot")
        .arg("--config")
        .arg(files.config())
        .arg("--output")
        .arg(&snapshot)
        .env_clear()
        .env(TOKEN_ENV, TOKEN)
        .output()
        .expect("lapse snapshot runs");
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    let taken: Value = serde_json::from_slice(&std::fs::read(&snapshot).unwrap()).unwrap();
    let bob = taken["github"]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "deploy")
        .and_then(|t| t["members"].as_array())
        .and_then(|m| m.iter().find(|m| m["login"] == "bob"))
        .cloned()
        .expect("the stranger in deploy");
    assert_eq!(bob["id"], world.github.user_id("bob").unwrap());

    let live = plan(&files.config());
    let offline = lapse(
        "plan",
        &files.config(),
        None,
        &["--state", snapshot.to_str().unwrap()],
    );

    offline.assert_code(2);
    assert_eq!(findings(&offline.report()), findings(&live.report()));
    assert_eq!(notes(&offline.report()), notes(&live.report()));
}
