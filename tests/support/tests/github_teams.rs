//! Teams, members and memberships, driven through octocrab as lapse drives them.

use lapse_test_support::github::{FakeGithub, Role};
use octocrab::Octocrab;
use serde_json::Value;

const TOKEN: &str = "ghp_teams_test";
const ORG: &str = "alphagov";
const ADMIN: &str = "gov-uk-production-admin";

fn client(github: &FakeGithub) -> Octocrab {
    github.personal_token(TOKEN);
    Octocrab::builder()
        .base_uri(github.base_url())
        .expect("base uri")
        .personal_token(TOKEN.to_owned())
        .build()
        .expect("octocrab client")
}

fn logins(people: &[octocrab::models::Author]) -> Vec<String> {
    people.iter().map(|p| p.login.clone()).collect()
}

fn numbered(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("person-{i:03}")).collect()
}

async fn get_json(octocrab: &Octocrab, path: &str) -> (u16, Value) {
    let response = octocrab._get(path).await.expect("request sent");
    let status = response.status().as_u16();
    let body = octocrab.body_to_string(response).await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn member_listing_over_250_follows_link_headers() {
    let github = FakeGithub::start();
    let people = numbered(250);
    github.org(ORG).team(ADMIN).members(&people, Role::Member);
    let octocrab = client(&github);

    let first = octocrab
        .teams(ORG)
        .members(ADMIN)
        .per_page(100)
        .send()
        .await
        .expect("first page");
    assert_eq!(first.items.len(), 100);
    let next = first.next.clone().expect("a next link").to_string();
    let last = first.last.clone().expect("a last link").to_string();
    assert!(next.starts_with(github.base_url()), "absolute link: {next}");
    assert!(next.ends_with("per_page=100&page=2"), "{next}");
    assert!(last.ends_with("per_page=100&page=3"), "{last}");
    assert!(first.prev.is_none() && first.first.is_none());

    let everyone = octocrab.all_pages(first).await.expect("all pages");
    assert_eq!(logins(&everyone), people, "all 250, in a stable order");
    assert_eq!(
        github.count_requests(|r| r.path_and_query.contains("/members")),
        3
    );
    // GitHub's links name the org and team by id; the fake serves that form too.
    let followed = github.requests()[1].path_and_query.clone();
    assert!(
        followed.starts_with("/organizations/") && followed.contains("/team/"),
        "{followed}"
    );
}

#[tokio::test]
async fn page_size_defaults_to_30_and_is_clamped_to_100() {
    let github = FakeGithub::start();
    github
        .org(ORG)
        .team(ADMIN)
        .members(numbered(250), Role::Member);
    let octocrab = client(&github);

    let default = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(default.items.len(), 30);
    assert!(default.last.unwrap().to_string().ends_with("page=9"));

    let clamped = octocrab
        .teams(ORG)
        .members(ADMIN)
        .per_page(250u8)
        .send()
        .await
        .unwrap();
    assert_eq!(clamped.items.len(), 100);
    assert!(clamped.last.unwrap().to_string().ends_with("page=3"));

    let beyond = octocrab
        .teams(ORG)
        .members(ADMIN)
        .per_page(100)
        .page(4u32)
        .send()
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert!(beyond.next.is_none());
}

#[tokio::test]
async fn child_team_members_are_listed_in_the_parent() {
    let github = FakeGithub::start();
    github
        .org(ORG)
        .team(ADMIN)
        .member("direct", Role::Member)
        .maintainer("lead")
        .child("admin-oncall")
        .member("oncaller", Role::Maintainer)
        .child("admin-oncall-trainees")
        .member("trainee", Role::Member);
    let octocrab = client(&github);

    let parent = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    let mut listed = logins(&parent.items);
    listed.sort();
    assert_eq!(listed, ["direct", "lead", "oncaller", "trainee"]);

    let child = octocrab
        .teams(ORG)
        .members("admin-oncall")
        .send()
        .await
        .unwrap();
    let mut listed = logins(&child.items);
    listed.sort();
    assert_eq!(listed, ["oncaller", "trainee"]);

    // `role` filters by the role in the team asked about: someone who is only
    // in a child team is a plain member of the parent.
    let (status, maintainers) = get_json(
        &octocrab,
        &format!("/orgs/{ORG}/teams/{ADMIN}/members?role=maintainer"),
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = maintainers
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lead"]);

    assert_eq!(
        github.direct_members(ORG, ADMIN),
        [
            ("direct".to_owned(), Role::Member),
            ("lead".to_owned(), Role::Maintainer)
        ]
    );
}

#[tokio::test]
async fn teams_carry_their_parent_and_list_their_children() {
    let github = FakeGithub::start();
    github
        .org(ORG)
        .team(ADMIN)
        .name("GOV.UK Production Admin")
        .child("admin-oncall");
    github.org(ORG).team("unrelated");
    let octocrab = client(&github);

    let team = octocrab.teams(ORG).get("admin-oncall").await.unwrap();
    assert_eq!(team.slug, "admin-oncall");
    let (_, raw) = get_json(&octocrab, &format!("/orgs/{ORG}/teams/admin-oncall")).await;
    assert_eq!(raw["parent"]["slug"], ADMIN);
    assert_eq!(raw["parent"]["name"], "GOV.UK Production Admin");
    assert_eq!(raw["organization"]["login"], ORG);
    let (_, top) = get_json(&octocrab, &format!("/orgs/{ORG}/teams/{ADMIN}")).await;
    assert!(top["parent"].is_null());

    let children = octocrab
        .teams(ORG)
        .list_children(ADMIN)
        .send()
        .await
        .unwrap();
    let slugs: Vec<&str> = children.items.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["admin-oncall"]);
    assert_eq!(
        children.items[0].parent.as_ref().map(|p| p.slug.as_str()),
        Some(ADMIN)
    );

    let all = octocrab.teams(ORG).list().send().await.unwrap();
    assert_eq!(all.items.len(), 3);
}

#[tokio::test]
async fn removing_a_direct_membership_removes_the_member() {
    let github = FakeGithub::start();
    github
        .org(ORG)
        .team(ADMIN)
        .member("janedoe", Role::Member)
        .member("keeper", Role::Member);
    let octocrab = client(&github);

    let membership = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .get("janedoe")
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&membership).unwrap()["state"],
        "active"
    );

    octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .remove("janedoe")
        .await
        .expect("204");

    assert_eq!(
        github.direct_members(ORG, ADMIN),
        [("keeper".to_owned(), Role::Member)]
    );
    let listed = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(logins(&listed.items), ["keeper"]);
    let gone = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .get("janedoe")
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
    assert_eq!(
        github.count_requests(|r| r.method == "DELETE" && r.status == 204),
        1
    );
}

