//! Planning one GitHub team: its members (its own, and those held through
//! child teams), its pending invitations, and the entitled people who hold
//! neither. Members and invitees are people by their account's numeric id
//! where the roster gives one, else by login (see [`PeopleIndex::account`]).

use std::borrow::Cow;
use std::collections::BTreeSet;

use foldhash::{HashSet, HashSetExt};

use crate::model::{Action, Finding, FindingKind, Revocation, System, github_target};
use crate::state::{GithubState, Invitation, Member};

use super::Planner;
use super::index::{Account, PeopleIndex, ascii_lowercase};
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

    /// What cancelling an invitation does beyond this team: GitHub cancels
    /// an organisation invitation whole, never one team of it.
    fn whole_invitation_note(&self) -> String {
        format!(
            "; GitHub cancels invitations whole, so this withdraws their whole invitation to the {} organisation, not just to this team",
            self.org.to_ascii_lowercase()
        )
    }
}

/// An invitation to the team and who it is for.
struct Invitee<'s> {
    inv: &'s Invitation,
    /// The invitation's login in lower case.
    login: Option<String>,
    account: Account,
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
        let invitees: Vec<Invitee> = state
            .team(slug)
            .map(|t| t.invitations.iter().map(|inv| self.invitee(inv)).collect())
            .unwrap_or_default();
        self.grants.github += members.len() + invitees.len();
        for member in &members {
            self.note_renamed(&member.login, member.id, member.account);
            self.plan_member(&team, member);
        }
        let mut invited = vec![false; self.people.len()];
        for invitee in &invitees {
            if let Some(i) = invitee.account.person() {
                invited[i] = true;
            }
            let login = invitee.login.as_deref().unwrap_or_default();
            self.note_renamed(login, invitee.inv.user_id, invitee.account);
            self.plan_invitation(&team, invitee);
        }
        self.plan_missing_members(&team, &in_team, &invited);
    }

    /// A note when an account the roster names by id holds another login
    /// now: the roster's `github_username` is out of date.
    fn note_renamed(&mut self, login: &str, id: Option<u64>, account: Account) {
        let (Account::Person(i), Some(id)) = (account, id) else {
            return;
        };
        let person = self.people[i].person;
        let stale = person
            .github_username
            .as_deref()
            .is_none_or(|l| !l.eq_ignore_ascii_case(login));
        if person.github_id == Some(id) && stale {
            self.notes.push(format!(
                "{}: github_id {id} is now login {login}; update github_username in the roster",
                person.email
            ));
        }
    }

    /// Why a principal holding a grant of `levels` should not: as
    /// [`Planner::why_not`], or because the login changed hands.
    fn why_not_account(
        &self,
        account: Account,
        login: &str,
        id: Option<u64>,
        levels: Levels,
    ) -> (FindingKind, String) {
        let Account::LoginReused { person } = account else {
            return self.why_not(account.person(), levels);
        };
        let p = self.people[person].person;
        let theirs = p.github_id.map(|n| n.to_string()).unwrap_or_default();
        let holder = id.map(|id| format!(" (id {id})")).unwrap_or_default();
        (
            FindingKind::Unexpected,
            format!(
                "the login {login} now belongs to another account{holder}, not to {}'s (github_id {theirs})",
                p.email
            ),
        )
    }

    /// A member who should not be: revoked when a direct member, reported
    /// when held through a child team (revoked there, if anywhere).
    fn plan_member(&mut self, team: &TeamScope, member: &TeamMember) {
        let TeamMember {
            login,
            id,
            via,
            account,
        } = member;
        if self.protected.claims_login(login) {
            return;
        }
        let who = account.person();
        if self.entitled(who, team.levels) {
            return;
        }
        let (kind, mut reason) = self.why_not_account(*account, login, *id, team.levels);
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
    fn plan_invitation(&mut self, team: &TeamScope, invitee: &Invitee) {
        let Invitee {
            inv,
            login,
            account,
        } = invitee;
        let principal = invitation_principal(login, inv);
        if login
            .as_deref()
            .is_some_and(|l| self.protected.claims_login(l))
        {
            return;
        }
        let who = account.person();
        if self.entitled(who, team.levels) {
            return;
        }
        let (_, why) = self.why_not_account(*account, &principal, inv.user_id, team.levels);
        let mut reason = format!("invited, but {why}");
        let action = self.invitation_action(team, inv, who, &mut reason);
        if action == Action::Revoke {
            reason.push_str(&team.whole_invitation_note());
        }
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

    /// Who an invitation is for: by its account and login (see
    /// [`PeopleIndex::account`]), else by its email.
    fn invitee<'s>(&self, inv: &'s Invitation) -> Invitee<'s> {
        let login = inv.login.as_ref().map(|l| l.to_ascii_lowercase());
        let by_account = login
            .as_deref()
            .map_or(Account::Nobody, |l| self.index.account(l, inv.user_id));
        let account = match by_account {
            Account::Nobody => inv
                .email
                .as_ref()
                .and_then(|e| self.index.by_email(e.to_lowercase().as_str()))
                .map_or(Account::Nobody, Account::Person),
            found => found,
        };
        Invitee {
            inv,
            login,
            account,
        }
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
    fn plan_missing_members(&mut self, team: &TeamScope, in_team: &[bool], invited: &[bool]) {
        for i in 0..self.people.len() {
            if !self.entitled(Some(i), team.levels) {
                continue;
            }
            let s = &self.people[i];
            let Some(login) = &s.person.github_username else {
                continue;
            };
            // Held under their login, or under another through their account's id.
            let holds = s.login_holder.is_some_and(|holder| in_team[holder]) || in_team[i];
            if holds || invited[i] {
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

/// One grant of a team as GitHub counts them.
struct TeamMember<'s> {
    /// The login in lower case.
    login: Cow<'s, str>,
    /// The account's numeric id, when observed.
    id: Option<u64>,
    /// The child team (lower case) the grant is held through; `None` for a
    /// direct membership.
    via: Option<Cow<'s, str>>,
    account: Account,
}

/// The grants a team's members hold, as GitHub counts them: each direct
/// membership, and for each principal in a child team (recursively) one
/// grant through the first such team found, besides any direct membership
/// they also hold, which is a grant of its own. Marks the roster people
/// among them in `in_team`.
fn effective_members<'s>(
    state: &'s GithubState,
    slug: &'s str,
    index: &PeopleIndex,
    in_team: &mut [bool],
) -> Vec<TeamMember<'s>> {
    let mut grant = |m: &'s Member, via: Option<Cow<'s, str>>| {
        let login = ascii_lowercase(&m.login);
        let account = index.account(login.as_ref(), m.id);
        if let Some(i) = account.person() {
            in_team[i] = true;
        }
        TeamMember {
            login,
            id: m.id,
            via,
            account,
        }
    };
    let mut out: Vec<TeamMember> = state
        .team(slug)
        .map(|t| t.members.iter().map(|m| grant(m, None)).collect())
        .unwrap_or_default();
    let mut through_children: HashSet<Cow<str>> = HashSet::new();
    let mut stack = children(state, slug);
    let mut seen = BTreeSet::from([ascii_lowercase(slug)]);
    while let Some(team) = stack.pop() {
        if !seen.insert(team.clone()) {
            continue;
        }
        let Some(t) = state.team(&team) else { continue };
        for m in &t.members {
            if through_children.insert(ascii_lowercase(&m.login)) {
                out.push(grant(m, Some(team.clone())));
            }
        }
        stack.extend(children(state, &team));
    }
    out
}

/// The slugs (lower case) of the teams directly below `team`.
fn children<'s>(state: &'s GithubState, team: &str) -> Vec<Cow<'s, str>> {
    state
        .teams
        .iter()
        .filter(|c| {
            c.parent
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(team))
        })
        .map(|c| ascii_lowercase(&c.slug))
        .collect()
}
