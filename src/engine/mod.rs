//! A run of lapse, shared by every command and by `serve`:
//! load ([`inputs`]) → observe and plan ([`observe`]) → gate and act
//! ([`act`]) → report ([`output`]), audit and alert.
//!
//! `plan`, `apply`, `run`, `snapshot` and `serve` are this one pipeline
//! stopped at different points. Nothing here reads the command line: the CLI
//! passes in what it parsed (times, output, how to confirm) and maps the
//! [`Exit`] it gets back to the process's exit code.

pub mod act;
pub mod inputs;
pub mod observe;
pub mod output;
pub mod review;
pub mod systems;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::apply;
use crate::config;
use crate::exit::Exit;
use crate::notify;
use crate::report::{ApiCalls, Report};
use crate::system::{ObserveAws, ObserveGithub, ObserveSso};

pub use act::{Acting, Confirm};
pub use inputs::{Inputs, load_inputs};
pub use observe::{Planned, load_and_plan};
pub use output::{ReportOutput, write_report};
pub use systems::{Kept, Systems};

/// What a cycle is asked to do beyond planning.
pub struct CycleOptions {
    /// Where the report goes; `None` writes none (the daemon logs a summary).
    pub output: Option<ReportOutput>,
    /// `Some` for `apply`; for `run`, the config's `mode` decides.
    pub acting: Option<Acting>,
    /// Stop acting between changes on SIGTERM/SIGINT (the CLI). The daemon
    /// instead lets a cycle finish and stops after it.
    pub stop_on_signals: bool,
    /// What the daemon keeps from one cycle to the next.
    pub kept: Kept,
}

/// What a cycle leaves behind.
pub struct Outcome {
    pub exit: Exit,
    /// The report, when planning got that far.
    pub report: Option<Report>,
    pub duration: Duration,
}

/// A unique id for this run, joining logs, report, audit and alerts.
pub fn new_run_id(now: DateTime<Utc>) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_i64(now.timestamp_nanos_opt().unwrap_or_default());
    format!("{}-{:08x}", now.format("%Y%m%dT%H%M%SZ"), h.finish() as u32)
}

/// The report of a plan, before anything acted on it.
fn plan_report(command: &str, run_id: String, now: DateTime<Utc>, planned: &Planned) -> Report {
    Report {
        command: command.into(),
        run_id,
        now,
        generated_at: Utc::now(),
        findings: planned.plan.findings.clone(),
        api_calls: planned.api_calls,
        notes: planned.plan.notes.clone(),
        refused: None,
        gates_overridden: None,
    }
}

/// `plan`: observe (live, or the snapshot at `state`), plan, report. Changes nothing.
pub async fn plan(
    config_path: &Path,
    now: DateTime<Utc>,
    state: Option<&Path>,
    output: &ReportOutput,
) -> Exit {
    let planned = match load_and_plan(config_path, now, state, &Kept::default()).await {
        Ok((p, _)) => p,
        Err(exit) => return exit,
    };
    let report = plan_report("plan", new_run_id(Utc::now()), now, &planned);
    if let Err(exit) = write_report(&report, output) {
        return exit;
    }
    if planned.plan.has_drift() {
        Exit::Drift
    } else {
        Exit::Success
    }
}

/// What `serve` checks before it starts: the config and roster are valid
/// and every system's credentials are there (read, not yet used to change
/// anything). Problems are printed; the answer is the config to serve.
pub async fn preflight(config_path: &Path) -> Result<config::Config, Exit> {
    let Inputs { config, loaded, .. } =
        match load_inputs(config_path, Utc::now(), &Kept::default()).await {
            Ok(inputs) => inputs,
            Err(diags) => {
                inputs::emit(&diags);
                tracing::error!("the config or roster is invalid: not serving");
                return Err(Exit::Error);
            }
        };
    inputs::emit(&loaded.warnings);
    if let Err(e) = systems::connect(&config, &Kept::default()).await {
        tracing::error!("{e}: not serving");
        return Err(Exit::Error);
    }
    Ok(config)
}

/// `snapshot`: observe the live systems and write what they grant to `output`.
pub async fn snapshot(config_path: &Path, output: &Path) -> Exit {
    let now = Utc::now();
    let (planned, _) = match load_and_plan(config_path, now, None, &Kept::default()).await {
        Ok(p) => p,
        Err(exit) => return exit,
    };
    match crate::snapshot::write(output, &planned.actual, now) {
        Ok(()) => {
            tracing::info!(
                github_requests = planned.api_calls.github,
                aws_requests = planned.api_calls.aws,
                sso_requests = planned.api_calls.sso,
                "snapshot written to {}",
                output.display()
            );
            Exit::Success
        }
        Err(e) => {
            tracing::error!("{e}");
            Exit::Error
        }
    }
}

/// Runs one cycle under a span carrying its run id, so logs, report, audit and alerts join up.
pub async fn run(
    command: &str,
    config: &Path,
    now: Option<DateTime<Utc>>,
    options: CycleOptions,
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

/// How far ahead of the clock `--now` may be for a command that acts: a
/// future time would revoke grants that are still valid. Earlier is allowed
/// (it can only revoke less); a few minutes cover clocks that disagree.
const FUTURE_NOW_TOLERANCE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What one cycle was asked to evaluate, for a plan made again after confirmation.
struct Evaluation<'a> {
    command: &'a str,
    config_path: &'a Path,
    /// `--now`, when given; otherwise each plan is made as of the clock.
    explicit_now: Option<DateTime<Utc>>,
    kept: &'a Kept,
    run_id: &'a str,
    stop_on_signals: bool,
}

