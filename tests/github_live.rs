//! The live GitHub client through the library: observation as the planner
//! receives it, revocation with its audit trail, pacing and faults, App
//! tokens that expire, rosters read from a repository, and conditional reads
//! (ETags) across the cycles of a long-running process.

mod github_support;

use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use github_support::*;
use lapse::config::{self, Config, GithubConfig};
use lapse::github::{Client, GithubLive, ResponseCache, fetch_file, fetch_roster};
use lapse::model::{Outcome, Revocation};
use lapse::state::{GithubState, Invitation, Member, TeamRole, TeamState};
use lapse::system::{Act, AuditEvent, AuditSink, GithubScope, ObserveGithub, Planned};
use lapse_test_support::github::Role;

/// Records every audit event; refuses intents when told to.
#[derive(Default)]
struct Audit {
    events: Mutex<Vec<AuditEvent>>,
    refuse_intents: bool,
}

impl AuditSink for Audit {
    fn record(&self, event: AuditEvent) -> Result<(), String> {
        if self.refuse_intents && event.phase == "intent" {
            return Err("disk full".into());
        }
        self.events.lock().unwrap().push(event);
        Ok(())
    }
}

impl Audit {
    fn phases(&self) -> Vec<(String, String, Option<Outcome>)> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.phase.to_owned(), e.principals.join(","), e.result))
            .collect()
    }
}

fn load(files: &Files) -> Config {
    config::load(&files.config()).unwrap_or_else(|d| panic!("{d}"))
}

fn github_config(world: &World) -> GithubConfig {
    let files = files(world.github.base_url(), Auth::Token, ROSTER);
    load(&files).github.unwrap()
}

/// A client whose writes are `pacing` apart. The files live until it is
/// built, which reads the App key.
fn connect_paced(world: &World, auth: Auth, pacing: Duration) -> GithubLive {
    let token = matches!(auth, Auth::Token);
    let files = files(world.github.base_url(), auth, ROSTER);
    let config = load(&files).github.unwrap();
    let client = if token {
        Client::connect_with_token(&config, TOKEN)
    } else {
        Client::connect(&config)
    };
    GithubLive::with_client(client.unwrap()).with_write_pacing(pacing)
}

fn connect(world: &World, auth: Auth) -> GithubLive {
    connect_paced(world, auth, Duration::from_millis(50))
}

fn scope(teams: &[&str]) -> GithubScope {
    GithubScope {
        org: ORG.into(),
        teams: teams.iter().map(|t| t.to_string()).collect(),
    }
}

/// A member as observed: with the id of the account the fake gave them.
fn member(world: &World, login: &str, role: TeamRole) -> Member {
    Member {
        login: login.into(),
        role,
        id: world.github.user_id(login),
    }
}

fn planned(finding: usize, revocation: Revocation) -> Planned {
    Planned {
        finding,
        revocation,
        reason: format!("reason {finding}"),
    }
}

fn membership(team: &str, login: &str) -> Revocation {
    Revocation::TeamMembership {
        org: ORG.into(),
        team: team.into(),
        login: login.into(),
    }
}

fn invitation(id: u64) -> Revocation {
    Revocation::Invitation {
        org: ORG.into(),
        invitation_id: id,
    }
}

fn deletes(world: &World) -> Vec<String> {
    world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path_and_query)
        .collect()
}

