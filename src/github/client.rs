//! The one way lapse talks to GitHub: octocrab for transport, and around it
//! what octocrab leaves to its caller — credentials that work on any host,
//! pagination, bounded concurrency, paced writes, rate limits, retries with
//! backoff, a time limit on every attempt, and a count of every attempt.
//!
//! octocrab's own retry layer is off: it retries 5xx at once, ignores
//! `retry-after` and would hide attempts from the count.
//!
//! Given a [`ResponseCache`] (the daemon keeps one across cycles), reads are
//! conditional: an unchanged page comes back 304, free of rate limit, and
//! reads as the 200 it stands for. A 304 is still a request sent, and counted.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use octocrab::Octocrab;
use octocrab::models::AppId;
use octocrab::service::middleware::retry::RetryConfig;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
// octocrab speaks `http` 1.x types without re-exporting them; reqwest
// re-exports the same crate, and its `Url` parses `Link` targets.
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, IF_NONE_MATCH};
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;

use super::response_cache::{CachedPage, ResponseCache};
use crate::config::{GithubAuth, GithubConfig};

/// Environment variable that overrides the pause between two mutating
/// requests, in milliseconds (default 1000, GitHub's guidance). Tests shrink it.
pub const WRITE_PACING_ENV: &str = "LAPSE_GITHUB_WRITE_PACING_MS";
const DEFAULT_WRITE_PACING: Duration = Duration::from_secs(1);

/// GitHub's largest page.
pub const PER_PAGE: u32 = 100;
/// A listing longer than this many pages is refused rather than read in part.
const MAX_PAGES: usize = 5_000;

pub(crate) const JSON: &str = "application/vnd.github+json";
/// File bytes as they are, for files of any size up to 100 MB (the JSON form
/// leaves `content` empty above 1 MB).
pub(crate) const RAW: &str = "application/vnd.github.raw+json";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt, from sending to the last byte of the body.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Retries after a 5xx, a timeout or a connection error.
const MAX_FAULT_RETRIES: u32 = 4;
/// Time spent on failed attempts and their backoff, per request: together
/// with one attempt's limit it keeps an unreachable API under a minute.
const FAULT_BUDGET: Duration = Duration::from_secs(35);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Waits for rate limits, per request.
const MAX_LIMIT_WAITS: u32 = 3;
/// The longest wait for the primary limit to reset; beyond it the run fails.
const MAX_PRIMARY_WAIT: Duration = Duration::from_secs(60);
/// The longest `retry-after` honoured for a secondary limit.
const MAX_SECONDARY_WAIT: Duration = Duration::from_secs(120);
/// GitHub's advice for a secondary limit that names no `retry-after`.
const SECONDARY_DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// An installation token is replaced when it has less than this left.
const TOKEN_REFRESH_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A GitHub client for one run. Cheap to clone; clones share the request
/// count, the concurrency limit, the write pacing and the credentials.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    credentials: Credentials,
    requests: AtomicU64,
    tokens_minted: AtomicU64,
    reads: Semaphore,
    /// Held across every mutating attempt, so writes are serial; holds when
    /// the last one finished, so they are paced.
    last_write: Mutex<Option<Instant>>,
    /// The least time between two writes, in milliseconds.
    write_pacing_ms: AtomicU64,
    /// Strings that must never appear in a message (the configured token).
    secrets: Vec<String>,
    /// Where reads keep their ETags, when they outlive this client.
    responses: OnceLock<Arc<ResponseCache>>,
    /// Reads answered 304 Not Modified.
    not_modified: AtomicU64,
}

enum Credentials {
    Token(Octocrab),
    /// A GitHub App: `app` signs JWTs to mint installation tokens; requests
    /// go through a token client, because octocrab's installation auth sends
    /// no credentials to absolute URLs on hosts other than api.github.com
    /// (every `Link` page on GitHub Enterprise Server).
    App(Box<AppCredentials>),
}

struct AppCredentials {
    app: Octocrab,
    installation_id: u64,
    installation: Mutex<Option<Installation>>,
}

