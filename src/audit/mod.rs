//! The audit trail: a record before every change (intent) and after it
//! (result), so that a crash mid-run leaves a trace of exactly what may have
//! happened, and every change can be undone by hand from its record.
//!
//! Each record carries the run's context (run id, the evaluation time the
//! plan used, who lapse acted as, an override's reason) beside what the
//! revoker says of the change. It goes to every sink: the log stream always
//! ([`log`]), and the durable ones configured, a JSON-lines file ([`file`])
//! and S3 ([`s3`]). A sink that fails to take an intent stops its change.

mod file;
mod log;
mod s3;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::model::System;
use crate::system::{AuditEvent, AuditSink};

pub use crate::config::{AuditSettings as Settings, S3Location};
pub use file::FileSink;
pub use log::TARGET as LOG_TARGET;
pub use s3::S3Sink;

/// What every record of one run shares.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub run_id: String,
    /// The evaluation time the plan used (`--now`, or the clock).
    pub now: DateTime<Utc>,
    /// Who lapse acts as: by `github`, or `aws:ACCOUNT_ID` for the caller
    /// ARN in that account (the GitHub App installation or the token's owner).
    pub actors: BTreeMap<String, String>,
    /// The reason given with `--override-gates`, when the gates were overridden.
    pub override_reason: Option<String>,
}

/// One record as every sink writes it.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub time: String,
    pub run_id: &'a str,
    /// The evaluation time the plan used.
    pub now: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<&'a str>,
    /// The order of the record within the run, from 1.
    pub sequence: u64,
    #[serde(flatten)]
    pub event: &'a AuditEvent,
}

/// Where records go, besides the log stream.
pub trait Sink: Send + Sync {
    /// Writes one record durably before returning.
    fn write(&self, record: &Record<'_>, line: &str) -> Result<(), String>;
    /// For messages: where this sink writes.
    fn describe(&self) -> String;
}

/// A run's audit trail: its context and its sinks.
pub struct AuditTrail {
    context: Context,
    sinks: Vec<Box<dyn Sink>>,
    sequence: AtomicU64,
}

impl AuditTrail {
    /// A trail writing to these sinks (and always to the log).
    pub fn new(context: Context, sinks: Vec<Box<dyn Sink>>) -> AuditTrail {
        AuditTrail {
            context,
            sinks,
            sequence: AtomicU64::new(0),
        }
    }

    /// Whether a record would outlive the process's logs.
    pub fn is_durable(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// Where records go, for messages.
    pub fn describe(&self) -> String {
        let mut places: Vec<String> = self.sinks.iter().map(|s| s.describe()).collect();
        places.push("the log".into());
        places.join(", ")
    }

    /// Records something about the run as a whole: that it starts acting
    /// (the first record, which must be accepted before anything changes),
    /// or that the gates were overridden.
    pub fn note(&self, phase: &'static str, reason: &str) -> Result<(), String> {
        self.write(&AuditEvent {
            phase,
            system: System::Github,
            target: String::new(),
            principals: Vec::new(),
            reason: reason.to_string(),
            result: None,
            error: None,
            before: None,
            after: None,
        })
    }

    /// Who made the change a record is about: the GitHub identity, or the
    /// caller in the account of the role.
    fn actor_of(&self, event: &AuditEvent) -> Option<&str> {
        let key = match event.system {
            _ if event.target.is_empty() => return None,
            System::Github => "github".to_string(),
            System::Aws => format!("aws:{}", crate::state::role_arn_key(&event.target)?.0),
            System::Sso => "sso".to_string(),
        };
        self.context.actors.get(&key).map(String::as_str)
    }

    fn write(&self, event: &AuditEvent) -> Result<(), String> {
        let record = Record {
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            run_id: &self.context.run_id,
            now: self.context.now.to_rfc3339_opts(SecondsFormat::Secs, true),
            actor: self.actor_of(event),
            override_reason: self.context.override_reason.as_deref(),
            sequence: self.sequence.fetch_add(1, Ordering::SeqCst) + 1,
            event,
        };
        let line = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        log::write(&record, &line);
        for sink in &self.sinks {
            sink.write(&record, &line)?;
        }
        Ok(())
    }
}

impl AuditSink for AuditTrail {
    fn record(&self, event: AuditEvent) -> Result<(), String> {
        self.write(&event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(phase: &'static str) -> AuditEvent {
        AuditEvent {
            phase,
            system: System::Aws,
            target: "arn:aws:iam::1:role/r".into(),
            principals: vec!["p".into()],
            reason: "why".into(),
            result: None,
            error: None,
            before: Some(serde_json::json!({"Statement": []})),
            after: None,
        }
    }

    #[test]
    fn records_carry_the_run_context_and_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let context = Context {
            run_id: "run-1".into(),
            now: "2026-11-22T00:00:00Z".parse().unwrap(),
            actors: BTreeMap::from([(
                "aws:1".to_string(),
                "arn:aws:sts::1:assumed-role/lapse/lapse".to_string(),
            )]),
            override_reason: Some("bulk clean-up".into()),
        };
        let trail = AuditTrail::new(context, vec![Box::new(FileSink::open(&path).unwrap())]);
        trail.note("start", "acting on 1 revocation").unwrap();
        trail.record(event("intent")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["phase"], "start");
        assert_eq!(records[0]["sequence"], 1);
        assert!(records[0].get("actor").is_none(), "a note acts as nobody");
        let intent = &records[1];
        assert_eq!(intent["sequence"], 2);
        assert_eq!(intent["run_id"], "run-1");
        assert_eq!(intent["now"], "2026-11-22T00:00:00Z");
        assert_eq!(intent["actor"], "arn:aws:sts::1:assumed-role/lapse/lapse");
        assert_eq!(intent["override_reason"], "bulk clean-up");
        assert_eq!(intent["before"], serde_json::json!({"Statement": []}));
    }
}
