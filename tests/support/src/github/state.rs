//! What the fake GitHub knows: organisations, teams, people, invitations, files,
//! credentials, the rate-limit bucket, injected faults and the request log.
//!
//! Everything sits in one [`State`] behind a mutex; handlers lock it briefly and
//! never across an `.await`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

/// A person's role in a team, as GitHub reports it in memberships and `?role=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Member,
    Maintainer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Maintainer => "maintainer",
        }
    }
}

/// One request as the fake answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query exactly as sent, e.g. `/orgs/alphagov/teams/x/members?per_page=100`.
    pub path_and_query: String,
    pub status: u16,
    pub at: SystemTime,
    /// The token in its `Authorization` header (`None` for none, and for the
    /// App's JWT at a token exchange): match it with [`MintedToken::token`].
    pub token: Option<String>,
}

/// One installation token as the exchange endpoint minted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintedToken {
    pub token: String,
    pub installation_id: u64,
    /// The request body it was asked for with, as sent (`{}` for none).
    pub body: serde_json::Value,
    /// What it may do: permission name → `read` or `write`.
    pub permissions: BTreeMap<String, String>,
    /// The repositories it is limited to (as asked for), or `None` for all
    /// the installation's.
    pub repositories: Option<Vec<String>>,
}

/// An open organisation invitation as the test sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationView {
    pub id: u64,
    pub login: Option<String>,
    pub email: Option<String>,
    /// Slugs of the teams the invitation adds the person to, in the order given.
    pub teams: Vec<String>,
}

/// The primary rate-limit bucket as the test sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitView {
    pub limit: u64,
    pub remaining: u64,
    pub used: u64,
    /// When the window resets, in epoch seconds (the `x-ratelimit-reset` value).
    pub reset: i64,
}

#[derive(Debug)]
pub(crate) struct User {
    pub login: String,
    pub id: u64,
}