#[tokio::test]
async fn observation_gives_direct_members_every_descendant_and_whole_invitations() {
    let world = world();
    let live = connect(&world, Auth::Token);

    let state = live.observe(&scope(&["deploy", "admin"])).await.unwrap();

    let member = |login, role| member(&world, login, role);
    let invitation = |id, login: &str, teams: &[&str]| Invitation {
        id,
        login: Some(login.into()),
        email: None,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        user_id: world.github.user_id(login),
    };
    let want = GithubState {
        org: ORG.into(),
        teams: vec![
            TeamState {
                slug: "admin".into(),
                parent: None,
                // dave is in admin-oncall too, and still a direct member here.
                members: vec![
                    member("alice", TeamRole::Maintainer),
                    member("dave", TeamRole::Member),
                    member("mallory", TeamRole::Member),
                ],
                invitations: vec![
                    invitation(world.eve, "eve", &["admin"]),
                    invitation(world.frank, "frank", &["admin", "social"]),
                ],
            },
            TeamState {
                slug: "admin-oncall".into(),
                parent: Some("admin".into()),
                members: vec![
                    member("bob", TeamRole::Member),
                    member("dave", TeamRole::Member),
                ],
                invitations: vec![],
            },
            TeamState {
                slug: "admin-oncall-nights".into(),
                parent: Some("admin-oncall".into()),
                members: vec![member("nina", TeamRole::Member)],
                invitations: vec![],
            },
            TeamState {
                slug: "deploy".into(),
                parent: None,
                members: vec![
                    member("alice", TeamRole::Member),
                    member("bob", TeamRole::Member),
                    member("carol", TeamRole::Member),
                ],
                invitations: vec![invitation(world.grace, "grace", &["deploy"])],
            },
        ],
    };
    assert!(
        state
            .teams
            .iter()
            .flat_map(|t| &t.members)
            .all(|m| m.id.is_some()),
        "every member's account id is read"
    );
    assert_eq!(state, want);
    assert_eq!(ObserveGithub::requests(&live), WORLD_PLAN_REQUESTS);
    assert_eq!(world.github.request_count() as u64, WORLD_PLAN_REQUESTS);
}

#[tokio::test]
async fn reads_never_exceed_the_configured_concurrency() {
    let world = world();
    let latency = Duration::from_millis(100);
    world.github.set_latency(latency);
    let mut config = github_config(&world);
    config.concurrency = 2;
    let live = GithubLive::with_client(Client::connect_with_token(&config, TOKEN).unwrap());

    let started = std::time::Instant::now();
    live.observe(&scope(&["deploy", "admin"])).await.unwrap();

    // Each request is in flight for at least `latency` after it arrives, so
    // with two at a time no three arrive within less than that.
    let mut arrivals: Vec<Duration> = world
        .github
        .requests()
        .into_iter()
        .map(|r| r.at.duration_since(UNIX_EPOCH).unwrap())
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len() as u64, WORLD_PLAN_REQUESTS);
    for three in arrivals.windows(3) {
        assert!(
            three[2] - three[0] >= latency - Duration::from_millis(10),
            "three requests within {:?}",
            three[2] - three[0]
        );
    }
    assert!(started.elapsed() >= latency * 7, "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_pages_of_a_long_team_after_the_first_are_read_at_once() {
    let world = world();
    let logins: Vec<String> = (0..750).map(|i| format!("user{i:03}")).collect();
    world
        .github
        .org(ORG)
        .team("deploy")
        .members(&logins, Role::Member);
    let latency = Duration::from_millis(200);
    world.github.set_latency(latency);
    let live = connect(&world, Auth::Token);

    let state = live.observe(&scope(&["deploy"])).await.unwrap();

    assert_eq!(state.teams[0].members.len(), 753);
    let mut pages: Vec<(String, Duration)> = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.contains("role=member"))
        .map(|r| (r.path_and_query, r.at.duration_since(UNIX_EPOCH).unwrap()))
        .collect();
    pages.sort_by_key(|(_, at)| *at);
    // Eight pages, each asked for once; the seven after the first all
    // arrive before any of them could have been answered, not one per
    // round trip as following `next` would.
    let mut asked: Vec<&str> = pages.iter().map(|(p, _)| p.as_str()).collect();
    asked.sort();
    asked.dedup();
    assert_eq!(asked.len(), 8, "{asked:?}");
    assert_eq!(pages.len(), 8);
    let (first, rest) = pages.split_first().unwrap();
    assert!(!first.0.contains("&page="), "{}", first.0);
    let spread = rest.last().unwrap().1 - rest[0].1;
    assert!(spread < latency, "pages 2-8 arrived over {spread:?}");
    // With the maintainers, child teams, invitations and grace's account:
    // each page once.
    assert_eq!(ObserveGithub::requests(&live), 8 + 4);
}

#[tokio::test]
async fn a_managed_child_team_is_read_once_with_its_parent() {
    let world = world();
    let live = connect(&world, Auth::Token);

    let state = live
        .observe(&scope(&["admin", "admin-oncall"]))
        .await
        .unwrap();

    let oncall = state.team("admin-oncall").unwrap();
    assert_eq!(oncall.parent.as_deref(), Some("admin"));
    assert!(oncall.invitations.is_empty());
    assert_eq!(state.teams.len(), 3);
    // admin's 4 and its invitations, admin-oncall's 3 and its invitations,
    // the grandchild's 3, frank's invitation teams.
    assert_eq!(ObserveGithub::requests(&live), 4 + 4 + 3 + 1);
}

