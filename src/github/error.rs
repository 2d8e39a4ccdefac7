//! How a GitHub request fails for good, in words fit for an operator.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::rate_limit::MAX_PRIMARY_WAIT;
use super::request::{Verb, label};

/// A request that failed for good. Its text names the request and what went
/// wrong, and never carries credentials.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// `GET /orgs/acme/teams/admin/members?per_page=100`.
    pub request: String,
    pub problem: Problem,
}

#[derive(Debug, Clone)]
pub enum Problem {
    /// GitHub answered with an error status lapse does not retry.
    Status { status: u16, message: String },
    /// The primary rate limit is used up until `reset`, too long to wait.
    RateLimited { reset: DateTime<Utc> },
    /// A secondary rate limit that outlasted lapse's patience.
    SecondaryLimit { retry_after: Duration },
    /// No usable answer (5xx, timeouts, connection errors) after every retry.
    Unavailable { attempts: u32, last: String },
    /// An answer lapse cannot read.
    Malformed(String),
    /// GraphQL's `errors`, which GitHub sends inside a 200 answer: `kind` is
    /// the first error's `type` (`NOT_FOUND`, `RATE_LIMITED`, ...).
    Graphql {
        kind: Option<String>,
        message: String,
    },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self.problem {
            Problem::Status { status, .. } => Some(status),
            _ => None,
        }
    }

    /// A 404, or GraphQL's NOT_FOUND.
    pub fn is_not_found(&self) -> bool {
        match &self.problem {
            Problem::Status { status, .. } => *status == 404,
            Problem::Graphql { kind, .. } => kind.as_deref() == Some("NOT_FOUND"),
            _ => false,
        }
    }

    /// An answer to `verb uri` that lapse cannot read.
    pub(super) fn malformed(verb: Verb, uri: &str, detail: String) -> ApiError {
        ApiError {
            request: label(verb, uri),
            problem: Problem::Malformed(detail),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.request)?;
        match &self.problem {
            Problem::Status {
                status: 401,
                message,
            } => write!(
                f,
                "GitHub refused lapse's credentials (401 {message}); check the token or the App's id, installation and key"
            ),
            Problem::Status { status, message } => write!(f, "GitHub answered {status} {message}"),
            Problem::RateLimited { reset } => {
                let minutes = (*reset - Utc::now()).num_minutes().max(1);
                write!(
                    f,
                    "GitHub's API rate limit is used up until {} (in about {minutes} min); lapse waits at most {} s for a reset, so run again after it",
                    reset.format("%Y-%m-%d %H:%M:%S UTC"),
                    MAX_PRIMARY_WAIT.as_secs()
                )
            }
            Problem::SecondaryLimit { retry_after } => write!(
                f,
                "GitHub's secondary rate limit still applies (retry after {} s); try again later",
                retry_after.as_secs()
            ),
            Problem::Unavailable { attempts, last } => write!(
                f,
                "no usable answer after {attempts} attempts (last: {last})"
            ),
            Problem::Malformed(detail) => write!(f, "unexpected answer: {detail}"),
            Problem::Graphql { kind, message } => match kind {
                Some(kind) => write!(f, "GitHub's GraphQL API answered {kind}: {message}"),
                None => write!(f, "GitHub's GraphQL API answered: {message}"),
            },
        }
    }
}
