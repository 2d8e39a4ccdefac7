//! GitHub as a live system, over the REST API (the same on GitHub Enterprise
//! Server): reading the managed teams ([`observe`]), revoking memberships and
//! invitations ([`act`]), and reading a roster kept in a repository
//! ([`fetch_roster`]). Every request goes through one [`Client`], which holds
//! the credentials, limits, retries and the request count.
//!
//! Below the client, one module per concern: `auth` (a token, or an App's
//! installation tokens, each narrowed to one kind of step), `transport`
//! (sending, pacing, time limits, retries), `rate_limit`, `verdict` (what an
//! answer calls for), `paging` (whole listings), `conditional` (ETag reads through a [`ResponseCache`]),
//! `graphql` (queries, where REST cannot tell), `members` (a team's direct
//! members), `verify` (reading back what a revocation removed), `request`
//! and `error` (what is sent, and how it fails).

pub mod act;
mod auth;
pub mod client;
mod conditional;
mod error;
mod graphql;
mod members;
pub mod observe;
mod paging;
mod rate_limit;
mod request;
pub mod response_cache;
pub mod roster_source;
mod transport;
mod verdict;
mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use client::{ApiError, Client, WRITE_PACING_ENV};
pub use response_cache::ResponseCache;
pub use roster_source::{fetch_file, fetch_roster};

use crate::config::GithubConfig;
use crate::model::System;
use crate::state::GithubState;
use crate::system::{
    Act, ActResult, AuditSink, BoxFuture, GithubScope, ObserveError, ObserveGithub, Planned,
};

/// Observes and revokes through one client, so one request count covers the
/// run.
pub struct GithubLive {
    client: Client,
    /// The App id and installation, when lapse acts as a GitHub App.
    app: Option<(u64, u64)>,
    /// Who each observed invitation is for (login, or email without an
    /// account), so the audit trail of a cancellation names the person.
    invitees: Mutex<HashMap<u64, act::Invitee>>,
}

impl GithubLive {
    /// Fails at once, before any request, when credentials are missing.
    pub fn connect(config: &GithubConfig) -> Result<GithubLive, String> {
        let mut live = GithubLive::with_client(Client::connect(config)?);
        if let crate::config::GithubAuth::App {
            id,
            installation_id,
            ..
        } = &config.auth
        {
            live.app = Some((*id, *installation_id));
        }
        Ok(live)
    }

    /// Through a client built by the caller, e.g. with
    /// [`Client::connect_with_token`].
    pub fn with_client(client: Client) -> GithubLive {
        GithubLive {
            client,
            app: None,
            invitees: Mutex::new(HashMap::new()),
        }
    }

    /// The least time between two revocations (default one second, or
    /// [`WRITE_PACING_ENV`]).
    pub fn with_write_pacing(self, pacing: std::time::Duration) -> Self {
        self.client.set_write_pacing(pacing);
        self
    }

    /// Makes reads conditional on `cache`, after dropping what it holds
    /// if it was filled under another GitHub section than `config`.
    pub fn with_response_cache(self, config: &GithubConfig, cache: Arc<ResponseCache>) -> Self {
        cache.use_for(config);
        self.client.set_response_cache(cache);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn remember_invitees(&self, state: &GithubState) {
        let mut invitees = self.invitees.lock().unwrap_or_else(|p| p.into_inner());
        for invitation in state.teams.iter().flat_map(|t| &t.invitations) {
            let who = invitation
                .login
                .clone()
                .or_else(|| invitation.email.clone())
                .unwrap_or_else(|| format!("invitation:{}", invitation.id));
            let teams = invitation.teams.clone();
            invitees.insert(invitation.id, act::Invitee { who, teams });
        }
    }
}

impl ObserveGithub for GithubLive {
    fn observe<'a>(
        &'a self,
        scope: &'a GithubScope,
    ) -> BoxFuture<'a, Result<GithubState, ObserveError>> {
        Box::pin(async move {
            let state = observe::observe(&self.client, scope)
                .await
                .map_err(|message| ObserveError {
                    system: System::Github,
                    message,
                })?;
            self.remember_invitees(&state);
            Ok(state)
        })
    }

    fn requests(&self) -> u64 {
        self.client.requests()
    }
}

impl Act for GithubLive {
    fn system(&self) -> System {
        System::Github
    }

    fn revoke<'a>(
        &'a self,
        batch: Vec<Planned>,
        audit: &'a dyn AuditSink,
    ) -> BoxFuture<'a, Vec<ActResult>> {
        Box::pin(async move {
            let invitees = self
                .invitees
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            act::revoke(&self.client, batch, audit, &invitees).await
        })
    }

    fn requests(&self) -> u64 {
        self.client.requests()
    }

    /// The App installation lapse acts as, or the token's owner (`GET /user`).
    fn actors(&self) -> BoxFuture<'_, Vec<(String, String)>> {
        Box::pin(async move {
            let who = match &self.app {
                Some((app, installation)) => {
                    format!("GitHub App {app}, installation {installation}")
                }
                None => match self.client.get_json::<serde_json::Value>("/user").await {
                    Ok(user) => match user["login"].as_str() {
                        Some(login) => format!("token of {login}"),
                        None => return Vec::new(),
                    },
                    Err(e) => {
                        tracing::warn!("cannot tell who lapse acts as on GitHub: {e}");
                        return Vec::new();
                    }
                },
            };
            vec![("github".to_string(), who)]
        })
    }
}