#[tokio::test]
async fn a_read_that_keeps_failing_fails_the_observation() {
    let world = world();
    world
        .github
        .fail_requests("/teams/admin-oncall-nights/teams", 10, 500);
    let live = connect(&world, Auth::Token);

    let error = live.observe(&scope(&["admin"])).await.unwrap_err();

    assert!(
        error
            .message
            .contains("GET /orgs/acme/teams/admin-oncall-nights/teams?per_page=100"),
        "{error}"
    );
    assert!(
        error.message.contains("no usable answer after 5 attempts"),
        "{error}"
    );
}

#[tokio::test]
async fn a_graphql_read_that_keeps_failing_fails_the_observation_and_names_the_team() {
    let world = world();
    world.github.fail_requests("/graphql", 10, 502);
    let live = connect(&world, Auth::Token);

    let error = live.observe(&scope(&["admin"])).await.unwrap_err();

    assert!(
        error
            .message
            .contains("POST /graphql (the direct members of acme/admin"),
        "{error}"
    );
    assert!(error.message.contains("no usable answer"), "{error}");
}

#[tokio::test]
async fn revoking_a_membership_removes_it_between_two_audit_records() {
    let world = world();
    let live = connect(&world, Auth::Token);
    let audit = Audit::default();

    let results = live
        .revoke(vec![planned(4, membership("admin", "mallory"))], &audit)
        .await;

    assert_eq!(results.len(), 1);
    assert_eq!((results[0].finding, results[0].outcome), (4, Outcome::Done));
    assert_eq!(
        world.github.direct_members(ORG, "admin"),
        vec![
            ("alice".to_owned(), Role::Maintainer),
            ("dave".to_owned(), Role::Member)
        ]
    );
    assert_eq!(
        world.github.direct_members(ORG, "social").len(),
        1,
        "mallory stays in social"
    );
    assert_eq!(
        audit.phases(),
        vec![
            ("intent".to_owned(), "mallory".to_owned(), None),
            (
                "result".to_owned(),
                "mallory".to_owned(),
                Some(Outcome::Done)
            ),
        ]
    );
    let events = audit.events.lock().unwrap();
    assert_eq!(events[0].target, "github:acme/admin");
    assert_eq!(events[0].reason, "reason 4");
    assert_eq!(
        deletes(&world),
        vec!["/orgs/acme/teams/admin/memberships/mallory"]
    );
}

#[tokio::test]
async fn an_invitation_shared_by_findings_is_cancelled_once() {
    let world = world();
    let extra = world
        .github
        .org(ORG)
        .invite_login("ivan", &["admin", "deploy"]);
    let live = connect(&world, Auth::Token);
    live.observe(&scope(&["admin", "deploy"])).await.unwrap();
    let audit = Audit::default();

    let results = live
        .revoke(
            vec![planned(1, invitation(extra)), planned(2, invitation(extra))],
            &audit,
        )
        .await;

    assert_eq!(
        results
            .iter()
            .map(|r| (r.finding, r.outcome))
            .collect::<Vec<_>>(),
        vec![(1, Outcome::Done), (2, Outcome::Done)]
    );
    assert_eq!(
        deletes(&world),
        vec![format!("/orgs/acme/invitations/{extra}")]
    );
    let open: Vec<u64> = world.github.invitations(ORG).iter().map(|i| i.id).collect();
    assert_eq!(open, vec![world.eve, world.frank, world.grace]);
    // The audit trail names the invitee, learnt from the observation.
    assert_eq!(
        audit.phases(),
        vec![
            ("intent".to_owned(), "ivan".to_owned(), None),
            ("result".to_owned(), "ivan".to_owned(), Some(Outcome::Done)),
        ]
    );
}