struct Installation {
    client: Octocrab,
    expires_at: DateTime<Utc>,
    /// Which token this is, so a 401 retires only the token it was sent with.
    serial: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Delete,
    Post,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Delete => "DELETE",
            Verb::Post => "POST",
        }
    }
}

/// One request as lapse means it; [`Client::call`] may send it several times.
struct Call<'a> {
    verb: Verb,
    /// A path below `api_url` (`/orgs/…`), or an absolute `Link` URL.
    uri: &'a str,
    accept: &'static str,
    /// Sent with the App's JWT rather than the installation token.
    as_app: bool,
}

/// A successful answer.
pub(crate) struct Reply {
    pub content_type: String,
    pub body: String,
    /// The `Link` header: where the next and the last page of a listing are.
    link: Option<String>,
}

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
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self.problem {
            Problem::Status { status, .. } => Some(status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
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
        }
    }
}

/// What one attempt's answer calls for.
enum Verdict {
    Success,
    /// Worth another attempt after backoff (5xx).
    Fault(String),
    /// A rate limit asks to wait this long.
    Wait(Duration, Problem),
    Unauthorized(Problem),
    Fail(Problem),
}

struct RawReply {
    status: u16,
    headers: HeaderMap,
    /// `None` when the body is not UTF-8 text.
    body: Option<String>,
    /// The cached answer whose ETag the request named, if it named one.
    cached: Option<Arc<CachedPage>>,
}

impl Client {
    /// Builds the client a config asks for. Fails at once, before any
    /// request, when the token variable is unset or empty or the App key
    /// cannot be read.
    pub fn connect(config: &GithubConfig) -> Result<Client, String> {
        match &config.auth {
            GithubAuth::Token { env } => {
                let token = std::env::var(env).unwrap_or_default();
                if token.trim().is_empty() {
                    return Err(format!(
                        "no GitHub token: the environment variable {env} (github.token_env) is not set or empty"
                    ));
                }
                Client::connect_with_token(config, &token)
                    .map_err(|e| format!("the GitHub token in {env}: {e}"))
            }
            GithubAuth::App { .. } => Client::build(config, None),
        }
    }

    /// Builds a token client with a token the caller already holds (one not
    /// read from the environment), whatever `config.auth` says.
    pub fn connect_with_token(config: &GithubConfig, token: &str) -> Result<Client, String> {
        Client::build(config, Some(token))
    }

