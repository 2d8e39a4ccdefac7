//! Prometheus metrics of the last run, in the text exposition format: pushed
//! to a Pushgateway after `run`, and served on `/metrics` by `serve`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::RunFacts;
use crate::model::{FindingKind, Outcome, System};

/// Renders the metrics of one run. `last_success` overrides the run's own
/// success time (the daemon remembers it across failed cycles).
pub fn render(facts: &RunFacts<'_>, last_success: Option<DateTime<Utc>>) -> String {
    let report = facts.report;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP lapse_findings Findings of the last run, by kind and system."
    );
    let _ = writeln!(out, "# TYPE lapse_findings gauge");
    for system in System::ALL {
        for kind in FindingKind::ALL {
            let n = report
                .findings
                .iter()
                .filter(|f| f.system == system && f.kind == kind)
                .count();
            let _ = writeln!(
                out,
                "lapse_findings{{kind=\"{kind}\",system=\"{system}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP lapse_revocations Revocations of the last run, by result."
    );
    let _ = writeln!(out, "# TYPE lapse_revocations gauge");
    let s = report.summary();
    let _ = writeln!(
        out,
        "lapse_revocations{{result=\"planned\"}} {}",
        s.revocations_planned
    );
    for (name, outcome) in [
        ("done", Outcome::Done),
        ("failed", Outcome::Failed),
        ("skipped", Outcome::Skipped),
        ("refused", Outcome::Refused),
    ] {
        let n = report
            .findings
            .iter()
            .filter(|f| f.result == Some(outcome))
            .count();
        let _ = writeln!(out, "lapse_revocations{{result=\"{name}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP lapse_api_calls HTTP requests the last run made, by system."
    );
    let _ = writeln!(out, "# TYPE lapse_api_calls gauge");
    let _ = writeln!(
        out,
        "lapse_api_calls{{system=\"github\"}} {}",
        report.api_calls.github
    );
    let _ = writeln!(
        out,
        "lapse_api_calls{{system=\"aws\"}} {}",
        report.api_calls.aws
    );
    let _ = writeln!(
        out,
        "lapse_api_calls{{system=\"sso\"}} {}",
        report.api_calls.sso
    );
    let _ = writeln!(
        out,
        "# HELP lapse_run_duration_seconds How long the last run took."
    );
    let _ = writeln!(out, "# TYPE lapse_run_duration_seconds gauge");
    let _ = writeln!(
        out,
        "lapse_run_duration_seconds {:.3}",
        facts.duration.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "# HELP lapse_run_success Whether the last run succeeded (1) or failed (0)."
    );
    let _ = writeln!(out, "# TYPE lapse_run_success gauge");
    let _ = writeln!(out, "lapse_run_success {}", u8::from(facts.succeeded));
    let last = last_success.or(facts.succeeded.then_some(report.generated_at));
    if let Some(t) = last {
        let _ = writeln!(
            out,
            "# HELP lapse_last_success_timestamp_seconds When a run last succeeded."
        );
        let _ = writeln!(out, "# TYPE lapse_last_success_timestamp_seconds gauge");
        let _ = writeln!(
            out,
            "lapse_last_success_timestamp_seconds {}",
            t.timestamp()
        );
    }
    out
}
