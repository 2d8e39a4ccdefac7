//! The holders of the managed teams and roles, each with the roster's
//! grounds and the plan's findings: read from the observed state the way the
//! planner reads it (child teams' members, each trust-policy principal once),
//! so the review lists exactly the grants the plan judged.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::config::{Config, Level, RoleRef};
use crate::engine::Planned;
use crate::model::{Finding, FindingKind, Revocation, System};
use crate::report::review::{
    Activity, Basis, HeldAs, Holder, HolderFinding, LevelGround, PersonGrounds, TemporaryGround,
};
use crate::roster::Person;
use crate::state::{AwsState, IamUser, RoleState};
use crate::trust_policy::{PrincipalType, allowed_principals_unordered};
use crate::when::show_expiry;

mod sso;
mod teams;

/// One principal on one target, before the roster's grounds are added.
struct Grant<'g> {
    system: System,
    target: &'g str,
    principal: String,
    held_as: HeldAs,
    via: Option<String>,
    principal_type: Option<&'static str>,
    /// The roster person, by place in the roster.
    who: Option<usize>,
    protected: bool,
    /// The IAM user (ARN in lower case) whose activity speaks for the principal.
    iam_user: Option<String>,
    /// Which of the plan's findings on the target and principal are this grant's.
    share: Share,
}

/// Which of the plan's findings on one target and principal belong to one
/// grant: a login can hold a team directly and through a child team, and be
/// invited to it, and the plan judges each of those grants on its own. A
/// warning that the person's access lapses soon goes to their first grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Share {
    /// A trust-policy principal: the only grant under its name.
    All,
    /// A direct team membership: revoked by removing it.
    Direct,
    /// A membership through a child team: reported, never revoked here.
    ThroughChild { first: bool },
    /// A pending invitation.
    Invitation { first: bool },
}

impl Share {
    fn owns(self, f: &Finding) -> bool {
        let lapses_soon = f.kind == FindingKind::ExpiringSoon;
        match self {
            Share::All => true,
            Share::Direct => {
                lapses_soon || matches!(f.revocation, Some(Revocation::TeamMembership { .. }))
            }
            Share::ThroughChild { first } => match f.kind {
                FindingKind::PendingInvitation => false,
                FindingKind::ExpiringSoon => first,
                _ => f.revocation.is_none(),
            },
            Share::Invitation { first } => {
                f.kind == FindingKind::PendingInvitation || (lapses_soon && first)
            }
        }
    }
}

/// The lookups a review consults for every holder, and the holders so far.
pub(super) struct Builder<'a> {
    config: &'a Config,
    now: DateTime<Utc>,
    people: &'a [Person],
    by_login: HashMap<&'a str, usize>,
    by_github_id: HashMap<u64, usize>,
    by_email: HashMap<String, usize>,
    by_arn: HashMap<String, usize>,
    /// IAM users by ARN in lower case, when activity was observed.
    users: HashMap<String, &'a IamUser>,
    /// The plan's findings by grant, `missing` ones apart.
    findings: HashMap<(System, &'a str, &'a str), Vec<&'a Finding>>,
    pub(super) holders: Vec<Holder>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(planned: &'a Planned) -> Self {
        let people = &planned.loaded.roster.people[..];
        let mut by_login = HashMap::new();
        let mut by_github_id = HashMap::new();
        let mut by_email = HashMap::new();
        let mut by_arn = HashMap::new();
        for (i, p) in people.iter().enumerate() {
            if let Some(login) = &p.github_username {
                by_login.insert(login.as_str(), i);
            }
            if let Some(id) = p.github_id {
                by_github_id.insert(id, i);
            }
            by_email.insert(p.email.to_lowercase(), i);
            if let Some(arn) = &p.aws_user_arn {
                by_arn.insert(arn.to_lowercase(), i);
            }
        }
        let users = planned
            .actual
            .aws
            .as_ref()
            .and_then(|a| a.users.as_ref())
            .map(|users| users.iter().map(|u| (u.arn.to_lowercase(), u)).collect())
            .unwrap_or_default();
        let mut findings: HashMap<_, Vec<&Finding>> = HashMap::new();
        for f in planned
            .plan
            .findings
            .iter()
            .filter(|f| f.kind != FindingKind::Missing)
        {
            findings
                .entry((f.system, f.target.as_str(), f.principal.as_str()))
                .or_default()
                .push(f);
        }
        Builder {
            config: &planned.config,
            now: planned.now,
            people,
            by_login,
            by_github_id,
            by_email,
            by_arn,
            users,
            findings,
            holders: Vec::new(),
        }
    }

    /// Every principal of every managed role's trust policy.
    pub(super) fn roles(&mut self, state: &'a AwsState) {
        let mut by_arn: BTreeMap<&str, (&RoleState, Vec<RoleRef>)> = BTreeMap::new();
        for role in self.config.managed_roles() {
            if let Some(found) = observed_role(state, &role) {
                by_arn
                    .entry(found.arn.as_str())
                    .or_insert_with(|| (found, Vec::new()))
                    .1
                    .push(role);
            }
        }
        for (arn, (role, refs)) in by_arn {
            let levels = levels_giving(self.config, |l| {
                l.aws_roles.iter().any(|r| refs.contains(r))
            });
            let mut seen = HashSet::new();
            for p in allowed_principals_unordered(&role.trust_policy) {
                if !seen.insert(p) {
                    continue;
                }
                let lower = p.value.to_lowercase();
                let is_aws = p.kind == PrincipalType::Aws;
                let who = is_aws.then(|| self.by_arn.get(&lower).copied()).flatten();
                let grant = Grant {
                    system: System::Aws,
                    target: arn,
                    principal: p.value.to_string(),
                    held_as: HeldAs::TrustPolicy,
                    via: None,
                    principal_type: Some(principal_type(p.kind)),
                    who,
                    protected: self
                        .config
                        .safety
                        .protected
                        .iter()
                        .any(|x| x.protects_aws(p.value)),
                    iam_user: (is_aws && self.users.contains_key(&lower)).then_some(lower),
                    share: Share::All,
                };
                self.push(grant, &levels);
            }
        }
    }

    fn protects_login(&self, login: &str) -> bool {
        self.config
            .safety
            .protected
            .iter()
            .any(|p| p.protects_login(login))
    }

    /// The IAM user of the roster person at `who`, when it was observed.
    fn person_iam_user(&self, who: Option<usize>) -> Option<String> {
        let arn = self.people[who?].aws_user_arn.as_ref()?.to_lowercase();
        self.users.contains_key(&arn).then_some(arn)
    }

    /// Adds the holder of `grant`, with the roster's grounds among `levels`
    /// (those that give its target) and the plan's findings on it.
    fn push(&mut self, grant: Grant, levels: &[&Level]) {
        let findings = self
            .findings
            .get(&(grant.system, grant.target, grant.principal.as_str()))
            .map_or(&[][..], |f| &f[..])
            .iter()
            .filter(|f| grant.share.owns(f))
            .map(|f| HolderFinding {
                kind: f.kind,
                action: f.action,
                reason: f.reason.clone(),
            })
            .collect();
        let activity = grant.iam_user.as_ref().and_then(|arn| {
            let user = self.users.get(arn)?;
            Some(Activity {
                iam_user: user.arn.clone(),
                last_used: user.last_activity(),
                user_created: user.created,
            })
        });
        let person = grant
            .who
            .map(|i| person_grounds(&self.people[i], levels, self.now));
        self.holders.push(Holder {
            system: grant.system,
            target: grant.target.to_string(),
            principal: grant.principal,
            held_as: grant.held_as,
            via: grant.via,
            principal_type: grant.principal_type,
            person,
            protected: grant.protected,
            activity,
            findings,
        });
    }
}

