//! Carrying out a plan: revocations grouped into units (one GitHub grant or
//! invitation, one IAM role, one Identity Center assignment or group
//! membership), the systems side by side, one failure never stopping the
//! rest, and a stop request honoured between units.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::exit::Exit;
use crate::model::{Action, Finding, Outcome, Revocation, System};
use crate::system::{Act, ActResult, AuditSink, Planned};

/// Marks every planned revocation as refused by a gate.
pub fn refuse_all(findings: &mut [Finding]) {
    for f in findings.iter_mut().filter(|f| f.action == Action::Revoke) {
        f.result = Some(Outcome::Refused);
    }
}

/// The units one system's revocations are carried out in: every finding of
/// one invitation together (cancelled once), every principal of one role
/// together (one policy write), every other grant alone.
fn units(findings: &[Finding], system: System) -> Vec<Vec<Planned>> {
    let mut grouped: BTreeMap<String, Vec<Planned>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(revocation) = f
            .revocation
            .clone()
            .filter(|r| f.action == Action::Revoke && r.system() == system)
        else {
            continue;
        };
        let key = match &revocation {
            Revocation::Invitation { invitation_id, .. } => format!("invitation:{invitation_id}"),
            Revocation::TrustPrincipal { role_arn, .. } => format!("role:{role_arn}"),
            Revocation::TeamMembership { team, login, .. } => format!("member:{team}:{login}"),
            Revocation::SsoAssignment {
                account_id,
                permission_set_arn,
                user_id,
                ..
            } => format!("sso-assignment:{account_id}:{permission_set_arn}:{user_id}"),
            // One removal carries out every finding the membership gives.
            Revocation::SsoGroupMembership {
                group_id, user_id, ..
            } => format!("sso-member:{group_id}:{user_id}"),
        };
        grouped.entry(key).or_default().push(Planned {
            finding: i,
            revocation,
            reason: f.reason.clone(),
        });
    }
    grouped.into_values().collect()
}

/// Shows how far acting has got, on a terminal only.
struct Progress {
    total: usize,
    done: AtomicUsize,
    enabled: bool,
}

impl Progress {
    fn step(&self, n: usize) {
        let done = self.done.fetch_add(n, Ordering::SeqCst) + n;
        if self.enabled {
            eprint!("\rrevoking: {done}/{} ", self.total);
            if done >= self.total {
                eprintln!();
            }
        }
    }
}

/// Carries out one system's revocations unit by unit until done or stopped.
async fn act_on(
    system: &dyn Act,
    units: Vec<Vec<Planned>>,
    audit: &dyn AuditSink,
    stop: &AtomicBool,
    progress: &Progress,
) -> Vec<ActResult> {
    let mut results = Vec::new();
    for unit in units {
        let n = unit.len();
        if stop.load(Ordering::SeqCst) {
            results.extend(unit.iter().map(|p| ActResult {
                finding: p.finding,
                outcome: Outcome::Skipped,
                error: Some("not attempted: the run was asked to stop".into()),
            }));
            continue;
        }
        let planned: Vec<usize> = unit.iter().map(|p| p.finding).collect();
        let mut got = system.revoke(unit, audit).await;
        // A revoker that forgot a finding must not make it look done.
        for i in planned {
            if !got.iter().any(|r| r.finding == i) {
                got.push(ActResult {
                    finding: i,
                    outcome: Outcome::Failed,
                    error: Some("the revoker returned no result".into()),
                });
            }
        }
        results.extend(got);
        progress.step(n);
    }
    results
}

/// The live systems an apply acts through; one not connected is `None`.
#[derive(Default, Clone)]
pub struct Actors {
    pub github: Option<Arc<dyn Act>>,
    pub aws: Option<Arc<dyn Act>>,
    pub sso: Option<Arc<dyn Act>>,
}

/// Carries out every `revoke` finding through the systems given, records
/// each result on its finding, and says whether all were done.
pub async fn apply(
    findings: &mut [Finding],
    actors: Actors,
    audit: &dyn AuditSink,
    stop: &AtomicBool,
    show_progress: bool,
) -> Exit {
    let github_units = units(findings, System::Github);
    let aws_units = units(findings, System::Aws);
    let sso_units = units(findings, System::Sso);
    let total = github_units
        .iter()
        .chain(&aws_units)
        .chain(&sso_units)
        .map(Vec::len)
        .sum();
    let progress = Progress {
        total,
        done: AtomicUsize::new(0),
        enabled: show_progress && total > 0 && std::io::stderr().is_terminal(),
    };
    let not_connected = |units: &[Vec<Planned>], system: System| -> Vec<ActResult> {
        units
            .iter()
            .flatten()
            .map(|p| ActResult {
                finding: p.finding,
                outcome: Outcome::Failed,
                error: Some(format!("no {system} client to act with")),
            })
            .collect()
    };
    let run = |system: Option<&Arc<dyn Act>>, units: Vec<Vec<Planned>>, which: System| {
        let progress = &progress;
        let system = system.cloned();
        async move {
            match system {
                Some(s) => act_on(s.as_ref(), units, audit, stop, progress).await,
                None => not_connected(&units, which),
            }
        }
    };
    let (github_results, aws_results, sso_results) = tokio::join!(
        run(actors.github.as_ref(), github_units, System::Github),
        run(actors.aws.as_ref(), aws_units, System::Aws),
        run(actors.sso.as_ref(), sso_units, System::Sso),
    );
    for r in github_results
        .into_iter()
        .chain(aws_results)
        .chain(sso_results)
    {
        if let Some(f) = findings.get_mut(r.finding) {
            f.result = Some(r.outcome);
            f.error = r.error;
        }
    }
    let complete = findings
        .iter()
        .filter(|f| f.action == Action::Revoke)
        .all(|f| f.result == Some(Outcome::Done));
    if complete {
        Exit::Success
    } else {
        Exit::Partial
    }
}
