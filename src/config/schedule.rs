//! When `lapse serve` runs: `schedule:` (cron with seconds), `timezone:`
//! (the zone it is read in), and `shutdown_grace_s` (how long a cycle in
//! flight may finish after SIGTERM). The schedule is parsed by the parser,
//! with the options, that the scheduler uses, so `validate` and `serve`
//! accept exactly the same expressions.

use std::str::FromStr;
use std::time::Duration;

use croner::parser::{CronParser, Seconds};

use crate::diag::Diagnostic;
use crate::hygiene::quote;
use crate::yaml;

use super::{Check, SpannedString, pos};

/// Weekday mornings, unless the config says otherwise.
const DEFAULT_SCHEDULE: &str = "0 0 7 * * Mon-Fri";

/// The bounds of `shutdown_grace_s`: long enough to finish a write, short
/// enough for an orchestrator that kills what does not stop.
const SHUTDOWN_GRACE_S: std::ops::RangeInclusive<u64> = 1..=3600;

/// The schedule as written, or the default.
pub(super) fn schedule(check: &mut Check, written: Option<&SpannedString>) -> String {
    match written {
        Some(s) => {
            if let Err(msg) = check_cron(&s.value) {
                check.diags.push(
                    Diagnostic::error(check.source, pos(s), msg)
                        .help("six fields: second minute hour day-of-month month day-of-week, e.g. \"0 0 7 * * Mon-Fri\""),
                );
            }
            s.value.clone()
        }
        None => DEFAULT_SCHEDULE.to_string(),
    }
}

/// The parser settings of the schedule: seconds required, day of month and
/// day of week both honoured (as tokio-cron-scheduler and most crons read them).
fn scheduler_parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
}

/// The schedule as `serve` runs it (validation has accepted it already).
pub fn parse_schedule(expr: &str) -> Result<croner::Cron, String> {
    check_cron(expr)?;
    scheduler_parser().parse(expr).map_err(|e| e.to_string())
}

/// Whether the scheduler would take `expr`; the error says why not.
fn check_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    let nickname = expr.trim_start().starts_with('@');
    if !nickname && !(6..=7).contains(&fields) {
        return Err(format!(
            "schedule `{}` has {fields} fields; lapse's cron has seconds and needs 6 (or 7 with a year)",
            quote(expr)
        ));
    }
    scheduler_parser().parse(expr).map(|_| ()).map_err(|e| {
        format!(
            "schedule `{}` is not a valid cron expression: {e}",
            quote(expr)
        )
    })
}

/// The zone the schedule is read in: an IANA name, UTC unless written.
pub(super) fn timezone(check: &mut Check, written: Option<&SpannedString>) -> chrono_tz::Tz {
    let Some(written) = written else {
        return chrono_tz::UTC;
    };
    let name = written.value.trim();
    chrono_tz::Tz::from_str(name).unwrap_or_else(|_| {
        let help = match same_but_for_case(name) {
            Some(zone) => format!("zone names are case-sensitive: write `{}`", zone.name()),
            None => "write a zone name as in the tz database, e.g. Europe/London or UTC".into(),
        };
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                format!(
                    "timezone `{}` is not an IANA time zone",
                    quote(&written.value)
                ),
            )
            .help(help),
        );
        chrono_tz::UTC
    })
}

/// The zone whose name differs from `name` only in case, if any.
fn same_but_for_case(name: &str) -> Option<chrono_tz::Tz> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(name))
        .copied()
}

