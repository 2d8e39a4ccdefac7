//! The pure planner: desired access (config + roster, as of `now`) against
//! actual grants, to findings and revocations. No I/O, no clock, no async:
//! everything about who should lose what is decided here, and tested here.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};

// Randomly seeded like std's, but far cheaper per key: the planner hashes
// every login and ARN it is given, half a million at org scale.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use chrono::{DateTime, Duration, Utc};

use crate::config::{Config, RoleRef};
use crate::model::{Action, Finding, FindingKind, Revocation, System, github_target};
use crate::roster::{Person, Roster};
use crate::state::{Actual, GithubState, IamUser, Invitation};
use crate::trust_policy::{PrincipalType, TrustPrincipal, allowed_principals_unordered};
use crate::when::{day, show_expiry};

/// The outcome of planning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Sorted by system, target, principal (SPEC §5).
    pub findings: Vec<Finding>,
    /// Things worth a human's attention that are not findings: a protected
    /// principal that matched nothing (a typo?), a person with no IAM user.
    pub notes: Vec<String>,
    /// How many grants each system holds in the managed scope now: the base
    /// of the revocation-ratio gate.
    pub grants: GrantCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrantCounts {
    pub github: usize,
    pub aws: usize,
}

impl Plan {
    pub fn revocations(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.action == Action::Revoke)
    }

    /// Drift is any finding but `expiring_soon`.
    pub fn has_drift(&self) -> bool {
        self.findings.iter().any(|f| f.kind.is_drift())
    }
}

/// Why a person is absent, when they are.
#[derive(Debug, Clone)]
struct Absence {
    reason: String,
}

/// What one person may hold now, and why not more.
#[derive(Debug)]
struct Status<'a> {
    person: &'a Person,
    absence: Option<Absence>,
    /// Levels that would be held were the person present: see [`Status::active`].
    /// Sorted, without repeats.
    if_present: Vec<&'a str>,
    /// Lapsed temporary grants: level and when it ended.
    expired: Vec<(&'a str, DateTime<Utc>)>,
    /// The instant observed inactivity is measured from, when known.
    last_seen: Option<DateTime<Utc>>,
    /// `if_present` as a mask over the config's levels.
    if_present_mask: Levels,
    /// Who `by_login` finds for this person's login when a team member with
    /// it would match it: a login not in lower case matches no member.
    /// Membership of a team is then one mark per person, not a lookup per login.
    login_holder: Option<usize>,
    /// Who `by_arn` finds for this person's IAM user ARN, for the same reason.
    arn_holder: Option<usize>,
}

/// No levels, for whoever is absent.
const NO_LEVELS: &[&str] = &[];

impl<'a> Status<'a> {
    /// Levels held now (none when absent).
    fn active(&self) -> &[&'a str] {
        match self.absence {
            Some(_) => NO_LEVELS,
            None => &self.if_present,
        }
    }
}

/// A set of access levels: bit `i` is the config's `i`-th level by name
/// (the config allows at most 128).
type Levels = u128;

/// Plans as of `now`. Deterministic: the same inputs give the same plan.
pub fn plan(config: &Config, roster: &Roster, actual: &Actual, now: DateTime<Utc>) -> Plan {
    Planner::new(config, roster, actual, now).run()
}

struct Planner<'a> {
    config: &'a Config,
    actual: &'a Actual,
    now: DateTime<Utc>,
    roster: &'a Roster,
    people: Vec<Status<'a>>,
    /// The levels each person holds now (see [`Status::active`]), by place in
    /// the roster. Apart from `people` because entitlement is checked for
    /// every grant and every person on every target: a pass over a compact
    /// list stays in cache, one over the statuses would not.
    active: Vec<Levels>,
    /// Lower-case keys, borrowed from the roster where it is already lower case.
    by_login: HashMap<Cow<'a, str>, usize>,
    /// Built on first use: only invitations without a login need it.
    by_email: OnceCell<HashMap<Cow<'a, str>, usize>>,
    by_arn: HashMap<Cow<'a, str>, usize>,
    protected_github: BTreeMap<String, bool>,
    protected_aws: BTreeMap<String, bool>,
    /// Configured role to the ARN IAM reports for it (which may carry a path).
    role_targets: HashMap<RoleRef, String>,
    managed_teams: BTreeSet<String>,
    /// Each level's bit in a [`Levels`] mask.
    level_bit: HashMap<&'a str, Levels>,
    findings: Vec<Finding>,
    notes: Vec<String>,
    grants: GrantCounts,
}

