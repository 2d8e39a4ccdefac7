//! The HTTP side: routes, and the gate every request passes through (latency,
//! authentication, injected faults, rate limits, conditional requests, headers,
//! the request log).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;

use super::graphql;
use super::handlers;
use super::permissions;
use super::state::{self, LoggedRequest, RateLimit};

pub(crate) type Shared = Arc<Mutex<state::State>>;

/// Locks the state, shrugging off poisoning: a panicking test must not turn
/// every later request into a second panic.
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, state::State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const DOCS: &str = "https://docs.github.com/rest";
const RATE_LIMIT_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const SECONDARY_LIMIT_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// An error answered the way GitHub answers errors: a JSON body with
/// `message`, `documentation_url` and the status as a string.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub documentation_url: &'static str,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
            documentation_url: DOCS,
        }
    }

    pub fn not_found() -> Self {
        ApiError::new(404, "Not Found")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": self.status.as_u16().to_string(),
        });
        (self.status, Json(body)).into_response()
    }
}

pub(crate) fn router(shared: Shared) -> Router {
    // Every org and team route exists twice, as GitHub serves them: by name
    // and by id (the form GitHub's `Link` headers use).
    let by_name_and_id = [
        ("/orgs/{org}", "/teams/{team}"),
        ("/organizations/{org_id}", "/team/{team_id}"),
    ];
    let mut router = Router::new();
    for (org, team) in by_name_and_id {
        router = router
            .route(&format!("{org}/teams"), get(handlers::list_teams))
            .route(&format!("{org}{team}"), get(handlers::get_team))
            .route(
                &format!("{org}{team}/teams"),
                get(handlers::list_child_teams),
            )
            .route(
                &format!("{org}{team}/members"),
                get(handlers::list_team_members),
            )
            .route(
                &format!("{org}{team}/memberships/{{username}}"),
                get(handlers::get_membership).delete(handlers::remove_membership),
            )
            .route(
                &format!("{org}{team}/invitations"),
                get(handlers::list_team_invitations),
            )
            .route(
                &format!("{org}/invitations"),
                get(handlers::list_org_invitations),
            )
            .route(
                &format!("{org}/invitations/{{invitation_id}}"),
                delete(handlers::cancel_invitation),
            )
            .route(
                &format!("{org}/invitations/{{invitation_id}}/teams"),
                get(handlers::list_invitation_teams),
            );
    }
    router
        .route(
            "/repos/{owner}/{repo}/contents",
            get(handlers::get_root_contents),
        )
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(handlers::get_contents),
        )
        .route(
            "/app/installations/{installation_id}/access_tokens",
            post(handlers::create_installation_token),
        )
        .route("/users/{username}", get(handlers::get_user))
        .route("/user", get(handlers::authenticated_user))
        .route("/graphql", post(graphql::answer))
        .route("/rate_limit", get(handlers::rate_limit))
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// How a request is authenticated, which decides what it may do and whether it
/// draws on the rate limit.
enum Caller {
    /// A known PAT or a live installation token.
    Token { rate_limit_owner: String },
    /// The app JWT exchange, which checks its own credentials.
    AppJwt,
}

fn is_token_exchange(method: &Method, path: &str) -> bool {
    method == Method::POST
        && path.starts_with("/app/installations/")
        && path.ends_with("/access_tokens")
}

/// The token from `Authorization: token X` or `Authorization: Bearer X`.
pub(crate) fn presented_token(headers: &HeaderMap) -> Option<Result<String, ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        Some(Ok(token.trim().to_owned()))
    } else {
        Some(Err(()))
    }
}

