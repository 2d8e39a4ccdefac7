//! The JSON report (README: Reading a report).

use serde::Serialize;

use super::{ApiCalls, Report, Summary};
use crate::model::Finding;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    command: &'a str,
    run_id: &'a str,
    now: String,
    generated_at: String,
    findings: &'a [Finding],
    summary: Summary,
    api_calls: ApiCalls,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gates_overridden: Option<&'a str>,
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn render(report: &Report) -> String {
    let json = JsonReport {
        version: 1,
        command: &report.command,
        run_id: &report.run_id,
        now: time(report.now),
        generated_at: time(report.generated_at),
        findings: &report.findings,
        summary: report.summary(),
        api_calls: report.api_calls,
        notes: &report.notes,
        refused: report.refused.as_deref(),
        gates_overridden: report.gates_overridden.as_deref(),
    };
    let mut out = serde_json::to_string_pretty(&json).expect("a report always serialises");
    out.push('\n');
    out
}
