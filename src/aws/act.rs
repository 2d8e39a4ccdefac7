//! Revoking in IAM: each role's trust policy is read, rewritten without the
//! planned principals, checked the way IAM checks it, and written once,
//! with an audit record before and after the write.

use std::collections::HashMap;

use aws_sdk_iam::error::ProvideErrorMetadata;
use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};

use super::accounts::{AccountClient, Accounts};
use super::describe;
use crate::model::{Outcome, Revocation, System};
use crate::state::role_arn_key;
use crate::system::{ActResult, AuditEvent, AuditSink, Planned};
use crate::trust_policy::{DEFAULT_MAX_SIZE, Removal, TrustPolicy};

/// The inline policy AWS's "Revoke active sessions" puts on a role.
pub const REVOKE_SESSIONS_POLICY_NAME: &str = "AWSRevokeOlderSessions";

/// AWS's documented "revoke older sessions" policy: deny everything to
/// sessions issued before `cutoff`.
pub fn revoke_older_sessions_policy(cutoff: DateTime<Utc>) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{}"}}}}}}}}"#,
        cutoff.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// Carries out a batch of trust-policy revocations, one role at a time (a
/// batch is small: the safety gates cap it), and answers one result per
/// planned revocation, in the batch's order.
pub async fn revoke(
    accounts: &Accounts,
    revoke_sessions: bool,
    batch: Vec<Planned>,
    audit: &dyn AuditSink,
) -> Vec<ActResult> {
    let order: HashMap<usize, usize> = batch
        .iter()
        .enumerate()
        .map(|(position, p)| (p.finding, position))
        .collect();
    let mut roles: Vec<(String, Vec<Planned>)> = Vec::new();
    let mut results = Vec::new();
    for planned in batch {
        match &planned.revocation {
            Revocation::TrustPrincipal { role_arn, .. } => {
                match roles.iter_mut().find(|(arn, _)| arn == role_arn) {
                    Some((_, group)) => group.push(planned),
                    None => roles.push((role_arn.clone(), vec![planned])),
                }
            }
            other => results.push(ActResult {
                finding: planned.finding,
                outcome: Outcome::Failed,
                error: Some(format!("not an IAM revocation: {other:?}")),
            }),
        }
    }
    for (role_arn, planned) in roles {
        let role = RoleRevocation {
            role_arn: &role_arn,
            planned: &planned,
            audit,
        };
        results.extend(role.run(accounts, revoke_sessions).await);
    }
    results.sort_by_key(|r| order.get(&r.finding).copied().unwrap_or(usize::MAX));
    results
}

/// The planned revocations on one role.
struct RoleRevocation<'a> {
    role_arn: &'a str,
    planned: &'a [Planned],
    audit: &'a dyn AuditSink,
}

