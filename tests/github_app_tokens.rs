//! As a GitHub App, lapse asks for installation tokens narrowed to each
//! step: `members: read` for every read, `contents: read` on the roster's
//! repository alone for the roster, `members: write` only for revocations,
//! and only when there is one. The fake GitHub records the body each token
//! was minted with and the token each request carried, and refuses a token
//! used beyond its permissions, as GitHub does.

mod github_support;

use github_support::*;
use lapse_test_support::github::{LoggedRequest, MintedToken, Role};
use serde_json::{Value, json};

fn members_read() -> Value {
    json!({"permissions": {"members": "read"}})
}

fn members_write() -> Value {
    json!({"permissions": {"members": "write"}})
}

fn roster_read() -> Value {
    json!({"permissions": {"contents": "read"}, "repositories": ["access"]})
}

fn is_exchange(r: &LoggedRequest) -> bool {
    r.path_and_query.ends_with("/access_tokens")
}

/// Every request but the token exchanges, with the body of the token it
/// carried (`Null` when it carried none that was minted).
fn requests_by_token(world: &World) -> Vec<(LoggedRequest, Value)> {
    let minted = world.github.minted_tokens();
    world
        .github
        .requests()
        .into_iter()
        .filter(|r| !is_exchange(r))
        .map(|r| {
            let body = minted
                .iter()
                .find(|m| Some(&m.token) == r.token.as_ref())
                .map_or(Value::Null, |m| m.body.clone());
            (r, body)
        })
        .collect()
}

fn bodies(minted: &[MintedToken]) -> Vec<Value> {
    minted.iter().map(|m| m.body.clone()).collect()
}

fn app_plan(world: &World, files: &Files) -> Run {
    let run = lapse("plan", &files.config(), None, &[]);
    run.assert_code(2);
    assert_eq!(findings(&run.report()), expected_findings());
    assert_eq!(world.github.count_requests(|r| r.status == 403), 0);
    run
}

#[test]
fn plan_mints_only_a_members_read_token_and_reads_with_it() {
    let world = world();
    let files = files(world.github.base_url(), Auth::App, ROSTER);

    app_plan(&world, &files);

    let minted = world.github.minted_tokens();
    assert_eq!(bodies(&minted), vec![members_read()]);
    assert_eq!(
        minted[0].permissions,
        [("members".to_owned(), "read".to_owned())].into()
    );
    assert_eq!(minted[0].repositories, None);
    let requests = requests_by_token(&world);
    assert_eq!(requests.len() as u64, WORLD_PLAN_REQUESTS);
    for (request, body) in requests {
        assert_eq!(body, members_read(), "{request:?}");
    }
}

#[test]
fn the_roster_is_read_with_a_token_for_its_repository_contents_alone() {
    let world = world();
    world.github.file("acme", "access", "users.yaml", ROSTER);
    // A second repository the installation may read: the roster's token
    // must not reach it.
    world.github.file("acme", "secrets", "users.yaml", ROSTER);
    let files = files(world.github.base_url(), Auth::App, ROSTER);
    roster_from(&files, "github:acme/access/users.yaml");

    app_plan(&world, &files);

    let minted = world.github.minted_tokens();
    assert_eq!(bodies(&minted), vec![roster_read(), members_read()]);
    assert_eq!(
        minted[0].permissions,
        [("contents".to_owned(), "read".to_owned())].into(),
        "no organisation permission rides along"
    );
    assert_eq!(minted[0].repositories, Some(vec!["access".to_owned()]));
    for (request, body) in requests_by_token(&world) {
        let expected = if request.path_and_query.contains("/contents/") {
            roster_read()
        } else {
            members_read()
        };
        assert_eq!(body, expected, "{request:?}");
    }
    assert_eq!(
        world
            .github
            .count_requests(|r| r.path_and_query == "/repos/acme/access/contents/users.yaml"),
        1
    );
}

#[test]
fn apply_writes_with_a_members_write_token_and_reads_with_the_read_token() {
    let world = world();
    let files = files(world.github.base_url(), Auth::App, ROSTER);

    let run = lapse("apply", &files.config(), None, &["--yes"]);

    run.assert_code(0);
    let report = run.report();
    for (team, who) in [("admin", "mallory"), ("admin", "eve"), ("deploy", "carol")] {
        assert_eq!(finding(&report, team, who)["result"], "done", "{report:#}");
    }
    assert_eq!(world.github.direct_members(ORG, "deploy").len(), 2);
    let minted = world.github.minted_tokens();
    assert_eq!(bodies(&minted), vec![members_read(), members_write()]);
    let requests = requests_by_token(&world);
    let deletes = requests
        .iter()
        .filter(|(r, _)| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 4);
    for (request, body) in &requests {
        // Each removal's read-back is a read, made with the read token.
        let expected = if request.method == "DELETE" {
            members_write()
        } else {
            members_read()
        };
        assert_eq!(body, &expected, "{request:?}");
    }
    // The write token is minted once there is something to write: after
    // every read of the plan.
    let log = world.github.requests();
    let exchanges: Vec<usize> = (0..log.len()).filter(|&i| is_exchange(&log[i])).collect();
    let first_delete = log.iter().position(|r| r.method == "DELETE").unwrap();
    assert_eq!(exchanges.len(), 2);
    assert!(exchanges[1] > WORLD_PLAN_REQUESTS as usize && exchanges[1] < first_delete);
    assert_eq!(world.github.count_requests(|r| r.status == 403), 0);
}

