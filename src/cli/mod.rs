//! The shell: parses arguments, sets up logging, calls the engine, prints,
//! and maps the outcome to an exit code. No access logic lives here, and
//! nothing below imports it.

mod confirm;
mod logging;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::daemon;
use crate::engine::review::ReviewOutput;
use crate::engine::{self, Acting, CycleOptions, Kept, ReportOutput};
use crate::exit::Exit;
use crate::report::Format;
use crate::report::review::ReviewFormat;
use crate::when::{self, DayEdge};

/// Shown under every command's help: what scripts and people rely on.
const AFTER_HELP: &str = "\
Exit codes:
  0  success: no drift (expiring_soon alone is not drift); for apply/run, every revocation done
  1  error: bad config or roster, an API that could not be read, a usage error; nothing changed
  2  plan, or run in report mode: drift found
  3  apply/run: refused by a safety gate; nothing changed
  4  apply/run: some revocations failed or were refused for their target (the report says which)
  5  the run succeeded but an alert could not be delivered

Environment:
  LAPSE_LOG         log filter, e.g. debug or lapse=debug (default info)
  LAPSE_LOG_FORMAT  json or text; logs are JSON lines when stderr is not a terminal
  NO_COLOR          no colour in the text report
  Credentials come from the variables the config names (github.token_env, alerts.*_env)
  and the standard AWS chain (environment, profile or SSO, web identity for IRSA).";

#[derive(Debug, Parser)]
#[command(
    name = "lapse",
    version,
    about = "Keeps production access honest: compares a YAML roster with GitHub teams and IAM trust policies, reports drift, revokes what has lapsed.",
    after_help = AFTER_HELP,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config and roster; change nothing.
    #[command(after_help = AFTER_HELP)]
    Validate(Common),
    /// Show what has drifted and what would be revoked; change nothing.
    #[command(after_help = AFTER_HELP)]
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
    #[command(after_help = AFTER_HELP)]
    Apply {
        #[command(flatten)]
        common: Common,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Let a deliberate bulk clean-up past the count and ratio gates (never past `protected`).
        #[arg(long, value_name = "REASON", value_parser = parse_reason)]
        override_gates: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One scheduled cycle: plan, alert, and apply when `mode: enforce`.
    #[command(after_help = AFTER_HELP)]
    Run {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run cycles on the config's schedule; serve /healthz and /metrics.
    #[command(after_help = AFTER_HELP)]
    Serve {
        /// The lapse.yaml to use; it and the roster are read again every cycle.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Where to serve /healthz and /metrics.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9184")]
        listen: String,
    },
    /// Write the live state of every system to a snapshot file (for `plan --state`).
    #[command(after_help = AFTER_HELP)]
    Snapshot {
        /// The lapse.yaml to use.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The snapshot file to write.
        #[arg(long, value_name = "SNAPSHOT")]
        output: PathBuf,
    },
    /// The periodic access review: every holder of every managed team and
    /// role, with the roster's grounds and any drift. Changes nothing.
    #[command(after_help = AFTER_HELP)]
    Review {
        #[command(flatten)]
        common: Common,
        /// Read this snapshot instead of calling any API.
        #[arg(long, value_name = "SNAPSHOT")]
        state: Option<PathBuf>,
        /// markdown for people (a pull-request comment, the audit file), csv for spreadsheets, json for scripts.
        #[arg(long, value_enum, default_value = "markdown")]
        format: ReviewFormat,
        /// Write the review here instead of to stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
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
    /// text for a terminal, json for scripts, markdown for a pull-request comment.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    fn report_output(self) -> ReportOutput {
        ReportOutput {
            format: self.format,
            path: self.output,
        }
    }
}

/// An override must say why: the reason is what the audit trail keeps.
fn parse_reason(text: &str) -> Result<String, String> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err("give the reason for overriding the gates (it goes into the audit record and the report)".into());
    }
    if reason.chars().any(char::is_control) {
        return Err("the reason must be plain text, without control characters".into());
    }
    Ok(reason.to_string())
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    when::parse_time(text, DayEdge::Start)
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    logging::init();
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

/// Prints clap's message and exits 0 for `--help` and `--version`, 1 for
/// every usage error: 2 means drift, and a script must never read a typo
/// as drift.
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = error.print();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(Exit::Error.code()),
    }
}

async fn dispatch(command: Command) -> Exit {
    if matches!(
        command,
        Command::Plan { .. }
            | Command::Apply { .. }
            | Command::Snapshot { .. }
            | Command::Review { .. }
    ) {
        crate::progress::show_on_terminal();
    }
    match command {
        Command::Validate(common) => validate::run(&common),
        Command::Plan {
            common,
            state,
            output,
        } => {
            let now = common.now.unwrap_or_else(Utc::now);
            engine::plan(
                &common.config,
                now,
                state.as_deref(),
                &output.report_output(),
            )
            .await
        }
        Command::Apply {
            common,
            yes,
            override_gates,
            output,
        } => {
            let acting = Acting {
                confirm: (!yes).then(|| Arc::new(confirm::Terminal) as Arc<dyn engine::Confirm>),
                override_gates,
            };
            cycle("apply", common, output, Some(acting)).await
        }
        Command::Run { common, output } => cycle("run", common, output, None).await,
        Command::Snapshot { config, output } => engine::snapshot(&config, &output).await,
        Command::Serve { config, listen } => daemon::serve(&config, &listen).await,
        Command::Review {
            common,
            state,
            format,
            output,
        } => {
            let now = common.now.unwrap_or_else(Utc::now);
            let output = ReviewOutput {
                format,
                path: output,
            };
            engine::review::review(&common.config, now, state.as_deref(), &output).await
        }
    }
}

/// `apply` and `run`: one cycle of the engine, stopping between changes on a signal.
async fn cycle(command: &str, common: Common, output: OutputArgs, acting: Option<Acting>) -> Exit {
    let options = CycleOptions {
        output: Some(output.report_output()),
        acting,
        stop_on_signals: true,
        kept: Kept::default(),
    };
    engine::run(command, &common.config, common.now, options)
        .await
        .exit
}
