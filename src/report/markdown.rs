//! The markdown report: fit for a pull-request comment or a chat post.

use std::fmt::Write as _;

use super::{Report, outcome_word};
use crate::hygiene::{markdown_code as code, markdown_text as cell};
use crate::model::Action;

pub fn render(report: &Report) -> String {
    let s = report.summary();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### lapse {}: {} findings, {} revocations planned",
        report.command, s.findings, s.revocations_planned
    );
    let _ = writeln!(
        out,
        "\nAs of {} · run `{}`",
        report
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        report.run_id
    );
    let kinds: Vec<String> = report
        .counts_by_kind()
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    if !kinds.is_empty() {
        let _ = writeln!(out, "\n**By kind:** {}", kinds.join(", "));
    }
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\nNo drift: every grant in the managed scope matches the roster."
        );
    }
    let acted = report.findings.iter().any(|f| f.result.is_some());
    for ((system, target), findings) in report.by_target() {
        let _ = writeln!(out, "\n#### `{}` ({system})\n", code(target));
        if acted {
            let _ = writeln!(
                out,
                "| kind | principal | person | action | result | reason |"
            );
            let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        } else {
            let _ = writeln!(out, "| kind | principal | person | action | reason |");
            let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        }
        for f in findings {
            let action = if f.action == Action::Revoke {
                "**revoke**"
            } else {
                "none"
            };
            let person = f.person.as_deref().map(cell).unwrap_or_else(|| "—".into());
            let mut reason = cell(&f.reason);
            if let Some(e) = &f.error {
                let _ = write!(reason, " (error: {})", cell(e));
            }
            if acted {
                let result = f.result.map(outcome_word).unwrap_or("");
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {person} | {action} | {result} | {reason} |",
                    f.kind,
                    code(&f.principal)
                );
            } else {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {person} | {action} | {reason} |",
                    f.kind,
                    code(&f.principal)
                );
            }
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\n**Notes**\n");
        for n in &report.notes {
            let _ = writeln!(out, "- {}", cell(n));
        }
    }
    if let Some(reason) = &report.refused {
        let _ = writeln!(out, "\n**Refused:** {}", cell(reason));
    }
    if let Some(reason) = &report.gates_overridden {
        let _ = writeln!(out, "\n**Safety gates overridden:** {}", cell(reason));
    }
    let _ = writeln!(out, "\n<sub>API calls: {}</sub>", report.api_calls.listed());
    out
}
