//! Gating and acting: the safety gates, the audit trail, the operator's
//! confirmation, and the revocations themselves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::apply;
use crate::audit::AuditLog;
use crate::exit::Exit;
use crate::report::Report;
use crate::safety;
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

/// Gates, confirmation and revocation. Updates the report's findings with results.
pub async fn act(
    planned: &Planned,
    systems: &Systems,
    report: &mut Report,
    acting: Acting,
    run_id: &str,
    handle_signals: bool,
) -> Exit {
    let revocations = planned.plan.revocations().count();
    if revocations == 0 {
        return Exit::Success;
    }
    let passed = match safety::check(
        &planned.plan,
        &planned.config.safety,
        acting.override_gates.as_deref(),
    ) {
        Ok(p) => p,
        Err(refusal) => {
            tracing::error!("refused by a safety gate: {}", refusal.0);
            apply::refuse_all(&mut report.findings);
            report.refused = Some(refusal.0);
            return Exit::Refused;
        }
    };
    let audit = match AuditLog::open(run_id, planned.config.audit_log.as_deref()) {
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
    if let Some(confirm) = &acting.confirm
        && !confirm.confirm(report, revocations).await
    {
        return Exit::Error;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let listener = handle_signals.then(|| stop_on_signals(stop.clone()));
    let github = systems.github.clone().map(|g| g as Arc<dyn Act>);
    let aws = systems.aws.clone().map(|a| a as Arc<dyn Act>);
    let exit = apply::apply(
        &mut report.findings,
        github,
        aws,
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