    fn build(config: &GithubConfig, token: Option<&str>) -> Result<Client, String> {
        let base = Url::parse(&config.api_url)
            .map_err(|e| format!("github.api_url `{}` is not a URL: {e}", config.api_url))?;
        let mut secrets = Vec::new();
        let credentials = match (&config.auth, token) {
            (_, Some(token)) => {
                let token = token.trim();
                if token.is_empty() {
                    return Err("the token is empty".into());
                }
                if !is_header_safe(token) {
                    return Err("the token contains spaces or control characters".into());
                }
                secrets.push(token.to_string());
                Credentials::Token(
                    octocrab_builder(&config.api_url)?
                        .personal_token(token.to_string())
                        .build()
                        .map_err(|e| {
                            format!("cannot build the GitHub client: {}", error_chain(&e))
                        })?,
                )
            }
            (GithubAuth::Token { .. }, None) => {
                return Err("a token client needs a token".into());
            }
            (
                GithubAuth::App {
                    id,
                    installation_id,
                    private_key_path,
                },
                None,
            ) => {
                let pem = std::fs::read(private_key_path).map_err(|e| {
                    format!(
                        "cannot read the GitHub App private key {}: {e}",
                        private_key_path.display()
                    )
                })?;
                let app = octocrab_builder(&config.api_url)?
                    .app_from_rsa_pem(AppId(*id), &pem)
                    .map_err(|_| {
                        format!(
                            "the GitHub App private key {} is not an RSA private key in PEM form",
                            private_key_path.display()
                        )
                    })?
                    .build()
                    .map_err(|e| format!("cannot build the GitHub client: {}", error_chain(&e)))?;
                Credentials::App(Box::new(AppCredentials {
                    app,
                    installation_id: *installation_id,
                    installation: Mutex::new(None),
                }))
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                credentials,
                requests: AtomicU64::new(0),
                tokens_minted: AtomicU64::new(0),
                reads: Semaphore::new(config.concurrency.max(1)),
                last_write: Mutex::new(None),
                write_pacing_ms: AtomicU64::new(write_pacing()?.as_millis() as u64),
                secrets,
                responses: OnceLock::new(),
                not_modified: AtomicU64::new(0),
            }),
        })
    }

    /// Sets the least time between two mutating requests (GitHub asks for
    /// one second; tests use less).
    pub fn set_write_pacing(&self, pacing: Duration) {
        self.inner
            .write_pacing_ms
            .store(pacing.as_millis() as u64, Ordering::SeqCst);
    }

    /// Makes reads conditional on what `cache` holds, and keeps their
    /// answers there. Set it before the first request; a second call is
    /// ignored. The caller checks the cache suits this client's config
    /// ([`ResponseCache::use_for`]).
    pub fn set_response_cache(&self, cache: Arc<ResponseCache>) {
        let _ = self.inner.responses.set(cache);
    }

    /// HTTP requests attempted so far: pages, retries, token exchanges and
    /// attempts that got no answer included (304s too: they are requests).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Reads answered 304 Not Modified so far: requests that used no rate limit.
    pub fn not_modified(&self) -> u64 {
        self.inner.not_modified.load(Ordering::SeqCst)
    }

    /// The cache that `call` may use: reads only, and never the App's own
    /// requests (they mint tokens).
    fn response_cache(&self, call: &Call<'_>) -> Option<&ResponseCache> {
        (call.verb == Verb::Get && !call.as_app)
            .then(|| self.inner.responses.get())
            .flatten()
            .map(Arc::as_ref)
    }

    /// Every item of a listing at `per_page=100`. When the first page's
    /// `Link` names the last page by number, the pages between are asked for
    /// at once (within the read limit), so a long listing costs about one
    /// round trip per `concurrency` pages rather than one per page; otherwise,
    /// and after the last page if the listing grew meanwhile, it follows
    /// `rel="next"`. Any page that fails fails the whole listing.
    pub(crate) async fn list<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, ApiError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let first = format!("{path}{separator}per_page={PER_PAGE}");
        let reply = self.get(&first, JSON).await?;
        let mut items: Vec<T> = self.page_items(&first, &reply)?;
        let mut next = self.next_page(&first, &reply)?;
        if let Some(pages) = next
            .as_deref()
            .and_then(|next| numbered_pages(next, reply.link.as_deref()?))
        {
            if pages.len() >= MAX_PAGES {
                return Err(self.too_many_pages(&first));
            }
            let mut reads = JoinSet::new();
            for (index, uri) in pages.into_iter().enumerate() {
                let client = self.clone();
                reads.spawn(async move {
                    let reply = client.get(&uri, JSON).await?;
                    let items: Vec<T> = client.page_items(&uri, &reply)?;
                    let next = client.next_page(&uri, &reply)?;
                    Ok::<_, ApiError>((index, items, next))
                });
            }
            let mut pages = Vec::with_capacity(reads.len());
            while let Some(joined) = reads.join_next().await {
                pages.push(joined.map_err(|e| {
                    self.malformed(Verb::Get, &first, format!("a page read stopped: {e}"))
                })??);
            }
            pages.sort_by_key(|(index, _, _)| *index);
            next = pages.last_mut().and_then(|(_, _, next)| next.take());
            for (_, page, _) in pages {
                items.extend(page);
            }
        }
        let mut followed = 0;
        while let Some(uri) = next.take() {
            followed += 1;
            if followed >= MAX_PAGES {
                return Err(self.too_many_pages(&uri));
            }
            let reply = self.get(&uri, JSON).await?;
            items.extend(self.page_items::<T>(&uri, &reply)?);
            next = self.next_page(&uri, &reply)?;
        }
        Ok(items)
    }

    fn page_items<T: DeserializeOwned>(
        &self,
        uri: &str,
        reply: &Reply,
    ) -> Result<Vec<T>, ApiError> {
        serde_json::from_str(&reply.body)
            .map_err(|e| self.malformed(Verb::Get, uri, format!("not the expected list: {e}")))
    }

    /// The page after `reply`, which must be on the configured API.
    fn next_page(&self, uri: &str, reply: &Reply) -> Result<Option<String>, ApiError> {
        let Some(next) = reply.link.as_deref().and_then(next_link) else {
            return Ok(None);
        };
        self.same_api(&next).map(Some).ok_or_else(|| {
            self.malformed(
                Verb::Get,
                uri,
                "the next page is on another host than github.api_url".into(),
            )
        })
    }

    fn too_many_pages(&self, uri: &str) -> ApiError {
        self.malformed(
            Verb::Get,
            uri,
            format!("more than {MAX_PAGES} pages; lapse will not act on a partial list"),
        )
    }

    /// One JSON document.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let reply = self.get(path, JSON).await?;
        serde_json::from_str(&reply.body)
            .map_err(|e| self.malformed(Verb::Get, path, format!("not the expected object: {e}")))
    }

    pub(crate) async fn get(&self, path: &str, accept: &'static str) -> Result<Reply, ApiError> {
        self.call(&Call {
            verb: Verb::Get,
            uri: path,
            accept,
            as_app: false,
        })
        .await
    }

    /// A `DELETE`, serial with every other write and paced after the last.
    pub(crate) async fn delete(&self, path: &str) -> Result<Reply, ApiError> {
        self.call(&Call {
            verb: Verb::Delete,
            uri: path,
            accept: JSON,
            as_app: false,
        })
        .await
    }

    fn malformed(&self, verb: Verb, uri: &str, detail: String) -> ApiError {
        ApiError {
            request: self.label(verb, uri),
            problem: Problem::Malformed(detail),
        }
    }

    /// `VERB /path?query`, the way requests are named in messages.
    fn label(&self, verb: Verb, uri: &str) -> String {
        let path = match Url::parse(uri) {
            Ok(url) => match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            },
            Err(_) => uri.to_string(),
        };
        format!("{} {path}", verb.as_str())
    }

    /// `link` if it points at the configured API (scheme, host and port).
    fn same_api(&self, link: &str) -> Option<String> {
        let url = Url::parse(link).ok()?;
        let base = &self.inner.base;
        (url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default())
        .then(|| link.to_string())
    }

    /// Sends one request until it succeeds or fails for good: waits out rate
    /// limits within bounds, retries faults with backoff, and renews an App
    /// token GitHub stopped accepting.
    async fn call(&self, call: &Call<'_>) -> Result<Reply, ApiError> {
        let fail = |problem| ApiError {
            request: self.label(call.verb, call.uri),
            problem,
        };
        let mut faults = 0u32;
        let mut fault_time = Duration::ZERO;
        let mut limit_waits = 0u32;
        let mut renewed_token = false;
        loop {
            let (client, token_serial) = if call.as_app {
                (self.app_client(), None)
            } else {
                self.api_client().await?
            };
            let started = Instant::now();
            let fault = match self.attempt(&client, call).await {
                Err(transport) => transport,
                Ok(raw) if raw.status == 304 => return self.not_modified_reply(call, raw),
                Ok(raw) => match verdict(&raw) {
                    Verdict::Success => {
                        let reply = Reply {
                            content_type: header(&raw.headers, "content-type").unwrap_or_default(),
                            link: header(&raw.headers, "link"),
                            body: raw.body.unwrap_or_default(),
                        };
                        self.remember(call, header(&raw.headers, "etag"), &reply);
                        return Ok(reply);
                    }
                    Verdict::Fault(why) => why,
                    Verdict::Wait(delay, problem) => {
                        let cap = match problem {
                            Problem::RateLimited { .. } => MAX_PRIMARY_WAIT,
                            _ => MAX_SECONDARY_WAIT,
                        };
                        if limit_waits >= MAX_LIMIT_WAITS || delay > cap {
                            return Err(fail(problem));
                        }
                        limit_waits += 1;
                        tracing::warn!(
                            request = %self.label(call.verb, call.uri),
                            wait_seconds = delay.as_secs_f64(),
                            "GitHub rate limit reached; waiting before trying again"
                        );
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    Verdict::Unauthorized(problem) => {
                        if let Some(serial) = token_serial
                            && !renewed_token
                        {
                            self.retire_installation_token(serial).await;
                            renewed_token = true;
                            continue;
                        }
                        return Err(fail(problem));
                    }
                    Verdict::Fail(problem) => return Err(fail(problem)),
                },
            };
            faults += 1;
            fault_time += started.elapsed();
            let delay = backoff(faults);
            if faults > MAX_FAULT_RETRIES || fault_time + delay > FAULT_BUDGET {
                return Err(fail(Problem::Unavailable {
                    attempts: faults,
                    last: fault,
                }));
            }
            tracing::warn!(
                request = %self.label(call.verb, call.uri),
                attempt = faults,
                "GitHub did not answer usefully ({fault}); retrying in {} ms",
                delay.as_millis()
            );
            tokio::time::sleep(delay).await;
            fault_time += delay;
        }
    }

    /// A 304 reads exactly as the 200 whose ETag the request named. Its own
    /// `Link` header, when it has one, is the newer word on the other pages.
    fn not_modified_reply(&self, call: &Call<'_>, raw: RawReply) -> Result<Reply, ApiError> {
        let Some(page) = raw.cached else {
            return Err(self.malformed(
                call.verb,
                call.uri,
                "304 Not Modified to a request that named no ETag".into(),
            ));
        };
        self.inner.not_modified.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = self.response_cache(call) {
            cache.count_not_modified();
        }
        Ok(Reply {
            content_type: page.content_type.clone(),
            body: page.body.clone(),
            link: header(&raw.headers, "link").or_else(|| page.link.clone()),
        })
    }

    /// Keeps a successful read for the next cycle's conditional request, or
    /// forgets an older one when this answer has no ETag.
    fn remember(&self, call: &Call<'_>, etag: Option<String>, reply: &Reply) {
        let Some(cache) = self.response_cache(call) else {
            return;
        };
        let key = cache_key(call);
        match etag {
            Some(etag) if !etag.is_empty() && is_header_safe_etag(&etag) => cache.store(
                &key,
                CachedPage {
                    etag,
                    content_type: reply.content_type.clone(),
                    body: reply.body.clone(),
                    link: reply.link.clone(),
                },
            ),
            _ => cache.forget(&key),
        }
    }

    /// One HTTP attempt, counted, within the concurrency limit (reads) or
    /// serial and paced (writes), and within [`ATTEMPT_TIMEOUT`]. `Err` is a
    /// fault worth retrying: no answer, or no whole answer.
    async fn attempt(&self, client: &Octocrab, call: &Call<'_>) -> Result<RawReply, String> {
        let mut write_slot = None;
        let mut read_permit = None;
        if call.verb == Verb::Delete {
            let last = self.inner.last_write.lock().await;
            if let Some(at) = *last {
                let pacing = self.inner.write_pacing_ms.load(Ordering::SeqCst);
                let ready = at + Duration::from_millis(pacing);
                tokio::time::sleep_until(ready.into()).await;
            }
            write_slot = Some(last);
        } else {
            read_permit = Some(
                self.inner
                    .reads
                    .acquire()
                    .await
                    .map_err(|_| "the client is shutting down".to_string())?,
            );
        }
        let cached = self
            .response_cache(call)
            .and_then(|cache| cache.lookup(&cache_key(call)));
        self.inner.requests.fetch_add(1, Ordering::SeqCst);
        let exchange = async {
            let response = match call.verb {
                Verb::Get => {
                    let mut headers = HeaderMap::new();
                    headers.insert(ACCEPT, HeaderValue::from_static(call.accept));
                    if let Some(etag) = cached
                        .as_ref()
                        .and_then(|page| HeaderValue::from_str(&page.etag).ok())
                    {
                        headers.insert(IF_NONE_MATCH, etag);
                    }
                    client._get_with_headers(call.uri, Some(headers)).await
                }
                Verb::Delete => client._delete(call.uri, None::<&()>).await,
                Verb::Post => client._post(call.uri, Some(&serde_json::json!({}))).await,
            }
            .map_err(|e| self.redact(&error_chain(&e)))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = match client.body_to_string(response).await {
                Ok(text) => Some(text),
                Err(octocrab::Error::InvalidUtf8 { .. }) => None,
                Err(e) => {
                    return Err(format!(
                        "the answer broke off: {}",
                        self.redact(&error_chain(&e))
                    ));
                }
            };
            Ok(RawReply {
                status,
                headers,
                body,
                cached: cached.clone(),
            })
        };
        let result = match tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no whole answer within {} s",
                ATTEMPT_TIMEOUT.as_secs()
            )),
        };
        if let Some(mut last) = write_slot {
            *last = Some(Instant::now());
        }
        drop(read_permit);
        result
    }

    fn app_client(&self) -> Octocrab {
        match &self.inner.credentials {
            Credentials::App(app) => app.app.clone(),
            Credentials::Token(client) => client.clone(),
        }
    }

    /// The client that carries the API credentials: the token client, or one
    /// holding an installation token with at least a minute left (minted now
    /// if need be; concurrent callers wait for the one exchange), with that
    /// token's serial.
    async fn api_client(&self) -> Result<(Octocrab, Option<u64>), ApiError> {
        let (installation_id, installation) = match &self.inner.credentials {
            Credentials::Token(client) => return Ok((client.clone(), None)),
            Credentials::App(app) => (app.installation_id, &app.installation),
        };
        let mut cached = installation.lock().await;
        if let Some(current) = cached.as_ref()
            && current.expires_at - Utc::now() > TOKEN_REFRESH_MARGIN
        {
            return Ok((current.client.clone(), Some(current.serial)));
        }
        let minted = Box::pin(self.mint_installation_token(installation_id)).await?;
        let answer = (minted.client.clone(), Some(minted.serial));
        *cached = Some(minted);
        Ok(answer)
    }

    async fn mint_installation_token(
        &self,
        installation_id: u64,
    ) -> Result<Installation, ApiError> {
        #[derive(serde::Deserialize)]
        struct Minted {
            token: String,
            expires_at: DateTime<Utc>,
        }
        let path = format!("/app/installations/{installation_id}/access_tokens");
        let reply = self
            .call(&Call {
                verb: Verb::Post,
                uri: &path,
                accept: JSON,
                as_app: true,
            })
            .await?;
        let minted: Minted = serde_json::from_str(&reply.body).map_err(|e| {
            self.malformed(
                Verb::Post,
                &path,
                format!("no installation token in it: {e}"),
            )
        })?;
        if !is_header_safe(&minted.token) {
            return Err(self.malformed(
                Verb::Post,
                &path,
                "the installation token has characters a header cannot carry".into(),
            ));
        }
        let client = octocrab_builder(self.inner.base.as_str().trim_end_matches('/'))
            .and_then(|b| {
                b.personal_token(minted.token)
                    .build()
                    .map_err(|e| error_chain(&e))
            })
            .map_err(|e| self.malformed(Verb::Post, &path, e))?;
        tracing::debug!(expires_at = %minted.expires_at, "minted a GitHub App installation token");
        Ok(Installation {
            client,
            expires_at: minted.expires_at,
            serial: self.inner.tokens_minted.fetch_add(1, Ordering::SeqCst),
        })
    }

    /// Drops the cached installation token if it is the one GitHub refused
    /// (another request may have replaced it already).
    async fn retire_installation_token(&self, serial: u64) {
        if let Credentials::App(app) = &self.inner.credentials {
            let mut cached = app.installation.lock().await;
            if cached.as_ref().is_some_and(|c| c.serial == serial) {
                *cached = None;
            }
        }
    }

    fn redact(&self, text: &str) -> String {
        self.inner
            .secrets
            .iter()
            .fold(text.to_string(), |text, secret| {
                text.replace(secret.as_str(), "[redacted]")
            })
    }
}

