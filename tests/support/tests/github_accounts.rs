//! Accounts as GitHub keeps them: a numeric id that survives a rename, a
//! login that another account may take once it is free, `GET /users/LOGIN`;
//! and writes that are lost, which only a read after the write can tell.

use lapse_test_support::github::{FakeGithub, Role};
use octocrab::Octocrab;
use serde_json::Value;

const TOKEN: &str = "ghp_accounts_test";
const ORG: &str = "acme";

fn client(github: &FakeGithub) -> Octocrab {
    github.personal_token(TOKEN);
    Octocrab::builder()
        .base_uri(github.base_url())
        .expect("base uri")
        .personal_token(TOKEN.to_owned())
        .build()
        .expect("octocrab client")
}

/// `(login, id)` of everyone GitHub lists in the team.
async fn listed(octocrab: &Octocrab, team: &str) -> Vec<(String, u64)> {
    let page = octocrab
        .teams(ORG)
        .members(team)
        .per_page(100)
        .send()
        .await
        .expect("members");
    page.items
        .iter()
        .map(|u| (u.login.clone(), u.id.0))
        .collect()
}

#[tokio::test]
async fn a_renamed_account_keeps_its_id_and_its_old_login_can_be_taken() {
    let github = FakeGithub::start();
    let org = github.org(ORG);
    org.team("admin").member("janedoe", Role::Maintainer);
    let invitation = org.invite_login("janedoe", &["deploy"]);
    let jane = github.user_id("janedoe").unwrap();
    let octocrab = client(&github);

    assert_eq!(github.rename_user("janedoe", "jane-d"), jane);
    // Someone else takes the free login, and joins a team under it.
    github
        .org(ORG)
        .team("deploy")
        .member("janedoe", Role::Member);
    let stranger = github.user_id("janedoe").unwrap();

    assert_ne!(stranger, jane);
    assert_eq!(github.user_id("jane-d"), Some(jane));
    assert_eq!(
        listed(&octocrab, "admin").await,
        vec![("jane-d".to_owned(), jane)]
    );
    assert_eq!(
        listed(&octocrab, "deploy").await,
        vec![("janedoe".to_owned(), stranger)]
    );
    assert_eq!(
        github.direct_members(ORG, "admin"),
        vec![("jane-d".to_owned(), Role::Maintainer)]
    );
    let pending = github.invitations(ORG);
    assert_eq!(pending[0].id, invitation);
    assert_eq!(
        pending[0].login.as_deref(),
        Some("jane-d"),
        "the invitation follows the account"
    );

    let profile = octocrab
        .users("jane-d")
        .profile()
        .await
        .expect("a whole user object");
    assert_eq!((profile.login.as_str(), profile.id.0), ("jane-d", jane));
    let taken = octocrab
        .users("janedoe")
        .profile()
        .await
        .expect("the new holder");
    assert_eq!(taken.id.0, stranger);
    let gone = octocrab._get("/users/nobody-at-all").await.unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn ignored_deletes_answer_as_asked_and_change_nothing() {
    let github = FakeGithub::start();
    github
        .org(ORG)
        .team("admin")
        .member("mallory", Role::Member)
        .member("eve", Role::Member);
    let invitation = github.org(ORG).invite_login("ivan", &["admin"]);
    let octocrab = client(&github);
    let membership = "/orgs/acme/teams/admin/memberships/mallory";
    let delete = |path: String| {
        let octocrab = octocrab.clone();
        async move {
            let response = octocrab._delete(&path, None::<&()>).await.unwrap();
            response.status().as_u16()
        }
    };

    github.ignore_deletes(204);
    assert_eq!(delete(membership.into()).await, 204);
    assert_eq!(
        delete(format!("/orgs/acme/invitations/{invitation}")).await,
        204
    );
    github.ignore_deletes(404);
    assert_eq!(delete(membership.into()).await, 404);

    // Nothing changed, as a read shows.
    assert_eq!(github.direct_members(ORG, "admin").len(), 2);
    let read: Value = octocrab
        .get(membership, None::<&()>)
        .await
        .expect("still a member");
    assert_eq!(read["state"], "active");
    assert_eq!(github.invitations(ORG).len(), 1);

    // Reset ends the mode: the next DELETE removes.
    github.reset_counters();
    assert_eq!(delete(membership.into()).await, 204);
    assert_eq!(github.direct_members(ORG, "admin").len(), 1);
}
