//! `lapse serve`: cycles on the config's schedule, never two at once, with
//! `/healthz` and `/metrics` served alongside; SIGTERM lets the cycle in
//! flight finish (for at most a grace period), then exits.
//!
//! Each cycle runs as its own task and is awaited: a cycle that panics is a
//! failed cycle like one that errs, so `/healthz` says so and the next tick
//! runs, rather than the daemon waiting for a cycle that will never end.
//!
//! The config and roster are read afresh every cycle, and so are the clients;
//! what the daemon carries from one cycle to the next is GitHub's answers
//! with their ETags, so unchanged teams are read with 304s that cost no rate
//! limit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

mod http;
mod schedule;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::engine::{self, CycleOptions, Kept};
use crate::exit::Exit;
use crate::github::ResponseCache;
use crate::notify::{self, RunFacts};

/// What the HTTP endpoints report between cycles.
#[derive(Default)]
struct Health {
    /// `Some(false)` after a failed cycle; `None` before the first.
    last_ok: Option<bool>,
    /// Metrics of the last cycle that produced a report.
    metrics: String,
    last_success: Option<DateTime<Utc>>,
}

/// No cycle is running; a tick may start one.
const IDLE: u8 = 0;
/// A cycle is running; a tick that comes now is skipped.
const RUNNING: u8 = 1;
/// Shutting down: no cycle runs and none will start.
const STOPPED: u8 = 2;

struct Daemon {
    config: PathBuf,
    health: Mutex<Health>,
    /// [`IDLE`], [`RUNNING`] or [`STOPPED`]; one atomic, so a cycle cannot
    /// start between shutdown's check and its stop.
    phase: AtomicU8,
    cycles: AtomicU64,
    skipped: AtomicU64,
    /// Cycles that failed or panicked.
    failed: AtomicU64,
    github_responses: Arc<ResponseCache>,
    /// What a tick runs: the engine's cycle (another in the tests).
    run_cycle: CycleRunner,
}

