//! Logging set-up: text on a terminal, JSON lines otherwise (see [`crate::console`]).

use std::io::IsTerminal;

/// Our own events at info; octocrab's are off, since its request spans and
/// errors can carry URLs and bodies that say nothing useful to an operator.
const DEFAULT_LOG_FILTER: &str = "info,octocrab=off";

/// Installs the process's log subscriber, filtered by `LAPSE_LOG`, writing
/// through the redaction layer.
pub fn init() {
    crate::redact::register_standard_env();
    let filter = tracing_subscriber::EnvFilter::try_from_env("LAPSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    // Audit records reach the log whatever LAPSE_LOG says.
    let filter = match format!("{}=info", crate::audit::LOG_TARGET).parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(|| crate::redact::Writer(std::io::stderr()))
        .with_env_filter(filter);
    if crate::console::json_logs() {
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