#[tokio::test]
async fn grants_already_gone_are_done_but_a_vanished_team_is_reported() {
    let world = world();
    let live = connect(&world, Auth::Token);
    let audit = Audit::default();

    let results = live
        .revoke(
            vec![
                planned(0, membership("admin", "nobody")),
                planned(1, invitation(999_999)),
                planned(2, membership("admni", "mallory")),
            ],
            &audit,
        )
        .await;

    assert_eq!(results[0].outcome, Outcome::Done);
    assert_eq!(results[1].outcome, Outcome::Done);
    assert_eq!(results[2].outcome, Outcome::Failed);
    let error = results[2].error.as_deref().unwrap();
    assert!(
        error.contains("team github:acme/admni no longer exists"),
        "{error}"
    );
    assert_eq!(world.github.direct_members(ORG, "admin").len(), 3);
    assert_eq!(world.github.invitations(ORG).len(), 3);
    let last = audit.events.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.result, Some(Outcome::Failed));
    assert!(last.error.unwrap().contains("no longer exists"));
}

#[tokio::test]
async fn writes_are_serial_and_paced() {
    let world = world();
    world.github.set_latency(Duration::from_millis(20));
    let live = connect_paced(&world, Auth::Token, Duration::from_millis(300));
    let audit = Audit::default();
    let batch = |a: &str| vec![planned(0, membership("deploy", a))];

    // Two revokers at once, as apply may call them: still one write at a time.
    let (first, second) = tokio::join!(
        live.revoke(batch("carol"), &audit),
        live.revoke(
            vec![
                planned(1, membership("admin", "mallory")),
                planned(2, invitation(world.eve))
            ],
            &audit
        ),
    );

    assert!(
        first
            .iter()
            .chain(&second)
            .all(|r| r.outcome == Outcome::Done)
    );
    let times: Vec<Duration> = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.at.duration_since(UNIX_EPOCH).unwrap())
        .collect();
    assert_eq!(times.len(), 3);
    let mut sorted = times.clone();
    sorted.sort();
    for pair in sorted.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(300),
            "writes {:?} apart",
            pair[1] - pair[0]
        );
    }
    assert_eq!(world.github.direct_members(ORG, "deploy").len(), 2);
    assert_eq!(world.github.direct_members(ORG, "admin").len(), 2);
    assert_eq!(world.github.invitations(ORG).len(), 2);
}

#[tokio::test]
async fn a_failed_write_is_retried_and_a_refused_one_does_not_stop_the_rest() {
    let world = world();
    world.github.fail_requests("/memberships/mallory", 1, 502);
    world.github.fail_requests("/memberships/carol", 1, 403);
    let live = connect(&world, Auth::Token);
    let audit = Audit::default();

    let results = live
        .revoke(
            vec![
                planned(0, membership("admin", "mallory")),
                planned(1, membership("deploy", "carol")),
                planned(2, invitation(world.eve)),
            ],
            &audit,
        )
        .await;

    assert_eq!(results[0].outcome, Outcome::Done);
    assert_eq!(results[1].outcome, Outcome::Failed);
    let error = results[1].error.as_deref().unwrap();
    assert!(
        error.contains("DELETE /orgs/acme/teams/deploy/memberships/carol: GitHub answered 403"),
        "{error}"
    );
    assert_eq!(results[2].outcome, Outcome::Done);
    assert_eq!(world.github.direct_members(ORG, "admin").len(), 2);
    assert_eq!(
        world.github.direct_members(ORG, "deploy").len(),
        3,
        "carol stays"
    );
    assert_eq!(world.github.invitations(ORG).len(), 2);
    assert_eq!(deletes(&world).len(), 4, "mallory twice, carol, eve");
    assert_eq!(
        Act::requests(&live),
        4 + 2,
        "the DELETEs, and a read back of each one answered"
    );
}

#[tokio::test]
async fn nothing_is_deleted_when_the_intent_cannot_be_recorded() {
    let world = world();
    let live = connect(&world, Auth::Token);
    let audit = Audit {
        refuse_intents: true,
        ..Audit::default()
    };

    let results = live
        .revoke(vec![planned(0, membership("admin", "mallory"))], &audit)
        .await;

    assert_eq!(results[0].outcome, Outcome::Failed);
    assert!(results[0].error.as_deref().unwrap().contains("disk full"));
    assert_eq!(world.github.request_count(), 0);
    assert_eq!(world.github.direct_members(ORG, "admin").len(), 3);
}

