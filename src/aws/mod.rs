//! IAM as a live system: reads the managed roles' trust policies and the
//! users account's activity, and revokes by rewriting trust policies.
//!
//! One [`IamSystem`] holds a client per account and one request counter, so
//! observation and revocation in a run share credentials, AssumeRole
//! sessions and the count reported as `api_calls.aws`.

mod accounts;
mod act;
mod activity;
mod identity_center;
mod observe;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::AwsConfig;
use crate::model::System;
use crate::state::AwsState;
use crate::system::{
    Act, ActResult, AuditSink, AwsScope, BoxFuture, ObserveAws, ObserveError, Planned,
};

pub use accounts::SESSION_NAME;
pub use identity_center::IdentityCenterSystem;

/// The live IAM system of one run.
#[derive(Debug)]
pub struct IamSystem {
    accounts: accounts::Accounts,
    /// Reads in flight at once, per account.
    concurrency: usize,
    revoke_active_sessions: bool,
}

impl IamSystem {
    /// Connects with the standard AWS credential chain, failing fast when it
    /// finds no credentials.
    pub async fn connect(aws: &AwsConfig) -> Result<IamSystem, String> {
        Self::connect_with(aws, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// Connects with the given loader as the base (tests give one with fixed
    /// credentials and no environment). lapse's endpoint, region, retry and
    /// timeout settings and its request counter are applied on top.
    pub async fn connect_with(aws: &AwsConfig, loader: ConfigLoader) -> Result<IamSystem, String> {
        Ok(IamSystem {
            accounts: accounts::connect(aws, loader).await?,
            concurrency: aws.concurrency.max(1),
            revoke_active_sessions: aws.revoke_active_sessions,
        })
    }

    fn requests_sent(&self) -> u64 {
        self.accounts.requests.load(Ordering::Relaxed)
    }
}

impl ObserveAws for IamSystem {
    fn observe<'a>(&'a self, scope: &'a AwsScope) -> BoxFuture<'a, Result<AwsState, ObserveError>> {
        Box::pin(async move {
            let activity = async {
                match (&scope.users_account, scope.read_activity) {
                    (Some(wanted), true) => {
                        let users = self
                            .accounts
                            .users
                            .as_ref()
                            .filter(|u| u.account.id == wanted.id)
                            .ok_or_else(|| {
                                format!(
                                    "users account {} is not the one lapse connected to",
                                    wanted.id
                                )
                            })?;
                        activity::read(users, self.concurrency).await.map(Some)
                    }
                    _ => Ok(None),
                }
            };
            // The first failure ends both reads: no partial state is kept.
            let (roles, activity) = tokio::try_join!(
                observe::read_roles(&self.accounts, &scope.roles, self.concurrency),
                activity
            )
            .map_err(|message| ObserveError {
                system: System::Aws,
                message,
            })?;
            let (users, activity_source) = match activity {
                Some((users, source)) => (Some(users), Some(source.to_string())),
                None => (None, None),
            };
            Ok(AwsState {
                roles,
                users,
                activity_source,
            })
        })
    }

    fn requests(&self) -> u64 {
        self.requests_sent()
    }
}

impl Act for IamSystem {
    fn system(&self) -> System {
        System::Aws
    }

    fn revoke<'a>(
        &'a self,
        batch: Vec<Planned>,
        audit: &'a dyn AuditSink,
    ) -> BoxFuture<'a, Vec<ActResult>> {
        Box::pin(act::revoke(
            &self.accounts,
            self.revoke_active_sessions,
            batch,
            audit,
        ))
    }

    fn requests(&self) -> u64 {
        self.requests_sent()
    }

    /// The write credentials' caller ARN in each account (STS
    /// GetCallerIdentity); an account that cannot say is left out, and its
    /// records name no actor rather than a guess.
    fn actors(&self) -> BoxFuture<'_, Vec<(String, String)>> {
        Box::pin(async move {
            let mut seen = std::collections::BTreeSet::new();
            let mut actors = Vec::new();
            for client in self.accounts.by_alias.values() {
                if !seen.insert(client.account.id.clone()) {
                    continue;
                }
                match client.write_sts.get_caller_identity().send().await {
                    Ok(who) => actors.push((
                        format!("aws:{}", client.account.id),
                        who.arn().unwrap_or("(no ARN)").to_string(),
                    )),
                    Err(e) => tracing::warn!(
                        account = %client.account.alias,
                        "cannot tell who lapse acts as: {}",
                        describe(&e)
                    ),
                }
            }
            actors
        })
    }
}

/// An SDK error as an operator reads it: IAM's code and message when IAM
/// answered, else the whole chain of causes (connection refused, no
/// credentials, timeout), which the SDK's own Display leaves out.
pub fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match error.code() {
        Some(code) => format!("{code}: {}", error.message().unwrap_or("(no message)")),
        None => causes(error),
    }
}

/// An error and its sources, each once, as `outer: inner: innermost`.
pub(crate) fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Whether IAM refused the caller: missing permission, or an SCP.
pub(crate) fn is_access_denied<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(
        error.code(),
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
    )
}

/// Runs `task` on every item with at most `limit` in flight, keeping the
/// items' order. The first error is returned and the remaining tasks are
/// cancelled: a partial answer is never returned.
pub(crate) async fn bounded<I, T, F, Fut>(
    items: Vec<I>,
    limit: usize,
    task: F,
) -> Result<Vec<T>, String>
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
    T: Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut running = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let permits = permits.clone();
        let work = task(item);
        running.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, work.await)
        });
    }
    let mut done = Vec::with_capacity(running.len());
    while let Some(joined) = running.join_next().await {
        let (index, result) = joined.map_err(|e| format!("a read did not finish: {e}"))?;
        done.push((index, result?));
    }
    done.sort_by_key(|(index, _)| *index);
    Ok(done.into_iter().map(|(_, value)| value).collect())
}
