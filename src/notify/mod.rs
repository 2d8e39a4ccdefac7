//! Alerts on drift: a Slack message, the JSON report to a webhook, and
//! metrics to a Prometheus Pushgateway. Each is retried with backoff; one that
//! still fails does not stop the others, and the run then exits 5.

pub mod metrics;
mod slack;

use std::time::Duration;

use crate::config::Alerts;
use crate::report::{Format, Report};

/// What one run tells the metrics: the report, how long it took, whether it succeeded.
pub struct RunFacts<'a> {
    pub report: &'a Report,
    pub duration: Duration,
    pub succeeded: bool,
}

/// Delivers every configured alert. Returns the channels that failed (by
/// name only: webhook URLs are secrets and never appear in errors).
pub async fn deliver(alerts: &Alerts, facts: &RunFacts<'_>) -> Vec<String> {
    // A redirect could carry the report, with names and dates of leave, to
    // another origin: a webhook that answers with one has failed.
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return vec![format!(
                "alerts: cannot build an HTTP client: {}",
                e.without_url()
            )];
        }
    };
    let drift = facts.report.findings.iter().any(|f| f.kind.is_drift());
    let mut failed = Vec::new();
    if drift {
        if let Some(url) = secret_url(alerts.slack_webhook_env.as_deref()) {
            let body =
                crate::redact::text(&slack::message(facts.report, alerts.detail).to_string())
                    .into_owned();
            if let Err(e) = post(&client, &url, body, "application/json").await {
                failed.push(format!("slack: {e}"));
            }
        }
        if let Some(url) = secret_url(alerts.webhook_url_env.as_deref()) {
            let body = facts.report.render(Format::Json, false);
            if let Err(e) = post(&client, &url, body, "application/json").await {
                failed.push(format!("webhook: {e}"));
            }
        }
    }
    if let Some(base) = &alerts.pushgateway_url {
        let url = format!("{}/metrics/job/lapse", base.trim_end_matches('/'));
        let body = metrics::render(facts, None);
        if let Err(e) = post(&client, &url, body, "text/plain; version=0.0.4").await {
            failed.push(format!("pushgateway: {e}"));
        }
    }
    for f in &failed {
        tracing::error!("alert not delivered: {f}");
    }
    failed
}

/// The URL held in the named environment variable, if set and not empty.
fn secret_url(env: Option<&str>) -> Option<String> {
    std::env::var(env?).ok().filter(|v| !v.trim().is_empty())
}

/// Attempts before giving up on one alert.
const ATTEMPTS: u32 = 4;

/// POSTs with exponential backoff on connection errors, 429 and 5xx.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
    content_type: &str,
) -> Result<(), String> {
    let base = backoff_base();
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(base * 2u32.pow(attempt - 1)).await;
        }
        let sent = client
            .post(url)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                last = format!("HTTP {}", r.status().as_u16())
            }
            Ok(r) => return Err(format!("HTTP {} (not retried)", r.status().as_u16())),
            Err(e) => last = e.without_url().to_string(),
        }
    }
    Err(format!("{last} after {ATTEMPTS} attempts"))
}

/// The first retry's delay; tests shorten it with `LAPSE_ALERT_BACKOFF_MS`.
fn backoff_base() -> Duration {
    let ms = std::env::var("LAPSE_ALERT_BACKOFF_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}