impl<'a> Planner<'a> {
    fn new(config: &'a Config, roster: &'a Roster, actual: &'a Actual, now: DateTime<Utc>) -> Self {
        let n = roster.people.len();
        let mut by_login = HashMap::with_capacity(n);
        let mut by_arn = HashMap::with_capacity(n);
        for (i, p) in roster.people.iter().enumerate() {
            if let Some(l) = &p.github_username {
                by_login.insert(ascii_lowercase(l), i);
            }
            if let Some(a) = &p.aws_user_arn {
                by_arn.insert(lowercase(a), i);
            }
        }
        // Each IAM user at the place `by_arn` gives its ARN, so a person's
        // user is found from their `arn_holder` without a map of its own.
        // None when activity was not observed: then nobody is absent by inactivity.
        let users_by_holder: Option<Vec<Option<&IamUser>>> = actual
            .aws
            .as_ref()
            .and_then(|a| a.users.as_ref())
            .map(|users| {
                let mut by_holder = vec![None; n];
                for u in users {
                    if let Some(&i) = by_arn.get(lowercase(&u.arn).as_ref()) {
                        by_holder[i] = Some(u);
                    }
                }
                by_holder
            });
        let mut notes = Vec::new();
        let people: Vec<Status> = roster
            .people
            .iter()
            .map(|p| {
                let arn_holder = p
                    .aws_user_arn
                    .as_deref()
                    .and_then(|a| by_arn.get(lowercase(a).as_ref()).copied());
                let user = users_by_holder
                    .as_ref()
                    .map(|users| arn_holder.and_then(|i| users[i]));
                Status {
                    login_holder: p
                        .github_username
                        .as_deref()
                        .filter(|l| !has_ascii_uppercase(l))
                        .and_then(|l| by_login.get(l).copied()),
                    arn_holder,
                    ..status(config, p, user, now, &mut notes)
                }
            })
            .collect();
        let mut protected_github = BTreeMap::new();
        let mut protected_aws = BTreeMap::new();
        for p in &config.safety.protected {
            match p.strip_prefix("github:") {
                Some(login) => protected_github.insert(login.to_ascii_lowercase(), false),
                None => protected_aws.insert(p.to_lowercase(), false),
            };
        }
        let level_bit: HashMap<&str, Levels> = config
            .levels
            .keys()
            .take(128)
            .enumerate()
            .map(|(i, name)| (name.as_str(), 1u128 << i))
            .collect();
        let mut people = people;
        for s in &mut people {
            s.if_present_mask = s
                .if_present
                .iter()
                .map(|l| level_bit.get(l).copied().unwrap_or(0))
                .fold(0, |a, b| a | b);
        }
        let active = people
            .iter()
            .map(|s| match s.absence {
                Some(_) => 0,
                None => s.if_present_mask,
            })
            .collect();
        let role_targets = config
            .managed_roles()
            .into_iter()
            .filter_map(|r| {
                let role = actual
                    .aws
                    .as_ref()?
                    .roles
                    .iter()
                    .find(|a| a.key() == Some((r.account_id.as_str(), r.name.as_str())))?;
                Some((r, role.arn.clone()))
            })
            .collect();
        Planner {
            config,
            role_targets,
            managed_teams: config.managed_teams(),
            level_bit,
            actual,
            now,
            roster,
            people,
            active,
            by_login,
            by_email: OnceCell::new(),
            by_arn,
            protected_github,
            protected_aws,
            findings: Vec::new(),
            notes,
            grants: GrantCounts::default(),
        }
    }