/// A builder with lapse's transport settings: no hidden retries, bounded
/// connect and read times.
fn octocrab_builder(
    api_url: &str,
) -> Result<
    octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    >,
    String,
> {
    Ok(Octocrab::builder()
        .base_uri(api_url)
        .map_err(|_| format!("github.api_url `{api_url}` is not a URL"))?
        .add_retry_config(RetryConfig::None)
        .set_connect_timeout(Some(CONNECT_TIMEOUT))
        .set_read_timeout(Some(ATTEMPT_TIMEOUT))
        .set_write_timeout(Some(ATTEMPT_TIMEOUT)))
}

/// What GitHub's answer calls for, following its documented rate limits:
/// `retry-after` on a 403/429 is a secondary limit; `x-ratelimit-remaining: 0`
/// is the primary limit, reset at `x-ratelimit-reset`.
fn verdict(raw: &RawReply) -> Verdict {
    let status = raw.status;
    if (200..300).contains(&status) {
        return match raw.body {
            Some(_) => Verdict::Success,
            None => Verdict::Fail(Problem::Malformed("the answer is not UTF-8 text".into())),
        };
    }
    let message = error_message(raw.body.as_deref().unwrap_or_default());
    if status == 403 || status == 429 {
        if let Some(seconds) = header(&raw.headers, "retry-after").and_then(|v| v.parse().ok()) {
            let retry_after = Duration::from_secs(seconds);
            return Verdict::Wait(retry_after, Problem::SecondaryLimit { retry_after });
        }
        if header(&raw.headers, "x-ratelimit-remaining").as_deref() == Some("0") {
            let reset = header(&raw.headers, "x-ratelimit-reset")
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .unwrap_or_else(Utc::now);
            // A second past the reset, so the window has rolled over.
            let wait = (reset - Utc::now() + chrono::TimeDelta::seconds(1))
                .to_std()
                .unwrap_or(Duration::ZERO);
            return Verdict::Wait(wait, Problem::RateLimited { reset });
        }
        if message
            .to_ascii_lowercase()
            .contains("secondary rate limit")
        {
            return Verdict::Wait(
                SECONDARY_DEFAULT_WAIT,
                Problem::SecondaryLimit {
                    retry_after: SECONDARY_DEFAULT_WAIT,
                },
            );
        }
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

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
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

/// The `rel="next"` target of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link_target(link, "next")
}

/// The target of a `Link` header's relation `rel` (`next`, `last`, ...).
fn link_target(link: &str, rel: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("rel="))
            .any(|rels| rels.trim_matches('"').split_whitespace().any(|r| r == rel))
            .then(|| target.to_string())
    })
}

