//! `lapse plan` and `lapse apply` against the fake GitHub, through the built
//! binary: findings, request counts, authentication, faults and rate limits,
//! and that no secret is ever printed.

mod github_support;

use std::time::{Duration, SystemTime};

use github_support::*;
use lapse_test_support::github::Role;

fn no_deletes(world: &World) {
    assert_eq!(
        world.github.count_requests(|r| r.method == "DELETE"),
        0,
        "a plan or a failed read must change nothing: {:?}",
        world.github.requests()
    );
}

#[test]
fn plan_reports_direct_members_child_teams_and_invitations() {
    let world = world();
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    assert_eq!(findings(&report), expected_findings());
    let via_child = finding(&report, "admin", "bob")["reason"].as_str().unwrap();
    assert!(
        via_child.contains("child team github:acme/admin-oncall"),
        "{via_child}"
    );
    // dave is in admin directly and through admin-oncall: GraphQL tells the
    // two apart, so the direct membership is revoked and the one through
    // the child team reported.
    let dave: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "github:acme/admin" && f["principal"] == "dave")
        .map(|f| (f["action"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(dave.len(), 2, "{dave:?}");
    assert_eq!(dave[0], ("revoke", "not in the roster"));
    assert_eq!(dave[1].0, "none");
    assert!(
        dave[1]
            .1
            .contains("held through child team github:acme/admin-oncall"),
        "{dave:?}"
    );
    let grandchild = finding(&report, "admin", "nina")["reason"]
        .as_str()
        .unwrap();
    assert!(
        grandchild.contains("github:acme/admin-oncall-nights"),
        "{grandchild}"
    );
    let frank = finding(&report, "admin", "frank")["reason"]
        .as_str()
        .unwrap();
    assert!(frank.contains("github:acme/social"), "{frank}");
    no_deletes(&world);
}

#[test]
fn a_plan_makes_exactly_the_requests_it_needs_and_counts_them() {
    let world = world();
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    assert_eq!(run.report()["api_calls"]["github"], WORLD_PLAN_REQUESTS);
    assert_eq!(world.github.request_count() as u64, WORLD_PLAN_REQUESTS);
    let requests = world.github.requests();
    assert!(requests.iter().all(|r| r.status == 200), "{requests:#?}");
    // Listings at 100 a page; the accounts of eve, frank and grace; the
    // direct members of the two teams with children, by GraphQL.
    let (listings, rest): (Vec<_>, Vec<_>) = requests
        .iter()
        .partition(|r| r.path_and_query.contains("per_page=100"));
    assert_eq!(listings.len() as u64, WORLD_PLAN_READS - 3);
    let mut rest: Vec<(&str, &str)> = rest
        .iter()
        .map(|r| (r.method.as_str(), r.path_and_query.as_str()))
        .collect();
    rest.sort();
    assert_eq!(
        rest,
        [
            ("GET", "/users/eve"),
            ("GET", "/users/frank"),
            ("GET", "/users/grace"),
            ("POST", "/graphql"),
            ("POST", "/graphql"),
        ]
    );
    // Invitations covering one team need no lookup.
    assert_eq!(
        world
            .github
            .count_requests(|r| r.path_and_query.contains("/invitations/")),
        1
    );
}

#[test]
fn a_team_of_hundreds_is_read_page_by_page() {
    let world = world();
    let crowd: Vec<String> = (0..260).map(|i| format!("person-{i:03}")).collect();
    world
        .github
        .org(ORG)
        .team("deploy")
        .members(&crowd, Role::Member)
        .maintainer("lead-1")
        .maintainer("lead-2");
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    let on_deploy: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "github:acme/deploy" && f["kind"] == "unexpected")
        .map(|f| f["principal"].as_str().unwrap())
        .collect();
    assert_eq!(on_deploy.len(), 262, "every one of them, none twice");
    assert!(on_deploy.contains(&"person-000") && on_deploy.contains(&"person-259"));
    assert!(on_deploy.contains(&"lead-2"));
    let member_pages = world.github.count_requests(|r| {
        r.path_and_query.contains("/members") && r.path_and_query.contains("role=member")
    });
    // deploy: 263 members in 3 pages; admin-oncall-nights: 1 (admin and
    // admin-oncall have child teams, so GraphQL reads their members).
    assert_eq!(member_pages, 4);
    assert_eq!(
        report["api_calls"]["github"],
        WORLD_PLAN_REQUESTS + 2,
        "two more pages of deploy's members"
    );
}

#[test]
fn plan_with_a_github_app_follows_pages_with_the_installation_token() {
    let world = world();
    let crowd: Vec<String> = (0..150).map(|i| format!("person-{i:03}")).collect();
    world
        .github
        .org(ORG)
        .team("admin")
        .members(&crowd, Role::Member);
    let files = files(world.github.base_url(), Auth::App, ROSTER);

    // No token in the environment: the App key is the only credential.
    let run = lapse("plan", &files.config(), None, &[]);

    run.assert_code(2);
    let report = run.report();
    let on_admin = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == "github:acme/admin" && f["kind"] == "unexpected")
        .count();
    assert_eq!(
        on_admin,
        150 + 5,
        "the crowd, mallory, bob, nina, and dave directly and through admin-oncall"
    );
    assert_eq!(world.github.installation_tokens_issued(), 1);
    assert_eq!(world.github.count_requests(|r| r.status == 401), 0);
    // The token exchange is a request too.
    assert_eq!(
        report["api_calls"]["github"],
        WORLD_PLAN_REQUESTS + 1 + 1,
        "one more page of admin's members and the exchange"
    );
    no_deletes(&world);
}

