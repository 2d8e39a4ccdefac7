//! `lapse serve`: cycles on the config's schedule, never two at once, with
//! `/healthz` and `/metrics` served alongside; SIGTERM lets the cycle in
//! flight finish, then exits.
//!
//! The config and roster are read afresh every cycle, and so are the clients;
//! what the daemon carries from one cycle to the next is GitHub's answers
//! with their ETags, so unchanged teams are read with 304s that cost no rate
//! limit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::config;
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
    github_responses: Arc<ResponseCache>,
}

impl Daemon {
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
        let options = CycleOptions {
            output: None,
            acting: None,
            stop_on_signals: false,
            kept: Kept {
                github_responses: Some(self.github_responses.clone()),
            },
        };
        let outcome = engine::run("run", &self.config, None, options).await;
        let ok = matches!(outcome.exit, Exit::Success | Exit::Drift);
        tracing::info!(
            cycle,
            exit = outcome.exit.code(),
            duration_ms = outcome.duration.as_millis() as u64,
            github_requests = outcome.report.as_ref().map_or(0, |r| r.api_calls.github),
            github_not_modified = self.github_responses.not_modified_total() - not_modified_before,
            "cycle finished"
        );
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
        self.phase.store(IDLE, Ordering::SeqCst);
    }

    /// Waits for the cycle in flight, if any, and lets no other start.
    async fn stop(&self) {
        while self
            .phase
            .compare_exchange(IDLE, STOPPED, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
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
        "# HELP lapse_github_not_modified_total GitHub reads answered 304 Not Modified (no rate limit used) since start.\n# TYPE lapse_github_not_modified_total counter\nlapse_github_not_modified_total {}\n",
        daemon.github_responses.not_modified_total()
    ));
    ([("content-type", "text/plain; version=0.0.4")], text)
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
    // The schedule is read once; everything else is re-read every cycle.
    let schedule = match config::load(config_path) {
        Ok(c) => c.schedule,
        Err(diags) => {
            eprint!("{diags}");
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
    let daemon = Arc::new(Daemon {
        config: config_path.to_path_buf(),
        health: Mutex::new(Health::default()),
        phase: AtomicU8::new(IDLE),
        cycles: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        github_responses: ResponseCache::new(),
    });
    let mut scheduler = match JobScheduler::new().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot start the scheduler: {e}");
            return Exit::Error;
        }
    };
    let for_job = daemon.clone();
    let job = Job::new_async(schedule.as_str(), move |_, _| {
        let daemon = for_job.clone();
        Box::pin(async move {
            tokio::spawn(daemon.tick());
        })
    });
    let added = match job {
        Ok(job) => scheduler.add(job).await,
        Err(e) => {
            tracing::error!("schedule `{schedule}` is not a valid cron expression: {e}");
            return Exit::Error;
        }
    };
    if let Err(e) = added.and(scheduler.start().await) {
        tracing::error!("cannot start the scheduler: {e}");
        return Exit::Error;
    }
    tracing::info!(schedule = %schedule, listen = %listen, "serving; cycles run on schedule");
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(daemon.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    tracing::info!("stopping: no new cycles; waiting for the one in flight");
    let _ = scheduler.shutdown().await;
    daemon.stop().await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            Exit::Success
        }
        Err(e) => {
            tracing::error!("the HTTP server failed: {e}");
            Exit::Error
        }
    }
}