/// Runs one cycle of the config at this path, with what the daemon keeps.
type CycleRunner = Arc<
    dyn Fn(
            PathBuf,
            Kept,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = engine::Outcome> + Send>>
        + Send
        + Sync,
>;

/// The engine's `run` cycle, as a tick runs it.
fn engine_cycle() -> CycleRunner {
    Arc::new(|config, kept| {
        Box::pin(async move {
            let options = CycleOptions {
                output: None,
                acting: None,
                stop_on_signals: false,
                kept,
            };
            engine::run("run", &config, None, options).await
        })
    })
}

impl Daemon {
    fn new(config: &Path, run_cycle: CycleRunner) -> Daemon {
        Daemon {
            config: config.to_path_buf(),
            health: Mutex::new(Health::default()),
            phase: AtomicU8::new(IDLE),
            cycles: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            github_responses: ResponseCache::new(),
            run_cycle,
        }
    }

    /// One scheduled cycle, unless one is still running or the daemon is stopping.
    async fn tick(self: Arc<Self>) {
        match self
            .phase
            .compare_exchange(IDLE, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(RUNNING) => {
                self.skipped.fetch_add(1, Ordering::SeqCst);
                tracing::warn!("a cycle is due but the previous one is still running: skipped");
                return;
            }
            Err(_) => return,
        }
        let cycle = self.cycles.load(Ordering::SeqCst) + 1;
        let not_modified_before = self.github_responses.not_modified_total();
        tracing::info!(cycle, "cycle started");
        let config = self.config.clone();
        let kept = Kept {
            github_responses: Some(self.github_responses.clone()),
        };
        let cycle_task = tokio::spawn((self.run_cycle)(config, kept));
        let outcome = match cycle_task.await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(cycle, "the cycle did not finish: {}", panic_text(e));
                engine::Outcome {
                    exit: Exit::Error,
                    report: None,
                    duration: Duration::ZERO,
                }
            }
        };
        let ok = matches!(outcome.exit, Exit::Success | Exit::Drift);
        if !ok {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }

        let mut health = self.health.lock().await;
        health.last_ok = Some(ok);
        if ok {
            health.last_success = Some(Utc::now());
        }
        if let Some(report) = &outcome.report {
            let facts = RunFacts {
                report,
                duration: outcome.duration,
                succeeded: ok,
            };
            health.metrics = notify::metrics::render(&facts, health.last_success);
        } else {
            health.metrics = format!(
                "# HELP lapse_run_success Whether the last run succeeded (1) or failed (0).\n# TYPE lapse_run_success gauge\nlapse_run_success 0\n{}",
                health.last_success.map_or(String::new(), |t| format!(
                    "# TYPE lapse_last_success_timestamp_seconds gauge\nlapse_last_success_timestamp_seconds {}\n",
                    t.timestamp()
                ))
            );
        }
        drop(health);
        self.cycles.fetch_add(1, Ordering::SeqCst);
        // Said only once /healthz and /metrics say the same.
        tracing::info!(
            cycle,
            exit = outcome.exit.code(),
            duration_ms = outcome.duration.as_millis() as u64,
            github_requests = outcome.report.as_ref().map_or(0, |r| r.api_calls.github),
            github_not_modified = self.github_responses.not_modified_total() - not_modified_before,
            "cycle finished"
        );
        self.phase.store(IDLE, Ordering::SeqCst);
    }

    /// Waits for the cycle in flight, if any, for at most `grace`, and lets
    /// no other start. `false` when the grace ran out first.
    async fn stop(&self, grace: Duration) -> bool {
        let wait = async {
            while self
                .phase
                .compare_exchange(IDLE, STOPPED, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(grace, wait).await.is_ok()
    }
}

async fn healthz(State(daemon): State<Arc<Daemon>>) -> (StatusCode, &'static str) {
    match daemon.health.lock().await.last_ok {
        Some(false) => (StatusCode::SERVICE_UNAVAILABLE, "the last cycle failed\n"),
        _ => (StatusCode::OK, "ok\n"),
    }
}

async fn metrics(State(daemon): State<Arc<Daemon>>) -> ([(&'static str, &'static str); 1], String) {
    let health = daemon.health.lock().await;
    let mut text = health.metrics.clone();
    text.push_str(&format!(
        "# HELP lapse_cycles_total Cycles run since start.\n# TYPE lapse_cycles_total counter\nlapse_cycles_total {}\n",
        daemon.cycles.load(Ordering::SeqCst)
    ));
    text.push_str(&format!(
        "# HELP lapse_cycles_skipped_total Cycles skipped because the previous one was still running.\n# TYPE lapse_cycles_skipped_total counter\nlapse_cycles_skipped_total {}\n",
        daemon.skipped.load(Ordering::SeqCst)
    ));
    text.push_str(&format!(
        "# HELP lapse_cycles_failed_total Cycles that failed or panicked since start.\n# TYPE lapse_cycles_failed_total counter\nlapse_cycles_failed_total {}\n",
        daemon.failed.load(Ordering::SeqCst)
    ));
    text.push_str(&format!(
        "# HELP lapse_github_not_modified_total GitHub reads answered 304 Not Modified (no rate limit used) since start.\n# TYPE lapse_github_not_modified_total counter\nlapse_github_not_modified_total {}\n",
        daemon.github_responses.not_modified_total()
    ));
    ([("content-type", "text/plain; version=0.0.4")], text)
}

/// What a panicked or cancelled cycle said, for the log.
fn panic_text(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .map_or_else(|| "it panicked".into(), |m| format!("it panicked: {m}"))
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

pub async fn serve(config_path: &Path, listen: &str) -> Exit {
    // A daemon that cannot work must not look ready: the config, the
    // roster and the credentials are checked before anything is served.
    // The schedule is read once; everything else is re-read every cycle.
    let config = match engine::preflight(config_path).await {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let schedule = match schedule::Schedule::new(&config.schedule, config.timezone) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("schedule `{}`: {e}", config.schedule);
            return Exit::Error;
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {listen}: {e}");
            return Exit::Error;
        }
    };
    let daemon = Arc::new(Daemon::new(config_path, engine_cycle()));
    tracing::info!(
        schedule = %config.schedule,
        timezone = %config.timezone,
        listen = %listen,
        "serving; cycles run on schedule"
    );
    let ticker = tokio::spawn(run_on_schedule(schedule, daemon.clone()));
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(daemon.clone());
    http::serve(listener, app, shutdown_signal()).await;
    tracing::info!("stopping: no new cycles; waiting for the one in flight");
    ticker.abort();
    let grace = config.shutdown_grace;
    if daemon.stop(grace).await {
        tracing::info!("stopped");
        Exit::Success
    } else {
        tracing::error!(
            grace_s = grace.as_secs(),
            "the cycle in flight did not finish within shutdown_grace_s: stopping without it"
        );
        Exit::Error
    }
}

/// Starts a cycle at every time the schedule names (one still running is
/// left alone and the tick skipped), saying when the next is due.
async fn run_on_schedule(schedule: schedule::Schedule, daemon: Arc<Daemon>) {
    let mut after = Utc::now();
    while let Some(next) = schedule.log_next(after) {
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let daemon = daemon.clone();
        tokio::spawn(daemon.tick());
        after = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(exit: Exit) -> engine::Outcome {
        engine::Outcome {
            exit,
            report: None,
            duration: Duration::ZERO,
        }
    }

    /// A daemon whose cycles panic, fail, or succeed as `script` says, in turn.
    fn scripted(script: &'static [&'static str]) -> Arc<Daemon> {
        let calls = Arc::new(AtomicU64::new(0));
        let runner: CycleRunner = Arc::new(move |_, _| {
            let n = calls.fetch_add(1, Ordering::SeqCst) as usize;
            Box::pin(async move {
                match script[n % script.len()] {
                    "panic" => panic!("cycle {n} exploded"),
                    "fail" => outcome(Exit::Error),
                    "hang" => std::future::pending().await,
                    _ => outcome(Exit::Success),
                }
            })
        });
        Arc::new(Daemon::new(Path::new("lapse.yaml"), runner))
    }

    async fn health_code(daemon: &Arc<Daemon>) -> StatusCode {
        healthz(State(daemon.clone())).await.0
    }

    #[tokio::test]
    async fn a_panicking_cycle_is_a_failed_cycle_and_the_next_tick_runs() {
        let daemon = scripted(&["panic", "fail", "ok"]);
        assert_eq!(
            health_code(&daemon).await,
            StatusCode::OK,
            "ready before any cycle"
        );

        daemon.clone().tick().await;
        assert_eq!(health_code(&daemon).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(daemon.phase.load(Ordering::SeqCst), IDLE, "not wedged");

        daemon.clone().tick().await;
        assert_eq!(health_code(&daemon).await, StatusCode::SERVICE_UNAVAILABLE);

        daemon.clone().tick().await;
        assert_eq!(health_code(&daemon).await, StatusCode::OK);
        assert_eq!(daemon.cycles.load(Ordering::SeqCst), 3);
        assert_eq!(daemon.failed.load(Ordering::SeqCst), 2);
        assert_eq!(daemon.skipped.load(Ordering::SeqCst), 0);
        let (_, text) = metrics(State(daemon.clone())).await;
        assert!(text.contains("lapse_cycles_failed_total 2"), "{text}");
    }

    #[tokio::test]
    async fn stopping_waits_for_a_cycle_only_as_long_as_the_grace() {
        let daemon = scripted(&["hang"]);
        tokio::spawn(daemon.clone().tick());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(daemon.phase.load(Ordering::SeqCst), RUNNING);
        let started = std::time::Instant::now();
        assert!(!daemon.stop(Duration::from_millis(300)).await);
        assert!(started.elapsed() < Duration::from_secs(2));

        let idle = scripted(&["ok"]);
        assert!(idle.stop(Duration::from_millis(300)).await);
        assert_eq!(idle.phase.load(Ordering::SeqCst), STOPPED);
    }
}
