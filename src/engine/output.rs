//! Where a report goes: a file, or stdout (in colour on a terminal).

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::exit::Exit;
use crate::report::{Format, Report};

/// The report a command writes: its format, and a file instead of stdout.
#[derive(Debug, Clone)]
pub struct ReportOutput {
    pub format: Format,
    pub path: Option<PathBuf>,
}

/// Writes the report to its file or stdout.
pub fn write_report(report: &Report, output: &ReportOutput) -> Result<(), Exit> {
    let colour = output.path.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = report.render(output.format, colour);
    match &output.path {
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