/// Everyone in [`world`]'s managed teams and invitations is entitled, so
/// nothing is revoked (bob and nina, in admin through its child teams, are
/// reported and left alone).
const ROSTER_WITHOUT_DRIFT: &str = r#"
- {name: Alice, email: alice@example.org, github_username: alice, access: [deploy, admin], attestations: [bpss, probation]}
- {name: Bob, email: bob@example.org, github_username: bob, access: deploy, attestations: [bpss]}
- {name: Carol, email: carol@example.org, github_username: carol, access: deploy, attestations: [bpss]}
- {name: Grace, email: grace@example.org, github_username: grace, access: deploy, attestations: [bpss]}
- {name: Mallory, email: mallory@example.org, github_username: mallory, access: admin, attestations: [bpss, probation]}
- {name: Dave, email: dave@example.org, github_username: dave, access: admin, attestations: [bpss, probation]}
- {name: Eve, email: eve@example.org, github_username: eve, access: admin, attestations: [bpss, probation]}
- {name: Frank, email: frank@example.org, github_username: frank, access: admin, attestations: [bpss, probation]}
"#;

#[test]
fn apply_with_nothing_to_revoke_mints_no_write_token() {
    let world = world();
    let files = files(world.github.base_url(), Auth::App, ROSTER_WITHOUT_DRIFT);

    let run = lapse("apply", &files.config(), None, &["--yes"]);

    run.assert_code(0);
    let report = run.report();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["action"] != "revoke"),
        "{report:#}"
    );
    assert_eq!(bodies(&world.github.minted_tokens()), vec![members_read()]);
    assert_eq!(world.github.count_requests(|r| r.method == "DELETE"), 0);
}

/// Sends `method path` to the fake with `token`: (status, GitHub's message).
async fn send(world: &World, method: reqwest::Method, path: &str, token: &str) -> (u16, String) {
    let url = format!("{}{path}", world.github.base_url());
    let response = reqwest::Client::new()
        .request(method, url)
        .header("authorization", format!("token {token}"))
        .header("accept", "application/vnd.github+json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (
        status,
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_used_beyond_its_permissions_is_refused() {
    let world = world();
    world.github.file("acme", "access", "users.yaml", ROSTER);
    let files = files(world.github.base_url(), Auth::App, ROSTER);
    roster_from(&files, "github:acme/access/users.yaml");
    let run = tokio::task::block_in_place(|| lapse("plan", &files.config(), None, &[]));
    run.assert_code(2);
    let minted = world.github.minted_tokens();
    let token = |body: Value| {
        minted
            .iter()
            .find(|m| m.body == body)
            .unwrap()
            .token
            .clone()
    };
    let (read, roster) = (token(members_read()), token(roster_read()));
    let refused = (403, "Resource not accessible by integration".to_owned());
    let membership = "/orgs/acme/teams/deploy/memberships/carol";

    // The read token cannot remove anyone, nor read the roster.
    assert_eq!(
        send(&world, reqwest::Method::DELETE, membership, &read).await,
        refused
    );
    let invitation = format!("/orgs/acme/invitations/{}", world.eve);
    assert_eq!(
        send(&world, reqwest::Method::DELETE, &invitation, &read).await,
        refused
    );
    let file = "/repos/acme/access/contents/users.yaml";
    assert_eq!(
        send(&world, reqwest::Method::GET, file, &read).await,
        refused
    );
    // The roster's token reads no team, and no other repository.
    assert_eq!(
        send(&world, reqwest::Method::GET, membership, &roster).await,
        refused
    );
    let elsewhere = "/repos/acme/other/contents/users.yaml";
    assert_eq!(
        send(&world, reqwest::Method::GET, elsewhere, &roster).await,
        refused
    );
    // Each within its permissions is served.
    assert_eq!(
        send(&world, reqwest::Method::GET, membership, &read)
            .await
            .0,
        200
    );
    assert_eq!(
        send(&world, reqwest::Method::GET, file, &roster).await.0,
        200
    );

    assert_eq!(world.github.direct_members(ORG, "deploy").len(), 3);
    assert!(
        world
            .github
            .invitations(ORG)
            .iter()
            .any(|i| i.id == world.eve)
    );
}

#[test]
fn an_app_installed_read_only_plans_and_cannot_revoke() {
    let world = world();
    world
        .github
        .set_installation_permissions(&[("members", "read")]);
    let files = files(world.github.base_url(), Auth::App, ROSTER);

    app_plan(&world, &files);

    let run = lapse("apply", &files.config(), None, &["--yes"]);
    let report = run.report();
    let carol = finding(&report, "deploy", "carol");
    assert_eq!(carol["result"], "failed", "{report:#}");
    let error = carol["error"].as_str().unwrap();
    assert!(
        error.contains("422") && error.contains("not granted to this installation"),
        "{error}"
    );
    assert_eq!(world.github.count_requests(|r| r.method == "DELETE"), 0);
    assert_eq!(
        world.github.direct_members(ORG, "deploy"),
        [
            ("alice", Role::Member),
            ("bob", Role::Member),
            ("carol", Role::Member)
        ]
        .map(|(login, role)| (login.to_owned(), role))
        .to_vec()
    );
}
