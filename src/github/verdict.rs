//! What one attempt's answer calls for: done, try again, wait, renew the
//! credentials, or give up.

use std::time::Duration;

use super::error::Problem;
use super::rate_limit;
use super::request::RawReply;

pub(super) enum Verdict {
    Success,
    /// Worth another attempt after backoff (5xx).
    Fault(String),
    /// A rate limit asks to wait this long.
    Wait(Duration, Problem),
    Unauthorized(Problem),
    Fail(Problem),
}

pub(super) fn verdict(raw: &RawReply) -> Verdict {
    let status = raw.status;
    if (200..300).contains(&status) {
        return match raw.body {
            Some(_) => Verdict::Success,
            None => Verdict::Fail(Problem::Malformed("the answer is not UTF-8 text".into())),
        };
    }
    let message = error_message(raw.body.as_deref().unwrap_or_default());
    if let Some((wait, problem)) = rate_limit::limit(status, &raw.headers, &message) {
        return Verdict::Wait(wait, problem);
    }
    if status >= 500 {
        return Verdict::Fault(format!("{status} {message}"));
    }
    let problem = Problem::Status { status, message };
    if status == 401 {
        Verdict::Unauthorized(problem)
    } else {
        Verdict::Fail(problem)
    }
}

/// GitHub's `message`, or the start of a body that is not GitHub's JSON.
fn error_message(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct GithubError {
        message: String,
    }
    match serde_json::from_str::<GithubError>(body) {
        Ok(e) => e.message,
        Err(_) => body
            .chars()
            .take(200)
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;
    use crate::github::rate_limit::{MAX_PRIMARY_WAIT, SECONDARY_DEFAULT_WAIT};

    fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> RawReply {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        RawReply {
            status,
            headers: map,
            body: Some(body.into()),
            cached: None,
        }
    }

    #[test]
    fn rate_limits_are_told_apart_from_refusals() {
        let secondary = reply(
            403,
            &[("retry-after", "7")],
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        );
        assert!(
            matches!(verdict(&secondary), Verdict::Wait(d, Problem::SecondaryLimit { .. }) if d == Duration::from_secs(7))
        );

        let reset = (Utc::now() + chrono::TimeDelta::seconds(1800))
            .timestamp()
            .to_string();
        let primary = reply(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
            r#"{"message":"API rate limit exceeded for user ID 1."}"#,
        );
        assert!(
            matches!(verdict(&primary), Verdict::Wait(d, Problem::RateLimited { .. }) if d > MAX_PRIMARY_WAIT)
        );

        let unnamed = reply(
            429,
            &[("x-ratelimit-remaining", "10")],
            r#"{"message":"You have exceeded a secondary rate limit"}"#,
        );
        assert!(matches!(verdict(&unnamed), Verdict::Wait(d, _) if d == SECONDARY_DEFAULT_WAIT));

        let forbidden = reply(
            403,
            &[("x-ratelimit-remaining", "4000")],
            r#"{"message":"Must have admin rights to Repository."}"#,
        );
        assert!(matches!(
            verdict(&forbidden),
            Verdict::Fail(Problem::Status { status: 403, .. })
        ));

        assert!(matches!(
            verdict(&reply(502, &[], "<html>bad gateway</html>")),
            Verdict::Fault(_)
        ));
        assert!(matches!(
            verdict(&reply(401, &[], r#"{"message":"Bad credentials"}"#)),
            Verdict::Unauthorized(_)
        ));
        assert!(matches!(verdict(&reply(204, &[], "")), Verdict::Success));
    }
}
