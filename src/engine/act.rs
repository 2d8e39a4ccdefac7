//! Gating and acting: the safety gates, the operator's confirmation (and a
//! fresh plan after it), the audit trail, and the revocations themselves.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::apply;
use crate::audit::{self, AuditTrail};
use crate::exit::Exit;
use crate::model::System;
use crate::plan::Plan;
use crate::report::Report;
use crate::safety::{self, Passed};
use crate::system::{Act, BoxFuture};

use super::observe::Planned;
use super::systems::Systems;

/// Asks a person whether to go ahead with the revocations in a report.
/// The CLI implements it on a terminal; the engine never reads one itself.
pub trait Confirm: Send + Sync {
    /// `true` only on an explicit yes.
    fn confirm<'a>(&'a self, report: &'a Report, revocations: usize) -> BoxFuture<'a, bool>;
}

/// How a run acts: whether someone confirms first, and an override of the
/// count and ratio gates.
pub struct Acting {
    /// `None` acts unattended (`--yes`, or `run` in enforce mode).
    pub confirm: Option<Arc<dyn Confirm>>,
    pub override_gates: Option<String>,
}

/// The safety gates. A refusal marks every revocation refused in the report.
pub fn gate(planned: &Planned, report: &mut Report, acting: &Acting) -> Result<Passed, Exit> {
    match safety::check(
        &planned.plan,
        &planned.config.safety,
        acting.override_gates.as_deref(),
    ) {
        Ok(passed) => Ok(passed),
        Err(refusal) => {
            tracing::error!("refused by a safety gate: {}", refusal.0);
            apply::refuse_all(&mut report.findings);
            report.refused = Some(refusal.0);
            Err(Exit::Refused)
        }
    }
}

/// One revocation as a person reviews it: which system, target and principal.
type Grant = (System, String, String);

fn revocations(plan: &Plan) -> BTreeSet<Grant> {
    plan.revocations()
        .map(|f| (f.system, f.target.clone(), f.principal.clone()))
        .collect()
}

/// What changed between the revocations a person confirmed and those a
/// fresh plan makes; `None` when they are the same.
pub fn changed_since_confirmed(confirmed: &Plan, fresh: &Plan) -> Option<String> {
    let (before, after) = (revocations(confirmed), revocations(fresh));
    if before == after {
        return None;
    }
    let mut lines = Vec::new();
    for (system, target, principal) in before.difference(&after) {
        lines.push(format!(
            "  - no longer: revoke {principal} on {target} ({system})"
        ));
    }
    for (system, target, principal) in after.difference(&before) {
        lines.push(format!(
            "  + now also: revoke {principal} on {target} ({system})"
        ));
    }
    Some(lines.join("\n"))
}

/// Sets `stop` on SIGTERM or SIGINT, so acting stops between changes.
fn stop_on_signals(stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::warn!("asked to stop: finishing the change in flight, then stopping");
        stop.store(true, Ordering::SeqCst);
    })
}

/// Who lapse acts as, asked only of the systems it has revocations for.
async fn actors(
    planned: &Planned,
    systems: &Systems,
) -> std::collections::BTreeMap<String, String> {
    let revokes_in = |system: System| planned.plan.revocations().any(|f| f.system == system);
    let mut actors = std::collections::BTreeMap::new();
    if revokes_in(System::Github)
        && let Some(github) = &systems.github
    {
        actors.extend(Act::actors(github.as_ref()).await);
    }
    if revokes_in(System::Aws)
        && let Some(aws) = &systems.aws
    {
        actors.extend(Act::actors(aws.as_ref()).await);
    }
    if revokes_in(System::Sso)
        && let Some(sso) = &systems.sso
    {
        actors.extend(Act::actors(sso.as_ref()).await);
    }
    actors
}

/// The run's audit trail, refused unless it is durable and has taken the
/// run's first record: a change nobody could later account for is not made.
async fn open_trail(planned: &Planned, context: audit::Context) -> Result<AuditTrail, String> {
    let settings = &planned.config.audit;
    if !settings.is_durable() {
        return Err("lapse acts only with a durable audit trail: set audit.file (or audit_log) or audit.s3 in the config".into());
    }
    let mut sinks: Vec<Box<dyn audit::Sink>> = Vec::new();
    if let Some(path) = &settings.file {
        sinks.push(Box::new(audit::FileSink::open(path)?));
    }
    if let Some(location) = &settings.s3 {
        let aws = planned.config.aws.as_ref();
        let sink = audit::S3Sink::connect(
            location.clone(),
            aws.and_then(|a| a.region.as_deref()),
            aws.and_then(|a| a.endpoint_url.as_deref()),
        )
        .await;
        sinks.push(Box::new(sink));
    }
    let trail = AuditTrail::new(context, sinks);
    let revocations = planned.plan.revocations().count();
    trail
        .note(
            "start",
            &format!("acting on {revocations} planned revocations"),
        )
        .map_err(|e| {
            format!(
                "the audit trail ({}) did not take the run's first record: {e}",
                trail.describe()
            )
        })?;
    Ok(trail)
}

/// The audit trail opened, an override recorded, then every revocation
/// carried out. Updates the report's findings with results.
pub async fn carry_out(
    planned: &Planned,
    systems: &Systems,
    report: &mut Report,
    acting: &Acting,
    passed: &Passed,
    run_id: &str,
    handle_signals: bool,
) -> Exit {
    let context = audit::Context {
        run_id: run_id.to_string(),
        now: planned.now,
        actors: actors(planned, systems).await,
        override_reason: acting
            .override_gates
            .clone()
            .filter(|_| !passed.overridden.is_empty()),
    };
    let audit = match open_trail(planned, context).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("{e}; nothing was changed");
            return Exit::Error;
        }
    };
    if let Some(reason) = &acting.override_gates {
        if !passed.overridden.is_empty() {
            let what = format!(
                "safety gates overridden ({}): {reason}",
                passed.overridden.join("; ")
            );
            if let Err(e) = audit.note("override", &what) {
                tracing::error!("{e}; nothing was changed");
                return Exit::Error;
            }
        }
        report.gates_overridden = Some(reason.clone());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let listener = handle_signals.then(|| stop_on_signals(stop.clone()));
    let actors = apply::Actors {
        github: systems.github.clone().map(|g| g as Arc<dyn Act>),
        aws: systems.aws.clone().map(|a| a as Arc<dyn Act>),
        sso: systems.sso.clone().map(|s| s as Arc<dyn Act>),
    };
    let exit = apply::apply(
        &mut report.findings,
        actors,
        &audit,
        &stop,
        !crate::console::json_logs(),
    )
    .await;
    if let Some(listener) = listener {
        listener.abort();
    }
    exit
}
