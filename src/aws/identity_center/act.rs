//! Revoking in Identity Center: a user's direct assignment is deleted (and
//! the deletion, which Identity Center carries out in the background,
//! followed to its end); a group membership is removed. Each change is
//! announced in the audit trail first, and is `done` only when a read after
//! it shows the grant gone.

use std::time::Duration;

use aws_sdk_identitystore::types::MemberId;
use aws_sdk_ssoadmin::error::ProvideErrorMetadata;
use aws_sdk_ssoadmin::types::{PrincipalType, StatusValues, TargetType};

use super::Clients;
use crate::aws::describe;
use crate::config::IdentityCenterConfig;
use crate::model::{Outcome, Revocation, System};
use crate::system::{ActResult, AuditEvent, AuditSink, Planned};

/// How often, and how long at most, a deletion's status is asked for.
const POLL_ATTEMPTS: u32 = 20;
const POLL_FIRST_WAIT: Duration = Duration::from_millis(200);
const POLL_MAX_WAIT: Duration = Duration::from_secs(5);
const POLL_DEADLINE: Duration = Duration::from_secs(60);

/// Carries out a batch (one unit: one assignment, or one membership with
/// every finding it carries out), one result per planned revocation.
pub(super) async fn revoke(
    clients: &Clients,
    config: &IdentityCenterConfig,
    batch: Vec<Planned>,
    audit: &dyn AuditSink,
) -> Vec<ActResult> {
    let Some(first) = batch.first() else {
        return Vec::new();
    };
    let change = Change {
        clients,
        config,
        revocation: first.revocation.clone(),
        planned: &batch,
        audit,
    };
    let outcome = match &first.revocation {
        Revocation::SsoAssignment { .. } => change.delete_assignment().await,
        Revocation::SsoGroupMembership { .. } => change.remove_membership().await,
        other => Err(format!("not an Identity Center revocation: {other:?}")),
    };
    change.settle(outcome)
}

/// One change and the findings it carries out.
struct Change<'a> {
    clients: &'a Clients,
    config: &'a IdentityCenterConfig,
    revocation: Revocation,
    planned: &'a [Planned],
    audit: &'a dyn AuditSink,
}

