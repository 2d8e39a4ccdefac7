//! Planning one GitHub team: its members (its own, and those held through
//! child teams), its pending invitations, and the entitled people who hold
//! neither.

use std::borrow::Cow;
use std::collections::BTreeSet;

use foldhash::{HashSet, HashSetExt};

use crate::model::{Action, Finding, FindingKind, Revocation, System, github_target};
use crate::state::{GithubState, Invitation};

use super::Planner;
use super::index::{PeopleIndex, ascii_lowercase};
use super::levels::Levels;

/// The team being planned, and what every finding about it shares.
struct TeamScope<'t> {
    org: &'t str,
    slug: &'t str,
    /// How findings name the team.
    target: String,
    /// The levels that give the team.
    levels: Levels,
    /// The teams lapse manages, in lower case.
    managed: BTreeSet<String>,
}

impl TeamScope<'_> {
    /// Taking a direct member out of the team.
    fn membership_revocation(&self, login: &str) -> Revocation {
        Revocation::TeamMembership {
            org: self.org.to_string(),
            team: self.slug.to_string(),
            login: login.to_string(),
        }
    }

    /// Why a member through a child team is left to that team, or to a person.
    fn held_through_child(&self, child: &str) -> String {
        let how = if self.managed.contains(child) {
            "lapse revokes it there if that team is not theirs either"
        } else {
            "lapse does not manage that team, so remove them there by hand"
        };
        format!(
            "; held through child team {}: {how}",
            github_target(self.org, child)
        )
    }
}

impl Planner<'_> {
    /// Plans every managed team, when GitHub is configured and was observed.
    pub(super) fn plan_teams(&mut self) {
        let (Some(gh), Some(state)) = (&self.config.github, &self.actual.github) else {
            return;
        };
        let org = gh.org.clone();
        for slug in self.config.managed_teams() {
            let start = self.findings.len();
            self.plan_team(&org, &slug, state);
            self.sort_one_target(start);
        }
    }

    /// The levels that give a GitHub team.
    pub(super) fn levels_with_team(&self, slug: &str) -> Levels {
        self.level_bits.mask(
            self.config
                .levels
                .values()
                .filter(|l| l.github_teams.iter().any(|t| t == slug))
                .map(|l| l.name.as_str()),
        )
    }

    fn plan_team(&mut self, org: &str, slug: &str, state: &GithubState) {
        let team = TeamScope {
            org,
            slug,
            target: github_target(org, slug),
            levels: self.levels_with_team(slug),
            managed: self.managed_teams.clone(),
        };
        // Roster people among the members, by place in the roster.
        let mut in_team = vec![false; self.people.len()];
        let members = effective_members(state, slug, &self.index, &mut in_team);
        let invitations: Vec<&Invitation> = state
            .team(slug)
            .map(|t| t.invitations.iter().collect())
            .unwrap_or_default();
        self.grants.github += members.len() + invitations.len();
        for member in &members {
            self.plan_member(&team, member);
        }
        for inv in &invitations {
            self.plan_invitation(&team, inv);
        }
        self.plan_missing_members(&team, &in_team, &invitations);
    }

    /// A member who should not be: revoked when a direct member, reported
    /// when held through a child team (revoked there, if anywhere).
    fn plan_member(&mut self, team: &TeamScope, member: &TeamMember) {
        let TeamMember { login, via, who } = member;
        if self.protected.claims_login(login) {
            return;
        }
        let who = *who;
        if self.entitled(who, team.levels) {
            return;
        }
        let (kind, mut reason) = self.why_not(who, team.levels);
        let (action, revocation) = match via {
            None => (Action::Revoke, Some(team.membership_revocation(login))),
            Some(child) => {
                reason.push_str(&team.held_through_child(child));
                (Action::None, None)
            }
        };
        self.findings.push(Finding {
            kind,
            system: System::Github,
            target: team.target.clone(),
            principal: login.to_string(),
            person: who.map(|i| self.people[i].person.email.clone()),
            action,
            reason,
            result: None,
            error: None,
            revocation,
        });
    }

    /// An invitation for someone not entitled to the team: cancelled, unless
    /// it also covers a team lapse does not manage or one they are entitled to.
    fn plan_invitation(&mut self, team: &TeamScope, inv: &Invitation) {
        let login = inv.login.as_ref().map(|l| l.to_ascii_lowercase());
        let principal = invitation_principal(&login, inv);
        if login
            .as_deref()
            .is_some_and(|l| self.protected.claims_login(l))
        {
            return;
        }
        let who = self.invitee(login.as_deref(), inv);
        if self.entitled(who, team.levels) {
            return;
        }
        let (_, why) = self.why_not(who, team.levels);
        let mut reason = format!("invited, but {why}");
        let action = self.invitation_action(team, inv, who, &mut reason);
        self.findings.push(Finding {
            kind: FindingKind::PendingInvitation,
            system: System::Github,
            target: team.target.clone(),
            principal,
            person: who.map(|i| self.people[i].person.email.clone()),
            action,
            reason,
            result: None,
            error: None,
            revocation: (action == Action::Revoke).then(|| Revocation::Invitation {
                org: team.org.to_string(),
                invitation_id: inv.id,
            }),
        });
    }

    /// Who an invitation is for: by its login (lower case), else by its email.
    fn invitee(&self, login: Option<&str>, inv: &Invitation) -> Option<usize> {
        login.and_then(|l| self.index.by_login(l)).or_else(|| {
            inv.email
                .as_ref()
                .and_then(|e| self.index.by_email(e.to_lowercase().as_str()))
        })
    }

    /// Whether to cancel an invitation not owed for this team; when it is
    /// kept, `reason` is told why.
    fn invitation_action(
        &self,
        team: &TeamScope,
        inv: &Invitation,
        who: Option<usize>,
        reason: &mut String,
    ) -> Action {
        let unmanaged: Vec<&String> = inv
            .teams
            .iter()
            .filter(|t| !team.managed.contains(&t.to_ascii_lowercase()))
            .collect();
        let entitled_elsewhere: Vec<String> = inv
            .teams
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .filter(|t| {
                t != team.slug
                    && team.managed.contains(t)
                    && self.entitled(who, self.levels_with_team(t))
            })
            .collect();
        if !unmanaged.is_empty() {
            let names: Vec<String> = unmanaged
                .iter()
                .map(|t| github_target(team.org, t))
                .collect();
            reason.push_str(&format!(
                "; the invitation also covers {}, which lapse does not manage, so cancelling it is left to a person",
                names.join(", ")
            ));
            Action::None
        } else if !entitled_elsewhere.is_empty() {
            let names: Vec<String> = entitled_elsewhere
                .iter()
                .map(|t| github_target(team.org, t))
                .collect();
            reason.push_str(&format!(
                "; the invitation also covers {}, which they are entitled to, so it is kept",
                names.join(", ")
            ));
            Action::None
        } else {
            Action::Revoke
        }
    }

    /// Entitled people who hold nothing and have no invitation on the way.
    fn plan_missing_members(
        &mut self,
        team: &TeamScope,
        in_team: &[bool],
        invitations: &[&Invitation],
    ) {
        for i in 0..self.people.len() {
            if !self.entitled(Some(i), team.levels) {
                continue;
            }
            let s = &self.people[i];
            let Some(login) = &s.person.github_username else {
                continue;
            };
            if s.login_holder.is_some_and(|holder| in_team[holder]) {
                continue;
            }
            if is_invited(invitations, login, &s.person.email) {
                continue;
            }
            let through = self.entitled_through(s, team.levels);
            self.findings.push(Finding {
                kind: FindingKind::Missing,
                system: System::Github,
                target: team.target.clone(),
                principal: login.clone(),
                person: Some(s.person.email.clone()),
                action: Action::None,
                reason: format!("entitled through {}, but not a member", through.join(", ")),
                result: None,
                error: None,
                revocation: None,
            });
        }
    }
}

