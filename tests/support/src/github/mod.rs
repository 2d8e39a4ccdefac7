//! A fake GitHub REST server for lapse's integration tests.
//!
//! GitHub has no official emulator, so this one copies GitHub's documented
//! behaviour for the endpoints lapse uses: teams (with child teams), team
//! members (which include child teams' members), memberships, invitations,
//! users, file contents and GitHub App installation tokens (narrowed by
//! permission and repository, and checked on every request), and GraphQL's
//! listing of a team's direct members (see `graphql`), with GitHub's
//! pagination, status codes, error bodies, rate-limit headers, secondary rate
//! limits and conditional requests. It listens on `127.0.0.1` on a free port,
//! runs on its own thread and runtime (so plain `#[test]` functions can use it
//! and run the lapse binary against it), and stops when dropped.
//!
//! ```
//! use lapse_test_support::github::{FakeGithub, Role};
//!
//! let github = FakeGithub::start();
//! github.personal_token("ghp_test");
//! github
//!     .org("alphagov")
//!     .team("gov-uk-production-admin")
//!     .member("janedoe", Role::Member)
//!     .maintainer("sam")
//!     .child("gov-uk-production-admin-oncall")
//!     .member("oncall-person", Role::Member);
//! let invitation = github
//!     .org("alphagov")
//!     .invite_login("newstarter", &["gov-uk-production-admin"]);
//! github.file("alphagov", "access", "users.yaml", "- name: Jane\n");
//!
//! // ... point lapse (or octocrab) at github.base_url() with "ghp_test" ...
//!
//! assert_eq!(
//!     github.direct_members("alphagov", "gov-uk-production-admin"),
//!     vec![("janedoe".to_owned(), Role::Member), ("sam".to_owned(), Role::Maintainer)]
//! );
//! assert!(github.invitations("alphagov").iter().any(|i| i.id == invitation));
//! assert_eq!(github.count_requests(|r| r.method == "DELETE"), 0);
//! ```
//!
//! Seeding: [`FakeGithub::org`] → [`OrgSeed::team`] / [`OrgSeed::invite_login`] /
//! [`OrgSeed::invite_email`]; [`TeamSeed`] sets name, description, parent,
//! members and child teams. Files: [`FakeGithub::file`], [`FakeGithub::file_at_ref`].
//! Accounts: [`FakeGithub::rename_user`] (a renamed member, and a login
//! free to be reused), [`FakeGithub::user_id`].
//! Credentials: [`FakeGithub::personal_token`], [`FakeGithub::app`] /
//! [`FakeGithub::test_app`] (with [`TEST_APP_PRIVATE_KEY_PEM`]),
//! [`FakeGithub::set_installation_token_lifetime`],
//! [`FakeGithub::expire_installation_tokens`],
//! [`FakeGithub::set_installation_permissions`].
//! Inspection: [`FakeGithub::direct_members`], [`FakeGithub::members`],
//! [`FakeGithub::invitations`], [`FakeGithub::requests`],
//! [`FakeGithub::minted_tokens`], [`FakeGithub::minted_token_of`],
//! [`FakeGithub::count_requests`], [`FakeGithub::rate_limit`],
//! [`FakeGithub::graphql_rate_limit`].
//! Faults: [`FakeGithub::set_latency`], [`FakeGithub::fail_requests`],
//! [`FakeGithub::ignore_deletes`],
//! [`FakeGithub::secondary_rate_limit`], [`FakeGithub::set_rate_limit`],
//! [`FakeGithub::exhaust_rate_limit`], [`FakeGithub::reset_counters`].
//!
//! Every org and team endpoint is served both by name (`/orgs/{org}/teams/{slug}/…`)
//! and by id (`/organizations/{org_id}/team/{team_id}/…`), as on GitHub, whose
//! `Link` headers use the id form.
//!
//! A trap for clients, pinned by a test: octocrab 0.54 with GitHub App
//! installation auth sends the token only to `api.github.com` or relative
//! URIs, so it follows an absolute `Link` URL to any other host (GitHub
//! Enterprise Server, this fake) without credentials and gets 401. Paginate
//! with the minted installation token in a client built with `personal_token`.
//!
//! Behaviours the GitHub docs leave open, and what the fake does:
//! - removing the team membership of someone who is only in a child team
//!   answers 404 and changes nothing;
//! - removing a pending membership takes the team off that person's
//!   invitation and leaves the invitation open;
//! - someone only in a child team is listed with role `member` in the parent;
//! - injected failures, secondary limits and 304s do not use up the primary
//!   rate limit, and all tokens share one rate-limit bucket.

