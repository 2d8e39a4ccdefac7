//! Warnings ahead of lapses: each grant a person will lose within
//! `warn_before_days`, as a temporary grant ends or an absence or a spell of
//! inactivity passes its limit.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};

use crate::model::{Action, Finding, FindingKind, System, github_target, sso_group_target};
use crate::when::{show, show_expiry};

use super::Planner;
use super::limits::limit_ends;
use super::status::Status;

/// One grant: system, target, principal.
type Grant = (System, String, String);

/// An event ahead that takes grants away.
struct Lapse {
    at: DateTime<Utc>,
    reason: String,
    grants: BTreeSet<Grant>,
}

impl Planner<'_> {
    /// Warns ahead of every grant that will lapse within `warn_before_days`:
    /// temporary grants ending, and absences about to pass their limit. One
    /// finding per grant, from the earliest event that takes it away.
    pub(super) fn plan_expiring_soon(&mut self) {
        let horizon = TimeDelta::try_days(i64::from(self.config.policy.warn_before_days))
            .and_then(|ahead| self.now.checked_add_signed(ahead))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut out = Vec::new();
        for s in &self.people {
            if s.absence.is_some() || s.active().is_empty() {
                continue;
            }
            let mut lapses: Vec<Lapse> = Vec::new();
            self.temporary_lapses(s, horizon, &mut lapses);
            self.absence_lapse(s, horizon, &mut lapses);
            self.inactivity_lapse(s, horizon, &mut lapses);
            lapses.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.reason.cmp(&b.reason)));
            warn_once(s, lapses, &mut out);
        }
        self.findings.extend(out);
    }

    /// Whether `at` falls after now and no later than `horizon`.
    fn soon(&self, at: DateTime<Utc>, horizon: DateTime<Utc>) -> bool {
        at > self.now && at <= horizon
    }

    /// When a limit counted from `since` is passed, if that is no later
    /// than `horizon`. A limit is passed just after the instant it ends, so
    /// one ending now is still ahead (the planner has not yet revoked).
    fn limit_ends_soon(
        &self,
        since: DateTime<Utc>,
        limit_days: u32,
        horizon: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        limit_ends(since, limit_days).filter(|end| *end >= self.now && *end <= horizon)
    }

    /// Temporary grants ending soon, each taking what no level the person
    /// keeps beyond it still gives.
    fn temporary_lapses(&self, s: &Status, horizon: DateTime<Utc>, lapses: &mut Vec<Lapse>) {
        for t in s
            .person
            .temporary
            .iter()
            .filter(|t| self.soon(t.expires_at, horizon))
        {
            let remaining: BTreeSet<&str> = s
                .person
                .standing
                .iter()
                .chain(
                    s.person
                        .temporary
                        .iter()
                        .filter(|o| o.expires_at > t.expires_at)
                        .map(|o| o.level.as_str()),
                )
                .collect();
            let keep = self.grants_of(s, remaining);
            let grants = self
                .grants_of(s, [t.level.as_str()])
                .difference(&keep)
                .cloned()
                .collect();
            lapses.push(Lapse {
                at: t.expires_at,
                reason: format!(
                    "temporary {} grant expires {}",
                    t.level,
                    show_expiry(t.expires_at)
                ),
                grants,
            });
        }
    }

    /// A declared absence about to pass the limit, taking every grant.
    fn absence_lapse(&self, s: &Status, horizon: DateTime<Utc>, lapses: &mut Vec<Lapse>) {
        let limit = self.config.policy.absence_limit_days;
        let Some(since) = s.person.absent_since else {
            return;
        };
        let Some(at) = self.limit_ends_soon(since, limit, horizon) else {
            return;
        };
        lapses.push(Lapse {
            at,
            reason: format!(
                "declared absence since {} passes the {limit}-day limit {}",
                show(since),
                on_or_at(at)
            ),
            grants: self.grants_of(s, s.active().iter().copied()),
        });
    }

    /// Observed inactivity about to pass the limit, taking every grant.
    fn inactivity_lapse(&self, s: &Status, horizon: DateTime<Utc>, lapses: &mut Vec<Lapse>) {
        let (Some(limit), Some(seen)) = (self.config.policy.inactivity_limit_days, s.last_seen)
        else {
            return;
        };
        let Some(at) = self.limit_ends_soon(seen, limit, horizon) else {
            return;
        };
        lapses.push(Lapse {
            at,
            reason: format!(
                "no console or access-key use since {} (observed); passes the {limit}-day limit {}",
                show(seen),
                on_or_at(at)
            ),
            grants: self.grants_of(s, s.active().iter().copied()),
        });
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
            if let (Some(_), Some(name)) = (&self.actual.sso, &s.sso_user_name) {
                for set in &level.aws_permission_sets {
                    out.insert((System::Sso, set.target(), name.clone()));
                }
                for group in &level.identity_center_groups {
                    out.insert((System::Sso, sso_group_target(group), name.clone()));
                }
            }
        }
        out
    }
}

/// The instant a limit is passed, as a reason names it: "on" a date when
/// it is midnight, else "at" the exact time.
fn on_or_at(t: DateTime<Utc>) -> String {
    if t.time() == NaiveTime::MIN {
        format!("on {}", show(t))
    } else {
        format!("at {}", show(t))
    }
}

/// One finding per grant, from the earliest lapse that takes it away
/// (`lapses` in order).
fn warn_once(s: &Status, lapses: Vec<Lapse>, out: &mut Vec<Finding>) {
    let mut warned: BTreeSet<Grant> = BTreeSet::new();
    for Lapse { reason, grants, .. } in lapses {
        for grant in grants {
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
