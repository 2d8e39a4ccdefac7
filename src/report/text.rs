//! The terminal report: one block per target, a line per finding, a summary line.

use std::fmt::Write as _;

use super::{Report, outcome_word};
use crate::hygiene::escape_control as shown;
use crate::model::{Action, FindingKind};

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub fn render(report: &Report, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} as of {} (run {})",
        paint(BOLD, &format!("lapse {}", report.command)),
        report
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        report.run_id
    );
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\nNo drift: every grant in the managed scope matches the roster."
        );
    }
    for ((system, target), findings) in report.by_target() {
        let _ = writeln!(
            out,
            "\n{} {}",
            paint(BOLD, &shown(target)),
            paint(DIM, &format!("({system})"))
        );
        for f in findings {
            let action = match (f.action, f.result) {
                (Action::Revoke, Some(r)) => format!("revoke: {}", outcome_word(r)),
                (Action::Revoke, None) => "revoke".to_string(),
                (Action::None, _) => "none".to_string(),
            };
            let action = match (f.action, f.kind) {
                (Action::Revoke, _) => paint(RED, &format!("{action:<15}")),
                (_, FindingKind::ExpiringSoon) => paint(YELLOW, &format!("{action:<15}")),
                _ => format!("{action:<15}"),
            };
            let person = f
                .person
                .as_deref()
                .map(|p| format!(" <{}>", shown(p)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {action} {:<18} {}{person}",
                f.kind.as_str(),
                shown(&f.principal),
            );
            let _ = writeln!(out, "  {:15} {}", "", paint(DIM, &shown(&f.reason)));
            if let Some(e) = &f.error {
                let _ = writeln!(
                    out,
                    "  {:15} {}",
                    "",
                    paint(RED, &format!("error: {}", shown(e)))
                );
            }
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for n in &report.notes {
            let _ = writeln!(out, "  - {}", shown(n));
        }
    }
    if let Some(reason) = &report.refused {
        let _ = writeln!(
            out,
            "\n{}",
            paint(RED, &format!("Refused: {}", shown(reason)))
        );
    }
    if let Some(reason) = &report.gates_overridden {
        let _ = writeln!(out, "\nSafety gates overridden: {}", shown(reason));
    }
    out.push_str(&summary(report));
    out
}

/// `1 finding`, `2 findings`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The closing lines: what was found (drift apart from warnings), what was
/// planned and done, and, when nothing was changed, what would change it.
fn summary(report: &Report) -> String {
    let s = report.summary();
    let drift: Vec<String> = report
        .counts_by_kind()
        .iter()
        .filter(|(k, _)| k.is_drift())
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let drift_total: usize = report.findings.iter().filter(|f| f.kind.is_drift()).count();
    let others = s.findings.saturating_sub(drift_total);
    let mut line = format!("\n{}", count(s.findings, "finding", "findings"));
    if s.findings > 0 {
        let _ = write!(line, ": {drift_total} drift");
        if !drift.is_empty() {
            let _ = write!(line, " ({})", drift.join(", "));
        }
        let _ = write!(line, ", {others} expiring soon (warnings, not drift)");
    }
    let _ = write!(
        line,
        "; {} planned",
        count(s.revocations_planned, "revocation", "revocations")
    );
    let acted = report.findings.iter().any(|f| f.result.is_some());
    if acted {
        let _ = write!(
            line,
            ", {} done, {} failed",
            s.revocations_done, s.revocations_failed
        );
    }
    let _ = writeln!(line, "; API calls: {}", report.api_calls.listed());
    if report.refused.is_some() {
        let _ = writeln!(line, "Nothing was changed: the apply was refused.");
    } else if !acted && s.revocations_planned > 0 {
        let _ = writeln!(
            line,
            "Nothing was changed. `lapse apply` would carry out the {} planned.",
            count(s.revocations_planned, "revocation", "revocations")
        );
    }
    line
}
