//! Who lapse is to GitHub: a token, or a GitHub App that signs JWTs to mint
//! installation tokens and renews them before they expire (or when GitHub
//! stops accepting one).
//!
//! An App asks for each installation token narrowed to one [`Scope`] (what
//! a kind of step needs), and keeps one token per scope, each renewed on its
//! own. Requests made as an App go through a plain token client holding the
//! installation token, because octocrab's installation auth sends no
//! credentials to absolute URLs on hosts other than api.github.com (every
//! `Link` page on GitHub Enterprise Server).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use octocrab::Octocrab;
use octocrab::models::AppId;
use tokio::sync::Mutex;

use super::client::Client;
use super::error::ApiError;
use super::request::{Call, JSON, Verb};
use super::transport::{error_chain, octocrab_builder};
use crate::config::{GithubAuth, GithubConfig};

/// An installation token is replaced when it has less than this left.
const TOKEN_REFRESH_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

pub(super) enum Credentials {
    Token {
        client: Box<Octocrab>,
        /// Kept to be redacted from every message.
        token: String,
    },
    App(Box<App>),
}

/// What an installation token is minted for: the permissions (and
/// repositories) one kind of step needs, so a token that leaks from a read
/// can change nothing. A token client ignores it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Scope {
    /// `members: read`: every read of teams, members and invitations,
    /// including the read-back that verifies a revocation.
    MembersRead,
    /// `members: write`: removing a membership or cancelling an invitation.
    /// Minted at the first write, so a run that revokes nothing has none.
    MembersWrite,
    /// `contents: read` on this one repository: reading the roster. A token
    /// of its own rather than the read token widened, because a token
    /// limited to one repository still carries organisation permissions:
    /// combined, every team read could read the repository and the roster's
    /// read could list the teams. Apart, each carries only what it uses, for
    /// one more exchange per run.
    RosterContents(String),
}

impl Scope {
    /// The body of `POST /app/installations/{id}/access_tokens` that asks
    /// for exactly this scope.
    fn token_request(&self) -> serde_json::Value {
        match self {
            Scope::MembersRead => serde_json::json!({"permissions": {"members": "read"}}),
            Scope::MembersWrite => serde_json::json!({"permissions": {"members": "write"}}),
            Scope::RosterContents(repo) => serde_json::json!({
                "permissions": {"contents": "read"},
                "repositories": [repo],
            }),
        }
    }
}

/// One cached installation token, locked while it is renewed.
type TokenSlot = Arc<Mutex<Option<InstallationToken>>>;

/// A GitHub App installation.
pub(super) struct App {
    /// Signs its requests with the App's JWT: only used to mint tokens.
    jwt_client: Octocrab,
    installation_id: u64,
    /// One token per scope, so each is renewed (or retired) apart.
    tokens: std::sync::Mutex<HashMap<Scope, TokenSlot>>,
    minted: AtomicU64,
}

struct InstallationToken {
    client: Octocrab,
    expires_at: DateTime<Utc>,
    /// Which token this is, so a 401 retires only the token it was sent with.
    serial: u64,
}

/// The client one attempt is sent with, and the installation token it
/// carries, if any.
pub(super) struct Session {
    pub client: Octocrab,
    pub token_serial: Option<u64>,
}

impl Credentials {
    /// The credentials `config` asks for, or a token client with `token`
    /// when the caller holds one, whatever `config.auth` says.
    pub(super) fn new(config: &GithubConfig, token: Option<&str>) -> Result<Credentials, String> {
        match (&config.auth, token) {
            (_, Some(token)) => token_credentials(&config.api_url, token),
            (GithubAuth::Token { .. }, None) => Err("a token client needs a token".into()),
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
                let jwt_client = octocrab_builder(&config.api_url)?
                    .app_from_rsa_pem(AppId(*id), &pem)
                    .map_err(|_| {
                        format!(
                            "the GitHub App private key {} is not an RSA private key in PEM form",
                            private_key_path.display()
                        )
                    })?
                    .build()
                    .map_err(|e| format!("cannot build the GitHub client: {}", error_chain(&e)))?;
                Ok(Credentials::App(Box::new(App {
                    jwt_client,
                    installation_id: *installation_id,
                    tokens: std::sync::Mutex::new(HashMap::new()),
                    minted: AtomicU64::new(0),
                })))
            }
        }
    }

    /// Strings that must never appear in a message.
    pub(super) fn secrets(&self) -> Vec<String> {
        match self {
            Credentials::Token { token, .. } => vec![token.clone()],
            Credentials::App(_) => Vec::new(),
        }
    }

    /// The session for the App's own requests (a token client has none, and
    /// uses its token).
    pub(super) fn app_session(&self) -> Session {
        let client = match self {
            Credentials::App(app) => app.jwt_client.clone(),
            Credentials::Token { client, .. } => Octocrab::clone(client),
        };
        Session {
            client,
            token_serial: None,
        }
    }

    /// The session that carries the API credentials: the token client, or
    /// one holding an installation token for `scope` with at least a minute
    /// left (minted now through `client` if need be).
    pub(super) async fn session(
        &self,
        client: &Client,
        scope: &Scope,
    ) -> Result<Session, ApiError> {
        match self {
            Credentials::Token { client, .. } => Ok(Session {
                client: Octocrab::clone(client),
                token_serial: None,
            }),
            Credentials::App(app) => app.session(client, scope).await,
        }
    }

    /// Drops the cached installation token for `scope` if it is the one
    /// GitHub refused (another request may have replaced it already).
    pub(super) async fn retire(&self, scope: &Scope, serial: u64) {
        if let Credentials::App(app) = self {
            let slot = app.slot(scope);
            let mut cached = slot.lock().await;
            if cached.as_ref().is_some_and(|c| c.serial == serial) {
                *cached = None;
            }
        }
    }
}

