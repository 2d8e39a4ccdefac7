//! The shell: arguments, wiring, output and exit codes. No access logic lives here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, RosterSource};
use crate::cycle::{self, Acting, CycleOptions};
use crate::daemon;
use crate::diag::{Diagnostic, Diagnostics};
use crate::exit::Exit;
use crate::live;
use crate::plan::{self, Plan};
use crate::report::{ApiCalls, Format, Report};
use crate::roster::{self, Loaded};
use crate::snapshot::{self, SnapshotObserver};
use crate::state::Actual;
use crate::system::{AwsScope, GithubScope, ObserveAws, ObserveGithub};
use crate::when::{self, DayEdge};
use crate::yaml;

#[derive(Debug, Parser)]
#[command(
    name = "lapse",
    version,
    about = "Keeps production access honest: compares a YAML roster with GitHub teams and IAM trust policies, reports drift, revokes what has lapsed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config and roster; change nothing.
    Validate(Common),
    /// Show what has drifted and what would be revoked; change nothing.
    Plan {
        #[command(flatten)]
        common: Common,
        /// Read this snapshot instead of calling any API.
        #[arg(long, value_name = "SNAPSHOT")]
        state: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Plan, check the safety gates, confirm, then revoke.
    Apply {
        #[command(flatten)]
        common: Common,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Let a deliberate bulk clean-up past the count and ratio gates (never past `protected`).
        #[arg(long, value_name = "REASON")]
        override_gates: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One scheduled cycle: plan, alert, and apply when `mode: enforce`.
    Run {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run cycles on the config's schedule; serve /healthz and /metrics.
    Serve {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9184")]
        listen: String,
    },
    /// Write the live state of both systems to a snapshot file.
    Snapshot {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long, value_name = "SNAPSHOT")]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// The lapse.yaml to use.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Evaluate the roster as of this time (RFC 3339, or a date meaning 00:00 UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    when::parse_time(text, DayEdge::Start)
}

/// Whether logs are JSON lines: when stderr is not a terminal, unless told otherwise.
pub fn json_logs() -> bool {
    match std::env::var("LAPSE_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    }
}

/// Our own events at info; octocrab's are off, since its request spans and
/// errors can carry URLs and bodies that say nothing useful to an operator.
const DEFAULT_LOG_FILTER: &str = "info,octocrab=off";

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LAPSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if json_logs() {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Error.code());
        }
    };
    let exit = runtime.block_on(dispatch(cli.command));
    ExitCode::from(exit.code())
}

async fn dispatch(command: Command) -> Exit {
    if matches!(
        command,
        Command::Plan { .. } | Command::Apply { .. } | Command::Snapshot { .. }
    ) {
        crate::progress::show_on_terminal();
    }
    match command {
        Command::Validate(common) => validate(&common),
        Command::Plan {
            common,
            state,
            output,
        } => plan_command(&common, state.as_deref(), &output).await,
        Command::Apply {
            common,
            yes,
            override_gates,
            output,
        } => {
            let acting = Acting {
                confirm: !yes,
                override_gates,
            };
            let options = CycleOptions {
                output: Some(&output),
                acting: Some(acting),
                stop_on_signals: true,
                kept: live::Kept::default(),
            };
            cycle::run("apply", &common.config, common.now, options)
                .await
                .exit
        }
        Command::Run { common, output } => {
            let options = CycleOptions {
                output: Some(&output),
                acting: None,
                stop_on_signals: true,
                kept: live::Kept::default(),
            };
            cycle::run("run", &common.config, common.now, options)
                .await
                .exit
        }
        Command::Snapshot { config, output } => snapshot_command(&config, &output).await,
        Command::Serve { config, listen } => daemon::serve(&config, &listen).await,
    }
}

/// A unique id for this run, joining logs, report, audit and alerts.
pub fn new_run_id(now: DateTime<Utc>) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_i64(now.timestamp_nanos_opt().unwrap_or_default());
    format!("{}-{:08x}", now.format("%Y%m%dT%H%M%SZ"), h.finish() as u32)
}