mod app_auth;
mod graphql;
mod handlers;
mod json;
mod pagination;
mod permissions;
mod server;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::Utc;

pub use state::{InvitationView, LoggedRequest, MintedToken, RateLimitView, Role};

use server::Shared;
use state::{App, InjectedFailure, Invitation, RateLimit, SecondaryLimit, State};

/// Private key (PKCS#1 PEM, the format GitHub hands out) of the test app that
/// [`FakeGithub::test_app`] registers.
pub const TEST_APP_PRIVATE_KEY_PEM: &str = include_str!("testdata/app-private-key.pem");
/// Public half of [`TEST_APP_PRIVATE_KEY_PEM`].
pub const TEST_APP_PUBLIC_KEY_PEM: &str = include_str!("testdata/app-public-key.pem");
/// A valid RSA key that no app is registered with, to prove signatures are checked.
pub const UNREGISTERED_PRIVATE_KEY_PEM: &str = include_str!("testdata/other-private-key.pem");

/// Login of the org owner who sends every seeded invitation.
pub const INVITER_LOGIN: &str = "org-owner";

/// A running fake GitHub. Dropping it stops the server.
pub struct FakeGithub {
    shared: Shared,
    base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeGithub {
    /// Starts the server on a free loopback port. It is accepting connections
    /// when this returns.
    pub fn start() -> FakeGithub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let port = listener.local_addr().expect("listener address").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let shared: Shared = Arc::new(Mutex::new(State::new(base_url.clone())));
        let app = server::router(shared.clone());
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-github-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build the fake GitHub runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("adopt the listener");
                    let serve = axum::serve(listener, app).into_future();
                    tokio::select! {
                        result = serve => result.expect("fake GitHub server failed"),
                        _ = stop => {}
                    }
                });
                // Open keep-alive connections die with the runtime.
                runtime.shutdown_background();
            })
            .expect("spawn the fake GitHub thread");
        FakeGithub {
            shared,
            base_url,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn state(&self) -> MutexGuard<'_, State> {
        server::lock(&self.shared)
    }

    // --- credentials ---

    /// Accepts `token` as a personal access token (`Authorization: token X` or `Bearer X`).
    pub fn personal_token(&self, token: &str) -> &Self {
        self.state()
            .credentials
            .personal_tokens
            .insert(token.to_owned());
        self
    }

    /// Registers a GitHub App by id and RSA public key (PEM), installed as
    /// `installation_id`. Call again to add installations; the latest key wins.
    pub fn app(&self, app_id: u64, public_key_pem: &str, installation_id: u64) -> &Self {
        let mut state = self.state();
        let app = state.credentials.apps.entry(app_id).or_insert_with(|| App {
            public_key_pem: String::new(),
            installations: Default::default(),
        });
        app.public_key_pem = public_key_pem.to_owned();
        app.installations.insert(installation_id);
        self
    }

    /// [`FakeGithub::app`] with the bundled key pair; sign with [`TEST_APP_PRIVATE_KEY_PEM`].
    pub fn test_app(&self, app_id: u64, installation_id: u64) -> &Self {
        self.app(app_id, TEST_APP_PUBLIC_KEY_PEM, installation_id)
    }

    /// How long installation tokens issued from now on live (GitHub: one hour).
    /// octocrab renews a cached token with less than 30 s left, so a lifetime
    /// under that makes it fetch a new token before every request.
    pub fn set_installation_token_lifetime(&self, lifetime: Duration) {
        self.state().credentials.installation_token_lifetime =
            chrono::Duration::from_std(lifetime).expect("lifetime fits");
    }

    /// Makes every installation token issued so far expire now, so their next
    /// use gets 401 "Bad credentials" (as if the client kept one too long).
    pub fn expire_installation_tokens(&self) {
        let now = Utc::now();
        for token in self.state().credentials.installation_tokens.values_mut() {
            token.expires_at = now;
        }
    }

    /// How many installation tokens the exchange endpoint has issued.
    pub fn installation_tokens_issued(&self) -> u64 {
        self.state().credentials.installation_tokens_issued
    }

    /// Every installation token minted, in order: the body each was asked
    /// for with and what it was granted. A logged request's
    /// [`LoggedRequest::token`] says which one it carried.
    pub fn minted_tokens(&self) -> Vec<MintedToken> {
        self.state().credentials.minted.clone()
    }

    /// The minted token `request` carried, if it carried one.
    pub fn minted_token_of(&self, request: &LoggedRequest) -> Option<MintedToken> {
        let token = request.token.as_deref()?;
        self.minted_tokens().into_iter().find(|m| m.token == token)
    }

    /// What the installation may grant its tokens from now on, e.g.
    /// `&[("members", "read")]` for an App installed read-only; a token
    /// asked for more is refused 422, as GitHub does. Default: members
    /// write, contents and metadata read.
    pub fn set_installation_permissions(&self, permissions: &[(&str, &str)]) {
        self.state().credentials.installation_permissions = permissions
            .iter()
            .map(|(name, level)| ((*name).to_owned(), (*level).to_owned()))
            .collect();
    }

    // --- seeding ---

    /// The organisation `login`, created if new.
    pub fn org(&self, login: &str) -> OrgSeed<'_> {
        self.state().org_mut(login);
        OrgSeed {
            fake: self,
            org: login.to_owned(),
        }
    }

    /// A file on the repository's default branch (`main`).
    pub fn file(&self, owner: &str, repo: &str, path: &str, contents: impl AsRef<[u8]>) {
        let mut state = self.state();
        let repository = state.repo_mut(owner, repo);
        let branch = repository.default_branch.clone();
        repository.files.insert(
            (branch, path.trim_matches('/').to_owned()),
            contents.as_ref().to_vec(),
        );
    }

    /// A file at a branch, tag or commit sha (what `?ref=` names).
    pub fn file_at_ref(
        &self,
        owner: &str,
        repo: &str,
        git_ref: &str,
        path: &str,
        contents: impl AsRef<[u8]>,
    ) {
        self.state().repo_mut(owner, repo).files.insert(
            (git_ref.to_owned(), path.trim_matches('/').to_owned()),
            contents.as_ref().to_vec(),
        );
    }

    /// Renames the account holding `from` to `to`, as a user may on GitHub:
    /// the account keeps its numeric id, memberships and invitations, and
    /// `from` is free again, so seeding `from` afterwards creates a new
    /// account under the old login (a reused login). Answers the id.
    ///
    /// Panics when no account holds `from` or another holds `to`.
    pub fn rename_user(&self, from: &str, to: &str) -> u64 {
        self.state().rename_user(from, to)
    }

    // --- inspection ---

    /// The numeric id of the account holding `login` now, if any.
    pub fn user_id(&self, login: &str) -> Option<u64> {
        self.state()
            .users
            .get(&login.to_lowercase())
            .map(|user| user.id)
    }

    /// The team's direct members with their roles, sorted by login. Empty for
    /// an unknown org or team.
    pub fn direct_members(&self, org: &str, team: &str) -> Vec<(String, Role)> {
        let state = self.state();
        let Some(team) = state
            .org(org)
            .and_then(|o| o.teams.get(&team.to_lowercase()))
        else {
            return Vec::new();
        };
        team.members
            .iter()
            .map(|(login, role)| (state.display_login(login), *role))
            .collect()
    }

    /// Everyone GitHub lists as a member of the team (child teams included), sorted by login.
    pub fn members(&self, org: &str, team: &str) -> Vec<String> {
        let state = self.state();
        let Some(org) = state.org(org) else {
            return Vec::new();
        };
        org.effective_members(&team.to_lowercase())
            .keys()
            .map(|login| state.display_login(login))
            .collect()
    }

    /// The organisation's open invitations, by id.
    pub fn invitations(&self, org: &str) -> Vec<InvitationView> {
        self.state()
            .org(org)
            .map(|o| o.invitations.values().map(Invitation::view).collect())
            .unwrap_or_default()
    }

    /// Every request answered since the start or the last [`FakeGithub::reset_counters`].
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.clone()
    }

    /// How many requests were answered.
    pub fn request_count(&self) -> usize {
        self.state().log.len()
    }

    /// How many logged requests satisfy `predicate`, e.g.
    /// `|r| r.status != 304` or `|r| r.path_and_query.contains("/members")`.
    pub fn count_requests(&self, predicate: impl Fn(&LoggedRequest) -> bool) -> usize {
        self.state().log.iter().filter(|r| predicate(r)).count()
    }

    /// The primary rate-limit bucket of the REST API now.
    pub fn rate_limit(&self) -> RateLimitView {
        self.state().rate.view()
    }

    /// GraphQL's rate-limit bucket now: GitHub keeps it apart from the
    /// REST API's.
    pub fn graphql_rate_limit(&self) -> RateLimitView {
        self.state().graphql_rate.view()
    }

    // --- faults ---

    /// Delays every response by `latency` (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.state().faults.latency = latency;
    }

    /// Drops every injected failure not yet used up.
    pub fn clear_failures(&self) {
        self.state().faults.failures.clear();
    }

    /// The next `count` requests whose path contains `path_contains` get
    /// `status` (e.g. 502) with a GitHub error body.
    pub fn fail_requests(&self, path_contains: &str, count: u32, status: u16) {
        self.state().faults.failures.push(InjectedFailure {
            path_contains: path_contains.to_owned(),
            status,
            remaining: count,
        });
    }

    /// The next `count` requests whose path contains `path_contains` hit a
    /// secondary rate limit: `status` (GitHub uses 403 or 429), a
    /// `retry-after` of `retry_after` seconds and GitHub's message.
    pub fn secondary_rate_limit(
        &self,
        path_contains: &str,
        count: u32,
        status: u16,
        retry_after: Duration,
    ) {
        self.state().faults.secondary_limits.push(SecondaryLimit {
            path_contains: path_contains.to_owned(),
            status,
            retry_after_secs: retry_after.as_secs(),
            remaining: count,
        });
    }

    /// From now on every DELETE answers `status` (204 or 404) and changes
    /// nothing, like a write lost behind GitHub's API: only a read after the
    /// write tells. [`FakeGithub::reset_counters`] ends it.
    pub fn ignore_deletes(&self, status: u16) {
        self.state().faults.ignored_deletes = Some(status);
    }

    /// Sets the primary bucket: `limit` an hour, `remaining` left, resetting at `reset`.
    pub fn set_rate_limit(&self, limit: u64, remaining: u64, reset: SystemTime) {
        self.state().rate = RateLimit {
            limit,
            remaining,
            used: limit.saturating_sub(remaining),
            reset: epoch_seconds(reset),
        };
    }

    /// Uses up the primary limit until `reset`: requests get 403 "API rate
    /// limit exceeded" with `x-ratelimit-remaining: 0` until then.
    pub fn exhaust_rate_limit(&self, reset: SystemTime) {
        let limit = self.state().rate.limit;
        self.set_rate_limit(limit, 0, reset);
    }

    /// Clears the request log, refills the rate limit and drops injected
    /// faults and latency; seeded data and credentials stay.
    pub fn reset_counters(&self) {
        let mut state = self.state();
        state.log.clear();
        state.rate = RateLimit::fresh(Utc::now().timestamp());
        state.graphql_rate = RateLimit::fresh(Utc::now().timestamp());
        state.faults = Default::default();
    }
}

