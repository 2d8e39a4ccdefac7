//! The pure planner: desired access (config + roster, as of `now`) against
//! actual grants, to findings and revocations. No I/O, no clock, no async:
//! everything about who should lose what is decided here, and tested here.
//!
//! This module holds the plan and the planner's core; each step lives in a
//! module of its own: `github` plans a team, `aws` a role's trust policy,
//! `expiring` the warnings ahead of lapses, on top of each person's
//! `status` and the lookups in `index`.

mod aws;
pub use aws::unmatched_roles;
mod entitlement;
mod expiring;
mod github;
mod index;
mod levels;
mod limits;
mod protected;
mod sso;
pub use sso::unmatched_sso;
mod status;

use std::collections::{BTreeMap, BTreeSet};

// Randomly seeded like std's, but far cheaper per key: the planner hashes
// every login and ARN it is given, half a million at org scale.
use foldhash::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, RoleRef};
use crate::model::{Action, Finding};
use crate::roster::Roster;
use crate::state::Actual;

use index::PeopleIndex;
use levels::{LevelBits, Levels};
use protected::Protected;
use status::Status;

/// The outcome of planning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Sorted by system, target, principal (see the README: Reading a report).
    pub findings: Vec<Finding>,
    /// Things worth a human's attention that are not findings: a protected
    /// principal that matched nothing (a typo?), a person with no IAM user.
    pub notes: Vec<String>,
    /// How many grants each system holds in the managed scope now: the base
    /// of the revocation-ratio gates.
    pub grants: GrantCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantCounts {
    pub github: usize,
    pub aws: usize,
    pub sso: usize,
    /// How many principals hold each team or role that has findings, by
    /// target: the base of the per-target gate (`safety.max_target_ratio`).
    pub by_target: BTreeMap<String, usize>,
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

/// Plans as of `now`. Deterministic: the same inputs give the same plan.
pub fn plan(config: &Config, roster: &Roster, actual: &Actual, now: DateTime<Utc>) -> Plan {
    Planner::new(config, roster, actual, now).run()
}

struct Planner<'a> {
    config: &'a Config,
    actual: &'a Actual,
    now: DateTime<Utc>,
    people: Vec<Status<'a>>,
    /// The levels each person holds now (see [`Status::active`]), by place in
    /// the roster. Apart from `people` because entitlement is checked for
    /// every grant and every person on every target: a pass over a compact
    /// list stays in cache, one over the statuses would not.
    active: Vec<Levels>,
    /// Roster places by login, email and IAM user ARN.
    index: PeopleIndex<'a>,
    protected: Protected,
    /// Configured role to the ARN IAM reports for it (which may carry a path).
    role_targets: HashMap<RoleRef, String>,
    managed_teams: BTreeSet<String>,
    level_bits: LevelBits<'a>,
    findings: Vec<Finding>,
    notes: Vec<String>,
    grants: GrantCounts,
    /// Grants counted up to the end of the last target planned: what the
    /// count has grown by since is the holders of the target in hand.
    counted_before_target: usize,
}

impl<'a> Planner<'a> {
    fn new(config: &'a Config, roster: &'a Roster, actual: &'a Actual, now: DateTime<Utc>) -> Self {
        let index = PeopleIndex::new(roster);
        let users_by_holder = index.users_by_holder(actual);
        let mut notes = Vec::new();
        let mut people = status::people(
            config,
            roster,
            &index,
            users_by_holder.as_deref(),
            now,
            &mut notes,
        );
        let protected = Protected::new(config);
        let level_bits = LevelBits::new(config);
        status::mark_if_present_masks(&mut people, &level_bits);
        if actual.sso.is_some() {
            for s in &mut people {
                s.sso_user_name =
                    config.sso_user_name(&s.person.email, s.person.github_username.as_deref());
            }
        }
        let active = status::active_levels(&people);
        let role_targets = index::role_targets(config, actual);
        Planner {
            config,
            role_targets,
            managed_teams: config.managed_teams(),
            level_bits,
            actual,
            now,
            people,
            active,
            index,
            protected,
            findings: Vec::new(),
            notes,
            grants: GrantCounts::default(),
            counted_before_target: 0,
        }
    }

    fn run(mut self) -> Plan {
        self.plan_teams();
        self.plan_roles();
        self.plan_sso();
        self.plan_expiring_soon();
        for note in self.protected.unused_notes() {
            self.notes.push(note);
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

    /// Ends the planning of one target, whose findings start at `start`:
    /// records how many hold it, and sorts its findings.
    fn sort_one_target(&mut self, start: usize) {
        self.count_holders(start);
        self.sort_findings_from(start);
    }

    /// Records the holders of the target just planned (the grants counted
    /// since the previous one) when it has findings, which the per-target
    /// gate may weigh.
    fn count_holders(&mut self, start: usize) {
        let counted = self.grants.github + self.grants.aws + self.grants.sso;
        let holders = counted.saturating_sub(self.counted_before_target);
        self.counted_before_target = counted;
        if let Some(first) = self.findings.get(start) {
            self.grants.by_target.insert(first.target.clone(), holders);
        }
    }

    /// Sorts the findings from `start` on, all about one target, into the
    /// order `run` gives every finding, comparing only what can differ
    /// between them. `run`'s stable sort then has runs in order to merge,
    /// not ARNs with long common prefixes to compare afresh; its result is
    /// the same.
    fn sort_findings_from(&mut self, start: usize) {
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
}