async fn run_in_span(
    command: &str,
    config_path: &Path,
    explicit_now: Option<DateTime<Utc>>,
    options: CycleOptions,
    run_id: String,
) -> (Exit, Option<Report>) {
    let started = Instant::now();
    if let Some(now) = explicit_now
        && now > Utc::now() + FUTURE_NOW_TOLERANCE
    {
        tracing::error!(
            "--now {} is in the future: {command} refuses it, since a future time would revoke grants that are still valid; nothing was changed",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        return (Exit::Error, None);
    }
    let now = explicit_now.unwrap_or_else(Utc::now);
    let (mut planned, mut systems) =
        match load_and_plan(config_path, now, None, &options.kept).await {
            Ok(p) => p,
            Err(exit) => return (exit, None),
        };
    let acting = match options.acting {
        Some(a) => Some(a),
        None if planned.config.mode == config::Mode::Enforce => Some(Acting {
            confirm: None,
            override_gates: None,
        }),
        None => None,
    };
    let mut report = plan_report(command, run_id.clone(), now, &planned);
    let mut exit = if planned.plan.has_drift() {
        Exit::Drift
    } else {
        Exit::Success
    };
    if let Some(acting) = acting {
        let evaluation = Evaluation {
            command,
            config_path,
            explicit_now,
            kept: &options.kept,
            run_id: &run_id,
            stop_on_signals: options.stop_on_signals,
        };
        let spent_before = planned.api_calls;
        let (acted, replanned) =
            gate_confirm_act(&evaluation, &mut planned, &mut systems, &mut report, acting).await;
        exit = acted;
        report.generated_at = Utc::now();
        report.api_calls = api_calls_after_acting(&planned, &systems);
        if replanned {
            report.api_calls.github += spent_before.github;
            report.api_calls.aws += spent_before.aws;
            report.api_calls.sso += spent_before.sso;
        }
    }
    if let Some(output) = &options.output
        && let Err(e) = write_report(&report, output)
    {
        exit = e.worst(exit);
    }
    if command == "run" {
        exit = alert(&planned, &report, started.elapsed(), exit).await;
    }
    log_finished(command, &report, exit);
    (exit, Some(report))
}

/// The gates; a person's confirmation, then a fresh plan that must make the
/// same revocations (the roster or the systems may have changed while the
/// prompt waited); then the revocations. Says too whether it planned again.
async fn gate_confirm_act(
    evaluation: &Evaluation<'_>,
    planned: &mut Planned,
    systems: &mut Systems,
    report: &mut Report,
    acting: Acting,
) -> (Exit, bool) {
    let revocations = planned.plan.revocations().count();
    if revocations == 0 {
        return (Exit::Success, false);
    }
    let mut passed = match act::gate(planned, report, &acting) {
        Ok(p) => p,
        Err(exit) => return (exit, false),
    };
    let mut replanned = false;
    if let Some(confirm) = &acting.confirm {
        if !confirm.confirm(report, revocations).await {
            return (Exit::Error, false);
        }
        let now = evaluation.explicit_now.unwrap_or_else(Utc::now);
        let (fresh, fresh_systems) =
            match load_and_plan(evaluation.config_path, now, None, evaluation.kept).await {
                Ok(p) => p,
                Err(exit) => return (exit, false),
            };
        replanned = true;
        let changed = act::changed_since_confirmed(&planned.plan, &fresh.plan);
        *report = plan_report(evaluation.command, evaluation.run_id.into(), now, &fresh);
        *planned = fresh;
        *systems = fresh_systems;
        if let Some(difference) = changed {
            let why = format!(
                "the revocations changed after they were confirmed; nothing was changed. Review the new plan and apply again:\n{difference}"
            );
            tracing::error!("{why}");
            apply::refuse_all(&mut report.findings);
            report.refused = Some(why);
            return (Exit::Refused, true);
        }
        passed = match act::gate(planned, report, &acting) {
            Ok(p) => p,
            Err(exit) => return (exit, true),
        };
    }
    let exit = act::carry_out(
        planned,
        systems,
        report,
        &acting,
        &passed,
        evaluation.run_id,
        evaluation.stop_on_signals,
    )
    .await;
    (exit, replanned)
}

/// Every request of the run, the revocations' included.
fn api_calls_after_acting(planned: &Planned, systems: &Systems) -> ApiCalls {
    ApiCalls {
        github: planned.roster_requests
            + systems
                .github
                .as_ref()
                .map_or(0, |g| ObserveGithub::requests(g.as_ref())),
        aws: systems
            .aws
            .as_ref()
            .map_or(0, |a| ObserveAws::requests(a.as_ref())),
        sso: systems
            .sso
            .as_ref()
            .map_or(0, |s| ObserveSso::requests(s.as_ref())),
    }
}

/// Sends the run's alerts; an alert that could not be delivered is exit 5.
async fn alert(planned: &Planned, report: &Report, duration: Duration, exit: Exit) -> Exit {
    let facts = notify::RunFacts {
        report,
        duration,
        succeeded: matches!(exit, Exit::Success | Exit::Drift),
    };
    if notify::deliver(&planned.config.alerts, &facts)
        .await
        .is_empty()
    {
        exit
    } else {
        exit.worst(Exit::AlertFailed)
    }
}

fn log_finished(command: &str, report: &Report, exit: Exit) {
    let s = report.summary();
    tracing::info!(
        findings = s.findings,
        revocations_planned = s.revocations_planned,
        revocations_done = s.revocations_done,
        revocations_failed = s.revocations_failed,
        exit = exit.code(),
        "{command} finished"
    );
}
