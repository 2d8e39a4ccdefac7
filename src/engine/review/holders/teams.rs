//! The holders of the managed GitHub teams, read as the planner reads them:
//! each direct membership, each member of a child team once (besides any
//! direct membership, which is a grant of its own), and each invitation;
//! people matched by their account's id where the roster gives one.

use std::collections::{BTreeSet, HashSet};

use crate::model::{System, github_target};
use crate::state::{GithubState, Invitation, Member, TeamRole};

use super::{Builder, Grant, Share, levels_giving};
use crate::report::review::HeldAs;

/// Who a GitHub account is to the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Account {
    Person(usize),
    /// The login is a roster person's, but the account is not theirs: their
    /// entry names another account id.
    LoginReused,
    Nobody,
}

impl Account {
    fn person(self) -> Option<usize> {
        match self {
            Account::Person(i) => Some(i),
            Account::LoginReused | Account::Nobody => None,
        }
    }
}

impl Builder<'_> {
    /// Every membership and invitation of every managed team.
    pub(in crate::engine::review) fn teams(&mut self, org: &str, state: &GithubState) {
        for slug in self.config.managed_teams() {
            let target = github_target(org, &slug);
            let levels = levels_giving(self.config, |l| l.github_teams.contains(&slug));
            let memberships = team_grants(state, &slug);
            let direct: HashSet<String> = memberships
                .iter()
                .filter(|(_, via)| via.is_none())
                .map(|(m, _)| m.login.to_ascii_lowercase())
                .collect();
            let mut members = HashSet::new();
            for (member, via) in memberships {
                let login = member.login.to_ascii_lowercase();
                let share = match via {
                    None => Share::Direct,
                    Some(_) => Share::ThroughChild {
                        first: !direct.contains(&login),
                    },
                };
                let who = self.account(&login, member.id).person();
                let grant = Grant {
                    system: System::Github,
                    target: &target,
                    held_as: match member.role {
                        TeamRole::Member => HeldAs::Member,
                        TeamRole::Maintainer => HeldAs::Maintainer,
                    },
                    via: via.map(|child| github_target(org, child)),
                    principal_type: None,
                    who,
                    protected: self.protects_login(&login),
                    iam_user: self.person_iam_user(who),
                    share,
                    principal: login.clone(),
                };
                self.push(grant, &levels);
                members.insert(login);
            }
            let invitations = state.team(&slug).map_or(&[][..], |t| &t.invitations[..]);
            for inv in invitations {
                let grant = self.invitation(&target, inv, &members);
                self.push(grant, &levels);
            }
        }
    }

    /// A pending invitation to `target`, named as the plan names it: its
    /// login, else its email, else its id.
    fn invitation<'g>(
        &self,
        target: &'g str,
        inv: &Invitation,
        members: &HashSet<String>,
    ) -> Grant<'g> {
        let login = inv.login.as_ref().map(|l| l.to_ascii_lowercase());
        let email = inv.email.as_ref().map(|e| e.to_lowercase());
        let account = match login.as_deref() {
            Some(l) => self.account(l, inv.user_id),
            None => Account::Nobody,
        };
        let who = match account {
            Account::Nobody => email.as_ref().and_then(|e| self.by_email.get(e).copied()),
            found => found.person(),
        };
        let principal = login
            .clone()
            .or(email)
            .unwrap_or_else(|| format!("invitation:{}", inv.id));
        Grant {
            system: System::Github,
            target,
            held_as: HeldAs::Invitation,
            via: None,
            principal_type: None,
            who,
            protected: login.as_deref().is_some_and(|l| self.protects_login(l)),
            iam_user: self.person_iam_user(who),
            share: Share::Invitation {
                first: !members.contains(&principal),
            },
            principal,
        }
    }

    /// Who an account is (`login` in lower case): by its id when a roster
    /// entry carries it, whatever the login is now; else by login, unless
    /// the person with that login names another account's id.
    fn account(&self, login: &str, id: Option<u64>) -> Account {
        if let Some(i) = id.and_then(|id| self.by_github_id.get(&id)) {
            return Account::Person(*i);
        }
        match self.by_login.get(login) {
            Some(&i) if id.is_some() && self.people[i].github_id.is_some() => Account::LoginReused,
            Some(&i) => Account::Person(i),
            None => Account::Nobody,
        }
    }
}

/// The memberships of a team as the plan counts them: each direct member,
/// then each member of a child team (recursively) once, through the first
/// such team found, with that team's slug.
fn team_grants<'s>(state: &'s GithubState, slug: &str) -> Vec<(&'s Member, Option<&'s str>)> {
    let mut out: Vec<(&Member, Option<&str>)> = state
        .team(slug)
        .map(|t| t.members.iter().map(|m| (m, None)).collect())
        .unwrap_or_default();
    let mut through_children = HashSet::new();
    let mut stack = children(state, slug);
    let mut seen = BTreeSet::from([slug.to_ascii_lowercase()]);
    while let Some(team) = stack.pop() {
        if !seen.insert(team.to_ascii_lowercase()) {
            continue;
        }
        let Some(t) = state.team(team) else { continue };
        for m in &t.members {
            if through_children.insert(m.login.to_ascii_lowercase()) {
                out.push((m, Some(t.slug.as_str())));
            }
        }
        stack.extend(children(state, team));
    }
    out
}

/// The slugs of the teams directly below `team`.
fn children<'s>(state: &'s GithubState, team: &str) -> Vec<&'s str> {
    state
        .teams
        .iter()
        .filter(|c| {
            c.parent
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(team))
        })
        .map(|c| c.slug.as_str())
        .collect()
}