/// How a finding names an invitation: its login (given in lower case), else
/// its email in lower case, else its ID.
fn invitation_principal(login: &Option<String>, inv: &Invitation) -> String {
    login
        .clone()
        .or_else(|| inv.email.as_ref().map(|e| e.to_lowercase()))
        .unwrap_or_else(|| format!("invitation:{}", inv.id))
}

/// Whether one of the team's invitations is for this login or email.
fn is_invited(invitations: &[&Invitation], login: &str, email: &str) -> bool {
    let email = email.to_lowercase();
    invitations.iter().any(|inv| {
        inv.login
            .as_ref()
            .is_some_and(|l| l.eq_ignore_ascii_case(login))
            || inv
                .email
                .as_ref()
                .is_some_and(|e| e.to_lowercase() == email)
    })
}

/// A member of a team as GitHub counts it.
struct TeamMember<'s> {
    /// The login in lower case.
    login: Cow<'s, str>,
    /// The child team (lower case) they are directly in, when it is a child.
    via: Option<Cow<'s, str>>,
    /// Their place in the roster, if they are in it.
    who: Option<usize>,
}

/// Members of a team as GitHub counts them: its own, and its child teams'
/// (recursively), each once. The team's own come first, so a direct
/// membership wins over one through a child. Marks the roster people among
/// them in `in_team`, which also keeps them from being counted twice.
fn effective_members<'s>(
    state: &'s GithubState,
    slug: &'s str,
    index: &PeopleIndex,
    in_team: &mut [bool],
) -> Vec<TeamMember<'s>> {
    let mut out = Vec::with_capacity(state.team(slug).map_or(0, |t| t.members.len()));
    // Members outside the roster have no place to mark.
    let mut strangers: HashSet<Cow<str>> = HashSet::new();
    let mut stack = vec![ascii_lowercase(slug)];
    let mut seen = BTreeSet::new();
    while let Some(team) = stack.pop() {
        if !seen.insert(team.clone()) {
            continue;
        }
        let Some(t) = state.team(&team) else { continue };
        let via = (team != slug).then(|| team.clone());
        for m in &t.members {
            let login = ascii_lowercase(&m.login);
            let who = index.by_login(login.as_ref());
            let first = match who {
                Some(i) => !std::mem::replace(&mut in_team[i], true),
                None => strangers.insert(login.clone()),
            };
            if first {
                out.push(TeamMember {
                    login,
                    via: via.clone(),
                    who,
                });
            }
        }
        for child in state.teams.iter().filter(|c| {
            c.parent
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(&team))
        }) {
            stack.push(ascii_lowercase(&child.slug));
        }
    }
    out
}
