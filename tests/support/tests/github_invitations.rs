//! Pending invitations: listing them per team, the teams one covers,
//! cancelling one, and removing a pending team membership.

use lapse_test_support::github::{FakeGithub, INVITER_LOGIN, Role};
use octocrab::Octocrab;

const TOKEN: &str = "ghp_invitations_test";
const ORG: &str = "alphagov";
const ADMIN: &str = "gov-uk-production-admin";
const DEPLOY: &str = "gov-uk-production-deploy";

fn client(github: &FakeGithub) -> Octocrab {
    github.personal_token(TOKEN);
    Octocrab::builder()
        .base_uri(github.base_url())
        .expect("base uri")
        .personal_token(TOKEN.to_owned())
        .build()
        .expect("octocrab client")
}

fn status_of(error: &octocrab::Error) -> u16 {
    match error {
        octocrab::Error::GitHub { source, .. } => source.status_code.as_u16(),
        other => panic!("expected an error from GitHub, got {other:?}"),
    }
}

#[tokio::test]
async fn team_invitations_list_logins_and_emails() {
    let github = FakeGithub::start();
    github.org(ORG).team(ADMIN).member("janedoe", Role::Member);
    let by_login = github.org(ORG).invite_login("newstarter", &[ADMIN, DEPLOY]);
    let by_email = github
        .org(ORG)
        .invite_email("contractor@example.gov.uk", &[ADMIN]);
    github.org(ORG).invite_login("deployer", &[DEPLOY]);
    let octocrab = client(&github);

    let invitations = octocrab
        .teams(ORG)
        .invitations(ADMIN)
        .send()
        .await
        .expect("team invitations");
    assert_eq!(
        invitations.items.len(),
        2,
        "only invitations covering this team"
    );

    let first = &invitations.items[0];
    assert_eq!(first.id.0, by_login);
    assert_eq!(first.login.as_deref(), Some("newstarter"));
    assert_eq!(first.email, None);
    assert_eq!(first.team_count, 2);
    assert_eq!(first.role, "direct_member");
    assert_eq!(first.inviter.login, INVITER_LOGIN);
    assert!(
        first
            .invitation_teams_url
            .ends_with(&format!("/invitations/{by_login}/teams"))
    );

    let second = &invitations.items[1];
    assert_eq!(second.id.0, by_email);
    assert_eq!(second.login, None, "an email invitation has no login yet");
    assert_eq!(second.email.as_deref(), Some("contractor@example.gov.uk"));

    // Members are not invitations, and invitations are not members.
    let members = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(members.items.len(), 1);
}

#[tokio::test]
async fn an_invitation_lists_the_teams_it_covers() {
    let github = FakeGithub::start();
    let id = github.org(ORG).invite_login("newstarter", &[ADMIN, DEPLOY]);
    let octocrab = client(&github);

    let teams = octocrab
        .orgs(ORG)
        .invitations()
        .list_teams(id)
        .send()
        .await
        .expect("invitation teams");
    let slugs: Vec<&str> = teams.items.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, [ADMIN, DEPLOY]);

    let unknown = octocrab
        .orgs(ORG)
        .invitations()
        .list_teams(id + 999)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&unknown), 404);

    let open = octocrab
        .orgs(ORG)
        .invitations()
        .list()
        .send()
        .await
        .unwrap();
    assert_eq!(open.items.len(), 1);
    assert_eq!(open.items[0].team_count, Some(2));
}

#[tokio::test]
async fn cancelling_an_invitation_withdraws_it_once() {
    let github = FakeGithub::start();
    let cancelled = github.org(ORG).invite_login("leaver", &[ADMIN]);
    let kept = github.org(ORG).invite_login("newstarter", &[ADMIN]);
    let octocrab = client(&github);

    octocrab
        .orgs(ORG)
        .invitations()
        .cancel(cancelled)
        .await
        .expect("204");

    let open: Vec<u64> = github.invitations(ORG).iter().map(|i| i.id).collect();
    assert_eq!(open, [kept]);
    let listed = octocrab.teams(ORG).invitations(ADMIN).send().await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].login.as_deref(), Some("newstarter"));

    let again = octocrab
        .orgs(ORG)
        .invitations()
        .cancel(cancelled)
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 404);
    assert_eq!(github.invitations(ORG).len(), 1);
}

#[tokio::test]
async fn removing_a_pending_membership_takes_the_team_off_the_invitation() {
    let github = FakeGithub::start();
    let id = github.org(ORG).invite_login("newstarter", &[ADMIN, DEPLOY]);
    let octocrab = client(&github);

    let pending = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .get("newstarter")
        .await
        .expect("pending membership");
    assert_eq!(serde_json::to_value(&pending).unwrap()["state"], "pending");

    octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .remove("newstarter")
        .await
        .expect("204");

    let invitations = github.invitations(ORG);
    assert_eq!(invitations.len(), 1, "the org invitation stays open");
    assert_eq!(invitations[0].id, id);
    assert_eq!(invitations[0].teams, [DEPLOY]);
    let listed = octocrab.teams(ORG).invitations(ADMIN).send().await.unwrap();
    assert!(listed.items.is_empty());
    let gone = octocrab
        .teams(ORG)
        .memberships(ADMIN)
        .get("newstarter")
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
}
