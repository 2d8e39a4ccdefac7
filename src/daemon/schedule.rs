//! When cycles run: the config's cron expression read in its time zone.
//! Each next time is worked out from the zone's rules at that moment, so a
//! daemon started in winter still runs at 07:00 local time all summer (a
//! fixed UTC offset taken at start would run an hour off after the clocks
//! change).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub struct Schedule {
    cron: croner::Cron,
    zone: Tz,
    /// As written, for logs.
    expression: String,
}

impl Schedule {
    pub fn new(expression: &str, zone: Tz) -> Result<Schedule, String> {
        Ok(Schedule {
            cron: crate::config::parse_schedule(expression)?,
            zone,
            expression: expression.to_string(),
        })
    }

    /// The first time after `after` the schedule names; `None` when it names no more.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&self.zone), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Logs when the next cycle is due, in UTC and in the schedule's zone.
    pub fn log_next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let next = self.next_after(after);
        match next {
            Some(t) => tracing::info!(
                next_cycle = %t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                local = %t.with_timezone(&self.zone).format("%Y-%m-%d %H:%M:%S %Z"),
                schedule = %self.expression,
                timezone = %self.zone,
                "next cycle due"
            ),
            None => {
                tracing::warn!(schedule = %self.expression, "the schedule names no further time: no more cycles will run")
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_london_morning_stays_a_london_morning_across_the_clock_change() {
        let schedule = Schedule::new("0 0 7 * * Mon-Fri", chrono_tz::Europe::London).unwrap();
        // Winter: 07:00 GMT is 07:00 UTC.
        assert_eq!(
            schedule.next_after(at("2027-03-25T12:00:00Z")),
            Some(at("2027-03-26T07:00:00Z"))
        );
        // The clocks go forward on Sunday 28 March 2027: 07:00 BST is 06:00 UTC.
        assert_eq!(
            schedule.next_after(at("2027-03-26T12:00:00Z")),
            Some(at("2027-03-29T06:00:00Z"))
        );
    }

    #[test]
    fn utc_is_the_default_reading() {
        let schedule = Schedule::new("0 30 6 * * *", chrono_tz::UTC).unwrap();
        assert_eq!(
            schedule.next_after(at("2026-12-03T06:30:00Z")),
            Some(at("2026-12-04T06:30:00Z")),
            "strictly after"
        );
    }
}
