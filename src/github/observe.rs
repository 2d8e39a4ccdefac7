//! Reading the managed teams: each one and every team below it, with direct
//! members, their roles and account ids, and the managed teams' pending
//! invitations with every team each invitation covers and the invited
//! account's id.
//!
//! GitHub's REST listing of a team includes its child teams' members, so a
//! team's child teams are read first: a team without any is then listed
//! over REST, one with children over GraphQL, which alone tells a direct
//! membership from one through a child team (see `members`). Someone who is
//! both a direct member and in a child team is therefore seen as both.
//!
//! The requests are the least this needs: per team read, its pages of child
//! teams, then either its pages of `role=member` and `role=maintainer`
//! members (no children) or its pages of direct members by GraphQL; per
//! managed team, its pages of invitations; per invitation covering more
//! than one team, the pages of its teams (once, however many teams list
//! it); per invited login, the account (`GET /users/LOGIN`), since an
//! invitation names the login but not the account's id.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use tokio::task::JoinSet;

use super::client::{ApiError, Client};
use super::members::direct_members;
use super::request::segment;
use crate::progress;
use crate::state::{GithubState, Invitation, Member, TeamState};
use crate::system::GithubScope;

#[derive(Deserialize)]
struct Account {
    id: u64,
}

#[derive(Deserialize)]
struct TeamRef {
    slug: String,
}

#[derive(Deserialize)]
struct RawInvitation {
    id: u64,
    login: Option<String>,
    email: Option<String>,
    team_count: Option<u64>,
}

enum Read {
    /// A team's slug and its direct children's.
    Children(String, Vec<String>),
    /// A team's slug and its direct members.
    Members(String, Vec<Member>),
    Invitations(String, Vec<RawInvitation>),
    InvitationTeams(u64, Vec<String>),
    /// An invited login (lower case) and the id of the account holding it.
    Account(String, u64),
}

/// Reads the scope, at most `github.concurrency` requests at a time. Any read
/// that fails fails the whole observation, and the reads still running are
/// dropped.
pub async fn observe(client: &Client, scope: &GithubScope) -> Result<GithubState, String> {
    let org = scope.org.to_ascii_lowercase();
    let found = Reading::start(client, &org, &managed_teams(scope))
        .finish()
        .await?;
    Ok(found.into_state(org))
}

/// The managed teams' slugs, lowercased, each once, in the config's order.
fn managed_teams(scope: &GithubScope) -> Vec<String> {
    let mut managed: Vec<String> = Vec::new();
    for slug in &scope.teams {
        let slug = slug.to_ascii_lowercase();
        if !managed.contains(&slug) {
            managed.push(slug);
        }
    }
    managed
}

/// Everything read: teams by slug, invitations by managed team, and the
/// teams of each invitation that covers more than one.
#[derive(Default)]
struct Found {
    /// Every team read or being read, with its parent once a listing names it.
    parents: HashMap<String, Option<String>>,
    /// The direct members of every team read.
    members: BTreeMap<String, Vec<Member>>,
    invitations: BTreeMap<String, Vec<RawInvitation>>,
    invitation_teams: HashMap<u64, Vec<String>>,
    /// Invited logins (lower case) to their accounts' ids.
    accounts: HashMap<String, u64>,
}

/// The reads in flight, and the ones they lead to: a team's children, and
/// an invitation's teams.
struct Reading<'a> {
    client: &'a Client,
    org: &'a str,
    running: JoinSet<Result<Read, String>>,
    /// Invitations whose teams are being read or were read.
    looked_up: HashSet<u64>,
    /// Invited logins whose accounts are being read or were read.
    accounts_looked_up: HashSet<String>,
    found: Found,
}

impl<'a> Reading<'a> {
    /// Starts reading each managed team and its invitations.
    fn start(client: &'a Client, org: &'a str, managed: &[String]) -> Reading<'a> {
        let mut reading = Reading {
            client,
            org,
            running: JoinSet::new(),
            looked_up: HashSet::new(),
            accounts_looked_up: HashSet::new(),
            found: Found::default(),
        };
        progress::teams_found(managed.len());
        for slug in managed {
            reading.found.parents.insert(slug.clone(), None);
            reading.spawn_children(slug, None);
            reading.running.spawn(read_invitations(
                client.clone(),
                org.to_string(),
                slug.clone(),
            ));
        }
        reading
    }

    /// Takes in every read until none is left running.
    async fn finish(mut self) -> Result<Found, String> {
        while let Some(joined) = self.running.join_next().await {
            match joined.map_err(|e| format!("a GitHub read stopped unexpectedly: {e}"))?? {
                Read::Children(slug, children) => self.take_children(slug, children),
                Read::Members(slug, members) => {
                    progress::team_read();
                    self.found.members.insert(slug, members);
                }
                Read::Invitations(slug, list) => self.take_invitations(slug, list),
                Read::InvitationTeams(id, slugs) => {
                    self.found.invitation_teams.insert(id, slugs);
                }
                Read::Account(login, id) => {
                    self.found.accounts.insert(login, id);
                }
            }
        }
        Ok(self.found)
    }

    fn spawn_children(&mut self, slug: &str, parent: Option<&str>) {
        self.running.spawn(read_children(
            self.client.clone(),
            self.org.to_string(),
            slug.to_string(),
            parent.map(str::to_string),
        ));
    }

    /// Starts reading a team's members, the way its children call for, and
    /// each child not seen before.
    fn take_children(&mut self, slug: String, children: Vec<String>) {
        self.running.spawn(read_members(
            self.client.clone(),
            self.org.to_string(),
            slug.clone(),
            self.found.parents.get(&slug).cloned().flatten(),
            !children.is_empty(),
        ));
        for child in children {
            let known = self.found.parents.contains_key(&child);
            self.found.parents.insert(child.clone(), Some(slug.clone()));
            if !known {
                progress::teams_found(1);
                self.spawn_children(&child, Some(&slug));
            }
        }
    }

    /// Keeps a managed team's invitations, and starts reading the teams of
    /// each that covers more than that one, once per invitation, and the
    /// account of each invited login, once per login.
    fn take_invitations(&mut self, slug: String, list: Vec<RawInvitation>) {
        for invitation in &list {
            if invitation.team_count != Some(1) && self.looked_up.insert(invitation.id) {
                self.running.spawn(read_invitation_teams(
                    self.client.clone(),
                    self.org.to_string(),
                    invitation.id,
                ));
            }
            let Some(login) = invitation.login.as_deref().map(str::to_ascii_lowercase) else {
                continue;
            };
            if self.accounts_looked_up.insert(login.clone()) {
                self.running.spawn(read_account(self.client.clone(), login));
            }
        }
        self.found.invitations.insert(slug, list);
    }
}

