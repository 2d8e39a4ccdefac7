//! The one way lapse talks to GitHub. A [`Client`] ties together who lapse
//! is (`auth`), how requests travel and are retried (`transport`), rate
//! limits (`rate_limit`), whole listings (`paging`) and conditional reads
//! (`conditional`), each a module of its own beside this one.
//!
//! Given a [`ResponseCache`] (the daemon keeps one across cycles), reads are
//! conditional: an unchanged page comes back 304, free of rate limit, and
//! reads as the 200 it stands for. A 304 is still a request sent, and counted.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::de::DeserializeOwned;

use super::auth::{Credentials, Scope};
use super::conditional::ConditionalReads;
use super::paging;
use super::request::{Call, Verb};
use super::response_cache::ResponseCache;
use super::transport::Transport;
use crate::config::{GithubAuth, GithubConfig};

pub use super::error::{ApiError, Problem};
pub use super::paging::PER_PAGE;
use super::request::JSON;
pub(crate) use super::request::Reply;
pub(crate) use super::transport::HeldSlot;
pub use super::transport::WRITE_PACING_ENV;

/// A GitHub client for one run. Cheap to clone; clones share the request
/// count, the concurrency limit, the write pacing and the credentials.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    credentials: Credentials,
    transport: Transport,
    conditional: ConditionalReads,
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
        let credentials = Credentials::new(config, token)?;
        let transport = Transport::new(config.concurrency, credentials.secrets())?;
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                credentials,
                transport,
                conditional: ConditionalReads::default(),
            }),
        })
    }

    /// Sets the least time between two mutating requests (GitHub asks for
    /// one second; tests use less).
    pub fn set_write_pacing(&self, pacing: Duration) {
        self.inner.transport.set_write_pacing(pacing);
    }

    /// Makes reads conditional on what `cache` holds, and keeps their
    /// answers there. Set it before the first request; a second call is
    /// ignored. The caller checks the cache suits this client's config
    /// ([`ResponseCache::use_for`]).
    pub fn set_response_cache(&self, cache: Arc<ResponseCache>) {
        self.inner.conditional.set_cache(cache);
    }

    /// HTTP requests attempted so far: pages, retries, token exchanges and
    /// attempts that got no answer included (304s too: they are requests).
    pub fn requests(&self) -> u64 {
        self.inner.transport.requests()
    }

    /// Reads answered 304 Not Modified so far: requests that used no rate limit.
    pub fn not_modified(&self) -> u64 {
        self.inner.conditional.not_modified()
    }

    /// Every item of a listing, every page of it, read as `paging` says.
    pub(crate) async fn list<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, ApiError> {
        paging::list(self, path).await
    }

    /// One JSON document.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let reply = self.get(path, JSON).await?;
        serde_json::from_str(&reply.body).map_err(|e| {
            ApiError::malformed(Verb::Get, path, format!("not the expected object: {e}"))
        })
    }

    pub(crate) async fn get(&self, path: &str, accept: &'static str) -> Result<Reply, ApiError> {
        self.send(&Call::get(path, accept)).await
    }

    /// A `POST` that reads (a GraphQL query): concurrent with other reads,
    /// never cached. `held`: sent in a slot the caller holds
    /// ([`Client::hold_read_slot`]).
    pub(crate) async fn post_json(
        &self,
        uri: &str,
        body: &serde_json::Value,
        held: Option<&HeldSlot<'_>>,
    ) -> Result<Reply, ApiError> {
        self.send(&Call {
            verb: Verb::Post,
            uri,
            accept: JSON,
            body: Some(body),
            as_app: false,
            scope: Scope::MembersRead,
            in_held_slot: held.is_some(),
        })
        .await
    }

    /// A read slot to keep from one page to the next, for a listing whose
    /// pages can only be read one after another (a GraphQL cursor): waiting
    /// for a slot before each page would put every page behind all the
    /// reads queued meanwhile. `None` when as many listings as may hold one
    /// already do; their pages then wait like any read.
    pub(crate) async fn hold_read_slot(&self) -> Option<HeldSlot<'_>> {
        self.inner.transport.hold_read_slot().await
    }

    /// A read with the token of `scope` rather than the members read token.
    pub(super) async fn get_with(
        &self,
        path: &str,
        accept: &'static str,
        scope: Scope,
    ) -> Result<Reply, ApiError> {
        self.send(&Call::get_with(path, accept, scope)).await
    }

    /// A `DELETE`, serial with every other write and paced after the last;
    /// as an App, with the write token.
    pub(crate) async fn delete(&self, path: &str) -> Result<Reply, ApiError> {
        self.send(&Call {
            verb: Verb::Delete,
            uri: path,
            accept: JSON,
            body: None,
            as_app: false,
            scope: Scope::MembersWrite,
            in_held_slot: false,
        })
        .await
    }

    /// Whether `link` points at the configured API (scheme, host and port).
    pub(super) fn is_on_api(&self, link: &str) -> bool {
        let Ok(url) = Url::parse(link) else {
            return false;
        };
        let base = &self.inner.base;
        url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
    }

    pub(super) fn api_base(&self) -> &Url {
        &self.inner.base
    }

    pub(super) fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    pub(super) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(super) fn conditional(&self) -> &ConditionalReads {
        &self.inner.conditional
    }
}