#[derive(Debug)]
pub(crate) struct Team {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent: Option<String>,
    /// Direct members only, keyed by lower-case login.
    pub members: BTreeMap<String, Role>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub(crate) struct Invitation {
    pub id: u64,
    pub login: Option<String>,
    pub email: Option<String>,
    pub teams: Vec<String>,
    pub inviter: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub(crate) struct Org {
    pub login: String,
    pub id: u64,
    /// Keyed by slug.
    pub teams: BTreeMap<String, Team>,
    /// Keyed by invitation id.
    pub invitations: BTreeMap<u64, Invitation>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub(crate) struct Repo {
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    /// Keyed by (git ref, path without leading slash).
    pub files: BTreeMap<(String, String), Vec<u8>>,
}

#[derive(Debug)]
pub(crate) struct App {
    pub public_key_pem: String,
    pub installations: BTreeSet<u64>,
}

#[derive(Debug)]
pub(crate) struct IssuedToken {
    pub installation_id: u64,
    pub expires_at: DateTime<Utc>,
    pub permissions: BTreeMap<String, String>,
    /// Lower-case repository names, when limited to some.
    pub repositories: Option<BTreeSet<String>>,
}

#[derive(Debug)]
pub(crate) struct Credentials {
    pub personal_tokens: BTreeSet<String>,
    /// Keyed by app id.
    pub apps: BTreeMap<u64, App>,
    /// Keyed by the token string.
    pub installation_tokens: BTreeMap<String, IssuedToken>,
    /// How long a newly issued installation token lives (GitHub: one hour).
    pub installation_token_lifetime: chrono::Duration,
    pub installation_tokens_issued: u64,
    /// What every installation may grant its tokens (GitHub: the App's
    /// permissions as the installation accepted them).
    pub installation_permissions: BTreeMap<String, String>,
    /// Every token minted, in order.
    pub minted: Vec<MintedToken>,
}

#[derive(Debug)]
pub(crate) struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub used: u64,
    pub reset: i64,
}

impl RateLimit {
    /// GitHub's authenticated core limit: 5,000 requests an hour.
    pub fn fresh(now: i64) -> Self {
        RateLimit {
            limit: 5000,
            remaining: 5000,
            used: 0,
            reset: now + 3600,
        }
    }

    /// Starts a new window when the old one has passed, as GitHub does.
    pub fn roll_window(&mut self, now: i64) {
        if now >= self.reset {
            self.remaining = self.limit;
            self.used = 0;
            self.reset = now + 3600;
        }
    }

    pub fn view(&self) -> RateLimitView {
        RateLimitView {
            limit: self.limit,
            remaining: self.remaining,
            used: self.used,
            reset: self.reset,
        }
    }
}

#[derive(Debug)]
pub(crate) struct InjectedFailure {
    pub path_contains: String,
    pub status: u16,
    pub remaining: u32,
}

#[derive(Debug)]
pub(crate) struct SecondaryLimit {
    pub path_contains: String,
    pub status: u16,
    pub retry_after_secs: u64,
    pub remaining: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub latency: Duration,
    pub failures: Vec<InjectedFailure>,
    pub secondary_limits: Vec<SecondaryLimit>,
    /// Every DELETE answers this status and changes nothing.
    pub ignored_deletes: Option<u16>,
}

#[derive(Debug)]
pub(crate) struct State {
    /// `http://127.0.0.1:PORT`, used for every `url` field and `Link` header.
    pub base_url: String,
    /// Keyed by lower-case login: GitHub names are case-insensitive.
    pub orgs: BTreeMap<String, Org>,
    /// Keyed by lower-case login.
    pub users: BTreeMap<String, User>,
    /// Keyed by lower-case `owner/name`.
    pub repos: BTreeMap<String, Repo>,
    pub credentials: Credentials,
    /// The REST API's (`core`) bucket.
    pub rate: RateLimit,
    /// GraphQL's own bucket, as on GitHub (one point per query here).
    pub graphql_rate: RateLimit,
    pub faults: Faults,
    pub log: Vec<LoggedRequest>,
    next_id: u64,
}

impl State {
    pub fn new(base_url: String) -> Self {
        State {
            base_url,
            orgs: BTreeMap::new(),
            users: BTreeMap::new(),
            repos: BTreeMap::new(),
            credentials: Credentials {
                personal_tokens: BTreeSet::new(),
                apps: BTreeMap::new(),
                installation_tokens: BTreeMap::new(),
                installation_token_lifetime: chrono::Duration::hours(1),
                installation_tokens_issued: 0,
                installation_permissions: [
                    ("members", "write"),
                    ("contents", "read"),
                    ("metadata", "read"),
                ]
                .into_iter()
                .map(|(name, level)| (name.to_owned(), level.to_owned()))
                .collect(),
                minted: Vec::new(),
            },
            rate: RateLimit::fresh(Utc::now().timestamp()),
            graphql_rate: RateLimit::fresh(Utc::now().timestamp()),
            faults: Faults::default(),
            log: Vec::new(),
            next_id: 1000,
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The user with this login, created on first mention so tests never seed ids.
    pub fn user(&mut self, login: &str) -> &User {
        let key = login.to_lowercase();
        if !self.users.contains_key(&key) {
            let id = self.next_id();
            self.users.insert(
                key.clone(),
                User {
                    login: login.to_owned(),
                    id,
                },
            );
        }
        &self.users[&key]
    }

    pub fn org_mut(&mut self, login: &str) -> &mut Org {
        let key = login.to_lowercase();
        if !self.orgs.contains_key(&key) {
            let id = self.next_id();
            self.orgs.insert(
                key.clone(),
                Org {
                    login: login.to_owned(),
                    id,
                    teams: BTreeMap::new(),
                    invitations: BTreeMap::new(),
                    created_at: Utc::now(),
                },
            );
        }
        self.orgs.get_mut(&key).expect("just inserted")
    }

    pub fn org(&self, login: &str) -> Option<&Org> {
        self.orgs.get(&login.to_lowercase())
    }

    pub fn team_mut(&mut self, org: &str, slug: &str) -> &mut Team {
        let is_new = self.org(org).is_none_or(|o| !o.teams.contains_key(slug));
        let id = if is_new { self.next_id() } else { 0 };
        let org = self.org_mut(org);
        org.teams.entry(slug.to_owned()).or_insert_with(|| Team {
            id,
            slug: slug.to_owned(),
            name: slug.to_owned(),
            description: None,
            parent: None,
            members: BTreeMap::new(),
            created_at: Utc::now(),
        })
    }

    pub fn repo_mut(&mut self, owner: &str, name: &str) -> &mut Repo {
        self.repos
            .entry(format!("{owner}/{name}").to_lowercase())
            .or_insert_with(|| Repo {
                owner: owner.to_owned(),
                name: name.to_owned(),
                default_branch: "main".to_owned(),
                files: BTreeMap::new(),
            })
    }

    /// Gives the account holding `from` the login `to`, as a GitHub rename
    /// does: its id, memberships and invitations stay; `from` is free for
    /// another account to take. Answers the account's id.
    pub fn rename_user(&mut self, from: &str, to: &str) -> u64 {
        let (old, new) = (from.to_lowercase(), to.to_lowercase());
        assert!(
            !self.users.contains_key(&new),
            "the login {to} is taken; GitHub refuses the rename"
        );
        let mut user = self
            .users
            .remove(&old)
            .unwrap_or_else(|| panic!("no account has the login {from}"));
        user.login = to.to_owned();
        let id = user.id;
        self.users.insert(new.clone(), user);
        for org in self.orgs.values_mut() {
            for team in org.teams.values_mut() {
                if let Some(role) = team.members.remove(&old) {
                    team.members.insert(new.clone(), role);
                }
            }
            for invitation in org.invitations.values_mut() {
                if invitation
                    .login
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(from))
                {
                    invitation.login = Some(to.to_owned());
                }
                if invitation.inviter.eq_ignore_ascii_case(from) {
                    invitation.inviter = to.to_owned();
                }
            }
        }
        id
    }

    pub fn user_id(&self, login: &str) -> u64 {
        self.users.get(&login.to_lowercase()).map_or(0, |u| u.id)
    }

    pub fn display_login(&self, login: &str) -> String {
        self.users
            .get(&login.to_lowercase())
            .map_or_else(|| login.to_owned(), |u| u.login.clone())
    }
}

impl Org {
    /// The team and every team below it, parents before children. Guarded against
    /// cycles, which GitHub forbids but a careless seed could create.
    pub fn team_and_descendants(&self, slug: &str) -> Vec<&Team> {
        let mut out: Vec<&Team> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut queue = vec![slug.to_owned()];
        while let Some(current) = queue.pop() {
            if !seen.insert(current.clone()) {
                continue;
            }
            if let Some(team) = self.teams.get(&current) {
                out.push(team);
                queue.extend(self.children(&current).map(|child| child.slug.clone()));
            }
        }
        out
    }

    pub fn children<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a Team> + 'a {
        self.teams
            .values()
            .filter(move |team| team.parent.as_deref() == Some(slug))
    }

    /// Everyone GitHub lists as a member of `slug`: its direct members plus the
    /// members of its child teams, recursively. A direct role wins; someone who
    /// is only in a child team counts as `member` of the parent.
    pub fn effective_members(&self, slug: &str) -> BTreeMap<String, Role> {
        let mut members = BTreeMap::new();
        // The team itself comes first, so its direct roles are the ones kept.
        for team in self.team_and_descendants(slug) {
            let direct = team.slug == slug;
            for (login, role) in &team.members {
                let role = if direct { *role } else { Role::Member };
                members.entry(login.clone()).or_insert(role);
            }
        }
        members
    }

    /// The open invitation that would make `login` a member of `slug`.
    pub fn pending_invitation_for(&self, slug: &str, login: &str) -> Option<&Invitation> {
        self.invitations.values().find(|inv| {
            inv.login
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(login))
                && inv.teams.iter().any(|t| t == slug)
        })
    }
}

impl Invitation {
    pub fn view(&self) -> InvitationView {
        InvitationView {
            id: self.id,
            login: self.login.clone(),
            email: self.email.clone(),
            teams: self.teams.clone(),
        }
    }
}