/// Prints diagnostics where errors belong: readable text, or one JSON log
/// event each when logs are JSON.
fn emit(diags: &Diagnostics) {
    if json_logs() {
        for d in &diags.0 {
            let fields = (
                d.file.as_str(),
                d.pos.line,
                d.pos.column,
                d.help.as_deref().unwrap_or(""),
            );
            if d.is_error() {
                tracing::error!(
                    file = fields.0,
                    line = fields.1,
                    column = fields.2,
                    help = fields.3,
                    "{}",
                    d.message
                );
            } else {
                tracing::warn!(
                    file = fields.0,
                    line = fields.1,
                    column = fields.2,
                    help = fields.3,
                    "{}",
                    d.message
                );
            }
        }
    } else {
        eprint!("{diags}");
    }
}

/// What a run reads before it observes anything.
pub struct Inputs {
    pub config: Config,
    pub loaded: Loaded,
    /// Requests sent to GitHub to read the roster from a repository, so the
    /// report's `api_calls` counts them too.
    pub roster_requests: u64,
}

/// The config and the roster as of `now`, or every problem with them.
/// `kept` lets `serve` read a roster in a repository conditionally, as it
/// reads teams.
pub async fn load_inputs(
    config_path: &Path,
    now: DateTime<Utc>,
    kept: &live::Kept,
) -> Result<Inputs, Diagnostics> {
    let config = config::load(config_path)?;
    let mut roster_requests = 0;
    let source = match &config.roster {
        RosterSource::File(path) => {
            yaml::read_source(path, &path.display().to_string(), roster::MAX_ROSTER_BYTES)?
        }
        RosterSource::Github {
            owner,
            repo,
            path,
            reference,
        } => {
            let name = match reference {
                Some(r) => format!("github:{owner}/{repo}/{path}@{r}"),
                None => format!("github:{owner}/{repo}/{path}"),
            };
            // Config validation guarantees the section; this only guards the invariant.
            let Some(github) = &config.github else {
                return Err(Diagnostics(vec![Diagnostic::file_error(
                    &name,
                    "the roster is read from GitHub, but the config has no `github` section",
                )]));
            };
            let unreadable = |e: String| {
                Diagnostics(vec![Diagnostic::file_error(&name, e).help(
                    "check the repository, path and ref, and that lapse's GitHub credentials can read its contents",
                )])
            };
            let client = crate::github::Client::connect(github).map_err(unreadable)?;
            if let Some(cache) = &kept.github_responses {
                cache.use_for(github);
                client.set_response_cache(cache.clone());
            }
            let fetched =
                crate::github::fetch_file(&client, owner, repo, path, reference.as_deref()).await;
            roster_requests = client.requests();
            yaml::source_from_bytes(
                &name,
                fetched.map_err(unreadable)?,
                roster::MAX_ROSTER_BYTES,
            )?
        }
    };
    let loaded = roster::load_source(&source, &config, now)?;
    Ok(Inputs {
        config,
        loaded,
        roster_requests,
    })
}

fn validate(common: &Common) -> Exit {
    let now = common.now.unwrap_or_else(Utc::now);
    let runtime = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runtime.block_on(load_inputs(&common.config, now, &live::Kept::default()))
    });
    match result {
        Ok(Inputs { config, loaded, .. }) => {
            print!("{}", loaded.warnings);
            println!(
                "{}: {} people, {} access levels; {} warnings",
                common.config.display(),
                loaded.roster.people.len(),
                config.levels.len(),
                loaded.warnings.warnings()
            );
            Exit::Success
        }
        Err(diags) => {
            print!("{diags}");
            println!(
                "{} errors, {} warnings: nothing was changed",
                diags.errors(),
                diags.warnings()
            );
            Exit::Error
        }
    }
}

/// Everything a plan needs, loaded and observed.
pub struct Planned {
    pub config: Config,
    pub loaded: Loaded,
    pub actual: Actual,
    pub plan: Plan,
    pub api_calls: ApiCalls,
    /// Requests spent reading the roster from GitHub (in `api_calls.github` already).
    pub roster_requests: u64,
}