    fn run(mut self) -> Plan {
        if let (Some(gh), Some(state)) = (&self.config.github, &self.actual.github) {
            let org = gh.org.clone();
            for slug in self.config.managed_teams() {
                let start = self.findings.len();
                self.plan_team(&org, &slug, state);
                self.sort_one_target(start);
            }
        }
        if let Some(state) = &self.actual.aws {
            for role in self.config.managed_roles() {
                if let Some(actual_role) = state
                    .roles
                    .iter()
                    .find(|r| r.key() == Some((role.account_id.as_str(), role.name.as_str())))
                {
                    // Observation and snapshots have checked the document's shape.
                    let principals = allowed_principals_unordered(&actual_role.trust_policy);
                    let start = self.findings.len();
                    self.plan_role(&role, &actual_role.arn, &principals);
                    self.sort_one_target(start);
                }
            }
        }
        self.plan_expiring_soon();
        for (p, used) in self
            .protected_github
            .iter()
            .map(|(p, u)| (format!("github:{p}"), *u))
            .chain(self.protected_aws.iter().map(|(p, u)| (p.clone(), *u)))
        {
            if !used {
                self.notes.push(format!(
                    "protected principal `{p}` matched no grant in the managed scope (a typo?)"
                ));
            }
        }
        self.findings.sort_by(|a, b| {
            a.sort_key()
                .cmp(&b.sort_key())
                .then_with(|| (&a.reason, &a.revocation).cmp(&(&b.reason, &b.revocation)))
        });
        self.notes.sort();
        self.notes.dedup();
        Plan {
            findings: self.findings,
            notes: self.notes,
            grants: self.grants,
        }
    }

    /// Sorts the findings from `start` on, all about one target, into the
    /// order `run` gives every finding, comparing only what can differ
    /// between them. `run`'s stable sort then has runs in order to merge,
    /// not ARNs with long common prefixes to compare afresh; its result is
    /// the same.
    fn sort_one_target(&mut self, start: usize) {
        let findings = &mut self.findings[start..];
        debug_assert!(
            findings
                .windows(2)
                .all(|w| { (w[0].system, &w[0].target) == (w[1].system, &w[1].target) })
        );
        findings.sort_by(|a, b| {
            (&a.principal, a.kind)
                .cmp(&(&b.principal, b.kind))
                .then_with(|| (&a.reason, &a.revocation).cmp(&(&b.reason, &b.revocation)))
        });
    }

    /// The levels that give a GitHub team.
    fn levels_with_team(&self, slug: &str) -> Levels {
        self.mask(
            self.config
                .levels
                .values()
                .filter(|l| l.github_teams.iter().any(|t| t == slug))
                .map(|l| l.name.as_str()),
        )
    }

    fn levels_with_role(&self, role: &RoleRef) -> Levels {
        self.mask(
            self.config
                .levels
                .values()
                .filter(|l| l.aws_roles.contains(role))
                .map(|l| l.name.as_str()),
        )
    }

    /// The set of these levels, as a mask over the config's levels.
    fn mask<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Levels {
        names
            .into_iter()
            .map(|n| self.level_bit.get(n).copied().unwrap_or(0))
            .fold(0, |a, b| a | b)
    }

    fn has(&self, levels: Levels, name: &str) -> bool {
        self.level_bit
            .get(name)
            .is_some_and(|bit| levels & bit != 0)
    }