#[test]
fn server_errors_are_retried_and_counted() {
    let world = world();
    world.github.fail_requests("/teams/deploy/members", 1, 502);
    world.github.fail_requests("/graphql", 1, 502);
    world.github.fail_requests("/invitations", 1, 503);
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    assert_eq!(findings(&report), expected_findings());
    assert_eq!(report["api_calls"]["github"], WORLD_PLAN_REQUESTS + 3);
    assert_eq!(world.github.request_count() as u64, WORLD_PLAN_REQUESTS + 3);
}

#[test]
fn a_secondary_rate_limit_is_waited_out() {
    let world = world();
    world
        .github
        .secondary_rate_limit("/teams/deploy/members", 1, 403, Duration::from_secs(1));
    world
        .github
        .secondary_rate_limit("/teams/admin/invitations", 1, 429, Duration::from_secs(1));
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    assert_eq!(findings(&report), expected_findings());
    assert_eq!(report["api_calls"]["github"], WORLD_PLAN_REQUESTS + 2);
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}", run.elapsed);
}

#[test]
fn an_exhausted_rate_limit_that_resets_soon_is_waited_for() {
    let world = world();
    world
        .github
        .exhaust_rate_limit(SystemTime::now() + Duration::from_secs(2));
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(2);
    assert_eq!(findings(&run.report()), expected_findings());
    assert!(world.github.count_requests(|r| r.status == 403) >= 1);
}