/// Loads, observes (a snapshot when `state` is given, else the live
/// systems), and plans. Any failure is reported and becomes exit 1.
pub async fn load_and_plan(
    config_path: &Path,
    now: DateTime<Utc>,
    state: Option<&Path>,
    kept: &live::Kept,
) -> Result<(Planned, live::Systems), Exit> {
    let Inputs {
        config,
        loaded,
        roster_requests,
    } = match load_inputs(config_path, now, kept).await {
        Ok(x) => x,
        Err(diags) => {
            emit(&diags);
            return Err(Exit::Error);
        }
    };
    emit(&loaded.warnings);
    let mut systems = live::Systems::default();
    let snapshot_observer;
    let (github, aws): (Option<&dyn ObserveGithub>, Option<&dyn ObserveAws>) = match state {
        Some(path) => match snapshot::read(path, &config) {
            Ok(actual) => {
                snapshot_observer = SnapshotObserver::new(actual);
                (Some(&snapshot_observer), Some(&snapshot_observer))
            }
            Err(e) => {
                tracing::error!("{e}");
                return Err(Exit::Error);
            }
        },
        None => {
            systems = match live::connect(&config, kept).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("{e}; nothing was changed");
                    return Err(Exit::Error);
                }
            };
            (
                systems.github.as_deref().map(|g| g as &dyn ObserveGithub),
                systems.aws.as_deref().map(|a| a as &dyn ObserveAws),
            )
        }
    };
    let actual = match observe(&config, github, aws).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("{e}; nothing was changed");
            return Err(Exit::Error);
        }
    };
    let plan = plan::plan(&config, &loaded.roster, &actual, now);
    for note in &plan.notes {
        tracing::warn!("{note}");
    }
    let api_calls = ApiCalls {
        github: roster_requests + github.map_or(0, |g| g.requests()),
        aws: aws.map_or(0, |a| a.requests()),
    };
    Ok((
        Planned {
            config,
            loaded,
            actual,
            plan,
            api_calls,
            roster_requests,
        },
        systems,
    ))
}

/// Observes both systems, each only when the config manages something in it.
/// A read that fails anywhere fails the whole observation.
pub async fn observe(
    config: &Config,
    github: Option<&dyn ObserveGithub>,
    aws: Option<&dyn ObserveAws>,
) -> Result<Actual, crate::system::ObserveError> {
    let teams: Vec<String> = config.managed_teams().into_iter().collect();
    let roles: Vec<_> = config.managed_roles().into_iter().collect();
    let github_scope = config
        .github
        .as_ref()
        .filter(|_| !teams.is_empty())
        .map(|g| GithubScope {
            org: g.org.clone(),
            teams,
        });
    let aws_scope = config
        .aws
        .as_ref()
        .filter(|_| !roles.is_empty())
        .map(|a| AwsScope {
            roles,
            users_account: a.users_account.clone(),
            read_activity: config.policy.inactivity_limit_days.is_some(),
        });
    let github = async {
        match (&github_scope, github) {
            (Some(scope), Some(observer)) => observer.observe(scope).await.map(Some),
            _ => Ok(None),
        }
    };
    let aws = async {
        match (&aws_scope, aws) {
            (Some(scope), Some(observer)) => observer.observe(scope).await.map(Some),
            _ => Ok(None),
        }
    };
    let reading = crate::progress::Reading::start();
    let (github, aws) = tokio::join!(github, aws);
    drop(reading);
    Ok(Actual {
        github: github?,
        aws: aws?,
    })
}

/// Writes the report to `--output` or stdout.
pub fn write_report(report: &Report, output: &OutputArgs) -> Result<(), Exit> {
    let colour = output.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = report.render(output.format, colour);
    match &output.output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            tracing::error!("cannot write report {}: {e}", path.display());
            Exit::Error
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

async fn plan_command(common: &Common, state: Option<&Path>, output: &OutputArgs) -> Exit {
    let now = common.now.unwrap_or_else(Utc::now);
    let planned = match load_and_plan(&common.config, now, state, &live::Kept::default()).await {
        Ok((p, _)) => p,
        Err(exit) => return exit,
    };
    let report = Report {
        command: "plan".into(),
        run_id: new_run_id(Utc::now()),
        now,
        generated_at: Utc::now(),
        findings: planned.plan.findings.clone(),
        api_calls: planned.api_calls,
        notes: planned.plan.notes.clone(),
        refused: None,
        gates_overridden: None,
    };
    if let Err(exit) = write_report(&report, output) {
        return exit;
    }
    if planned.plan.has_drift() {
        Exit::Drift
    } else {
        Exit::Success
    }
}

async fn snapshot_command(config_path: &Path, output: &Path) -> Exit {
    let now = Utc::now();
    let (planned, _) = match load_and_plan(config_path, now, None, &live::Kept::default()).await {
        Ok(p) => p,
        Err(exit) => return exit,
    };
    match snapshot::write(output, &planned.actual, now) {
        Ok(()) => {
            tracing::info!(
                github_requests = planned.api_calls.github,
                aws_requests = planned.api_calls.aws,
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
