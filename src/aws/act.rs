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

/// What removing the planned principals from one trust policy comes to.
struct Change<'p> {
    after: TrustPolicy,
    removed: Vec<&'p Planned>,
    /// Not in the policy any more: nothing to write for them.
    absent: Vec<&'p Planned>,
    /// Their removal would leave no statement, which IAM does not accept.
    refused: Vec<&'p Planned>,
}

impl<'p> Change<'p> {
    fn of(before: &TrustPolicy, planned: &'p [Planned]) -> Self {
        let mut change = Change {
            after: before.clone(),
            removed: Vec::new(),
            absent: Vec::new(),
            refused: Vec::new(),
        };
        for p in planned {
            match change.after.remove_principal(principal_of(p)) {
                Removal::Removed => change.removed.push(p),
                Removal::Absent => change.absent.push(p),
                Removal::WouldLeaveNoStatement => change.refused.push(p),
            }
        }
        change
    }
}

impl RoleRevocation<'_> {
    async fn run(&self, accounts: &Accounts, revoke_sessions: bool) -> Vec<ActResult> {
        let all: Vec<&Planned> = self.planned.iter().collect();
        let (client, role_name) = match self.locate(accounts) {
            Ok(found) => found,
            Err(error) => return self.fail(&all, error, None, None),
        };
        let before = match self.read(client, role_name).await {
            Ok(policy) => policy,
            Err(error) => return self.fail(&all, error, None, None),
        };
        let change = Change::of(&before, self.planned);
        let mut results = self.settle_unwritten(&change, &before);
        if !change.removed.is_empty() {
            let write = Write {
                client,
                role_name,
                before: &before,
                after: &change.after,
                removed: &change.removed,
            };
            results.extend(self.write(&write, revoke_sessions).await);
        }
        results
    }

    /// The account's client and the role's name, from the role's ARN.
    fn locate<'a>(
        &'a self,
        accounts: &'a Accounts,
    ) -> Result<(&'a AccountClient, &'a str), String> {
        let (account_id, role_name) = role_arn_key(self.role_arn)
            .ok_or_else(|| format!("`{}` is not an IAM role ARN", self.role_arn))?;
        let client = accounts.for_account_id(account_id).ok_or_else(|| {
            format!(
                "role {} is in account {account_id}, which is not in aws.accounts",
                self.role_arn
            )
        })?;
        Ok((client, role_name))
    }

    /// Principals already gone are done (the read just made shows it);
    /// those whose removal IAM would not accept are skipped, with why.
    fn settle_unwritten(&self, change: &Change<'_>, before: &TrustPolicy) -> Vec<ActResult> {
        let mut results = Vec::new();
        if !change.absent.is_empty() {
            self.record_result(
                &change.absent,
                Some(Outcome::Done),
                None,
                Some(before),
                Some(before),
            );
            results.extend(change.absent.iter().map(|p| result(p, Outcome::Done, None)));
        }
        for &planned in &change.refused {
            let error = format!(
                "refused: removing {} would leave the trust policy of {} with no statement, which IAM does not accept; delete the role or add the principal that should keep it, then apply again",
                principal_of(planned),
                self.role_arn
            );
            self.record_result(
                &[planned],
                Some(Outcome::Skipped),
                Some(&error),
                Some(before),
                None,
            );
            results.push(result(planned, Outcome::Skipped, Some(error)));
        }
        results
    }

    /// Checks, cuts off older sessions when asked (first, so that a failure
    /// leaves the principal in place for the next run to retry both),
    /// records the intent, writes, and reads back to verify.
    async fn write(&self, write: &Write<'_>, revoke_sessions: bool) -> Vec<ActResult> {
        let Write {
            client,
            role_name,
            before,
            after,
            removed,
        } = *write;
        // IAM's quota may have been raised for this account; a removal only
        // shrinks the document, so what IAM holds now bounds what it takes.
        let limit = DEFAULT_MAX_SIZE.max(before.size());
        if let Err(problem) = after.validate(limit) {
            let error = format!(
                "lapse will not write this trust policy, IAM would reject it: {problem}; nothing was changed"
            );
            return self.fail(removed, error, Some(before), Some(after));
        }
        if revoke_sessions
            && let Err(error) = self.cut_off_sessions(client, role_name, removed).await
        {
            return self.fail(removed, error, Some(before), None);
        }
        // No change without its intent on record.
        if let Err(problem) = self.record("intent", removed, None, None, Some(before), Some(after))
        {
            let error = format!(
                "the audit intent could not be recorded, so nothing was changed: {problem}"
            );
            return self.fail(removed, error, Some(before), None);
        }
        let written = client
            .write
            .update_assume_role_policy()
            .role_name(role_name)
            .policy_document(after.to_json())
            .send()
            .await;
        if let Err(e) = written {
            let error = match e.code() {
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
            };
            return self.fail(removed, error, Some(before), Some(after));
        }
        self.verify(client, role_name, removed, before).await
    }

    /// Reads the trust policy again: a principal is done only when the
    /// read shows it gone.
    async fn verify(
        &self,
        client: &AccountClient,
        role_name: &str,
        removed: &[&Planned],
        before: &TrustPolicy,
    ) -> Vec<ActResult> {
        let now = match self.read(client, role_name).await {
            Ok(policy) => policy,
            Err(error) => {
                let error = format!("not verified: the write was sent, but {error}");
                return self.fail(removed, error, Some(before), None);
            }
        };
        let (gone, still): (Vec<&Planned>, Vec<&Planned>) = removed
            .iter()
            .partition(|p| now.clone().remove_principal(principal_of(p)) == Removal::Absent);
        let mut results = Vec::new();
        if !gone.is_empty() {
            self.record_result(&gone, Some(Outcome::Done), None, Some(before), Some(&now));
            results.extend(gone.iter().map(|p| result(p, Outcome::Done, None)));
        }
        for planned in still {
            let error = format!(
                "not verified: {} is still in the trust policy of {} when read after the write",
                principal_of(planned),
                self.role_arn
            );
            results.extend(self.fail(&[planned], error, Some(before), Some(&now)));
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

    /// Denies the role's sessions issued before now, audited as a change of
    /// its own. The cutoff is rounded up to the next whole second, so that
    /// no session issued in the second of the revocation escapes it; one
    /// issued just after must be asked for again, which is cheap.
    async fn cut_off_sessions(
        &self,
        client: &AccountClient,
        role_name: &str,
        removed: &[&Planned],
    ) -> Result<(), String> {
        let now = Utc::now();
        let cutoff = now
            .duration_trunc(Duration::seconds(1))
            .ok()
            .and_then(|t| t.checked_add_signed(Duration::seconds(1)))
            .unwrap_or(now);
        let policy = revoke_older_sessions_policy(cutoff);
        let document: serde_json::Value = serde_json::from_str(&policy).unwrap_or_default();
        let cut_off = SessionCutOff {
            role: self,
            removed,
            reason: format!(
                "session cut-off before removal: the {REVOKE_SESSIONS_POLICY_NAME} policy denies sessions issued before {}",
                cutoff.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            document,
        };
        cut_off
            .record("intent", None, None)
            .map_err(|problem| {
                format!("the audit intent of the session cut-off could not be recorded, so nothing was changed: {problem}")
            })?;
        let put = client
            .write
            .put_role_policy()
            .role_name(role_name)
            .policy_name(REVOKE_SESSIONS_POLICY_NAME)
            .policy_document(policy)
            .send()
            .await;
        match put {
            Ok(_) => {
                cut_off.record_result(Outcome::Done, None);
                Ok(())
            }
            Err(e) => {
                let error = format!(
                    "putting the {REVOKE_SESSIONS_POLICY_NAME} policy on {} failed, so the principal was not removed either (the next run tries both again): {}",
                    self.role_arn,
                    describe(&e)
                );
                cut_off.record_result(Outcome::Failed, Some(&error));
                Err(error)
            }
        }
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

/// One write to a role's trust policy.
#[derive(Clone, Copy)]
struct Write<'a> {
    client: &'a AccountClient,
    role_name: &'a str,
    before: &'a TrustPolicy,
    after: &'a TrustPolicy,
    removed: &'a [&'a Planned],
}

/// The session cut-off put on a role before its principals are removed,
/// with the audit records that announce and report it.
struct SessionCutOff<'a> {
    role: &'a RoleRevocation<'a>,
    removed: &'a [&'a Planned],
    reason: String,
    /// The inline policy put on the role: what to delete to undo it.
    document: serde_json::Value,
}

impl SessionCutOff<'_> {
    fn record(
        &self,
        phase: &'static str,
        outcome: Option<Outcome>,
        error: Option<&str>,
    ) -> Result<(), String> {
        self.role.audit.record(AuditEvent {
            phase,
            system: System::Aws,
            target: self.role.role_arn.to_string(),
            principals: self
                .removed
                .iter()
                .map(|p| principal_of(p).to_string())
                .collect(),
            reason: self.reason.clone(),
            result: outcome,
            error: error.map(str::to_string),
            before: None,
            after: Some(self.document.clone()),
        })
    }

    fn record_result(&self, outcome: Outcome, error: Option<&str>) {
        if let Err(problem) = self.record("result", Some(outcome), error) {
            tracing::error!(
                target = self.role.role_arn,
                "audit result not recorded: {problem}"
            );
        }
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