#[test]
fn an_exhausted_rate_limit_with_a_far_reset_fails_clearly_and_changes_nothing() {
    let world = world();
    world
        .github
        .exhaust_rate_limit(SystemTime::now() + Duration::from_secs(1800));
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    for command in ["plan", "apply"] {
        let extra: &[&str] = if command == "apply" { &["--yes"] } else { &[] };
        let run = lapse(command, &files.config(), Some(TOKEN), extra);

        run.assert_code(1);
        assert!(
            run.stderr.contains("rate limit is used up until"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert!(run.elapsed < Duration::from_secs(30), "{:?}", run.elapsed);
    }
    no_deletes(&world);
    assert_eq!(world.github.direct_members(ORG, "admin").len(), 3);
}

#[test]
fn an_unknown_team_stops_the_run_before_anything_changes() {
    let world = world();
    let files = files_with_teams(
        world.github.base_url(),
        Auth::Token,
        ROSTER,
        &["deploy"],
        &["admin", "admni"],
    );

    for command in ["plan", "apply"] {
        let extra: &[&str] = if command == "apply" { &["--yes"] } else { &[] };
        let run = lapse(command, &files.config(), Some(TOKEN), extra);

        run.assert_code(1);
        assert!(
            run.stderr
                .contains("team `admni` does not exist in organisation `acme`"),
            "{}",
            run.stderr
        );
    }
    no_deletes(&world);
}

#[test]
fn an_unreachable_api_fails_within_a_minute() {
    let files = files("http://127.0.0.1:1", Auth::Token, ROSTER);

    let run = plan(&files.config());

    run.assert_code(1);
    assert!(run.elapsed < Duration::from_secs(60), "{:?}", run.elapsed);
    assert!(
        run.stderr.contains("no usable answer after"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("could not reach http://127.0.0.1:1: check `github.api_url`"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_credentials_fail_before_any_request() {
    let world = world();
    let token = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = lapse("plan", &token.config(), None, &[]);
    run.assert_code(1);
    assert!(run.stderr.contains(TOKEN_ENV), "{}", run.stderr);

    let run = lapse("plan", &token.config(), Some("  "), &[]);
    run.assert_code(1);
    assert!(run.stderr.contains("not set or empty"), "{}", run.stderr);

    let app = files(world.github.base_url(), Auth::App, ROSTER);
    std::fs::remove_file(app.dir.path().join("app.pem")).unwrap();
    let run = lapse("plan", &app.config(), None, &[]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("cannot read the GitHub App private key"),
        "{}",
        run.stderr
    );

    assert_eq!(world.github.request_count(), 0);
}

#[test]
fn no_secret_reaches_the_output_whatever_happens() {
    let world = world();
    world.github.fail_requests("/teams/deploy/teams", 1, 500);
    let files = files(world.github.base_url(), Auth::Token, ROSTER);
    let refused = "ghp_lapseREFUSED0secret0never0printedQ9";
    let app = files_with_teams(
        world.github.base_url(),
        Auth::App,
        ROSTER,
        &["deploy"],
        &["admin"],
    );
    let key_line = lapse_test_support::github::TEST_APP_PRIVATE_KEY_PEM
        .lines()
        .nth(1)
        .unwrap();

    let runs = [
        plan(&files.config()),
        lapse("plan", &files.config(), Some(refused), &[]),
        lapse("apply", &files.config(), Some(TOKEN), &["--yes"]),
        lapse("plan", &app.config(), None, &[]),
        lapse(
            "plan",
            &app.config(),
            None,
            &["--output", "/nonexistent/report.json"],
        ),
    ];

    assert!(runs[1].stderr.contains("401"), "{}", runs[1].stderr);
    for run in &runs {
        for secret in [TOKEN, refused, key_line] {
            assert!(
                !run.stdout.contains(secret),
                "secret in stdout: {}",
                run.stdout
            );
            assert!(
                !run.stderr.contains(secret),
                "secret in stderr: {}",
                run.stderr
            );
        }
    }
    let audit = std::fs::read_to_string(files.dir.path().join("audit.jsonl")).unwrap();
    assert!(!audit.contains(TOKEN));
}

#[test]
fn apply_revokes_the_planned_grants_and_nothing_else() {
    let world = world();
    let files = files(world.github.base_url(), Auth::Token, ROSTER);

    let run = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);

    run.assert_code(0);
    let report = run.report();
    for (team, who) in [("admin", "mallory"), ("admin", "eve"), ("deploy", "carol")] {
        assert_eq!(finding(&report, team, who)["result"], "done", "{report:#}");
    }
    let dave = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["principal"] == "dave" && f["action"] == "revoke")
        .unwrap();
    assert_eq!(dave["result"], "done", "{report:#}");
    let github = &world.github;
    assert_eq!(
        github.direct_members(ORG, "admin"),
        vec![("alice".to_owned(), Role::Maintainer)],
        "dave's direct membership is gone"
    );
    assert_eq!(
        github.direct_members(ORG, "admin-oncall"),
        vec![
            ("bob".to_owned(), Role::Member),
            ("dave".to_owned(), Role::Member)
        ]
    );
    assert_eq!(github.direct_members(ORG, "deploy").len(), 2);
    assert_eq!(github.direct_members(ORG, "social").len(), 1);
    let open: Vec<u64> = github.invitations(ORG).iter().map(|i| i.id).collect();
    assert_eq!(open, vec![world.frank, world.grace]);
    assert_eq!(github.count_requests(|r| r.method == "DELETE"), 4);
    assert_eq!(
        report["api_calls"]["github"],
        WORLD_PLAN_REQUESTS + 1 + 4 + 5,
        "the plan's reads, GET /user for who lapse acts as, one DELETE per \
         revocation, and each read back: a GET per revocation, and for dave, \
         whom the membership read still shows through admin-oncall, admin's \
         direct members"
    );

    // A cancelled invitation's record names the team it gave access to.
    let audit = std::fs::read_to_string(files.dir.path().join("audit.jsonl")).unwrap();
    let eve: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["principals"] == serde_json::json!(["eve"]))
        .collect();
    assert!(!eve.is_empty(), "{audit}");
    assert!(
        eve.iter().all(|r| r["target"] == "github:acme/admin"),
        "{eve:?}"
    );

    // Applying again finds nothing left to revoke.
    let again = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);
    again.assert_code(0);
    assert_eq!(github.count_requests(|r| r.method == "DELETE"), 4);
}

#[test]
fn the_roster_is_read_from_a_repository_at_a_ref() {
    let world = world();
    // The default branch holds a roster that grants nothing: reading it
    // instead of the ref would change every finding.
    world.github.file(
        "acme",
        "access",
        "rosters/users.yaml",
        "- email: x@example.org\n  access: deploy\n  attestations: [bpss]\n",
    );
    world
        .github
        .file_at_ref("acme", "access", "release", "rosters/users.yaml", ROSTER);
    let files = files(world.github.base_url(), Auth::Token, ROSTER);
    roster_from(&files, "github:acme/access/rosters/users.yaml@release");

    let run = plan(&files.config());

    run.assert_code(2);
    let report = run.report();
    assert_eq!(findings(&report), expected_findings());
    // The roster's one request counts with the rest.
    assert_eq!(report["api_calls"]["github"], WORLD_PLAN_REQUESTS + 1);
    assert_eq!(world.github.request_count() as u64, WORLD_PLAN_REQUESTS + 1);
    no_deletes(&world);
}

#[test]
fn a_bad_roster_in_a_repository_is_reported_where_it_is_and_changes_nothing() {
    let world = world();
    let broken = ROSTER.replace(
        "  access: deploy\n  attestations: [bpss]\n  absent_since",
        "  acess: deploy\n  attestations: [bpss]\n  absent_since",
    );
    world.github.file("acme", "access", "users.yaml", broken);
    let files = files(world.github.base_url(), Auth::Token, ROSTER);
    roster_from(&files, "github:acme/access/users.yaml");

    let run = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);

    run.assert_code(1);
    assert!(
        run.stderr.contains("github:acme/access/users.yaml:15:3") && run.stderr.contains("acess"),
        "{}",
        run.stderr
    );
    no_deletes(&world);

    roster_from_missing(&world, &files);
}

/// A roster path that is not in the repository is an error naming it, not an empty roster.
fn roster_from_missing(world: &World, files: &Files) {
    let config = std::fs::read_to_string(files.config()).unwrap();
    let config = config.replace(
        "github:acme/access/users.yaml",
        "github:acme/access/missing.yaml",
    );
    std::fs::write(files.config(), config).unwrap();

    let run = plan(&files.config());

    run.assert_code(1);
    assert!(
        run.stderr.contains("github:acme/access/missing.yaml") && run.stderr.contains("not found"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN));
    no_deletes(world);
}
