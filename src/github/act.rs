//! Revoking on GitHub: removing a direct team membership, or cancelling a
//! pending invitation. One write at a time, paced (see
//! [`super::client::WRITE_PACING_ENV`]), each between an audit intent and an
//! audit result, and each read back before it counts as done (`verify`). A
//! grant already gone counts as revoked.

use std::collections::HashMap;

use super::client::Client;
use super::request::segment;
use super::verify;
use crate::model::{Outcome, Revocation, System, github_target};
use crate::system::{ActResult, AuditEvent, AuditSink, Planned};

/// Carries out a batch. Findings that share a revocation (one invitation
/// covering several managed teams) are carried out once and share its result.
pub async fn revoke(
    client: &Client,
    batch: Vec<Planned>,
    audit: &dyn AuditSink,
    invitees: &HashMap<u64, Invitee>,
) -> Vec<ActResult> {
    let mut groups: Vec<(Revocation, Vec<Planned>)> = Vec::new();
    for planned in batch {
        match groups.iter_mut().find(|(r, _)| *r == planned.revocation) {
            Some((_, members)) => members.push(planned),
            None => groups.push((planned.revocation.clone(), vec![planned])),
        }
    }
    let mut results = Vec::new();
    for (revocation, planned) in groups {
        let (outcome, error) = revoke_one(client, &revocation, &planned, audit, invitees).await;
        results.extend(planned.iter().map(|p| ActResult {
            finding: p.finding,
            outcome,
            error: error.clone(),
        }));
    }
    results
}

/// Who an observed invitation is for, and every team it covers: the audit
/// record of its cancellation names them all, since all of them go.
#[derive(Debug, Clone)]
pub struct Invitee {
    pub who: String,
    pub teams: Vec<String>,
}

/// What one revocation removes on GitHub: the audit trail's target and
/// principal, and the resource a `DELETE` removes.
struct Removal {
    target: String,
    principal: String,
    path: String,
}

impl Removal {
    /// `None` for a revocation that is not GitHub's.
    fn of(revocation: &Revocation, invitees: &HashMap<u64, Invitee>) -> Option<Removal> {
        match revocation {
            Revocation::TeamMembership { org, team, login } => Some(Removal {
                target: github_target(org, team),
                principal: login.to_ascii_lowercase(),
                path: verify::membership_path(org, team, login),
            }),
            Revocation::Invitation { org, invitation_id } => Some(Removal {
                target: match invitees.get(invitation_id) {
                    Some(invitee) if !invitee.teams.is_empty() => invitee
                        .teams
                        .iter()
                        .map(|team| github_target(org, team))
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => format!(
                        "github:{}/invitations/{invitation_id}",
                        org.to_ascii_lowercase()
                    ),
                },
                principal: invitees
                    .get(invitation_id)
                    .map(|i| i.who.clone())
                    .unwrap_or_else(|| format!("invitation:{invitation_id}")),
                path: format!("/orgs/{}/invitations/{invitation_id}", segment(org)),
            }),
            Revocation::TrustPrincipal { .. }
            | Revocation::SsoAssignment { .. }
            | Revocation::SsoGroupMembership { .. } => None,
        }
    }

    fn audit_event(
        &self,
        phase: &'static str,
        reason: &str,
        result: Option<Outcome>,
        error: Option<String>,
    ) -> AuditEvent {
        AuditEvent {
            phase,
            system: System::Github,
            target: self.target.clone(),
            principals: vec![self.principal.clone()],
            reason: reason.to_string(),
            result,
            error,
            before: None,
            after: None,
        }
    }
}

/// Carries out one revocation between its audit intent and its audit result;
/// nothing is sent unless the intent is recorded.
async fn revoke_one(
    client: &Client,
    revocation: &Revocation,
    planned: &[Planned],
    audit: &dyn AuditSink,
    invitees: &HashMap<u64, Invitee>,
) -> (Outcome, Option<String>) {
    let Some(removal) = Removal::of(revocation, invitees) else {
        return (
            Outcome::Failed,
            Some("an IAM revocation was sent to the GitHub revoker".into()),
        );
    };
    let reason = reasons(planned);
    if let Err(e) = audit.record(removal.audit_event("intent", &reason, None, None)) {
        return (
            Outcome::Failed,
            Some(format!(
                "not attempted: the audit intent could not be recorded: {e}"
            )),
        );
    }
    let (outcome, error) = remove(client, revocation, &removal).await;
    let result = removal.audit_event("result", &reason, Some(outcome), error.clone());
    if let Err(e) = audit.record(result) {
        tracing::error!(target = %removal.target, principal = %removal.principal, "the audit result could not be recorded: {e}");
    }
    (outcome, error)
}

/// Each distinct reason of the findings a revocation settles, in order.
fn reasons(planned: &[Planned]) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for p in planned {
        if !reasons.contains(&p.reason.as_str()) {
            reasons.push(&p.reason);
        }
    }
    reasons.join("; ")
}

/// Sends the `DELETE`, then reads the grant back: only that read decides.
/// A 404 to the `DELETE` is no failure (the grant may be gone already), and
/// no proof either.
async fn remove(
    client: &Client,
    revocation: &Revocation,
    removal: &Removal,
) -> (Outcome, Option<String>) {
    let answered_404 = match client.delete(&removal.path).await {
        Ok(_) => false,
        Err(e) if e.is_not_found() => true,
        Err(e) => return (Outcome::Failed, Some(e.to_string())),
    };
    match revocation {
        Revocation::TeamMembership { org, team, login } => {
            verify::membership_gone(client, (org, team, login), &removal.target, answered_404).await
        }
        Revocation::Invitation { org, invitation_id } => {
            if answered_404 {
                tracing::info!(
                    target = %removal.target,
                    "the invitation was already accepted or cancelled; an accepted one shows up as a membership next run"
                );
            }
            verify::invitation_gone(client, org, *invitation_id).await
        }
        Revocation::TrustPrincipal { .. }
        | Revocation::SsoAssignment { .. }
        | Revocation::SsoGroupMembership { .. } => (
            Outcome::Failed,
            Some("an AWS revocation was sent to the GitHub revoker".into()),
        ),
    }
}
