//! The two seams between the pure core and the outside world: reading what a
//! system grants ([`Observe`]) and revoking a grant in it ([`Act`]). Each
//! system has a live implementation; the snapshot implements observation
//! offline.

use std::future::Future;
use std::pin::Pin;

use crate::config::{Account, PermissionSetRef, RoleRef};
use crate::model::{Outcome, Revocation, System};
use crate::state::{AwsState, GithubState, SsoState};

/// A boxed future, so the seams can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What GitHub observation must cover.
#[derive(Debug, Clone)]
pub struct GithubScope {
    pub org: String,
    /// Managed team slugs, lower case.
    pub teams: Vec<String>,
}

/// What AWS observation must cover.
#[derive(Debug, Clone)]
pub struct AwsScope {
    pub roles: Vec<RoleRef>,
    /// Where the people's IAM users live; activity is read there when set.
    pub users_account: Option<Account>,
    /// Whether observed inactivity is on (`policy.inactivity_limit_days`).
    pub read_activity: bool,
}

/// What Identity Center observation must cover.
#[derive(Debug, Clone)]
pub struct SsoScope {
    pub permission_sets: Vec<PermissionSetRef>,
    /// Managed groups, by display name.
    pub groups: Vec<String>,
}

/// A read that failed or came back partial. The run stops before anything
/// changes: a failed read must never look like "nobody holds this".
#[derive(Debug, Clone, thiserror::Error)]
#[error("{system}: {message}")]
pub struct ObserveError {
    pub system: System,
    pub message: String,
}

/// Reads what GitHub grants in the managed scope. Implementations only read,
/// and count the requests they send.
pub trait ObserveGithub: Send + Sync {
    fn observe<'a>(
        &'a self,
        scope: &'a GithubScope,
    ) -> BoxFuture<'a, Result<GithubState, ObserveError>>;
    /// HTTP requests sent so far, retries and pages included.
    fn requests(&self) -> u64;
}

/// Reads what IAM grants in the managed scope, and the users account's activity.
pub trait ObserveAws: Send + Sync {
    fn observe<'a>(&'a self, scope: &'a AwsScope) -> BoxFuture<'a, Result<AwsState, ObserveError>>;
    /// HTTP requests sent so far, retries, pages and AssumeRole calls included.
    fn requests(&self) -> u64;
}

/// Reads what IAM Identity Center grants in the managed scope.
pub trait ObserveSso: Send + Sync {
    fn observe<'a>(&'a self, scope: &'a SsoScope) -> BoxFuture<'a, Result<SsoState, ObserveError>>;
    /// HTTP requests sent so far, retries, pages and AssumeRole calls included.
    fn requests(&self) -> u64;
}

/// One revocation to carry out, with the finding it comes from.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Index of the finding in the plan, so results map back to it.
    pub finding: usize,
    pub revocation: Revocation,
    pub reason: String,
}

/// What happened to one planned revocation.
#[derive(Debug, Clone, PartialEq)]
pub struct ActResult {
    pub finding: usize,
    pub outcome: Outcome,
    pub error: Option<String>,
}

/// The audit trail a revoker writes to: an intent before each change and a
/// result after it. Writing must reach disk before the change proceeds.
pub trait AuditSink: Send + Sync {
    /// Records one event durably. When an `intent` cannot be recorded the
    /// revoker must not make that change: report it as failed with this error.
    fn record(&self, event: AuditEvent) -> Result<(), String>;
}

/// One audit record (see the README: Acting, and the record it leaves).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEvent {
    /// `intent` before a change, `result` after it.
    pub phase: &'static str,
    pub system: System,
    pub target: String,
    pub principals: Vec<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For IAM: the whole trust policy before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// For IAM: the whole trust policy after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

/// Revokes grants in one system. Every revocation is idempotent: a grant
/// already gone is `done`. One failure never stops the others.
pub trait Act: Send + Sync {
    fn system(&self) -> System;
    fn revoke<'a>(
        &'a self,
        batch: Vec<Planned>,
        audit: &'a dyn AuditSink,
    ) -> BoxFuture<'a, Vec<ActResult>>;
    fn requests(&self) -> u64;
    /// Who this system's changes are made as, for the audit trail: pairs of
    /// a key (`github`, or `aws:ACCOUNT_ID`) and the identity (a caller
    /// ARN, an App installation, a token's owner). Asked only when acting.
    fn actors(&self) -> BoxFuture<'_, Vec<(String, String)>> {
        Box::pin(async { Vec::new() })
    }
}