/// Who is calling, and whether an installation token may make this request.
fn authenticate(
    state: &state::State,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Caller, ApiError> {
    let token = match presented_token(headers) {
        None => return Err(ApiError::new(401, "Requires authentication")),
        Some(Err(())) => return Err(ApiError::new(401, "Bad credentials")),
        Some(Ok(token)) => token,
    };
    let credentials = &state.credentials;
    if credentials.personal_tokens.contains(&token) {
        return Ok(Caller::Token {
            rate_limit_owner: "user ID 1".to_owned(),
        });
    }
    match credentials.installation_tokens.get(&token) {
        Some(issued) if issued.expires_at > Utc::now() => {
            if !permissions::allows(issued, method, path) {
                return Err(ApiError::new(403, "Resource not accessible by integration"));
            }
            Ok(Caller::Token {
                rate_limit_owner: format!("installation ID {}", issued.installation_id),
            })
        }
        _ => Err(ApiError::new(401, "Bad credentials")),
    }
}

/// Does `If-None-Match` name this ETag? Compared weakly, as GitHub does.
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = strip(etag);
    if_none_match
        .split(',')
        .any(|candidate| candidate.trim() == "*" || strip(candidate) == etag)
}

/// The ETag of a response: a digest of its body and its `Link` header, so a
/// page whose items stayed the same while a page was added or removed behind
/// it gets a new tag (a client answered 304 reuses the links it cached).
fn response_etag(body: &[u8], link: Option<&[u8]>) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(body);
    if let Some(link) = link {
        context.update(b"\nLink: ");
        context.update(link);
    }
    let hex: String = context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("W/\"{hex}\"")
}

/// Every request passes through here, in GitHub's order: credentials, then
/// abuse limits, then the primary limit, then the endpoint.
async fn gate(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let at = SystemTime::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());

    let latency = lock(&shared).faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let token = presented_token(request.headers())
        .and_then(Result::ok)
        .filter(|_| !is_token_exchange(&method, &path));
    let if_none_match = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let mut response = match admit(&shared, &method, &path, request.headers()) {
        Admission::Refused(refusal) => refusal,
        Admission::Admitted(caller) => {
            let ignored = lock(&shared)
                .faults
                .ignored_deletes
                .filter(|_| method == Method::DELETE);
            let response = match ignored {
                Some(status) => ignored_delete(status),
                None => next.run(request).await,
            };
            finish(
                &shared,
                &method,
                &path,
                caller,
                if_none_match.as_deref(),
                response,
            )
            .await
        }
    };

    let mut state = lock(&shared);
    add_common_headers(&state, &path, response.headers_mut());
    state.log.push(LoggedRequest {
        method: method.to_string(),
        path_and_query,
        status: response.status().as_u16(),
        at,
        token,
    });
    response
}

enum Admission {
    Admitted(Caller),
    /// Answered at the gate: bad credentials, an injected fault or a rate limit.
    Refused(Response),
}

/// Decides whether the request reaches its endpoint, or answers it here.
fn admit(shared: &Shared, method: &Method, path: &str, headers: &HeaderMap) -> Admission {
    let mut state = lock(shared);
    let caller = if is_token_exchange(method, path) {
        Caller::AppJwt
    } else {
        match authenticate(&state, headers, method, path) {
            Ok(caller) => caller,
            Err(error) => return Admission::Refused(error.into_response()),
        }
    };

    if let Some(failure) = state
        .faults
        .failures
        .iter_mut()
        .find(|f| f.remaining > 0 && path.contains(&f.path_contains))
    {
        failure.remaining -= 1;
        let status = failure.status;
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Server Error");
        return Admission::Refused(ApiError::new(status, reason).into_response());
    }

    if let Some(limit) = state
        .faults
        .secondary_limits
        .iter_mut()
        .find(|l| l.remaining > 0 && path.contains(&l.path_contains))
    {
        limit.remaining -= 1;
        let retry_after = limit.retry_after_secs;
        let mut error = ApiError::new(
            limit.status,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. \
             If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
        );
        error.documentation_url = SECONDARY_LIMIT_DOCS;
        let mut response = error.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return Admission::Refused(response);
    }

    if let Caller::Token { rate_limit_owner } = &caller {
        let now = Utc::now().timestamp();
        let bucket = bucket_mut(&mut state, path);
        bucket.roll_window(now);
        if bucket.remaining == 0 && path != "/rate_limit" {
            let message = format!("API rate limit exceeded for {rate_limit_owner}.");
            if is_graphql(path) {
                return Admission::Refused(graphql::rate_limited(&message));
            }
            let mut error = ApiError::new(403, message);
            error.documentation_url = RATE_LIMIT_DOCS;
            return Admission::Refused(error.into_response());
        }
    }
    Admission::Admitted(caller)
}

