//! How the policy's day limits count time (see the README: Reading a report): "more than N days"
//! is elapsed time, `now − start > N × 24 h`, with nothing rounded to whole
//! days. A limit is passed the moment after [`limit_ends`]; the planner's
//! verdicts and its warnings ahead both count from there. All arithmetic
//! is checked: an instant past the calendar's end means "never".

use chrono::{DateTime, TimeDelta, Utc};

/// The last instant still within a limit of `limit_days` counted from
/// `since`; None when that is beyond the last date chrono can represent.
pub(super) fn limit_ends(since: DateTime<Utc>, limit_days: u32) -> Option<DateTime<Utc>> {
    since.checked_add_signed(TimeDelta::try_days(i64::from(limit_days))?)
}

/// Whether more than `limit_days` × 24 h have gone by from `since` to `now`.
pub(super) fn over_limit(since: DateTime<Utc>, now: DateTime<Utc>, limit_days: u32) -> bool {
    limit_ends(since, limit_days).is_some_and(|end| now > end)
}

/// How long has gone by, for a reason that says a limit was passed: the
/// whole days, or "more than N days" while fewer than N + 1 whole days have
/// (42 days and an hour is past a 42-day limit, yet "42 days" would not say so).
pub(super) fn elapsed(since: DateTime<Utc>, now: DateTime<Utc>, limit_days: u32) -> String {
    let days = now.signed_duration_since(since).num_days();
    if days > i64::from(limit_days) {
        format!("{days} days")
    } else {
        format!("more than {limit_days} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::when::{DayEdge, parse_time};

    fn at(text: &str) -> DateTime<Utc> {
        parse_time(text, DayEdge::Start).unwrap()
    }

    #[test]
    fn over_limit_table() {
        for (since, now, limit, over) in [
            ("2026-09-01T01:00:00Z", "2026-10-13T01:00:00Z", 42, false),
            ("2026-09-01T01:00:00Z", "2026-10-13T01:00:01Z", 42, true),
            ("2026-09-01T01:00:00Z", "2026-10-13T00:59:59Z", 42, false),
            ("2026-09-01", "2026-10-13", 42, false),
            ("2026-09-01", "2026-10-13T00:00:01Z", 42, true),
            ("2026-09-01", "2026-09-02T00:00:01Z", 1, true),
            // A start in the future passes nothing.
            ("2026-12-01", "2026-10-13", 1, false),
            // The last limit a config may set, from the last date a roster may write.
            ("9999-12-31", "9999-12-31T23:59:59Z", 3650, false),
        ] {
            assert_eq!(
                over_limit(at(since), at(now), limit),
                over,
                "{since} {now} {limit}"
            );
        }
    }

    #[test]
    fn a_limit_past_the_calendar_never_ends() {
        assert_eq!(limit_ends(DateTime::<Utc>::MAX_UTC, 1), None);
        assert!(!over_limit(
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::MAX_UTC,
            u32::MAX
        ));
        assert_eq!(limit_ends(DateTime::<Utc>::MIN_UTC, u32::MAX), None);
    }

    #[test]
    fn elapsed_table() {
        for (since, now, limit, said) in [
            ("2026-09-01", "2026-10-14", 42, "43 days"),
            ("2026-09-01", "2026-11-22", 42, "82 days"),
            (
                "2026-09-01T01:00:00Z",
                "2026-10-13T01:00:01Z",
                42,
                "more than 42 days",
            ),
            (
                "2026-09-01T01:00:00Z",
                "2026-10-14T01:00:00Z",
                42,
                "43 days",
            ),
        ] {
            assert_eq!(elapsed(at(since), at(now), limit), said, "{since} {now}");
        }
    }
}
