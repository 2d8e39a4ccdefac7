//! `schedule:`: when `lapse serve` runs, as a cron expression with seconds.

use crate::diag::Diagnostic;

use super::{Check, SpannedString, pos};

/// Weekday mornings, unless the config says otherwise.
const DEFAULT_SCHEDULE: &str = "0 0 7 * * Mon-Fri";

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

/// A light check of the six-field cron form; `serve` parses it for real.
fn check_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if fields == 6 || fields == 7 {
        Ok(())
    } else {
        Err(format!(
            "schedule `{expr}` has {fields} fields; lapse's cron has seconds and needs 6 (or 7 with a year)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source, spanned};
    use super::*;

    #[test]
    fn schedule_table() {
        let source = source("");
        for (written, kept, told) in [
            (None, "0 0 7 * * Mon-Fri", vec![]),
            (Some("0 30 6 * * *"), "0 30 6 * * *", vec![]),
            (Some("0 30 6 * * * 2027"), "0 30 6 * * * 2027", vec![]),
            (
                Some("30 6 * * *"),
                "30 6 * * *",
                vec![
                    "error: schedule `30 6 * * *` has 5 fields; lapse's cron has seconds and needs 6 (or 7 with a year)",
                ],
            ),
            (
                Some("0 0 30 6 * * * 2027"),
                "0 0 30 6 * * * 2027",
                vec![
                    "error: schedule `0 0 30 6 * * * 2027` has 8 fields; lapse's cron has seconds and needs 6 (or 7 with a year)",
                ],
            ),
            (
                Some(""),
                "",
                vec![
                    "error: schedule `` has 0 fields; lapse's cron has seconds and needs 6 (or 7 with a year)",
                ],
            ),
        ] {
            let mut run = check(&source);
            let written = written.map(spanned);
            let got = schedule(&mut run, written.as_ref());
            assert_eq!(got.as_str(), kept, "{written:?}");
            assert_eq!(said(run), told, "{written:?}");
        }
    }
}
