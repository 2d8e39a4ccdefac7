//! The Slack message: concise, revocations first, then the warnings that let
//! people act before a grant lapses.

use serde_json::{Value, json};

use crate::config::AlertDetail;
use crate::model::{Action, Finding, FindingKind, Outcome, System};
use crate::report::Report;

/// At most this many findings are listed; the rest are counted.
const LISTED: usize = 10;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Revocations first, then `expiring_soon`, then the rest; a few places are
/// kept for warnings so people hear of a grant before it lapses.
fn listed_findings(report: &Report) -> Vec<&Finding> {
    let of = |pick: fn(&Finding) -> bool| report.findings.iter().filter(move |f| pick(f));
    let revokes: Vec<&Finding> = of(|f| f.action == Action::Revoke).collect();
    let warnings: Vec<&Finding> =
        of(|f| f.action != Action::Revoke && f.kind == FindingKind::ExpiringSoon).collect();
    let others = of(|f| f.action != Action::Revoke && f.kind != FindingKind::ExpiringSoon);
    let revoke_places = revokes
        .len()
        .min(LISTED - warnings.len().min(WARNING_PLACES));
    let mut listed: Vec<&Finding> = revokes.into_iter().take(revoke_places).collect();
    let room = LISTED - listed.len();
    listed.extend(warnings.into_iter().take(room));
    let room = LISTED - listed.len();
    listed.extend(others.take(room));
    listed
}

/// Places kept for `expiring_soon` warnings when revocations would fill the list.
const WARNING_PLACES: usize = 3;

/// A finding's reason as Slack may tell it. A chat channel is wider than
/// the people who need to know when someone went on leave, so without
/// `alerts.detail: full` absence is said without its dates.
fn reason(f: &Finding, detail: AlertDetail) -> &str {
    if detail == AlertDetail::Full {
        return &f.reason;
    }
    match f.kind {
        FindingKind::Absent => "absent beyond the limit",
        FindingKind::ExpiringSoon if !f.reason.starts_with("temporary") => {
            "absence will pass the limit soon"
        }
        _ => &f.reason,
    }
}

fn line(f: &Finding, detail: AlertDetail) -> String {
    let action = match (f.action, f.result) {
        (Action::Revoke, Some(Outcome::Done)) => "revoked".to_string(),
        (Action::Revoke, Some(o)) => format!(
            "revoke {}",
            serde_json::to_value(o)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
        (Action::Revoke, None) => "to revoke".to_string(),
        (Action::None, _) => f.kind.as_str().replace('_', " "),
    };
    format!(
        "• *{action}* `{}` on `{}`: {}",
        escape(&f.principal),
        escape(&f.target),
        escape(reason(f, detail))
    )
}

pub fn message(report: &Report, detail: AlertDetail) -> Value {
    let s = report.summary();
    let findings = listed_findings(report);
    let mut counts = Vec::new();
    for system in System::ALL {
        let by_kind: Vec<String> = FindingKind::ALL
            .iter()
            .filter_map(|k| {
                let n = report
                    .findings
                    .iter()
                    .filter(|f| f.system == system && f.kind == *k)
                    .count();
                (n > 0).then(|| format!("{n} {}", k.as_str().replace('_', " ")))
            })
            .collect();
        if !by_kind.is_empty() {
            counts.push(format!("*{system}*: {}", by_kind.join(", ")));
        }
    }
    let mut listed: Vec<String> = findings.iter().map(|f| line(f, detail)).collect();
    if report.findings.len() > findings.len() {
        listed.push(format!(
            "…and {} more (see the report)",
            report.findings.len() - findings.len()
        ));
    }
    let done = if report.findings.iter().any(|f| f.result.is_some()) {
        format!(
            "{} revoked, {} failed",
            s.revocations_done, s.revocations_failed
        )
    } else {
        format!("{} to revoke, nothing changed", s.revocations_planned)
    };
    let title = format!("lapse {}: {} findings, {done}", report.command, s.findings);
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": counts.join("\n")}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": listed.join("\n")}}),
    ];
    if let Some(refused) = &report.refused {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(":no_entry: *Refused:* {}", escape(refused))}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("run `{}` · as of {}", report.run_id, report.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))}]}));
    json!({"text": title, "blocks": blocks})
}
