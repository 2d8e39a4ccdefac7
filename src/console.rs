//! How this process speaks on stderr: JSON log lines or text. Decided once,
//! from the environment and the terminal, so the systems that draw progress
//! and the engine that prints diagnostics agree without asking the CLI.

use std::io::IsTerminal;
use std::sync::OnceLock;

static JSON_LOGS: OnceLock<bool> = OnceLock::new();

/// Whether logs are JSON lines: when stderr is not a terminal, unless
/// `LAPSE_LOG_FORMAT` says `json` or `text`.
pub fn json_logs() -> bool {
    *JSON_LOGS.get_or_init(|| match std::env::var("LAPSE_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    })
}
