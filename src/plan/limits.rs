//! How the policy's day limits count time. An absence or a spell of
//! inactivity passes a limit of `N` days once `N + 1` whole days have gone
//! by; both the planner's verdicts and its warnings ahead count that way.

use chrono::{DateTime, Duration, Utc};

/// Whole days gone by from `since` to `now`.
pub(super) fn days_between(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_days()
}

/// Whether `days` gone by are more than a limit of `limit_days`.
pub(super) fn over_limit(days: i64, limit_days: u32) -> bool {
    days > limit_days as i64
}

/// The instant from which a limit of `limit_days`, counted from `since`, is passed.
pub(super) fn limit_passed_at(since: DateTime<Utc>, limit_days: u32) -> DateTime<Utc> {
    since + Duration::days(limit_days as i64 + 1)
}