    /// Why a principal holding a grant (given by `levels`) should not: the kind and the reason.
    fn why_not(&self, who: Option<usize>, levels: Levels) -> (FindingKind, String) {
        let Some(i) = who else {
            return (FindingKind::Unexpected, "not in the roster".into());
        };
        let s = &self.people[i];
        if let Some(absence) = &s.absence
            && s.if_present_mask & levels != 0
        {
            return (FindingKind::Absent, absence.reason.clone());
        }
        if let Some((level, ended)) = s
            .expired
            .iter()
            .filter(|(l, _)| self.has(levels, l))
            .max_by_key(|(_, e)| *e)
        {
            return (
                FindingKind::Expired,
                format!("temporary {level} grant expired {}", show_expiry(*ended)),
            );
        }
        let held = if s.active().is_empty() {
            "the roster gives them no level".to_string()
        } else {
            format!(
                "the roster gives them {}, which does not include this",
                s.active().join(", ")
            )
        };
        (FindingKind::Unexpected, held)
    }

    fn entitled(&self, who: Option<usize>, levels: Levels) -> bool {
        who.is_some_and(|i| self.active[i] & levels != 0)
    }

    /// Roster people by lower-case email.
    fn by_email(&self) -> &HashMap<Cow<'a, str>, usize> {
        self.by_email.get_or_init(|| {
            let mut by_email = HashMap::with_capacity(self.roster.people.len());
            for (i, p) in self.roster.people.iter().enumerate() {
                by_email.insert(lowercase(&p.email), i);
            }
            by_email
        })
    }

    fn is_protected_login(&mut self, login: &str) -> bool {
        match self.protected_github.get_mut(login) {
            Some(used) => {
                *used = true;
                true
            }
            None => false,
        }
    }

    /// `principal` in lower case.
    fn is_protected_aws(&mut self, principal: &str) -> bool {
        match self.protected_aws.get_mut(principal) {
            Some(used) => {
                *used = true;
                true
            }
            None => false,
        }
    }

    fn plan_team(&mut self, org: &str, slug: &str, state: &GithubState) {
        let target = github_target(org, slug);
        let levels = self.levels_with_team(slug);
        let managed = self.managed_teams.clone();
        // Roster people among the members, by place in the roster.
        let mut in_team = vec![false; self.people.len()];
        let members = effective_members(state, slug, &self.by_login, &mut in_team);
        let invitations: Vec<&Invitation> = state
            .team(slug)
            .map(|t| t.invitations.iter().collect())
            .unwrap_or_default();
        self.grants.github += members.len() + invitations.len();

        for TeamMember { login, via, who } in &members {
            if self.is_protected_login(login) {
                continue;
            }
            let who = *who;
            if self.entitled(who, levels) {
                continue;
            }
            let (kind, mut reason) = self.why_not(who, levels);
            let (action, revocation) = match via {
                None => (
                    Action::Revoke,
                    Some(Revocation::TeamMembership {
                        org: org.to_string(),
                        team: slug.to_string(),
                        login: login.to_string(),
                    }),
                ),
                Some(child) => {
                    let how = if managed.contains(child.as_ref()) {
                        "lapse revokes it there if that team is not theirs either"
                    } else {
                        "lapse does not manage that team, so remove them there by hand"
                    };
                    reason.push_str(&format!(
                        "; held through child team {}: {how}",
                        github_target(org, child)
                    ));
                    (Action::None, None)
                }
            };
            self.findings.push(Finding {
                kind,
                system: System::Github,
                target: target.clone(),
                principal: login.to_string(),
                person: who.map(|i| self.people[i].person.email.clone()),
                action,
                reason,
                result: None,
                error: None,
                revocation,
            });
        }

        for inv in &invitations {
            let login = inv.login.as_ref().map(|l| l.to_ascii_lowercase());
            let principal = login
                .clone()
                .or_else(|| inv.email.as_ref().map(|e| e.to_lowercase()))
                .unwrap_or_else(|| format!("invitation:{}", inv.id));
            if login.as_deref().is_some_and(|l| self.is_protected_login(l)) {
                continue;
            }
            let who = login
                .as_ref()
                .and_then(|l| self.by_login.get(l.as_str()))
                .or_else(|| {
                    inv.email
                        .as_ref()
                        .and_then(|e| self.by_email().get(e.to_lowercase().as_str()))
                })
                .copied();
            if self.entitled(who, levels) {
                continue;
            }
            let (_, why) = self.why_not(who, levels);
            let mut reason = format!("invited, but {why}");
            let unmanaged: Vec<&String> = inv
                .teams
                .iter()
                .filter(|t| !managed.contains(&t.to_ascii_lowercase()))
                .collect();
            let entitled_elsewhere: Vec<String> = inv
                .teams
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .filter(|t| {
                    t != slug && managed.contains(t) && self.entitled(who, self.levels_with_team(t))
                })
                .collect();
            let action = if !unmanaged.is_empty() {
                let names: Vec<String> = unmanaged.iter().map(|t| github_target(org, t)).collect();
                reason.push_str(&format!(
                    "; the invitation also covers {}, which lapse does not manage, so cancelling it is left to a person",
                    names.join(", ")
                ));
                Action::None
            } else if !entitled_elsewhere.is_empty() {
                let names: Vec<String> = entitled_elsewhere
                    .iter()
                    .map(|t| github_target(org, t))
                    .collect();
                reason.push_str(&format!(
                    "; the invitation also covers {}, which they are entitled to, so it is kept",
                    names.join(", ")
                ));
                Action::None
            } else {
                Action::Revoke
            };
            self.findings.push(Finding {
                kind: FindingKind::PendingInvitation,
                system: System::Github,
                target: target.clone(),
                principal,
                person: who.map(|i| self.people[i].person.email.clone()),
                action,
                reason,
                result: None,
                error: None,
                revocation: (action == Action::Revoke).then(|| Revocation::Invitation {
                    org: org.to_string(),
                    invitation_id: inv.id,
                }),
            });
        }

        // Entitled people who hold nothing and have no invitation on the way.
        for i in 0..self.people.len() {
            if !self.entitled(Some(i), levels) {
                continue;
            }
            let s = &self.people[i];
            let Some(login) = &s.person.github_username else {
                continue;
            };
            if s.login_holder.is_some_and(|holder| in_team[holder]) {
                continue;
            }
            let email = s.person.email.to_lowercase();
            let invited = invitations.iter().any(|inv| {
                inv.login
                    .as_ref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(login))
                    || inv
                        .email
                        .as_ref()
                        .is_some_and(|e| e.to_lowercase() == email)
            });
            if invited {
                continue;
            }
            let through: Vec<&str> = s
                .active()
                .iter()
                .copied()
                .filter(|l| self.has(levels, l))
                .collect();
            self.findings.push(Finding {
                kind: FindingKind::Missing,
                system: System::Github,
                target: target.clone(),
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

    fn plan_role(&mut self, role: &RoleRef, arn: &str, principals: &[TrustPrincipal<'_>]) {
        let levels = self.levels_with_role(role);
        let config = self.config;
        let users_account = config
            .aws
            .as_ref()
            .and_then(|a| a.users_account.as_ref())
            .map(|a| a.id.as_str());
        // For each roster person, the first principal that names them (by
        // place in the roster), if any. `principals` may repeat itself: a
        // repeat of that first one is found by one comparison, and any other
        // principal, rare, by the set `others`.
        let mut first_naming: Vec<Option<&TrustPrincipal>> = vec![None; self.people.len()];
        let mut others: HashSet<&TrustPrincipal> = HashSet::new();
        for p in principals {
            if matches!(
                p.kind,
                PrincipalType::Service | PrincipalType::CanonicalUser
            ) {
                continue;
            }
            let lower = lowercase(p.value);
            let named = self.by_arn.get(lower.as_ref()).copied();
            let repeat = match named.map(|i| &mut first_naming[i]) {
                Some(first @ None) => {
                    *first = Some(p);
                    false
                }
                Some(Some(first)) => *first == p || !others.insert(p),
                None => !others.insert(p),
            };
            if repeat {
                continue;
            }
            self.grants.aws += 1;
            if self.is_protected_aws(&lower) {
                continue;
            }
            // (kind, reason, the person it is, whether to revoke)
            let (kind, reason, who, revoke) = match (p.kind, classify_aws(p.value)) {
                (PrincipalType::Anyone, _) => (
                    FindingKind::Unattributable,
                    "anyone (`*`) may assume this role: not a person lapse can attribute".into(),
                    None,
                    false,
                ),
                (PrincipalType::Federated, _) => (
                    FindingKind::Unattributable,
                    "a federated identity provider: its users are not attributable to the roster"
                        .into(),
                    None,
                    false,
                ),
                (_, AwsPrincipal::AccountRoot(account)) => (
                    FindingKind::Unattributable,
                    if Some(account) == users_account {
                        format!(
                            "the root of the users account {account}: any of its users the account allows can assume this role"
                        )
                    } else {
                        format!(
                            "account {account}: whoever that account allows can assume this role"
                        )
                    },
                    None,
                    false,
                ),
                (_, AwsPrincipal::UniqueId(kind)) => (
                    FindingKind::Orphaned,
                    format!("a bare unique ID: the {kind} it named has been deleted"),
                    None,
                    true,
                ),
                (_, AwsPrincipal::User) => {
                    if self.entitled(named, levels) {
                        continue;
                    }
                    let (kind, reason) = self.why_not(named, levels);
                    (kind, reason, named, true)
                }
                (_, AwsPrincipal::Role) => (
                    FindingKind::Unattributable,
                    "a role or session, not a person".into(),
                    None,
                    false,
                ),
                (_, AwsPrincipal::Other) => (
                    FindingKind::Unattributable,
                    "not a principal lapse can attribute to a person".into(),
                    None,
                    false,
                ),
            };
            self.findings.push(Finding {
                kind,
                system: System::Aws,
                target: arn.to_string(),
                principal: p.value.to_string(),
                person: who.map(|i| self.people[i].person.email.clone()),
                action: if revoke { Action::Revoke } else { Action::None },
                reason,
                result: None,
                error: None,
                revocation: revoke.then(|| Revocation::TrustPrincipal {
                    role_arn: arn.to_string(),
                    principal: p.value.to_string(),
                }),
            });
        }

        for i in 0..self.people.len() {
            if !self.entitled(Some(i), levels) {
                continue;
            }
            let s = &self.people[i];
            let Some(user_arn) = &s.person.aws_user_arn else {
                continue;
            };
            if s.arn_holder
                .is_some_and(|holder| first_naming[holder].is_some())
            {
                continue;
            }
            let through: Vec<&str> = s
                .active()
                .iter()
                .copied()
                .filter(|l| self.has(levels, l))
                .collect();
            self.findings.push(Finding {
                kind: FindingKind::Missing,
                system: System::Aws,
                target: arn.to_string(),
                principal: user_arn.clone(),
                person: Some(s.person.email.clone()),
                action: Action::None,
                reason: format!(
                    "entitled through {}, but not in the trust policy",
                    through.join(", ")
                ),
                result: None,
                error: None,
                revocation: None,
            });
        }
    }

    /// Warns ahead of every grant that will lapse within `warn_before_days`:
    /// temporary grants ending, and absences about to pass their limit. One
    /// finding per grant, from the earliest event that takes it away.
    fn plan_expiring_soon(&mut self) {
        let horizon = self.now + Duration::days(self.config.policy.warn_before_days as i64);
        let absence_limit = Duration::days(self.config.policy.absence_limit_days as i64 + 1);
        let mut out = Vec::new();
        for s in &self.people {
            if s.absence.is_some() || s.active().is_empty() {
                continue;
            }
            let soon = |t: DateTime<Utc>| t > self.now && t <= horizon;
            // (when it lapses, why, the grants it takes away)
            let mut events: Vec<(DateTime<Utc>, String, BTreeSet<Grant>)> = Vec::new();
            for t in s.person.temporary.iter().filter(|t| soon(t.expires_at)) {
                let remaining: BTreeSet<&str> = s
                    .person
                    .standing
                    .iter()
                    .map(String::as_str)
                    .chain(
                        s.person
                            .temporary
                            .iter()
                            .filter(|o| o.expires_at > t.expires_at)
                            .map(|o| o.level.as_str()),
                    )
                    .collect();
                let keep = self.grants_of(s, remaining);
                let lapsing = self
                    .grants_of(s, [t.level.as_str()])
                    .difference(&keep)
                    .cloned()
                    .collect();
                events.push((
                    t.expires_at,
                    format!(
                        "temporary {} grant expires {}",
                        t.level,
                        show_expiry(t.expires_at)
                    ),
                    lapsing,
                ));
            }
            if let Some(since) = s
                .person
                .absent_since
                .filter(|since| soon(*since + absence_limit))
            {
                events.push((
                    since + absence_limit,
                    format!(
                        "declared absence since {} passes the {}-day limit on {}",
                        day(since),
                        self.config.policy.absence_limit_days,
                        day(since + absence_limit)
                    ),
                    self.grants_of(s, s.active().iter().copied()),
                ));
            }
            if let (Some(limit), Some(seen)) =
                (self.config.policy.inactivity_limit_days, s.last_seen)
            {
                let lapse = seen + Duration::days(limit as i64 + 1);
                if soon(lapse) {
                    events.push((
                        lapse,
                        format!("no console or access-key use since {} (observed); passes the {limit}-day limit on {}", day(seen), day(lapse)),
                        self.grants_of(s, s.active().iter().copied()),
                    ));
                }
            }
            events.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let mut warned: BTreeSet<Grant> = BTreeSet::new();
            for (_, reason, lapsing) in events {
                for grant in lapsing {
                    if !warned.insert(grant.clone()) {
                        continue;
                    }
                    let (system, target, principal) = grant;
                    out.push(Finding {
                        kind: FindingKind::ExpiringSoon,
                        system,
                        target,
                        principal,
                        person: Some(s.person.email.clone()),
                        action: Action::None,
                        reason: reason.clone(),
                        result: None,
                        error: None,
                        revocation: None,
                    });
                }
            }
        }
        self.findings.extend(out);
    }

    /// The grants a set of levels gives a person, in the systems lapse observed.
    fn grants_of<'l>(
        &self,
        s: &Status,
        levels: impl IntoIterator<Item = &'l str>,
    ) -> BTreeSet<Grant> {
        let mut out = BTreeSet::new();
        for level in levels.into_iter().filter_map(|l| self.config.levels.get(l)) {
            if let (Some(gh), Some(_), Some(login)) = (
                &self.config.github,
                &self.actual.github,
                &s.person.github_username,
            ) {
                for team in &level.github_teams {
                    out.insert((System::Github, github_target(&gh.org, team), login.clone()));
                }
            }
            if let (Some(_), Some(arn)) = (&self.actual.aws, &s.person.aws_user_arn) {
                for role in &level.aws_roles {
                    let target = self
                        .role_targets
                        .get(role)
                        .cloned()
                        .unwrap_or_else(|| role.arn.clone());
                    out.insert((System::Aws, target, arn.clone()));
                }
            }
        }
        out
    }
}

/// One grant: system, target, principal.
type Grant = (System, String, String);

/// How an AWS principal string reads.
#[derive(Debug, PartialEq, Eq)]
enum AwsPrincipal<'a> {
    AccountRoot(&'a str),
    UniqueId(&'static str),
    User,
    Role,
    Other,
}

fn classify_aws(value: &str) -> AwsPrincipal<'_> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return AwsPrincipal::AccountRoot(value);
    }
    // Upper case and digits only, so no `:` either: not an ARN.
    if value.len() >= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        let kind = match &value[..4] {
            "AIDA" => "IAM user",
            "AROA" => "IAM role",
            _ => "principal",
        };
        return AwsPrincipal::UniqueId(kind);
    }
    if let Some(["arn", _, service, _, account, resource]) = arn_fields(value) {
        return match (service, resource) {
            ("iam", "root") => AwsPrincipal::AccountRoot(account),
            ("iam", r) if r.starts_with("user/") => AwsPrincipal::User,
            ("iam", r) if r.starts_with("role/") => AwsPrincipal::Role,
            ("sts", r) if r.starts_with("assumed-role/") || r.starts_with("federated-user/") => {
                AwsPrincipal::Role
            }
            _ => AwsPrincipal::Other,
        };
    }
    AwsPrincipal::Other
}

