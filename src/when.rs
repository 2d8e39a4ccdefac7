//! Times as people write them in a roster or on the command line: a date
//! (`2026-12-01`) or an RFC 3339 instant. Arithmetic on them never panics:
//! a roster may say 9999-12-31 and a limit may be huge, so sums saturate.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    /// 00:00 UTC that day (`--now`, `absent_since`).
    Start,
    /// The end of that day, UTC: the instant the next day begins. A grant
    /// `expires: 2026-12-01` still holds all of 1 December.
    End,
}

/// Parses `YYYY-MM-DD` (two-digit month and day) or an RFC 3339 time.
/// The error quotes the text (escaped, capped) and says which forms are accepted.
pub fn parse_time(text: &str, edge: DayEdge) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Some(date) = strict_date(text) {
        let start = date.and_time(NaiveTime::MIN).and_utc();
        return Ok(match edge {
            DayEdge::Start => start,
            DayEdge::End => add_days(start, 1),
        });
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "`{}` is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-01T17:00:00Z)",
                crate::hygiene::quote(text)
            )
        })
}

/// A date written exactly `YYYY-MM-DD`. chrono's `%Y-%m-%d` also takes
/// `2026-1-5` and `+2026-01-05`; a roster is read one way only.
fn strict_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// `t` plus `days` whole days, or the latest time there is when that is past it.
pub fn add_days(t: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    TimeDelta::try_days(i64::from(days))
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t` minus `days` whole days, or the earliest time there is when that is before it.
pub fn sub_days(t: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    TimeDelta::try_days(i64::from(days))
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether more than `days` × 24 h have passed from `since` to `now`
/// (elapsed time, nothing rounded to whole days).
pub fn more_than_days(since: DateTime<Utc>, now: DateTime<Utc>, days: u32) -> bool {
    since < sub_days(now, days)
}

/// The first day a date-valued limit no longer holds, as `YYYY-MM-DD`.
pub fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// How a time is shown in reasons: a date when it falls on midnight, else RFC 3339.
pub fn show(t: DateTime<Utc>) -> String {
    if t.time() == NaiveTime::MIN {
        day(t)
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

/// How the end of a grant is shown: `expires: 2026-12-01` reads back as
/// "2026-12-01" rather than as the midnight that follows it.
pub fn show_expiry(t: DateTime<Utc>) -> String {
    if t.time() == NaiveTime::MIN {
        day(sub_days(t, 1))
    } else {
        show(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_expiry_lasts_the_whole_day() {
        let end = parse_time("2026-12-01", DayEdge::End).unwrap();
        assert_eq!(end.to_rfc3339(), "2026-12-02T00:00:00+00:00");
        assert_eq!(show_expiry(end), "2026-12-01");
    }

    #[test]
    fn rfc3339_is_kept_to_the_second() {
        let t = parse_time("2026-12-01T17:30:00+01:00", DayEdge::End).unwrap();
        assert_eq!(show(t), "2026-12-01T16:30:00Z");
    }

    #[test]
    fn nonsense_names_both_forms() {
        let err = parse_time("next tuesday", DayEdge::Start).unwrap_err();
        assert!(
            err.contains("YYYY-MM-DD") && err.contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn parse_time_table() {
        for (text, start) in [
            ("2026-01-05", Some("2026-01-05T00:00:00+00:00")),
            (" 2026-01-05 ", Some("2026-01-05T00:00:00+00:00")),
            ("2028-02-29", Some("2028-02-29T00:00:00+00:00")),
            ("0000-01-01", Some("0000-01-01T00:00:00+00:00")),
            ("9999-12-31", Some("9999-12-31T00:00:00+00:00")),
            ("2026-01-05T17:00:00Z", Some("2026-01-05T17:00:00+00:00")),
            (
                "2026-01-05T17:00:00.5-02:00",
                Some("2026-01-05T19:00:00.500+00:00"),
            ),
            // One digit too few or too many, or a sign: not the form.
            ("2026-1-5", None),
            ("2026-01-5", None),
            ("2026-1-05", None),
            ("2026-001-05", None),
            ("+2026-01-05", None),
            ("20260105", None),
            ("2026/01/05", None),
            ("2026-02-29", None),
            ("2026-13-01", None),
            ("2026-01-05T17:00:00", None),
            ("", None),
        ] {
            let got = parse_time(text, DayEdge::Start)
                .ok()
                .map(|t| t.to_rfc3339());
            assert_eq!(got.as_deref(), start, "{text:?}");
        }
    }

    #[test]
    fn the_last_day_there_is_ends_without_overflow() {
        let end = parse_time("9999-12-31", DayEdge::End).unwrap();
        assert_eq!(end.to_rfc3339(), "+10000-01-01T00:00:00+00:00");
        assert_eq!(show_expiry(end), "9999-12-31");
    }

    #[test]
    fn sums_saturate_instead_of_panicking() {
        let t = parse_time("9999-12-31", DayEdge::Start).unwrap();
        assert_eq!(add_days(t, 90).to_rfc3339(), "+10000-03-30T00:00:00+00:00");
        assert_eq!(add_days(t, u32::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            add_days(DateTime::<Utc>::MAX_UTC, 1),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            sub_days(DateTime::<Utc>::MIN_UTC, 1),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(sub_days(t, u32::MAX), DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            show_expiry(DateTime::<Utc>::MIN_UTC),
            day(DateTime::<Utc>::MIN_UTC)
        );
    }

    #[test]
    fn more_than_days_is_elapsed_time() {
        let since = parse_time("2026-09-01T01:00:00Z", DayEdge::Start).unwrap();
        for (now, over) in [
            ("2026-10-13T01:00:00Z", false),
            ("2026-10-13T01:00:01Z", true),
            ("2026-10-12T23:00:00Z", false),
            ("2026-09-01T00:00:00Z", false),
        ] {
            let now = parse_time(now, DayEdge::Start).unwrap();
            assert_eq!(more_than_days(since, now, 42), over, "{now}");
        }
        assert!(!more_than_days(since, since, u32::MAX));
    }

    #[test]
    fn a_hostile_date_is_quoted_escaped_and_capped() {
        let err =
            parse_time(&format!("\u{1b}[2J{}", "9".repeat(10_000)), DayEdge::Start).unwrap_err();
        assert!(!err.contains('\u{1b}') && err.contains("\\u{1b}"), "{err}");
        assert!(err.len() < 400, "{}", err.len());
    }
}
