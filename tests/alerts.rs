//! Alerts: what Slack, a webhook and a Pushgateway receive, and what happens
//! when they will not receive it.

use std::path::Path;
use std::time::Duration;

use lapse::config::Alerts;
use lapse::notify::{self, RunFacts};
use lapse::report::{ApiCalls, Report};
use lapse_test_support::receiver::Receiver;

fn example_report() -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example");
    let now = lapse::when::parse_time("2026-11-22", lapse::when::DayEdge::Start).unwrap();
    let config = lapse::config::load(&dir.join("lapse.yaml")).unwrap();
    let source = lapse::diag::Source {
        name: "users.yaml".into(),
        text: std::fs::read_to_string(dir.join("users.yaml")).unwrap(),
    };
    let roster = lapse::roster::load_source(&source, &config, now)
        .unwrap()
        .roster;
    let actual = lapse::snapshot::read(&dir.join("snapshot.json"), &config).unwrap();
    let plan = lapse::plan::plan(&config, &roster, &actual, now);
    Report {
        command: "run".into(),
        run_id: "run-42".into(),
        now,
        generated_at: now,
        findings: plan.findings,
        api_calls: ApiCalls {
            github: 9,
            aws: 6,
            sso: 0,
        },
        notes: vec![],
        refused: None,
        gates_overridden: None,
    }
}

/// Sets the two webhook env vars to the receiver's paths; each test uses its own names.
fn alerts(receiver: &Receiver, tag: &str) -> Alerts {
    let slack = format!("LAPSE_TEST_SLACK_{tag}");
    let hook = format!("LAPSE_TEST_HOOK_{tag}");
    // SAFETY: each test sets variables with names of its own.
    unsafe {
        std::env::set_var(&slack, receiver.url("/slack"));
        std::env::set_var(&hook, receiver.url("/hook"));
        std::env::set_var("LAPSE_ALERT_BACKOFF_MS", "10");
    }
    Alerts {
        slack_webhook_env: Some(slack),
        webhook_url_env: Some(hook),
        pushgateway_url: Some(receiver.url("/gateway")),
        detail: Default::default(),
    }
}

fn deliver(alerts: &Alerts, report: &Report) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let facts = RunFacts {
        report,
        duration: Duration::from_millis(1500),
        succeeded: true,
    };
    runtime.block_on(notify::deliver(alerts, &facts))
}

#[test]
fn drift_reaches_slack_the_webhook_and_the_pushgateway() {
    let receiver = Receiver::start();
    let report = example_report();
    assert!(deliver(&alerts(&receiver, "A"), &report).is_empty());

    let slack = receiver.at("/slack");
    assert_eq!(slack.len(), 1, "one message per run");
    let message: serde_json::Value = serde_json::from_str(&slack[0].body).unwrap();
    let text = message.to_string();
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with("lapse run: 26 findings, 14 to revoke"),
        "{}",
        message["text"]
    );
    assert!(
        text.contains("run `run-42`"),
        "the run id joins the alert to the logs"
    );
    let listing = message["blocks"][2]["text"]["text"].as_str().unwrap();
    let first_lines: Vec<&str> = listing.lines().collect();
    assert!(
        first_lines[0].starts_with("• *to revoke*"),
        "revocations first: {listing}"
    );
    assert!(
        listing.contains("expiring soon"),
        "then the warnings: {listing}"
    );
    assert!(
        listing.ends_with("…and 16 more (see the report)"),
        "{listing}"
    );
    assert!(
        message["blocks"][1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("*github*: 2 unexpected")
    );

    // Leave is said without its dates; the webhook still gets the full report.
    assert!(listing.contains("absent beyond the limit"), "{listing}");
    assert!(!text.contains("declared absence since"), "{text}");
    let hook = receiver.at("/hook");
    assert_eq!(hook.len(), 1);
    assert!(hook[0].body.contains("declared absence since 2026-09-01"));
    let json: serde_json::Value = serde_json::from_str(&hook[0].body).unwrap();
    assert_eq!(json["summary"]["findings"], 26);
    assert_eq!(json["run_id"], "run-42");

    let gateway = receiver.at("/gateway/metrics/job/lapse");
    assert_eq!(gateway.len(), 1);
    let metrics = &gateway[0].body;
    assert!(
        metrics.contains("lapse_findings{kind=\"absent\",system=\"github\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("lapse_api_calls{system=\"aws\"} 6"));
    assert!(metrics.contains("lapse_run_duration_seconds 1.500"));
    assert!(metrics.contains("lapse_last_success_timestamp_seconds "));
}

#[test]
fn no_drift_sends_no_message_but_still_pushes_metrics() {
    let receiver = Receiver::start();
    let mut report = example_report();
    report.findings.retain(|f| !f.kind.is_drift());
    assert!(deliver(&alerts(&receiver, "B"), &report).is_empty());
    assert!(receiver.at("/slack").is_empty());
    assert!(receiver.at("/hook").is_empty());
    assert_eq!(receiver.at("/gateway/metrics/job/lapse").len(), 1);
}

#[test]
fn a_failing_receiver_is_retried_then_reported_without_its_url() {
    let receiver = Receiver::start();
    receiver.fail_next(&[503, 502]);
    let failed = deliver(&alerts(&receiver, "C"), &example_report());
    assert!(failed.is_empty(), "two failures then success: {failed:?}");
    assert_eq!(receiver.at("/slack").len(), 3);

    receiver.fail_next(&[500; 12]);
    let failed = deliver(&alerts(&receiver, "C"), &example_report());
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        failed[0].starts_with("slack: HTTP 500 after 4 attempts"),
        "{failed:?}"
    );
    assert!(
        failed.iter().all(|f| !f.contains("127.0.0.1")),
        "webhook URLs are secrets: {failed:?}"
    );
}

#[test]
fn a_redirect_is_not_followed_and_counts_as_undelivered() {
    let elsewhere = Receiver::start();
    let receiver = Receiver::start();
    receiver.redirect_all_to(&elsewhere.url("/stolen"));

    let failed = deliver(&alerts(&receiver, "R"), &example_report());

    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed.iter().all(|f| f.contains("HTTP 307")), "{failed:?}");
    assert!(
        elsewhere.received().is_empty(),
        "nothing reached the other origin"
    );
    assert_eq!(receiver.at("/hook").len(), 1, "a 3xx is not retried");
}

#[test]
fn with_full_detail_slack_is_told_the_reasons_as_the_report_gives_them() {
    let receiver = Receiver::start();
    let mut alerts = alerts(&receiver, "F");
    alerts.detail = lapse::config::AlertDetail::Full;
    assert!(deliver(&alerts, &example_report()).is_empty());
    let slack = &receiver.at("/slack")[0].body;
    assert!(
        slack.contains("declared absence since 2026-09-01"),
        "{slack}"
    );
    assert!(!slack.contains("absent beyond the limit"), "{slack}");
}