/// The six `:`-separated fields of an ARN, the last keeping any further
/// `:`; `None` with fewer. A byte scan: every trust principal goes through it.
fn arn_fields(value: &str) -> Option<[&str; 6]> {
    let mut fields = [""; 6];
    let mut rest = value;
    for field in &mut fields[..5] {
        let colon = rest.bytes().position(|b| b == b':')?;
        *field = &rest[..colon];
        rest = &rest[colon + 1..];
    }
    fields[5] = rest;
    Some(fields)
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
    by_login: &HashMap<Cow<str>, usize>,
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
            let who = by_login.get(login.as_ref()).copied();
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

/// `text` in lower case, borrowed when it already is (as it nearly always is).
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.is_ascii() && !has_ascii_uppercase(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// `text` in ASCII lower case, borrowed when it already is.
fn ascii_lowercase(text: &str) -> Cow<'_, str> {
    if has_ascii_uppercase(text) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `text` has an ASCII capital. Looks at every byte rather than
/// stopping at the first capital, which lets the compiler vectorise it: it
/// runs for every grant, and the answer is nearly always no.
fn has_ascii_uppercase(text: &str) -> bool {
    text.bytes()
        .fold(false, |found, b| found | b.is_ascii_uppercase())
}

/// A person's status; `user` is their IAM user, or None when activity was
/// not observed (Some(None) when it was and they have none).
fn status<'a>(
    config: &'a Config,
    p: &'a Person,
    user: Option<Option<&IamUser>>,
    now: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> Status<'a> {
    let mut absence = None;
    if let Some(since) = p.absent_since {
        let days = (now - since).num_days();
        if days > config.policy.absence_limit_days as i64 {
            absence = Some(Absence {
                reason: format!(
                    "declared absence since {} ({days} days; the limit is {})",
                    day(since),
                    config.policy.absence_limit_days
                ),
            });
        }
    }
    let mut last_seen = None;
    if let (Some(limit), Some(arn), Some(user)) =
        (config.policy.inactivity_limit_days, &p.aws_user_arn, user)
    {
        match user {
            Some(user) => {
                let seen = user.last_activity().unwrap_or(user.created);
                last_seen = Some(seen);
                let days = (now - seen).num_days();
                if absence.is_none() && days > limit as i64 {
                    let what = match user.last_activity() {
                        Some(t) => format!("no console or access-key use since {}", day(t)),
                        None => format!(
                            "no console or access-key use since the IAM user was created {}",
                            day(user.created)
                        ),
                    };
                    absence = Some(Absence {
                        reason: format!("{what} ({days} days, observed; the limit is {limit})"),
                    });
                }
            }
            None => notes.push(format!(
                "{}: no IAM user {arn} in the users account, so their activity is unknown",
                p.email
            )),
        }
    }
    // A sorted list rather than a set: cheaper to build for every person.
    let mut if_present: Vec<&str> = p
        .standing
        .iter()
        .map(String::as_str)
        .chain(
            p.temporary
                .iter()
                .filter(|t| t.expires_at > now)
                .map(|t| t.level.as_str()),
        )
        .collect();
    if_present.sort_unstable();
    if_present.dedup();
    let expired = p
        .temporary
        .iter()
        .filter(|t| t.expires_at <= now)
        .map(|t| (t.level.as_str(), t.expires_at))
        .collect();
    Status {
        person: p,
        absence,
        if_present,
        expired,
        last_seen,
        if_present_mask: 0,
        login_holder: None,
        arn_holder: None,
    }
}
