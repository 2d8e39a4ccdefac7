//! One cycle of lapse: plan; for `apply` (or `run` in enforce mode) the
//! gates, confirmation and revocation; the report; and for `run`, alerts.
//! The CLI runs one cycle; the daemon runs one per scheduled tick.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::apply;
use crate::audit::AuditLog;
use crate::cli::{OutputArgs, Planned, json_logs, load_and_plan, new_run_id, write_report};
use crate::config;
use crate::exit::Exit;
use crate::live;
use crate::notify;
use crate::report::{ApiCalls, Format, Report};
use crate::safety;
use crate::system::{Act, ObserveAws, ObserveGithub};

/// How `apply` acts: whether to ask first, and an override of the count and ratio gates.
pub struct Acting {
    pub confirm: bool,
    pub override_gates: Option<String>,
}

pub struct CycleOptions<'a> {
    /// Where the report goes; `None` writes none (the daemon logs a summary).
    pub output: Option<&'a OutputArgs>,
    /// `Some` for `apply`; for `run`, the config's `mode` decides.
    pub acting: Option<Acting>,
    /// Stop acting between changes on SIGTERM/SIGINT (the CLI). The daemon
    /// instead lets a cycle finish and stops after it.
    pub stop_on_signals: bool,
    /// What the daemon keeps from one cycle to the next.
    pub kept: live::Kept,
}

/// What a cycle leaves behind.
pub struct Outcome {
    pub exit: Exit,
    /// The report, when planning got that far.
    pub report: Option<Report>,
    pub duration: Duration,
}

/// Runs one cycle under a span carrying its run id, so logs, report, audit and alerts join up.
pub async fn run(
    command: &str,
    config: &Path,
    now: Option<DateTime<Utc>>,
    options: CycleOptions<'_>,
) -> Outcome {
    let run_id = new_run_id(Utc::now());
    let span = tracing::info_span!("run", run_id = %run_id, command);
    let started = Instant::now();
    let (exit, report) = run_in_span(command, config, now, options, run_id)
        .instrument(span)
        .await;
    Outcome {
        exit,
        report,
        duration: started.elapsed(),
    }
}

async fn run_in_span(
    command: &str,
    config_path: &Path,
    now: Option<DateTime<Utc>>,
    options: CycleOptions<'_>,
    run_id: String,
) -> (Exit, Option<Report>) {
    let started = Instant::now();
    let now = now.unwrap_or_else(Utc::now);
    let (planned, systems) = match load_and_plan(config_path, now, None, &options.kept).await {
        Ok(p) => p,
        Err(exit) => return (exit, None),
    };
    let acting = match options.acting {
        Some(a) => Some(a),
        None if planned.config.mode == config::Mode::Enforce => Some(Acting {
            confirm: false,
            override_gates: None,
        }),
        None => None,
    };
    let mut report = Report {
        command: command.into(),
        run_id: run_id.clone(),
        now,
        generated_at: Utc::now(),
        findings: planned.plan.findings.clone(),
        api_calls: planned.api_calls,
        notes: planned.plan.notes.clone(),
        refused: None,
        gates_overridden: None,
    };
    let mut exit = if planned.plan.has_drift() {
        Exit::Drift
    } else {
        Exit::Success
    };
    if let Some(acting) = acting {
        exit = act(
            &planned,
            &systems,
            &mut report,
            acting,
            &run_id,
            options.stop_on_signals,
        )
        .await;
        report.generated_at = Utc::now();
        report.api_calls = ApiCalls {
            github: planned.roster_requests
                + systems
                    .github
                    .as_ref()
                    .map_or(0, |g| ObserveGithub::requests(g.as_ref())),
            aws: systems
                .aws
                .as_ref()
                .map_or(0, |a| ObserveAws::requests(a.as_ref())),
        };
    }
    if let Some(output) = options.output
        && let Err(e) = write_report(&report, output)
    {
        exit = e.worst(exit);
    }
    if command == "run" {
        let facts = notify::RunFacts {
            report: &report,
            duration: started.elapsed(),
            succeeded: matches!(exit, Exit::Success | Exit::Drift),
        };
        if !notify::deliver(&planned.config.alerts, &facts)
            .await
            .is_empty()
        {
            exit = exit.worst(Exit::AlertFailed);
        }
    }
    let s = report.summary();
    tracing::info!(
        findings = s.findings,
        revocations_planned = s.revocations_planned,
        revocations_done = s.revocations_done,
        revocations_failed = s.revocations_failed,
        exit = exit.code(),
        "{command} finished"
    );
    (exit, Some(report))
}

/// Asks on the terminal; anything but `yes` declines. With no terminal there
/// is nobody to ask, so the answer is no.
async fn confirmed(revocations: usize) -> bool {
    if !std::io::stdin().is_terminal() {
        tracing::error!(
            "apply needs confirmation but there is no terminal to ask on; pass --yes to apply unattended; nothing was changed"
        );
        return false;
    }
    eprint!("Revoke {revocations} grants as listed above? Type yes to go ahead: ");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    match answer {
        Ok(Ok(line)) if line.trim() == "yes" => true,
        _ => {
            eprintln!("Not confirmed; nothing was changed.");
            false
        }
    }
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
async fn act(
    planned: &Planned,
    systems: &live::Systems,
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
    if acting.confirm {
        print!(
            "{}",
            report.render(Format::Text, std::io::stdout().is_terminal())
        );
        if !confirmed(revocations).await {
            return Exit::Error;
        }
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
        !json_logs(),
    )
    .await;
    if let Some(listener) = listener {
        listener.abort();
    }
    exit
}