fn is_graphql(path: &str) -> bool {
    path == "/graphql"
}

/// The bucket a request draws on: GraphQL's own, or the REST API's.
fn bucket_mut<'a>(state: &'a mut state::State, path: &str) -> &'a mut RateLimit {
    if is_graphql(path) {
        &mut state.graphql_rate
    } else {
        &mut state.rate
    }
}

fn bucket<'a>(state: &'a state::State, path: &str) -> &'a RateLimit {
    if is_graphql(path) {
        &state.graphql_rate
    } else {
        &state.rate
    }
}

/// What a DELETE answers while [`state::Faults::ignored_deletes`] is set:
/// success or "Not Found", and nothing changed.
fn ignored_delete(status: u16) -> Response {
    match status {
        204 => StatusCode::NO_CONTENT.into_response(),
        status => ApiError::new(status, "Not Found").into_response(),
    }
}

/// Adds the ETag, answers a matching `If-None-Match` with 304 (free, as on
/// GitHub), and charges everything else to the rate limit.
async fn finish(
    shared: &Shared,
    method: &Method,
    path: &str,
    caller: Caller,
    if_none_match: Option<&str>,
    response: Response,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut not_modified = false;
    if method == Method::GET && parts.status == StatusCode::OK {
        let link = parts.headers.get(header::LINK).map(HeaderValue::as_bytes);
        let etag = response_etag(&bytes, link);
        not_modified = if_none_match.is_some_and(|inm| etag_matches(inm, &etag));
        if let Ok(value) = HeaderValue::from_str(&etag) {
            parts.headers.insert(header::ETAG, value);
        }
    }

    let is_rate_limit_endpoint = parts.extensions.get::<FreeOfCharge>().is_some();
    if matches!(caller, Caller::Token { .. }) && !not_modified && !is_rate_limit_endpoint {
        let mut state = lock(shared);
        let bucket = bucket_mut(&mut state, path);
        bucket.remaining = bucket.remaining.saturating_sub(1);
        bucket.used += 1;
    }

    if not_modified {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Marks a response that GitHub does not count against the rate limit
/// (`GET /rate_limit`).
#[derive(Clone, Copy)]
pub(crate) struct FreeOfCharge;

fn add_common_headers(state: &state::State, path: &str, headers: &mut HeaderMap) {
    if headers.get(header::CONTENT_TYPE) == Some(&HeaderValue::from_static("application/json")) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    let rate = bucket(state, path);
    let resource = if is_graphql(path) { "graphql" } else { "core" };
    let pairs: [(&str, String); 9] = [
        ("x-ratelimit-limit", rate.limit.to_string()),
        ("x-ratelimit-remaining", rate.remaining.to_string()),
        ("x-ratelimit-reset", rate.reset.to_string()),
        ("x-ratelimit-used", rate.used.to_string()),
        ("x-ratelimit-resource", resource.to_owned()),
        ("x-github-api-version-selected", "2022-11-28".to_owned()),
        ("x-github-media-type", "github.v3; format=json".to_owned()),
        (
            "x-github-request-id",
            format!(
                "FAKE:{:04X}:{:08X}",
                std::process::id() & 0xFFFF,
                state.log.len()
            ),
        ),
        (
            "vary",
            "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding".to_owned(),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong_etags_match_either_way() {
        assert!(etag_matches("W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("\"abc\"", "W/\"abc\""));
        assert!(etag_matches("\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("*", "W/\"abc\""));
        assert!(!etag_matches("\"abd\"", "W/\"abc\""));
    }

    #[test]
    fn the_etag_covers_the_links_as_well_as_the_body() {
        let page = br#"[{"login":"a"}]"#;
        let one = response_etag(page, None);
        assert_eq!(one, response_etag(page, None));
        assert_ne!(
            one,
            response_etag(page, Some(b"<http://h/x?page=2>; rel=\"next\""))
        );
        assert_ne!(one, response_etag(br#"[{"login":"b"}]"#, None));
    }
}