#[tokio::test]
async fn removing_someone_who_is_only_in_a_child_team_is_404_and_changes_nothing() {
    let github = FakeGithub::start();
    github
        .org(ORG)
        .team(ADMIN)
        .child("admin-oncall")
        .member("oncaller", Role::Member);
    let octocrab = client(&github);

    let membership = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .get("oncaller")
        .await
        .expect("child-team members have an active membership of the parent");
    assert_eq!(serde_json::to_value(&membership).unwrap()["role"], "member");

    let refused = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .remove("oncaller")
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 404);
    assert_eq!(github.members(ORG, ADMIN), ["oncaller"]);
    assert_eq!(
        github.direct_members(ORG, "admin-oncall"),
        [("oncaller".to_owned(), Role::Member)]
    );

    let nobody = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .remove("stranger")
        .await
        .unwrap_err();
    assert_eq!(status_of(&nobody), 404);
}

#[tokio::test]
async fn unknown_org_or_team_is_404_with_githubs_body() {
    let github = FakeGithub::start();
    github.org(ORG).team(ADMIN);
    let octocrab = client(&github);

    for path in [
        format!("/orgs/{ORG}/teams/no-such-team/members"),
        "/orgs/no-such-org/teams".to_owned(),
        format!("/orgs/{ORG}/teams/no-such-team"),
    ] {
        let (status, body) = get_json(&octocrab, &path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["message"], "Not Found");
        assert!(body["documentation_url"].as_str().is_some());
    }
    let error = octocrab.teams(ORG).get("no-such-team").await.unwrap_err();
    assert_eq!(status_of(&error), 404);
}

#[tokio::test]
async fn requests_without_a_known_token_get_401() {
    let github = FakeGithub::start();
    github.org(ORG).team(ADMIN).member("janedoe", Role::Member);
    github.personal_token(TOKEN);
    let before = github.rate_limit();

    let anonymous = Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .build()
        .unwrap();
    let error = anonymous
        .teams(ORG)
        .members(ADMIN)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&error), 401);
    assert_eq!(message_of(&error), "Requires authentication");

    let wrong = Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .personal_token("ghp_not_a_real_token".to_owned())
        .build()
        .unwrap();
    let error = wrong.teams(ORG).members(ADMIN).send().await.unwrap_err();
    assert_eq!(status_of(&error), 401);
    assert_eq!(message_of(&error), "Bad credentials");

    assert_eq!(github.rate_limit().remaining, before.remaining);
    assert_eq!(github.count_requests(|r| r.status == 401), 2);
}

fn status_of(error: &octocrab::Error) -> u16 {
    match error {
        octocrab::Error::GitHub { source, .. } => source.status_code.as_u16(),
        other => panic!("expected an error from GitHub, got {other:?}"),
    }
}

fn message_of(error: &octocrab::Error) -> String {
    match error {
        octocrab::Error::GitHub { source, .. } => source.message.clone(),
        other => panic!("expected an error from GitHub, got {other:?}"),
    }
}
