//! Times as people write them in a roster or on the command line: a date
//! (`2026-12-01`) or an RFC 3339 instant.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    /// 00:00 UTC that day (`--now`, `absent_since`).
    Start,
    /// The end of that day, UTC: the instant the next day begins. A grant
    /// `expires: 2026-12-01` still holds all of 1 December.
    End,
}

/// Parses `YYYY-MM-DD` or an RFC 3339 time. The error says which forms are accepted.
pub fn parse_time(text: &str, edge: DayEdge) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = date.and_time(NaiveTime::MIN).and_utc();
        return Ok(match edge {
            DayEdge::Start => start,
            DayEdge::End => start + chrono::Duration::days(1),
        });
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-01T17:00:00Z)"
            )
        })
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
        day(t - chrono::Duration::days(1))
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
}
