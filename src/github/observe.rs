//! Reading the managed teams: each one and every team below it, with direct
//! members and their roles, and the managed teams' pending invitations with
//! every team each invitation covers.
//!
//! GitHub lists a child team's members as members of its parent, so a team's
//! direct members are those listed for it minus everyone listed for its
//! direct children. Someone who is both a direct member and in a child team
//! therefore reads as a member through the child: lapse then does not revoke
//! the parent membership, erring toward leaving access rather than removing
//! it on a guess.
//!
//! The requests are the least this needs: per team read, its pages of
//! `role=member` and `role=maintainer` members and of child teams; per
//! managed team, its pages of invitations; per invitation covering more than
//! one team, the pages of its teams (once, however many teams list it).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Deserialize;
use tokio::task::JoinSet;

use super::client::{ApiError, Client};
use super::request::segment;
use crate::progress;
use crate::state::{GithubState, Invitation, Member, TeamRole, TeamState};
use crate::system::GithubScope;

#[derive(Deserialize)]
struct Login {
    login: String,
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

/// One team as GitHub lists it: everyone it lists (child teams' members
/// included), by role, and its direct children.
struct TeamRead {
    slug: String,
    members: BTreeSet<String>,
    maintainers: BTreeSet<String>,
    children: Vec<String>,
}

impl TeamRead {
    fn listed(&self) -> impl Iterator<Item = &String> {
        self.members.iter().chain(&self.maintainers)
    }
}

enum Read {
    Team(TeamRead),
    Invitations(String, Vec<RawInvitation>),
    InvitationTeams(u64, Vec<String>),
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
    teams: BTreeMap<String, TeamRead>,
    invitations: BTreeMap<String, Vec<RawInvitation>>,
    invitation_teams: HashMap<u64, Vec<String>>,
}

/// The reads in flight, and the ones they lead to: a team's children, and
/// an invitation's teams.
struct Reading<'a> {
    client: &'a Client,
    org: &'a str,
    running: JoinSet<Result<Read, String>>,
    /// Invitations whose teams are being read or were read.
    looked_up: HashSet<u64>,
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
            found: Found::default(),
        };
        progress::teams_found(managed.len());
        for slug in managed {
            reading.found.parents.insert(slug.clone(), None);
            reading.spawn_team(slug, None);
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
                Read::Team(team) => self.take_team(team),
                Read::Invitations(slug, list) => self.take_invitations(slug, list),
                Read::InvitationTeams(id, slugs) => {
                    self.found.invitation_teams.insert(id, slugs);
                }
            }
        }
        Ok(self.found)
    }

    fn spawn_team(&mut self, slug: &str, parent: Option<&str>) {
        self.running.spawn(read_team(
            self.client.clone(),
            self.org.to_string(),
            slug.to_string(),
            parent.map(str::to_string),
        ));
    }

    /// Keeps a team, and starts reading each child not seen before.
    fn take_team(&mut self, team: TeamRead) {
        for child in &team.children {
            let known = self.found.parents.contains_key(child);
            self.found
                .parents
                .insert(child.clone(), Some(team.slug.clone()));
            if !known {
                progress::teams_found(1);
                self.spawn_team(child, Some(&team.slug));
            }
        }
        progress::team_read();
        self.found.teams.insert(team.slug.clone(), team);
    }

    /// Keeps a managed team's invitations, and starts reading the teams of
    /// each that covers more than that one, once per invitation.
    fn take_invitations(&mut self, slug: String, list: Vec<RawInvitation>) {
        for invitation in &list {
            if invitation.team_count != Some(1) && self.looked_up.insert(invitation.id) {
                self.running.spawn(read_invitation_teams(
                    self.client.clone(),
                    self.org.to_string(),
                    invitation.id,
                ));
            }
        }
        self.found.invitations.insert(slug, list);
    }
}

impl Found {
    /// Each team read, in slug order, with its direct members and pending
    /// invitations.
    fn into_state(self, org: String) -> GithubState {
        let teams = self
            .teams
            .iter()
            .map(|(slug, team)| TeamState {
                slug: slug.clone(),
                parent: self.parents.get(slug).cloned().flatten(),
                members: self.direct_members(team),
                invitations: self.pending_invitations(slug),
            })
            .collect();
        GithubState { org, teams }
    }

    /// Those `team` lists who are not listed through one of its children,
    /// maintainers as maintainers, sorted by login.
    fn direct_members(&self, team: &TeamRead) -> Vec<Member> {
        let through_children: HashSet<&String> = team
            .children
            .iter()
            .filter_map(|child| self.teams.get(child))
            .flat_map(TeamRead::listed)
            .collect();
        let maintainers = team.maintainers.iter().map(|l| (l, TeamRole::Maintainer));
        let members = team
            .members
            .iter()
            .filter(|l| !team.maintainers.contains(*l))
            .map(|l| (l, TeamRole::Member));
        let mut direct: Vec<Member> = maintainers
            .chain(members)
            .filter(|(login, _)| !through_children.contains(login))
            .map(|(login, role)| Member {
                login: login.clone(),
                role,
            })
            .collect();
        direct.sort_by(|a, b| a.login.cmp(&b.login));
        direct
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

async fn read_team(
    client: Client,
    org: String,
    slug: String,
    parent: Option<String>,
) -> Result<Read, String> {
    let base = format!("/orgs/{}/teams/{}", segment(&org), segment(&slug));
    let members = format!("{base}/members?role=member");
    let maintainers = format!("{base}/members?role=maintainer");
    let children = format!("{base}/teams");
    let (members, maintainers, children) = tokio::try_join!(
        client.list::<Login>(&members),
        client.list::<Login>(&maintainers),
        client.list::<TeamRef>(&children),
    )
    .map_err(|e| team_error(e, &org, &slug, parent.as_deref()))?;
    let logins = |list: Vec<Login>| -> BTreeSet<String> {
        list.into_iter()
            .map(|u| u.login.to_ascii_lowercase())
            .collect()
    };
    Ok(Read::Team(TeamRead {
        members: logins(members),
        maintainers: logins(maintainers),
        children: children
            .into_iter()
            .map(|t| t.slug.to_ascii_lowercase())
            .collect(),
        slug,
    }))
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