#[tokio::test]
async fn app_tokens_are_renewed_when_near_expiry_or_refused() {
    let world = world();
    let live = connect(&world, Auth::App);

    live.observe(&scope(&["deploy"])).await.unwrap();
    assert_eq!(world.github.installation_tokens_issued(), 1);

    // GitHub stops accepting the token: 401, a new token, and on.
    world.github.expire_installation_tokens();
    live.observe(&scope(&["deploy"])).await.unwrap();
    // The reads in flight were refused together; one new token serves them all.
    assert_eq!(world.github.installation_tokens_issued(), 2);
    assert!(world.github.count_requests(|r| r.status == 401) >= 1);

    // A token with under a minute left is replaced before it is used.
    world
        .github
        .set_installation_token_lifetime(Duration::from_secs(30));
    world.github.expire_installation_tokens();
    let audit = Audit::default();
    let results = live
        .revoke(vec![planned(0, membership("deploy", "carol"))], &audit)
        .await;
    assert_eq!(results[0].outcome, Outcome::Done);
    let issued = world.github.installation_tokens_issued();
    let refused = world.github.count_requests(|r| r.status == 401);
    live.observe(&scope(&["deploy"])).await.unwrap();
    assert!(world.github.installation_tokens_issued() > issued);
    assert_eq!(
        world.github.count_requests(|r| r.status == 401),
        refused,
        "replaced before use, not after a refusal"
    );
    assert_eq!(world.github.direct_members(ORG, "deploy").len(), 2);
}

#[tokio::test]
async fn a_roster_is_read_from_a_repository_at_a_ref() {
    let world = world();
    // `fetch_roster` connects as the config says: here as the App.
    let app = files(world.github.base_url(), Auth::App, ROSTER);
    let config = load(&app).github.unwrap();
    world
        .github
        .file("acme", "access", "people/users.yaml", ROSTER);
    world
        .github
        .file_at_ref("acme", "access", "v1", "people/users.yaml", "- old\n");
    let big = format!("# {}\n{ROSTER}", "x".repeat(2 * 1024 * 1024));
    world.github.file("acme", "access", "big.yaml", &big);

    let head = fetch_roster(&config, "acme", "access", "people/users.yaml", None)
        .await
        .unwrap();
    assert_eq!(head, ROSTER.as_bytes());
    let tagged = fetch_roster(&config, "acme", "access", "people/users.yaml", Some("v1"))
        .await
        .unwrap();
    assert_eq!(tagged, b"- old\n");
    let large = fetch_roster(&config, "acme", "access", "big.yaml", None)
        .await
        .unwrap();
    assert_eq!(large.len(), big.len(), "files over 1 MB come whole");

    let missing = fetch_roster(&config, "acme", "access", "people/nope.yaml", None)
        .await
        .unwrap_err();
    assert!(
        missing.starts_with("github:acme/access/people/nope.yaml: not found"),
        "{missing}"
    );
    let bad_ref = fetch_roster(&config, "acme", "access", "people/users.yaml", Some("v9"))
        .await
        .unwrap_err();
    assert!(bad_ref.contains("@v9: not found"), "{bad_ref}");
    let directory = fetch_roster(&config, "acme", "access", "people", None)
        .await
        .unwrap_err();
    assert!(directory.contains("is a directory"), "{directory}");
    // The same read through a client the caller holds.
    let client = Client::connect_with_token(&github_config(&world), TOKEN).unwrap();
    let again = fetch_file(&client, "acme", "access", "people/users.yaml", None)
        .await
        .unwrap();
    assert_eq!(again, ROSTER.as_bytes());
    assert_eq!(client.requests(), 1);

    let accepts: Vec<String> = world
        .github
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert!(
        accepts.contains(&"/repos/acme/access/contents/people/users.yaml?ref=v1".to_owned()),
        "{accepts:?}"
    );
}

/// A client for one cycle of a process that keeps `cache` between cycles.
fn connect_cached(world: &World, cache: &std::sync::Arc<ResponseCache>) -> GithubLive {
    connect(world, Auth::Token).with_response_cache(&github_config(world), cache.clone())
}

/// Requests logged from `from` on, by status.
fn statuses_since(world: &World, from: usize) -> Vec<u16> {
    world.github.requests()[from..]
        .iter()
        .map(|r| r.status)
        .collect()
}

