//! The times a roster gives: when an absence began and when a temporary
//! grant ends, each a date (`YYYY-MM-DD`, two-digit month and day) or an
//! RFC 3339 time; `when::parse_time` holds the grammar.

use chrono::{DateTime, Utc};

use crate::diag::Diagnostic;
use crate::hygiene::quote;
use crate::when::{self, DayEdge};

use super::{Check, SpannedString, pos};

/// `absent_since`, from the start of its day. A future one is allowed but
/// warned about: the absence counts from then, not from now.
pub(super) fn absent_since(check: &mut Check, written: &SpannedString) -> Option<DateTime<Utc>> {
    match when::parse_time(&written.value, DayEdge::Start) {
        Ok(t) => {
            if t > check.now {
                check.diags.push(Diagnostic::warning(
                    check.source,
                    pos(written),
                    format!(
                        "absent_since {} is in the future; it counts from then",
                        quote(written.value.trim())
                    ),
                ));
            }
            Some(t)
        }
        Err(msg) => {
            check
                .diags
                .push(Diagnostic::error(check.source, pos(written), msg));
            None
        }
    }
}

/// A temporary grant's `expires`, to the end of its day.
pub(super) fn expires(check: &mut Check, written: &SpannedString) -> Option<DateTime<Utc>> {
    match when::parse_time(&written.value, DayEdge::End) {
        Ok(at) => Some(at),
        Err(msg) => {
            check
                .diags
                .push(Diagnostic::error(check.source, pos(written), msg));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, spanned};
    use super::*;

    macro_rules! not_a_time {
        ($text:literal) => {
            concat!(
                "error: `",
                $text,
                "` is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-01T17:00:00Z)"
            )
        };
    }

    #[test]
    fn absent_since_table() {
        // The fixture's now is 2026-11-22T00:00:00Z.
        let fx = Fixture::new();
        for (written, at, said) in [
            ("2026-11-01", Some("2026-11-01T00:00:00+00:00"), vec![]),
            ("2026-11-22", Some("2026-11-22T00:00:00+00:00"), vec![]),
            (
                "2026-11-22T00:00:01Z",
                Some("2026-11-22T00:00:01+00:00"),
                vec![
                    "warning: absent_since 2026-11-22T00:00:01Z is in the future; it counts from then",
                ],
            ),
            (
                "2026-12-01",
                Some("2026-12-01T00:00:00+00:00"),
                vec!["warning: absent_since 2026-12-01 is in the future; it counts from then"],
            ),
            ("last week", None, vec![not_a_time!("last week")]),
            ("2026-02-30", None, vec![not_a_time!("2026-02-30")]),
        ] {
            let mut check = fx.check();
            let got = absent_since(&mut check, &spanned(written)).map(|t| t.to_rfc3339());
            assert_eq!(got.as_deref(), at, "{written:?}");
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn expires_table() {
        let fx = Fixture::new();
        for (written, at, said) in [
            ("2026-12-01", Some("2026-12-02T00:00:00+00:00"), vec![]),
            (
                "2026-12-01T17:00:00+01:00",
                Some("2026-12-01T16:00:00+00:00"),
                vec![],
            ),
            // In the past is for the grant rules to judge, not the date's reading.
            ("2020-01-01", Some("2020-01-02T00:00:00+00:00"), vec![]),
            ("next friday", None, vec![not_a_time!("next friday")]),
            ("", None, vec![not_a_time!("")]),
        ] {
            let mut check = fx.check();
            let got = expires(&mut check, &spanned(written)).map(|t| t.to_rfc3339());
            assert_eq!(got.as_deref(), at, "{written:?}");
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }
}