/// `shutdown_grace_s` as a duration; out of bounds is reported where its key stands.
pub(super) fn shutdown_grace(check: &mut Check, seconds: u64) -> Duration {
    if !SHUTDOWN_GRACE_S.contains(&seconds) {
        check.diags.push(Diagnostic::error(
            check.source,
            yaml::key_pos(check.source, "shutdown_grace_s"),
            format!(
                "shutdown_grace_s is {seconds}; it must be from {} to {} seconds",
                SHUTDOWN_GRACE_S.start(),
                SHUTDOWN_GRACE_S.end()
            ),
        ));
    }
    Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source, spanned};
    use super::*;

    #[test]
    fn schedule_table() {
        let source = source("");
        let invalid = |expr: &str, why: &str| {
            vec![format!(
                "error: schedule `{expr}` is not a valid cron expression: {why}"
            )]
        };
        for (written, told) in [
            (None, vec![]),
            (Some("0 30 6 * * *"), vec![]),
            (Some("0 0 7 * * Mon-Fri"), vec![]),
            (Some("*/1 * * * * *"), vec![]),
            (Some("0 30 6 * * * 2027"), vec![]),
            (Some("@daily"), vec![]),
            (
                Some("30 6 * * *"),
                vec![
                    "error: schedule `30 6 * * *` has 5 fields; lapse's cron has seconds and needs 6 (or 7 with a year)".to_string(),
                ],
            ),
            (
                Some("0 0 30 6 * * * 2027"),
                vec![
                    "error: schedule `0 0 30 6 * * * 2027` has 8 fields; lapse's cron has seconds and needs 6 (or 7 with a year)".to_string(),
                ],
            ),
            (
                Some(""),
                vec![
                    "error: schedule `` has 0 fields; lapse's cron has seconds and needs 6 (or 7 with a year)".to_string(),
                ],
            ),
            (
                Some("61 * * * * *"),
                invalid(
                    "61 * * * * *",
                    "Component error: Number out of bounds.",
                ),
            ),
            (
                Some("0 0 7 * * Funday"),
                invalid(
                    "0 0 7 * * Funday",
                    "Pattern contains illegal characters: CronPattern contains illegal character 'F' in part 'FUNDAY'",
                ),
            ),
            (
                Some("0 0 25 * * *"),
                invalid(
                    "0 0 25 * * *",
                    "Component error: Number out of bounds.",
                ),
            ),
        ] {
            let mut run = check(&source);
            let written = written.map(spanned);
            let got = schedule(&mut run, written.as_ref());
            assert_eq!(
                got.as_str(),
                written.as_ref().map_or(DEFAULT_SCHEDULE, |w| w.value.as_str())
            );
            assert_eq!(said(run), told, "{written:?}");
        }
    }

    #[test]
    fn timezone_table() {
        let source = source("");
        let not_iana = |z: &str| vec![format!("error: timezone `{z}` is not an IANA time zone")];
        for (written, kept, told) in [
            (None, chrono_tz::UTC, vec![]),
            (Some("UTC"), chrono_tz::UTC, vec![]),
            (Some("Europe/London"), chrono_tz::Europe::London, vec![]),
            (
                Some("America/Argentina/Buenos_Aires"),
                chrono_tz::America::Argentina::Buenos_Aires,
                vec![],
            ),
            (
                Some("Europe/Londn"),
                chrono_tz::UTC,
                not_iana("Europe/Londn"),
            ),
            (
                Some("europe/london"),
                chrono_tz::UTC,
                not_iana("europe/london"),
            ),
            (Some("BST+1"), chrono_tz::UTC, not_iana("BST+1")),
            (Some(""), chrono_tz::UTC, not_iana("")),
        ] {
            let mut run = check(&source);
            let written = written.map(spanned);
            assert_eq!(timezone(&mut run, written.as_ref()), kept, "{written:?}");
            assert_eq!(said(run), told, "{written:?}");
        }
    }

    #[test]
    fn a_zone_in_the_wrong_case_is_told_its_name() {
        let source = source("");
        let mut run = check(&source);
        timezone(&mut run, Some(&spanned("europe/london")));
        assert_eq!(
            run.diags.0[0].help.as_deref(),
            Some("zone names are case-sensitive: write `Europe/London`")
        );
    }

    #[test]
    fn shutdown_grace_table() {
        let source = source("roster: users.yaml\nshutdown_grace_s: 0\n");
        let out_of_bounds = |s: u64| {
            vec![format!(
                "error: shutdown_grace_s is {s}; it must be from 1 to 3600 seconds"
            )]
        };
        for (seconds, told) in [
            (30, vec![]),
            (1, vec![]),
            (3600, vec![]),
            (0, out_of_bounds(0)),
            (3601, out_of_bounds(3601)),
            (u64::MAX, out_of_bounds(u64::MAX)),
        ] {
            let mut run = check(&source);
            assert_eq!(
                shutdown_grace(&mut run, seconds),
                Duration::from_secs(seconds)
            );
            if !told.is_empty() {
                let at = &run.diags.0[0].pos;
                assert_eq!((at.line, at.column), (2, 1));
            }
            assert_eq!(said(run), told, "{seconds}");
        }
    }
}