/// `GET`s logged from `from` on, by status: the reads that can be 304s.
fn read_statuses_since(world: &World, from: usize) -> Vec<u16> {
    world.github.requests()[from..]
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn unchanged_teams_are_read_again_with_304s_that_cost_no_rate_limit() {
    let world = world();
    let cache = ResponseCache::new();
    let teams = scope(&["deploy", "admin"]);

    let first = connect_cached(&world, &cache);
    let before = first.observe(&teams).await.unwrap();
    let used_first = world.github.rate_limit().used;
    assert_eq!(first.client().requests(), WORLD_PLAN_REQUESTS);
    assert_eq!(first.client().not_modified(), 0);
    assert_eq!(used_first, WORLD_PLAN_READS);
    assert_eq!(world.github.graphql_rate_limit().used, WORLD_PLAN_QUERIES);

    // The next cycle: a new client, the same cache.
    let logged = world.github.request_count();
    let second = connect_cached(&world, &cache);
    let again = second.observe(&teams).await.unwrap();
    assert_eq!(
        again, before,
        "a 304 reads exactly as the 200 it stands for"
    );
    assert_eq!(
        second.client().requests(),
        WORLD_PLAN_REQUESTS,
        "a 304 is still a request"
    );
    // Every GET comes back 304; GraphQL has no conditional reads, so the
    // direct members of the teams with children are asked for again.
    assert_eq!(second.client().not_modified(), WORLD_PLAN_READS);
    let reads = read_statuses_since(&world, logged);
    assert_eq!(reads.len() as u64, WORLD_PLAN_READS);
    assert!(reads.iter().all(|&s| s == 304), "{reads:?}");
    assert_eq!(
        world.github.rate_limit().used,
        used_first,
        "304s cost no rate limit"
    );
    assert_eq!(
        world.github.graphql_rate_limit().used,
        2 * WORLD_PLAN_QUERIES
    );
    assert_eq!(cache.not_modified_total(), WORLD_PLAN_READS);

    // A change is seen at once, and only the page that changed costs.
    world
        .github
        .org(ORG)
        .team("deploy")
        .member("zoe", Role::Member);
    let third = connect_cached(&world, &cache);
    let changed = third.observe(&teams).await.unwrap();
    let deploy = changed.teams.iter().find(|t| t.slug == "deploy").unwrap();
    assert!(
        deploy
            .members
            .contains(&member(&world, "zoe", TeamRole::Member))
    );
    assert_eq!(third.client().not_modified(), WORLD_PLAN_READS - 1);
    assert_eq!(world.github.rate_limit().used, used_first + 1);
}

#[tokio::test]
async fn every_page_of_a_long_team_is_read_from_304s() {
    let world = world();
    let logins: Vec<String> = (0..230).map(|i| format!("user{i:03}")).collect();
    world
        .github
        .org(ORG)
        .team("deploy")
        .members(&logins, Role::Member);
    let cache = ResponseCache::new();
    let teams = scope(&["deploy"]);

    let first = connect_cached(&world, &cache);
    let before = first.observe(&teams).await.unwrap();
    assert_eq!(before.teams[0].members.len(), 233);
    let logged = world.github.request_count();
    let second = connect_cached(&world, &cache);
    let again = second.observe(&teams).await.unwrap();
    assert_eq!(again, before, "the cached links lead through every page");
    let pages = world.github.requests()[logged..]
        .iter()
        .filter(|r| r.path_and_query.contains("role=member"))
        .map(|r| (r.status, r.path_and_query.contains("&page=")))
        .collect::<Vec<_>>();
    assert_eq!(pages, [(304, false), (304, true), (304, true)]);
}

#[tokio::test]
async fn another_github_section_starts_from_an_empty_cache() {
    let world = world();
    let cache = ResponseCache::new();
    let teams = scope(&["deploy"]);
    connect_cached(&world, &cache)
        .observe(&teams)
        .await
        .unwrap();
    assert!(!cache.is_empty());

    let mut changed = github_config(&world);
    changed.concurrency += 1;
    let logged = world.github.request_count();
    let live = connect(&world, Auth::Token).with_response_cache(&changed, cache.clone());
    live.observe(&teams).await.unwrap();
    assert_eq!(live.client().not_modified(), 0);
    assert!(statuses_since(&world, logged).iter().all(|&s| s == 200));
}
