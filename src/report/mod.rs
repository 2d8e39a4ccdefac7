//! Reports of a run: JSON for machines (see the README: Reading a report), text for a terminal,
//! markdown for a pull-request comment or a chat post.

mod json;
mod markdown;
pub mod review;
mod text;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{Action, Finding, FindingKind, Outcome, System};

/// Output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// HTTP requests made to each system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApiCalls {
    pub github: u64,
    pub aws: u64,
    /// IAM Identity Center; left out of reports of runs that do not manage it.
    #[serde(skip_serializing_if = "is_zero")]
    pub sso: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ApiCalls {
    /// `github N, aws N`, and `sso N` when Identity Center was read.
    pub fn listed(&self) -> String {
        let mut listed = format!("github {}, aws {}", self.github, self.aws);
        if self.sso > 0 {
            listed.push_str(&format!(", sso {}", self.sso));
        }
        listed
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub revocations_planned: usize,
    pub revocations_done: usize,
    pub revocations_failed: usize,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub command: String,
    pub run_id: String,
    pub now: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub findings: Vec<Finding>,
    pub api_calls: ApiCalls,
    /// Remarks that are not findings (unused protected entries, unknown IAM users).
    pub notes: Vec<String>,
    /// Why a safety gate refused the apply, when one did.
    pub refused: Option<String>,
    /// The reason given with `--override-gates`.
    pub gates_overridden: Option<String>,
}

impl Report {
    pub fn summary(&self) -> Summary {
        Summary {
            findings: self.findings.len(),
            revocations_planned: self
                .findings
                .iter()
                .filter(|f| f.action == Action::Revoke)
                .count(),
            revocations_done: self
                .findings
                .iter()
                .filter(|f| f.result == Some(Outcome::Done))
                .count(),
            revocations_failed: self
                .findings
                .iter()
                .filter(|f| f.result == Some(Outcome::Failed))
                .count(),
        }
    }

    /// Findings of each kind, in the order of [`FindingKind::ALL`], omitting zeros.
    pub fn counts_by_kind(&self) -> Vec<(FindingKind, usize)> {
        FindingKind::ALL
            .iter()
            .map(|k| (*k, self.findings.iter().filter(|f| f.kind == *k).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The findings grouped by system then target, in report order.
    pub fn by_target(&self) -> Vec<((System, &str), Vec<&Finding>)> {
        let mut groups: Vec<((System, &str), Vec<&Finding>)> = Vec::new();
        for f in &self.findings {
            match groups.last_mut() {
                Some((key, items)) if *key == (f.system, f.target.as_str()) => items.push(f),
                _ => groups.push(((f.system, f.target.as_str()), vec![f])),
            }
        }
        groups
    }

    /// Renders the report, through the redaction layer. `colour` only matters for text.
    pub fn render(&self, format: Format, colour: bool) -> String {
        let rendered = match format {
            Format::Json => json::render(self),
            Format::Text => text::render(self, colour),
            Format::Markdown => markdown::render(self),
        };
        match crate::redact::text(&rendered) {
            std::borrow::Cow::Borrowed(_) => rendered,
            std::borrow::Cow::Owned(masked) => masked,
        }
    }
}

/// What the `result` of a finding reads as in human output.
fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Done => "done",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "skipped",
        Outcome::Refused => "refused",
    }
}