/// Pages `next..=last` of a listing whose `Link` numbers its pages
/// (`page=N`, as GitHub's REST listings do), each URL written as `next` is
/// with only its page number changed; `None` when the pages are not
/// numbered that way (a cursor, say), so the caller follows `next` instead.
fn numbered_pages(next: &str, link: &str) -> Option<Vec<String>> {
    let last = link_target(link, "last")?;
    let page_of = |uri: &str| -> Option<(Url, u64)> {
        let url = Url::parse(uri).ok()?;
        let page = url
            .query_pairs()
            .find(|(key, _)| key == "page")
            .and_then(|(_, value)| value.parse().ok())?;
        Some((url, page))
    };
    let (next_url, from) = page_of(next)?;
    let (last_url, to) = page_of(&last)?;
    let without_page = |url: &Url| -> Vec<(String, String)> {
        url.query_pairs()
            .filter(|(key, _)| key != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let same_listing = next_url.path() == last_url.path()
        && next_url.origin() == last_url.origin()
        && without_page(&next_url) == without_page(&last_url);
    if !same_listing || from > to || to - from >= MAX_PAGES as u64 {
        return None;
    }
    let pages = (from..=to)
        .map(|page| {
            let mut url = next_url.clone();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(without_page(&next_url))
                .append_pair("page", &page.to_string());
            url.to_string()
        })
        .collect();
    Some(pages)
}

/// Exponential backoff with jitter: about 0.5, 1, 2, 4 s, each between half
/// and all of that, so clients that failed together do not retry together.
fn backoff(fault: u32) -> Duration {
    let full = FIRST_BACKOFF * 2u32.saturating_pow(fault.saturating_sub(1).min(10));
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(fault);
    let fraction = 0.5 + (hasher.finish() % 1000) as f64 / 2000.0;
    full.mul_f64(fraction)
}

/// The text of an error and every error under it: octocrab's own Display is
/// just "GitHub"-level, the cause is underneath.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut current = Some(error);
    while let Some(e) = current {
        // Wrappers often repeat their cause's text; say each thing once.
        let part = e.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        current = e.source();
    }
    text
}

/// Where a read's answer is kept: what was asked for and where. Both are
/// free of credentials (tokens travel only in the `Authorization` header).
fn cache_key(call: &Call<'_>) -> String {
    format!("{} {}", call.accept, call.uri)
}

/// An ETag that can be sent back in `If-None-Match` as it came.
fn is_header_safe_etag(etag: &str) -> bool {
    etag.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// Visible ASCII only: what an `Authorization` header can carry (octocrab
/// panics on anything else).
fn is_header_safe(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_graphic())
}

fn write_pacing() -> Result<Duration, String> {
    match std::env::var(WRITE_PACING_ENV) {
        Err(_) => Ok(DEFAULT_WRITE_PACING),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("{WRITE_PACING_ENV} must be a whole number of milliseconds")),
    }
}

