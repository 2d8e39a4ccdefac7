//! What each person may hold at `now`: the levels the roster gives them,
//! those that lapsed, and whether they are absent (declared, or observed
//! by inactivity), which takes every level away.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::roster::{Person, Roster};
use crate::state::IamUser;
use crate::when::{day, show};

use super::index::PeopleIndex;
use super::levels::{LevelBits, Levels};
use super::limits::{elapsed, over_limit};

/// Why a person is absent, when they are.
#[derive(Debug, Clone)]
pub(super) struct Absence {
    pub(super) reason: String,
}

/// What one person may hold now, and why not more.
#[derive(Debug)]
pub(super) struct Status<'a> {
    pub(super) person: &'a Person,
    pub(super) absence: Option<Absence>,
    /// Levels that would be held were the person present: see [`Status::active`].
    /// Sorted, without repeats.
    pub(super) if_present: Vec<&'a str>,
    /// Lapsed temporary grants: level and when it ended.
    pub(super) expired: Vec<(&'a str, DateTime<Utc>)>,
    /// The instant observed inactivity is measured from, when known.
    pub(super) last_seen: Option<DateTime<Utc>>,
    /// `if_present` as a mask over the config's levels.
    pub(super) if_present_mask: Levels,
    /// See [`PeopleIndex::login_holder`].
    pub(super) login_holder: Option<usize>,
    /// See [`PeopleIndex::arn_holder`].
    pub(super) arn_holder: Option<usize>,
    /// The Identity Store user name, when Identity Center was observed.
    pub(super) sso_user_name: Option<String>,
}

/// No levels, for whoever is absent.
const NO_LEVELS: &[&str] = &[];

impl<'a> Status<'a> {
    /// Levels held now (none when absent).
    pub(super) fn active(&self) -> &[&'a str] {
        match self.absence {
            Some(_) => NO_LEVELS,
            None => &self.if_present,
        }
    }
}

/// Every roster person's status, by place in the roster. `users_by_holder`
/// is [`PeopleIndex::users_by_holder`]: None when activity was not observed.
pub(super) fn people<'a>(
    config: &'a Config,
    roster: &'a Roster,
    index: &PeopleIndex<'a>,
    users_by_holder: Option<&[Option<&IamUser>]>,
    now: DateTime<Utc>,
    notes: &mut Vec<String>,
) -> Vec<Status<'a>> {
    roster
        .people
        .iter()
        .map(|p| {
            let arn_holder = index.arn_holder(p);
            let user = users_by_holder.map(|users| arn_holder.and_then(|i| users[i]));
            Status {
                login_holder: index.login_holder(p),
                arn_holder,
                ..status(config, p, user, now, notes)
            }
        })
        .collect()
}

/// Fills in each status's `if_present_mask`.
pub(super) fn mark_if_present_masks(people: &mut [Status], level_bits: &LevelBits) {
    for s in people {
        s.if_present_mask = level_bits.mask(s.if_present.iter().copied());
    }
}

/// The levels each person holds now, as masks, by place in the roster.
pub(super) fn active_levels(people: &[Status]) -> Vec<Levels> {
    people
        .iter()
        .map(|s| match s.absence {
            Some(_) => 0,
            None => s.if_present_mask,
        })
        .collect()
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
    let mut absence = declared_absence(config, p, now);
    let mut last_seen = None;
    if let (Some(limit), Some(arn), Some(user)) =
        (config.policy.inactivity_limit_days, &p.aws_user_arn, user)
    {
        match user {
            Some(user) => {
                let seen = user.last_activity().unwrap_or(user.created);
                last_seen = Some(seen);
                if absence.is_none() {
                    absence = observed_inactivity(user, seen, limit, now);
                }
            }
            None => notes.push(format!(
                "{}: no IAM user {arn} in the users account, so their activity is unknown",
                p.email
            )),
        }
    }
    Status {
        person: p,
        absence,
        if_present: levels_if_present(p, now),
        expired: expired_levels(p, now),
        last_seen,
        if_present_mask: 0,
        login_holder: None,
        arn_holder: None,
        sso_user_name: None,
    }
}

/// The person's declared absence, once more than the policy's limit has
/// gone by since it began.
fn declared_absence(config: &Config, p: &Person, now: DateTime<Utc>) -> Option<Absence> {
    let since = p.absent_since?;
    let limit = config.policy.absence_limit_days;
    over_limit(since, now, limit).then(|| Absence {
        reason: format!(
            "declared absence since {} ({}; the limit is {limit})",
            show(since),
            elapsed(since, now, limit)
        ),
    })
}

/// Absence by inactivity: no use of the IAM user since `seen` for longer
/// than `limit` days.
fn observed_inactivity(
    user: &IamUser,
    seen: DateTime<Utc>,
    limit: u32,
    now: DateTime<Utc>,
) -> Option<Absence> {
    if !over_limit(seen, now, limit) {
        return None;
    }
    let what = match user.last_activity() {
        Some(t) => format!("no console or access-key use since {}", day(t)),
        None => format!(
            "no console or access-key use since the IAM user was created {}",
            day(user.created)
        ),
    };
    Some(Absence {
        reason: format!(
            "{what} ({}, observed; the limit is {limit})",
            elapsed(seen, now, limit)
        ),
    })
}

/// Standing levels and unexpired temporary ones: sorted, without repeats.
fn levels_if_present(p: &Person, now: DateTime<Utc>) -> Vec<&str> {
    // A sorted list rather than a set: cheaper to build for every person.
    let mut if_present: Vec<&str> = p
        .standing
        .iter()
        .chain(
            p.temporary
                .iter()
                .filter(|t| t.expires_at > now)
                .map(|t| t.level.as_str()),
        )
        .collect();
    if_present.sort_unstable();
    if_present.dedup();
    if_present
}

/// Temporary levels that have ended: level and when.
fn expired_levels(p: &Person, now: DateTime<Utc>) -> Vec<(&str, DateTime<Utc>)> {
    p.temporary
        .iter()
        .filter(|t| t.expires_at <= now)
        .map(|t| (t.level.as_str(), t.expires_at))
        .collect()
}