impl Change<'_> {
    /// What the audit trail names as changed.
    fn target(&self) -> String {
        match &self.revocation {
            Revocation::SsoAssignment { target, .. } => target.clone(),
            Revocation::SsoGroupMembership { group, .. } => crate::model::sso_group_target(group),
            _ => String::new(),
        }
    }

    fn user(&self) -> (&str, &str) {
        match &self.revocation {
            Revocation::SsoAssignment {
                user_id, user_name, ..
            }
            | Revocation::SsoGroupMembership {
                user_id, user_name, ..
            } => (user_id, user_name),
            _ => ("", ""),
        }
    }

    /// Deletes the assignment unless a read shows it gone already, follows
    /// the deletion to its end, and reads again.
    async fn delete_assignment(&self) -> Result<(), String> {
        let Revocation::SsoAssignment {
            account_id,
            permission_set_arn,
            user_id,
            ..
        } = &self.revocation
        else {
            return Err("not an assignment".into());
        };
        if !self
            .assigned(account_id, permission_set_arn, user_id)
            .await?
        {
            return Ok(());
        }
        self.intent()?;
        let deleted = self
            .clients
            .write_admin
            .delete_account_assignment()
            .instance_arn(&self.config.instance_arn)
            .target_id(account_id)
            .target_type(TargetType::AwsAccount)
            .permission_set_arn(permission_set_arn)
            .principal_type(PrincipalType::User)
            .principal_id(user_id)
            .send()
            .await
            .map_err(|e| format!("DeleteAccountAssignment failed: {}", describe(&e)))?;
        let status = deleted.account_assignment_deletion_status();
        let request_id = status.and_then(|s| s.request_id()).map(str::to_string);
        let finished = status.and_then(|s| s.status()).cloned();
        if finished != Some(StatusValues::Succeeded) {
            let request_id =
                request_id.ok_or("DeleteAccountAssignment answered without a request ID")?;
            self.await_deletion(&request_id).await?;
        }
        if self
            .assigned(account_id, permission_set_arn, user_id)
            .await?
        {
            return Err(format!(
                "not verified: {} is still assigned when read after the deletion",
                self.user().1
            ));
        }
        Ok(())
    }

    /// Polls the deletion until it succeeds or fails, bounded in attempts and time.
    async fn await_deletion(&self, request_id: &str) -> Result<(), String> {
        let started = tokio::time::Instant::now();
        let mut wait = POLL_FIRST_WAIT;
        for _ in 0..POLL_ATTEMPTS {
            let out = self
                .clients
                .write_admin
                .describe_account_assignment_deletion_status()
                .instance_arn(&self.config.instance_arn)
                .account_assignment_deletion_request_id(request_id)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "not verified: DescribeAccountAssignmentDeletionStatus failed: {}",
                        describe(&e)
                    )
                })?;
            let status = out.account_assignment_deletion_status();
            match status.and_then(|s| s.status()) {
                Some(StatusValues::Succeeded) => return Ok(()),
                Some(StatusValues::Failed) => {
                    let why = status
                        .and_then(|s| s.failure_reason())
                        .unwrap_or("no reason given");
                    return Err(format!("the deletion failed: {why}"));
                }
                _ => {}
            }
            if started.elapsed() + wait > POLL_DEADLINE {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(POLL_MAX_WAIT);
        }
        Err(format!(
            "not verified: the deletion (request {request_id}) had not finished after {} s",
            started.elapsed().as_secs()
        ))
    }

    /// Whether the user is assigned the permission set in the account now.
    async fn assigned(
        &self,
        account_id: &str,
        permission_set_arn: &str,
        user_id: &str,
    ) -> Result<bool, String> {
        let mut pages = self
            .clients
            .admin
            .list_account_assignments()
            .instance_arn(&self.config.instance_arn)
            .account_id(account_id)
            .permission_set_arn(permission_set_arn)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                format!(
                    "cannot read the assignments of {}: {}",
                    self.target(),
                    describe(&e)
                )
            })?;
            let found = page.account_assignments().iter().any(|a| {
                a.principal_type() == Some(&PrincipalType::User)
                    && a.principal_id() == Some(user_id)
            });
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Removes the membership unless a read shows it gone already, and reads again.
    async fn remove_membership(&self) -> Result<(), String> {
        let Revocation::SsoGroupMembership { group_id, .. } = &self.revocation else {
            return Err("not a group membership".into());
        };
        let Some(membership_id) = self.membership(group_id).await? else {
            return Ok(());
        };
        self.intent()?;
        self.clients
            .write_store
            .delete_group_membership()
            .identity_store_id(&self.config.identity_store_id)
            .membership_id(&membership_id)
            .send()
            .await
            .map_err(|e| format!("DeleteGroupMembership failed: {}", describe(&e)))?;
        if self.membership(group_id).await?.is_some() {
            return Err(format!(
                "not verified: {} is still a member of {} when read after the removal",
                self.user().1,
                self.target()
            ));
        }
        Ok(())
    }

    /// The membership's ID, or None when the user is not a member.
    async fn membership(&self, group_id: &str) -> Result<Option<String>, String> {
        let found = self
            .clients
            .store
            .get_group_membership_id()
            .identity_store_id(&self.config.identity_store_id)
            .group_id(group_id)
            .member_id(MemberId::UserId(self.user().0.to_string()))
            .send()
            .await;
        match found {
            Ok(out) => Ok(Some(out.membership_id().to_string())),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(format!(
                "cannot read the membership of {} in {}: {}",
                self.user().1,
                self.target(),
                describe(&e)
            )),
        }
    }

    /// No change without its intent on record.
    fn intent(&self) -> Result<(), String> {
        self.record("intent", None, None).map_err(|problem| {
            format!("the audit intent could not be recorded, so nothing was changed: {problem}")
        })
    }

    /// Records the result and answers it for every finding of the change.
    fn settle(&self, outcome: Result<(), String>) -> Vec<ActResult> {
        let (result, error) = match outcome {
            Ok(()) => (Outcome::Done, None),
            Err(error) => {
                tracing::error!(target = %self.target(), "{error}");
                (Outcome::Failed, Some(error))
            }
        };
        if let Err(problem) = self.record("result", Some(result), error.as_deref()) {
            tracing::error!(target = %self.target(), "audit result not recorded: {problem}");
        }
        self.planned
            .iter()
            .map(|p| ActResult {
                finding: p.finding,
                outcome: result,
                error: error.clone(),
            })
            .collect()
    }

    fn record(
        &self,
        phase: &'static str,
        outcome: Option<Outcome>,
        error: Option<&str>,
    ) -> Result<(), String> {
        let mut reasons: Vec<&str> = Vec::new();
        for p in self.planned {
            if !reasons.contains(&p.reason.as_str()) {
                reasons.push(&p.reason);
            }
        }
        self.audit.record(AuditEvent {
            phase,
            system: System::Sso,
            target: self.target(),
            principals: vec![self.user().1.to_string()],
            reason: reasons.join("; "),
            result: outcome,
            error: error.map(str::to_string),
            before: None,
            after: None,
        })
    }
}