fn epoch_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Seeds one organisation; each call changes the fake at once.
pub struct OrgSeed<'a> {
    fake: &'a FakeGithub,
    org: String,
}

impl<'a> OrgSeed<'a> {
    /// The team with this slug, created if new (name = slug, no parent).
    pub fn team(&self, slug: &str) -> TeamSeed<'a> {
        let slug = slug.to_lowercase();
        self.fake.state().team_mut(&self.org, &slug);
        TeamSeed {
            fake: self.fake,
            org: self.org.clone(),
            slug,
        }
    }

    /// Invites a GitHub user to the organisation and these teams; returns the
    /// invitation id.
    pub fn invite_login(&self, login: &str, teams: &[&str]) -> u64 {
        self.invite(Some(login), None, teams)
    }

    /// Invites an email address (no GitHub account yet, so `login` is null);
    /// returns the invitation id.
    pub fn invite_email(&self, email: &str, teams: &[&str]) -> u64 {
        self.invite(None, Some(email), teams)
    }

    fn invite(&self, login: Option<&str>, email: Option<&str>, teams: &[&str]) -> u64 {
        for slug in teams {
            self.team(slug);
        }
        let mut state = self.fake.state();
        state.user(INVITER_LOGIN);
        if let Some(login) = login {
            state.user(login);
        }
        let id = state.next_id();
        state.org_mut(&self.org).invitations.insert(
            id,
            Invitation {
                id,
                login: login.map(str::to_owned),
                email: email.map(str::to_owned),
                teams: teams.iter().map(|t| t.to_lowercase()).collect(),
                inviter: INVITER_LOGIN.to_owned(),
                created_at: Utc::now(),
            },
        );
        id
    }
}

