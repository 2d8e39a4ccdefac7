//! GitHub's rate limits, as it documents them: `retry-after` on a 403/429 is
//! a secondary limit; `x-ratelimit-remaining: 0` is the primary limit, reset
//! at `x-ratelimit-reset`. lapse waits either out within bounds, and fails
//! the request with the limit named when waiting would take too long.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

use super::error::Problem;
use super::request::header;

/// Waits for rate limits, per request.
const MAX_LIMIT_WAITS: u32 = 3;
/// The longest wait for the primary limit to reset; beyond it the run fails.
pub(super) const MAX_PRIMARY_WAIT: Duration = Duration::from_secs(60);
/// The longest `retry-after` honoured for a secondary limit.
const MAX_SECONDARY_WAIT: Duration = Duration::from_secs(120);
/// GitHub's advice for a secondary limit that names no `retry-after`.
pub(super) const SECONDARY_DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The limit an error answer reports, with how long it asks to wait; `None`
/// when the answer is no rate limit. `message` is GitHub's own text.
pub(super) fn limit(
    status: u16,
    headers: &HeaderMap,
    message: &str,
) -> Option<(Duration, Problem)> {
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(seconds) = header(headers, "retry-after").and_then(|v| v.parse().ok()) {
        let retry_after = Duration::from_secs(seconds);
        return Some((retry_after, Problem::SecondaryLimit { retry_after }));
    }
    if header(headers, "x-ratelimit-remaining").as_deref() == Some("0") {
        let reset = header(headers, "x-ratelimit-reset")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .unwrap_or_else(Utc::now);
        // A second past the reset, so the window has rolled over.
        let wait = (reset - Utc::now() + chrono::TimeDelta::seconds(1))
            .to_std()
            .unwrap_or(Duration::ZERO);
        return Some((wait, Problem::RateLimited { reset }));
    }
    if message
        .to_ascii_lowercase()
        .contains("secondary rate limit")
    {
        let retry_after = SECONDARY_DEFAULT_WAIT;
        return Some((retry_after, Problem::SecondaryLimit { retry_after }));
    }
    None
}

/// The rate-limit waits one request has spent.
#[derive(Default)]
pub(super) struct LimitWaits {
    spent: u32,
}

impl LimitWaits {
    /// Allows waiting `delay` for `problem` to pass, or gives `problem` back
    /// when the request has waited often enough or the wait is too long.
    pub(super) fn allow(&mut self, delay: Duration, problem: Problem) -> Result<Duration, Problem> {
        let cap = match problem {
            Problem::RateLimited { .. } => MAX_PRIMARY_WAIT,
            _ => MAX_SECONDARY_WAIT,
        };
        if self.spent >= MAX_LIMIT_WAITS || delay > cap {
            return Err(problem);
        }
        self.spent += 1;
        Ok(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_repeated_waits_give_the_limit_back() {
        let secondary = |secs| Problem::SecondaryLimit {
            retry_after: Duration::from_secs(secs),
        };
        let mut waits = LimitWaits::default();
        for _ in 0..MAX_LIMIT_WAITS {
            assert!(waits.allow(Duration::from_secs(1), secondary(1)).is_ok());
        }
        assert!(waits.allow(Duration::from_secs(1), secondary(1)).is_err());

        let mut waits = LimitWaits::default();
        let beyond_reset = MAX_PRIMARY_WAIT + Duration::from_secs(1);
        let primary = Problem::RateLimited { reset: Utc::now() };
        assert!(waits.allow(beyond_reset, primary).is_err());
        assert!(waits.allow(beyond_reset, secondary(61)).is_ok());
    }
}
