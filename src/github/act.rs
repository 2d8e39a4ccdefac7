//! Revoking on GitHub: removing a direct team membership, or cancelling a
//! pending invitation. One request at a time, paced (see
//! [`super::client::WRITE_PACING_ENV`]), each between an audit intent and an
//! audit result. A grant already gone counts as revoked.

use std::collections::HashMap;

use super::client::{Client, segment};
use crate::model::{Outcome, Revocation, System, github_target};
use crate::system::{ActResult, AuditEvent, AuditSink, Planned};

/// Carries out a batch. Findings that share a revocation (one invitation
/// covering several managed teams) are carried out once and share its result.
pub async fn revoke(
    client: &Client,
    batch: Vec<Planned>,
    audit: &dyn AuditSink,
    invitees: &HashMap<u64, String>,
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

async fn revoke_one(
    client: &Client,
    revocation: &Revocation,
    planned: &[Planned],
    audit: &dyn AuditSink,
    invitees: &HashMap<u64, String>,
) -> (Outcome, Option<String>) {
    let (target, principal, path) = match revocation {
        Revocation::TeamMembership { org, team, login } => (
            github_target(org, team),
            login.to_ascii_lowercase(),
            format!(
                "/orgs/{}/teams/{}/memberships/{}",
                segment(org),
                segment(team),
                segment(login)
            ),
        ),
        Revocation::Invitation { org, invitation_id } => (
            format!(
                "github:{}/invitations/{invitation_id}",
                org.to_ascii_lowercase()
            ),
            invitees
                .get(invitation_id)
                .cloned()
                .unwrap_or_else(|| format!("invitation:{invitation_id}")),
            format!("/orgs/{}/invitations/{invitation_id}", segment(org)),
        ),
        Revocation::TrustPrincipal { .. } => {
            return (
                Outcome::Failed,
                Some("an IAM revocation was sent to the GitHub revoker".into()),
            );
        }
    };
    let mut reasons: Vec<&str> = Vec::new();
    for p in planned {
        if !reasons.contains(&p.reason.as_str()) {
            reasons.push(&p.reason);
        }
    }
    let event = |phase, result, error| AuditEvent {
        phase,
        system: System::Github,
        target: target.clone(),
        principals: vec![principal.clone()],
        reason: reasons.join("; "),
        result,
        error,
        before: None,
        after: None,
    };

    if let Err(e) = audit.record(event("intent", None, None)) {
        return (
            Outcome::Failed,
            Some(format!(
                "not attempted: the audit intent could not be recorded: {e}"
            )),
        );
    }
    let (outcome, error) = match client.delete(&path).await {
        Ok(_) => (Outcome::Done, None),
        Err(e) if e.is_not_found() => match revocation {
            Revocation::TeamMembership { org, team, .. } => {
                confirm_membership_gone(client, org, team, &target).await
            }
            _ => {
                tracing::info!(
                    target = %target,
                    "the invitation was already accepted or cancelled; an accepted one shows up as a membership next run"
                );
                (Outcome::Done, None)
            }
        },
        Err(e) => (Outcome::Failed, Some(e.to_string())),
    };
    if let Err(e) = audit.record(event("result", Some(outcome), error.clone())) {
        tracing::error!(target = %target, principal = %principal, "the audit result could not be recorded: {e}");
    }
    (outcome, error)
}

/// A membership DELETE answered 404: the person holds no direct or pending
/// membership, unless the team itself is gone. Says which.
async fn confirm_membership_gone(
    client: &Client,
    org: &str,
    team: &str,
    target: &str,
) -> (Outcome, Option<String>) {
    let path = format!("/orgs/{}/teams/{}", segment(org), segment(team));
    match client.get_json::<serde_json::Value>(&path).await {
        Ok(_) => {
            tracing::info!(target = %target, "the membership was already gone");
            (Outcome::Done, None)
        }
        Err(e) if e.is_not_found() => (
            Outcome::Failed,
            Some(format!(
                "team {target} no longer exists (or lapse's credentials cannot see it), so the membership could be neither removed nor confirmed gone"
            )),
        ),
        Err(e) => (
            Outcome::Failed,
            Some(format!(
                "GitHub found no such membership, and checking that team {target} still exists failed: {e}"
            )),
        ),
    }
}