/// Seeds one team; every method changes the fake at once and hands the seed
/// back for chaining.
pub struct TeamSeed<'a> {
    fake: &'a FakeGithub,
    org: String,
    slug: String,
}

impl<'a> TeamSeed<'a> {
    /// The team's display name (its slug until set).
    pub fn name(self, name: &str) -> Self {
        self.fake.state().team_mut(&self.org, &self.slug).name = name.to_owned();
        self
    }

    pub fn description(self, description: &str) -> Self {
        self.fake
            .state()
            .team_mut(&self.org, &self.slug)
            .description = Some(description.to_owned());
        self
    }

    /// Nests this team under `parent` (created if new).
    pub fn parent(self, parent: &str) -> Self {
        let parent = parent.to_lowercase();
        let mut state = self.fake.state();
        state.team_mut(&self.org, &parent);
        state.team_mut(&self.org, &self.slug).parent = Some(parent);
        drop(state);
        self
    }

    /// Adds (or re-roles) a direct member.
    pub fn member(self, login: &str, role: Role) -> Self {
        let mut state = self.fake.state();
        state.user(login);
        state
            .team_mut(&self.org, &self.slug)
            .members
            .insert(login.to_lowercase(), role);
        drop(state);
        self
    }

    /// Adds a direct member with the maintainer role.
    pub fn maintainer(self, login: &str) -> Self {
        self.member(login, Role::Maintainer)
    }

    /// Adds many direct members with one role.
    pub fn members<S: AsRef<str>>(self, logins: impl IntoIterator<Item = S>, role: Role) -> Self {
        logins
            .into_iter()
            .fold(self, |seed, login| seed.member(login.as_ref(), role))
    }

    /// A team nested under this one; the returned seed is the child.
    pub fn child(self, slug: &str) -> TeamSeed<'a> {
        OrgSeed {
            fake: self.fake,
            org: self.org.clone(),
        }
        .team(slug)
        .parent(&self.slug)
    }

    /// Another team in the same organisation.
    pub fn team(self, slug: &str) -> TeamSeed<'a> {
        OrgSeed {
            fake: self.fake,
            org: self.org,
        }
        .team(slug)
    }
}