/// One URL path segment, percent-encoded (slugs and logins are plain, but a
/// config typo must not turn into a different URL).
pub(crate) fn segment(text: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
    utf8_percent_encode(text, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_the_others() {
        let link = r#"<https://api.github.com/organizations/1/team/2/members?per_page=100&page=3>; rel="next", <https://api.github.com/organizations/1/team/2/members?per_page=100&page=5>; rel="last", <https://api.github.com/organizations/1/team/2/members?per_page=100&page=1>; rel="first""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/organizations/1/team/2/members?per_page=100&page=3")
        );
        assert_eq!(
            next_link(r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=1>; rel="first""#),
            None
        );
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn numbered_pages_run_from_next_to_last_as_next_is_written() {
        let link = r#"<https://api.github.com/organizations/1/team/2/members?role=member&per_page=100&page=2>; rel="next", <https://api.github.com/organizations/1/team/2/members?role=member&per_page=100&page=4>; rel="last""#;
        let next = next_link(link).expect("next");
        assert_eq!(
            numbered_pages(&next, link).expect("numbered"),
            [2, 3, 4].map(|n| format!(
                "https://api.github.com/organizations/1/team/2/members?role=member&per_page=100&page={n}"
            ))
        );
        // A cursor, another listing as last, or no last: follow `next` instead.
        let cursor = r#"<https://x/a?per_page=100&after=abc>; rel="next", <https://x/a?per_page=100&page=9>; rel="last""#;
        assert_eq!(
            numbered_pages("https://x/a?per_page=100&after=abc", cursor),
            None
        );
        let other = r#"<https://x/a?page=2>; rel="next", <https://x/b?page=9>; rel="last""#;
        assert_eq!(numbered_pages("https://x/a?page=2", other), None);
        assert_eq!(
            numbered_pages("https://x/a?page=2", r#"<https://x/a?page=2>; rel="next""#),
            None
        );
    }

    #[test]
    fn backoff_grows_and_stays_within_its_band() {
        for fault in 1..=4 {
            let full = FIRST_BACKOFF * 2u32.pow(fault - 1);
            let delay = backoff(fault);
            assert!(delay >= full / 2 && delay <= full, "{fault}: {delay:?}");
        }
    }

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

    #[test]
    fn tokens_with_whitespace_are_not_header_safe() {
        assert!(is_header_safe("ghp_abc123"));
        assert!(!is_header_safe("ghp_abc\n"));
        assert!(!is_header_safe("ghp abc"));
    }
}