/// The config's levels that `gives` says give a target.
fn levels_giving(config: &Config, gives: impl Fn(&Level) -> bool) -> Vec<&Level> {
    config.levels.values().filter(|l| gives(l)).collect()
}

/// What the roster says of `person` holding a target given by `levels`.
fn person_grounds(person: &Person, levels: &[&Level], now: DateTime<Utc>) -> PersonGrounds {
    let mut grounds = Vec::new();
    for level in levels {
        if person.standing.contains(&level.name) {
            grounds.push(level_ground(
                person,
                level,
                Basis::Standing,
                &level.requires,
            ));
        }
        for t in person.temporary.iter().filter(|t| t.level == level.name) {
            let mut ground =
                level_ground(person, level, Basis::Temporary, &level.temporary_requires);
            ground.temporary = Some(TemporaryGround {
                approved_by: t.approved_by.clone(),
                supervised_by: t.supervised_by.clone(),
                expires: show_expiry(t.expires_at),
                expired: t.expires_at <= now,
                reason: t.reason.clone(),
            });
            grounds.push(ground);
        }
    }
    PersonGrounds {
        email: person.email.clone(),
        name: person.name.clone(),
        attestations: person.attestations.iter().map(String::from).collect(),
        absent_since: person.absent_since,
        levels: grounds,
    }
}

fn level_ground(
    person: &Person,
    level: &Level,
    basis: Basis,
    requires: &BTreeSet<String>,
) -> LevelGround {
    LevelGround {
        level: level.name.clone(),
        basis,
        requires: requires.iter().cloned().collect(),
        lacking: requires
            .iter()
            .filter(|r| !person.attestations.contains(r))
            .cloned()
            .collect(),
        temporary: None,
    }
}

/// The observed role a configured one names: IAM role names are unique
/// regardless of case.
pub(super) fn observed_role<'s>(state: &'s AwsState, role: &RoleRef) -> Option<&'s RoleState> {
    state.roles.iter().find(|r| {
        r.key().is_some_and(|(account, name)| {
            account == role.account_id && name.eq_ignore_ascii_case(&role.name)
        })
    })
}

/// The key of the trust policy's `Principal` block a principal stands under.
fn principal_type(kind: PrincipalType) -> &'static str {
    match kind {
        PrincipalType::Aws => "AWS",
        PrincipalType::Federated => "Federated",
        PrincipalType::Service => "Service",
        PrincipalType::CanonicalUser => "CanonicalUser",
        PrincipalType::Anyone => "*",
    }
}