impl RoleRevocation<'_> {
    async fn run(&self, accounts: &Accounts, revoke_sessions: bool) -> Vec<ActResult> {
        let all: Vec<&Planned> = self.planned.iter().collect();
        let Some((account_id, role_name)) = role_arn_key(self.role_arn) else {
            return self.fail(
                &all,
                format!("`{}` is not an IAM role ARN", self.role_arn),
                None,
                None,
            );
        };
        let Some(client) = accounts.for_account_id(account_id) else {
            return self.fail(
                &all,
                format!(
                    "role {} is in account {account_id}, which is not in aws.accounts",
                    self.role_arn
                ),
                None,
                None,
            );
        };
        let before = match self.read(client, role_name).await {
            Ok(policy) => policy,
            Err(error) => return self.fail(&all, error, None, None),
        };

        let mut after = before.clone();
        let mut removed = Vec::new();
        let mut absent = Vec::new();
        let mut refused = Vec::new();
        for planned in self.planned {
            match after.remove_principal(principal_of(planned)) {
                Removal::Removed => removed.push(planned),
                Removal::Absent => absent.push(planned),
                Removal::WouldLeaveNoStatement => refused.push(planned),
            }
        }
        let mut results = Vec::new();
        if !absent.is_empty() {
            // Already revoked (by hand, or by an earlier run): nothing to write.
            self.record_result(
                &absent,
                Some(Outcome::Done),
                None,
                Some(&before),
                Some(&before),
            );
            results.extend(absent.iter().map(|p| result(p, Outcome::Done, None)));
        }
        for planned in refused {
            let error = format!(
                "refused: removing {} would leave the trust policy of {} with no statement, which IAM does not accept; delete the role or add the principal that should keep it, then apply again",
                principal_of(planned),
                self.role_arn
            );
            self.record_result(
                &[planned],
                Some(Outcome::Skipped),
                Some(&error),
                Some(&before),
                None,
            );
            results.push(result(planned, Outcome::Skipped, Some(error)));
        }
        if removed.is_empty() {
            return results;
        }

        // IAM's quota may have been raised for this account; a removal only
        // shrinks the document, so what IAM holds now bounds what it takes.
        let limit = DEFAULT_MAX_SIZE.max(before.size());
        if let Err(problem) = after.validate(limit) {
            let error = format!(
                "lapse will not write this trust policy, IAM would reject it: {problem}; nothing was changed"
            );
            results.extend(self.fail(&removed, error, Some(&before), Some(&after)));
            return results;
        }

        // No change without its intent on record.
        if let Err(problem) =
            self.record("intent", &removed, None, None, Some(&before), Some(&after))
        {
            let error = format!(
                "the audit intent could not be recorded, so nothing was changed: {problem}"
            );
            results.extend(self.fail(&removed, error, Some(&before), None));
            return results;
        }
        let written = client
            .iam
            .update_assume_role_policy()
            .role_name(role_name)
            .policy_document(after.to_json())
            .send()
            .await;
        let outcome = match written {
            Err(e) => Err(match e.code() {
                Some("NoSuchEntity") => format!(
                    "role {} no longer exists (deleted since the plan?): {}",
                    self.role_arn,
                    describe(&e)
                ),
                _ => format!(
                    "UpdateAssumeRolePolicy on {} failed: {}",
                    self.role_arn,
                    describe(&e)
                ),
            }),
            Ok(_) if revoke_sessions => self.revoke_older_sessions(client, role_name).await,
            Ok(_) => Ok(()),
        };
        match outcome {
            Ok(()) => {
                self.record_result(
                    &removed,
                    Some(Outcome::Done),
                    None,
                    Some(&before),
                    Some(&after),
                );
                results.extend(removed.iter().map(|p| result(p, Outcome::Done, None)));
            }
            Err(error) => results.extend(self.fail(&removed, error, Some(&before), Some(&after))),
        }
        results
    }

    /// The role's trust policy as IAM holds it now: nothing is cached
    /// between the plan and the write.
    async fn read(&self, client: &AccountClient, role_name: &str) -> Result<TrustPolicy, String> {
        let out = client
            .iam
            .get_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("NoSuchEntity") => format!(
                    "role {} no longer exists (deleted since the plan?): {}",
                    self.role_arn,
                    describe(&e)
                ),
                _ => format!("cannot read role {}: {}", self.role_arn, describe(&e)),
            })?;
        let document = out
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .ok_or_else(|| format!("role {} came without its trust policy", self.role_arn))?;
        TrustPolicy::parse(document)
            .map_err(|e| format!("cannot read the trust policy of {}: {e}", self.role_arn))
    }

    /// Denies the role's sessions issued before now. The cutoff is rounded
    /// up to the next whole second, so that no session issued in the second
    /// of the revocation escapes it; one issued just after must be asked for
    /// again, which is cheap.
    async fn revoke_older_sessions(
        &self,
        client: &AccountClient,
        role_name: &str,
    ) -> Result<(), String> {
        let now = Utc::now();
        let cutoff = now
            .duration_trunc(Duration::seconds(1))
            .map(|t| t + Duration::seconds(1))
            .unwrap_or(now);
        client
            .iam
            .put_role_policy()
            .role_name(role_name)
            .policy_name(REVOKE_SESSIONS_POLICY_NAME)
            .policy_document(revoke_older_sessions_policy(cutoff))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "removed from the trust policy of {}, but putting the {REVOKE_SESSIONS_POLICY_NAME} policy failed, so sessions issued before now stay valid: {}",
                    self.role_arn,
                    describe(&e)
                )
            })
    }

    /// Records the failure of these revocations and answers it for each.
    fn fail(
        &self,
        planned: &[&Planned],
        error: String,
        before: Option<&TrustPolicy>,
        after: Option<&TrustPolicy>,
    ) -> Vec<ActResult> {
        tracing::error!(target = self.role_arn, "{error}");
        self.record_result(planned, Some(Outcome::Failed), Some(&error), before, after);
        planned
            .iter()
            .map(|p| result(p, Outcome::Failed, Some(error.clone())))
            .collect()
    }

    /// Records a `result` event; one that cannot be recorded is logged, as
    /// the change it reports has happened by then.
    fn record_result(
        &self,
        planned: &[&Planned],
        outcome: Option<Outcome>,
        error: Option<&str>,
        before: Option<&TrustPolicy>,
        after: Option<&TrustPolicy>,
    ) {
        if let Err(problem) = self.record("result", planned, outcome, error, before, after) {
            tracing::error!(
                target = self.role_arn,
                "audit result not recorded: {problem}"
            );
        }
    }

    /// Records one audit event.
    fn record(
        &self,
        phase: &'static str,
        planned: &[&Planned],
        outcome: Option<Outcome>,
        error: Option<&str>,
        before: Option<&TrustPolicy>,
        after: Option<&TrustPolicy>,
    ) -> Result<(), String> {
        let mut reasons: Vec<&str> = Vec::new();
        for p in planned {
            if !reasons.contains(&p.reason.as_str()) {
                reasons.push(&p.reason);
            }
        }
        self.audit.record(AuditEvent {
            phase,
            system: System::Aws,
            target: self.role_arn.to_string(),
            principals: planned
                .iter()
                .map(|p| principal_of(p).to_string())
                .collect(),
            reason: reasons.join("; "),
            result: outcome,
            error: error.map(str::to_string),
            before: before.map(|p| p.document.clone()),
            after: after.map(|p| p.document.clone()),
        })
    }
}

fn principal_of(planned: &Planned) -> &str {
    match &planned.revocation {
        Revocation::TrustPrincipal { principal, .. } => principal,
        _ => "",
    }
}

fn result(planned: &Planned, outcome: Outcome, error: Option<String>) -> ActResult {
    ActResult {
        finding: planned.finding,
        outcome,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sessions_policy_has_the_shape_aws_documents() {
        let cutoff: DateTime<Utc> = "2026-11-22T07:00:01Z".parse().unwrap();
        let policy: serde_json::Value =
            serde_json::from_str(&revoke_older_sessions_policy(cutoff)).unwrap();
        assert_eq!(
            policy,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-11-22T07:00:01Z"}}
                }
            })
        );
    }
}
