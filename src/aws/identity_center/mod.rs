//! IAM Identity Center as a live system: reads the managed permission sets'
//! account assignments and the groups behind them, and revokes by deleting
//! a user's assignment or removing a group membership.
//!
//! One [`IdentityCenterSystem`] holds the sso-admin and identity-store
//! clients (a pair that reads, with the read role, and a pair that writes,
//! with the write role) and one request counter, reported as `api_calls.sso`.

mod act;
mod observe;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, ConfigLoader};

use super::accounts::{base_config, role_config};
use crate::config::{AwsConfig, IdentityCenterConfig};
use crate::model::System;
use crate::state::SsoState;
use crate::system::{
    Act, ActResult, AuditSink, BoxFuture, ObserveError, ObserveSso, Planned, SsoScope,
};

/// The clients of one run, read and write apart.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    pub admin: aws_sdk_ssoadmin::Client,
    pub store: aws_sdk_identitystore::Client,
    pub write_admin: aws_sdk_ssoadmin::Client,
    pub write_store: aws_sdk_identitystore::Client,
    pub write_sts: aws_sdk_sts::Client,
}

/// The live Identity Center system of one run.
#[derive(Debug)]
pub struct IdentityCenterSystem {
    clients: Clients,
    config: IdentityCenterConfig,
    requests: Arc<AtomicU64>,
    concurrency: usize,
}

impl IdentityCenterSystem {
    /// Connects with the standard AWS credential chain, failing fast when it
    /// finds no credentials.
    pub async fn connect(aws: &AwsConfig) -> Result<IdentityCenterSystem, String> {
        Self::connect_with(aws, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// Connects with the given loader as the base (tests give one with fixed
    /// credentials and no environment), in the instance's region.
    pub async fn connect_with(
        aws: &AwsConfig,
        loader: ConfigLoader,
    ) -> Result<IdentityCenterSystem, String> {
        let config = aws
            .identity_center
            .clone()
            .ok_or("the config has no aws.identity_center section")?;
        let requests = Arc::new(AtomicU64::new(0));
        let base = base_config(aws, loader, requests.clone(), config.region.clone()).await?;
        let read = role_config(&base, config.assume_role_arn.as_deref()).await;
        let write_role = config
            .write_role_arn
            .as_deref()
            .or(config.assume_role_arn.as_deref());
        let write = role_config(&base, write_role).await;
        Ok(IdentityCenterSystem {
            clients: Clients {
                admin: aws_sdk_ssoadmin::Client::new(&read),
                store: aws_sdk_identitystore::Client::new(&read),
                write_admin: aws_sdk_ssoadmin::Client::new(&write),
                write_store: aws_sdk_identitystore::Client::new(&write),
                write_sts: aws_sdk_sts::Client::new(&write),
            },
            config,
            requests,
            concurrency: aws.concurrency.max(1),
        })
    }

    fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

impl ObserveSso for IdentityCenterSystem {
    fn observe<'a>(&'a self, scope: &'a SsoScope) -> BoxFuture<'a, Result<SsoState, ObserveError>> {
        Box::pin(async move {
            observe::read(&self.clients, &self.config, scope, self.concurrency)
                .await
                .map_err(|message| ObserveError {
                    system: System::Sso,
                    message,
                })
        })
    }

    fn requests(&self) -> u64 {
        self.requests_sent()
    }
}

impl Act for IdentityCenterSystem {
    fn system(&self) -> System {
        System::Sso
    }

    fn revoke<'a>(
        &'a self,
        batch: Vec<Planned>,
        audit: &'a dyn AuditSink,
    ) -> BoxFuture<'a, Vec<ActResult>> {
        Box::pin(act::revoke(&self.clients, &self.config, batch, audit))
    }

    fn requests(&self) -> u64 {
        self.requests_sent()
    }

    /// The write credentials' caller ARN, for the audit trail.
    fn actors(&self) -> BoxFuture<'_, Vec<(String, String)>> {
        Box::pin(async move {
            match self.clients.write_sts.get_caller_identity().send().await {
                Ok(who) => vec![(
                    "sso".to_string(),
                    who.arn().unwrap_or("(no ARN)").to_string(),
                )],
                Err(e) => {
                    tracing::warn!(
                        "cannot tell who lapse acts as in Identity Center: {}",
                        super::describe(&e)
                    );
                    Vec::new()
                }
            }
        })
    }
}