impl Found {
    /// Each team read, in slug order, with its direct members and pending
    /// invitations.
    fn into_state(mut self, org: String) -> GithubState {
        let teams = std::mem::take(&mut self.members)
            .into_iter()
            .map(|(slug, members)| TeamState {
                parent: self.parents.get(&slug).cloned().flatten(),
                members,
                invitations: self.pending_invitations(&slug),
                slug,
            })
            .collect();
        GithubState { org, teams }
    }

    /// The invitations pending for team `slug`, each with every team it
    /// covers, sorted by id.
    fn pending_invitations(&self, slug: &str) -> Vec<Invitation> {
        let mut pending: Vec<Invitation> = self
            .invitations
            .get(slug)
            .into_iter()
            .flatten()
            .map(|raw| Invitation {
                id: raw.id,
                login: raw.login.as_ref().map(|l| l.to_ascii_lowercase()),
                user_id: raw
                    .login
                    .as_ref()
                    .and_then(|l| self.accounts.get(&l.to_ascii_lowercase()).copied()),
                email: raw.email.clone(),
                teams: match raw.team_count {
                    Some(1) => vec![slug.to_string()],
                    _ => self
                        .invitation_teams
                        .get(&raw.id)
                        .cloned()
                        .unwrap_or_default(),
                },
            })
            .collect();
        pending.sort_by_key(|i| i.id);
        pending
    }
}

/// A listing that 404s means the team is not there: for a managed team that
/// is a config error, never "nobody is in this team".
fn team_error(error: ApiError, org: &str, slug: &str, parent: Option<&str>) -> String {
    if !error.is_not_found() {
        return error.to_string();
    }
    match parent {
        None => format!(
            "team `{slug}` does not exist in organisation `{org}` (or lapse's credentials cannot see it); check github_teams in the config ({error})"
        ),
        Some(parent) => format!(
            "team `{slug}`, a child of `{parent}`, disappeared while it was being read; run again ({error})"
        ),
    }
}

/// A team's children, read first: they decide how its members are read.
async fn read_children(
    client: Client,
    org: String,
    slug: String,
    parent: Option<String>,
) -> Result<Read, String> {
    let path = format!("/orgs/{}/teams/{}/teams", segment(&org), segment(&slug));
    let children = client
        .list::<TeamRef>(&path)
        .await
        .map_err(|e| team_error(e, &org, &slug, parent.as_deref()))?
        .into_iter()
        .map(|t| t.slug.to_ascii_lowercase())
        .collect();
    Ok(Read::Children(slug, children))
}

async fn read_members(
    client: Client,
    org: String,
    slug: String,
    parent: Option<String>,
    has_children: bool,
) -> Result<Read, String> {
    let members = direct_members(&client, &org, &slug, has_children)
        .await
        .map_err(|e| team_error(e, &org, &slug, parent.as_deref()))?;
    Ok(Read::Members(slug, members))
}

async fn read_invitations(client: Client, org: String, slug: String) -> Result<Read, String> {
    let path = format!(
        "/orgs/{}/teams/{}/invitations",
        segment(&org),
        segment(&slug)
    );
    let list = client
        .list::<RawInvitation>(&path)
        .await
        .map_err(|e| team_error(e, &org, &slug, None))?;
    Ok(Read::Invitations(slug, list))
}

async fn read_invitation_teams(client: Client, org: String, id: u64) -> Result<Read, String> {
    let path = format!("/orgs/{}/invitations/{id}/teams", segment(&org));
    let teams = client.list::<TeamRef>(&path).await.map_err(|e| {
        if e.is_not_found() {
            format!(
                "invitation {id} was accepted or cancelled while it was being read; run again ({e})"
            )
        } else {
            e.to_string()
        }
    })?;
    Ok(Read::InvitationTeams(
        id,
        teams
            .into_iter()
            .map(|t| t.slug.to_ascii_lowercase())
            .collect(),
    ))
}

/// The account an invitation names by login. A login that no longer exists
/// was renamed while the invitation was read.
async fn read_account(client: Client, login: String) -> Result<Read, String> {
    let path = format!("/users/{}", segment(&login));
    let account: Account = client.get_json(&path).await.map_err(|e| {
        if e.is_not_found() {
            format!(
                "the invited login {login} changed hands or was renamed while it was being read; run again ({e})"
            )
        } else {
            e.to_string()
        }
    })?;
    Ok(Read::Account(login, account.id))
}
