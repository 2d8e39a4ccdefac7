//! GraphQL's listing of a team's members, as GitHub answers it: direct
//! members apart from child teams', roles and ids, cursors, and GraphQL's
//! own way of failing (`errors` in a 200 answer).

use lapse_test_support::github::{FakeGithub, Role};
use octocrab::Octocrab;
use serde_json::{Value, json};

const TOKEN: &str = "ghp_graphql_test";
const ORG: &str = "acme";

const MEMBERS: &str = "query($org: String!, $slug: String!, $membership: TeamMembershipType, $first: Int, $after: String) {
  organization(login: $org) {
    team(slug: $slug) {
      members(membership: $membership, first: $first, after: $after) {
        totalCount
        edges { role cursor node { login databaseId } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}";

fn client(github: &FakeGithub) -> Octocrab {
    github.personal_token(TOKEN);
    Octocrab::builder()
        .base_uri(github.base_url())
        .expect("base uri")
        .personal_token(TOKEN.to_owned())
        .build()
        .expect("octocrab client")
}

async fn post(octocrab: &Octocrab, body: Value) -> (u16, Value) {
    let response = octocrab
        ._post("/graphql", Some(&body))
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let text = octocrab.body_to_string(response).await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn members(octocrab: &Octocrab, variables: Value) -> Value {
    let (status, answer) = post(octocrab, json!({"query": MEMBERS, "variables": variables})).await;
    assert_eq!(status, 200, "{answer:#}");
    answer
}

/// `(login, role, databaseId)` of each edge.
fn edges(answer: &Value) -> Vec<(String, String, u64)> {
    answer["data"]["organization"]["team"]["members"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {answer:#}"))
        .iter()
        .map(|e| {
            (
                e["node"]["login"].as_str().unwrap().to_owned(),
                e["role"].as_str().unwrap().to_owned(),
                e["node"]["databaseId"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn seed(github: &FakeGithub) {
    github
        .org(ORG)
        .team("admin")
        .maintainer("alice")
        .member("dave", Role::Member)
        .child("admin-oncall")
        .member("bob", Role::Member)
        .member("dave", Role::Member);
}

#[tokio::test]
async fn immediate_members_leave_out_child_teams_and_carry_roles_and_ids() {
    let github = FakeGithub::start();
    seed(&github);
    let octocrab = client(&github);
    let id = |login| github.user_id(login).unwrap();
    let ask = |membership: &str| json!({"org": ORG, "slug": "admin", "membership": membership, "first": 100});

    let immediate = members(&octocrab, ask("IMMEDIATE")).await;
    assert_eq!(
        edges(&immediate),
        vec![
            ("alice".into(), "MAINTAINER".into(), id("alice")),
            ("dave".into(), "MEMBER".into(), id("dave")),
        ]
    );
    assert!(immediate.get("errors").is_none(), "{immediate:#}");
    let all = members(&octocrab, ask("ALL")).await;
    let logins: Vec<String> = edges(&all).into_iter().map(|(l, _, _)| l).collect();
    assert_eq!(logins, ["alice", "bob", "dave"]);
    let child = members(&octocrab, ask("CHILD_TEAM")).await;
    assert_eq!(
        edges(&child),
        vec![("bob".into(), "MEMBER".into(), id("bob"))]
    );

    // Counted like any request, against GraphQL's own rate limit.
    assert_eq!(
        github.count_requests(|r| r.method == "POST" && r.path_and_query == "/graphql"),
        3
    );
    assert_eq!(github.graphql_rate_limit().used, 3);
    assert_eq!(github.rate_limit().used, 0);
}

#[tokio::test]
async fn first_and_after_page_through_a_long_team() {
    let github = FakeGithub::start();
    let logins: Vec<String> = (0..250).map(|i| format!("person-{i:03}")).collect();
    github.org(ORG).team("big").members(&logins, Role::Member);
    let octocrab = client(&github);

    let mut read = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let answer = members(
            &octocrab,
            json!({"org": ORG, "slug": "big", "membership": "IMMEDIATE", "first": 100, "after": after}),
        )
        .await;
        pages += 1;
        let connection = &answer["data"]["organization"]["team"]["members"];
        assert_eq!(connection["totalCount"], 250);
        read.extend(edges(&answer).into_iter().map(|(l, _, _)| l));
        let info = &connection["pageInfo"];
        let last_cursor = &connection["edges"].as_array().unwrap().last().unwrap()["cursor"];
        assert_eq!(&info["endCursor"], last_cursor);
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(read, logins, "every member once, in login order");
}

#[tokio::test]
async fn what_github_refuses_comes_back_as_graphql_errors() {
    let github = FakeGithub::start();
    seed(&github);
    let octocrab = client(&github);
    let ask = |variables: Value| members(&octocrab, variables);

    // Paging bounds: `first` is required and at most 100.
    let unbounded = ask(json!({"org": ORG, "slug": "admin"})).await;
    assert_eq!(
        unbounded["errors"][0]["type"],
        "MISSING_PAGINATION_BOUNDARIES"
    );
    assert_eq!(
        unbounded["data"]["organization"]["team"]["members"],
        Value::Null
    );
    let too_many = ask(json!({"org": ORG, "slug": "admin", "first": 101})).await;
    assert_eq!(too_many["errors"][0]["type"], "EXCESSIVE_PAGINATION");
    let bad_cursor = ask(json!({"org": ORG, "slug": "admin", "first": 10, "after": "nope"})).await;
    assert_eq!(bad_cursor["errors"][0]["type"], "INVALID_CURSOR_ARGUMENTS");

    // An unknown organisation is NOT_FOUND; an unknown team is just null.
    let no_org = ask(json!({"org": "nope", "slug": "admin", "first": 10})).await;
    assert_eq!(no_org["data"]["organization"], Value::Null);
    assert_eq!(no_org["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(no_org["errors"][0]["path"], json!(["organization"]));
    let no_team = ask(json!({"org": ORG, "slug": "nope", "first": 10})).await;
    assert_eq!(no_team["data"]["organization"]["team"], Value::Null);
    assert!(no_team.get("errors").is_none(), "{no_team:#}");

    // Other queries: errors alone, with where they are.
    let (status, other) = post(&octocrab, json!({"query": "{ viewer { login } }"})).await;
    assert_eq!(status, 200);
    assert!(other.get("data").is_none(), "{other:#}");
    let error = &other["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Field 'viewer' doesn't exist on type 'Query'"),
        "{other:#}"
    );
    assert_eq!(error["locations"], json!([{"line": 1, "column": 3}]));
    let (_, mutation) = post(&octocrab, json!({"query": "mutation { x }"})).await;
    assert!(
        mutation["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("queries only")
    );
    let (_, syntax) = post(
        &octocrab,
        json!({"query": "{ organization(login: \"acme\" }"}),
    )
    .await;
    assert!(
        syntax["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Parse error")
    );
    let (status, _) = post(&octocrab, json!({"no": "query"})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn graphql_needs_credentials_like_every_endpoint() {
    let github = FakeGithub::start();
    seed(&github);
    let anonymous = Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .build()
        .unwrap();

    let (status, _) = post(&anonymous, json!({"query": MEMBERS})).await;

    assert_eq!(status, 401);
}