fn token_credentials(api_url: &str, token: &str) -> Result<Credentials, String> {
    let token = token.trim();
    if token.is_empty() {
        return Err("the token is empty".into());
    }
    if !is_header_safe(token) {
        return Err("the token contains spaces or control characters".into());
    }
    let client = octocrab_builder(api_url)?
        .personal_token(token.to_string())
        .build()
        .map_err(|e| format!("cannot build the GitHub client: {}", error_chain(&e)))?;
    Ok(Credentials::Token {
        client: Box::new(client),
        token: token.to_string(),
    })
}

impl App {
    /// The cache of `scope`'s token, empty until its first use.
    fn slot(&self, scope: &Scope) -> TokenSlot {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(tokens.entry(scope.clone()).or_default())
    }

    /// Concurrent callers for one scope wait for the one exchange; other
    /// scopes do not wait for it.
    async fn session(&self, client: &Client, scope: &Scope) -> Result<Session, ApiError> {
        let slot = self.slot(scope);
        let mut cached = slot.lock().await;
        if let Some(current) = cached.as_ref()
            && current.expires_at - Utc::now() > TOKEN_REFRESH_MARGIN
        {
            return Ok(current.session());
        }
        let minted = Box::pin(self.mint(client, scope)).await?;
        let session = minted.session();
        *cached = Some(minted);
        Ok(session)
    }

    async fn mint(&self, client: &Client, scope: &Scope) -> Result<InstallationToken, ApiError> {
        #[derive(serde::Deserialize)]
        struct Minted {
            token: String,
            expires_at: DateTime<Utc>,
        }
        let path = format!("/app/installations/{}/access_tokens", self.installation_id);
        let malformed = |detail| ApiError::malformed(Verb::Post, &path, detail);
        let body = scope.token_request();
        let reply = client
            .send(&Call {
                verb: Verb::Post,
                uri: &path,
                accept: JSON,
                body: Some(&body),
                as_app: true,
                scope: scope.clone(),
                in_held_slot: false,
            })
            .await?;
        let minted: Minted = serde_json::from_str(&reply.body)
            .map_err(|e| malformed(format!("no installation token in it: {e}")))?;
        if !is_header_safe(&minted.token) {
            return Err(malformed(
                "the installation token has characters a header cannot carry".into(),
            ));
        }
        let token_client = octocrab_builder(client.api_base().as_str().trim_end_matches('/'))
            .and_then(|b| {
                b.personal_token(minted.token)
                    .build()
                    .map_err(|e| error_chain(&e))
            })
            .map_err(malformed)?;
        tracing::debug!(expires_at = %minted.expires_at, ?scope, "minted a GitHub App installation token");
        Ok(InstallationToken {
            client: token_client,
            expires_at: minted.expires_at,
            serial: self.minted.fetch_add(1, Ordering::SeqCst),
        })
    }
}

impl InstallationToken {
    fn session(&self) -> Session {
        Session {
            client: self.client.clone(),
            token_serial: Some(self.serial),
        }
    }
}

/// Visible ASCII only: what an `Authorization` header can carry (octocrab
/// panics on anything else).
fn is_header_safe(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_with_whitespace_are_not_header_safe() {
        assert!(is_header_safe("ghp_abc123"));
        assert!(!is_header_safe("ghp_abc\n"));
        assert!(!is_header_safe("ghp abc"));
    }

    #[test]
    fn each_scope_asks_for_its_permissions_only() {
        use serde_json::json;
        assert_eq!(
            Scope::MembersRead.token_request(),
            json!({"permissions": {"members": "read"}})
        );
        assert_eq!(
            Scope::MembersWrite.token_request(),
            json!({"permissions": {"members": "write"}})
        );
        assert_eq!(
            Scope::RosterContents("access".into()).token_request(),
            json!({"permissions": {"contents": "read"}, "repositories": ["access"]})
        );
    }
}
