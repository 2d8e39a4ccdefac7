//! The audit trail (SPEC §6): a record before every change and after it, to
//! the log and to an append-only JSON-lines file, each flushed to disk before
//! the change goes ahead, so a crash mid-run leaves a trace of exactly what
//! may have happened.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;

use crate::system::{AuditEvent, AuditSink};

/// Where audit records go. Without a file they still reach the log.
pub struct AuditLog {
    run_id: String,
    file: Option<(PathBuf, Mutex<File>)>,
}

#[derive(Serialize)]
struct Record<'a> {
    time: String,
    run_id: &'a str,
    #[serde(flatten)]
    event: &'a AuditEvent,
}

impl AuditLog {
    /// Opens (creating if need be) the audit file for appending. Fails before
    /// any change when the file cannot be written.
    pub fn open(run_id: &str, path: Option<&Path>) -> Result<AuditLog, String> {
        let file = match path {
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open audit log {}: {e}", path.display()))?;
                Some((path.to_path_buf(), Mutex::new(file)))
            }
            None => None,
        };
        Ok(AuditLog {
            run_id: run_id.to_string(),
            file,
        })
    }

    /// Records something about the run as a whole, such as an override of the gates.
    pub fn note(&self, what: &str, reason: &str) -> Result<(), String> {
        let line = serde_json::json!({
            "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "run_id": self.run_id,
            "phase": what,
            "reason": reason,
        });
        tracing::warn!(audit = true, run_id = %self.run_id, phase = what, "{reason}");
        self.append(&line.to_string())
    }

    fn append(&self, line: &str) -> Result<(), String> {
        let Some((path, file)) = &self.file else {
            return Ok(());
        };
        let mut file = file
            .lock()
            .map_err(|_| "audit log lock poisoned".to_string())?;
        writeln!(file, "{line}")
            .and_then(|_| file.sync_data())
            .map_err(|e| format!("cannot write audit log {}: {e}", path.display()))
    }
}

impl AuditSink for AuditLog {
    fn record(&self, event: AuditEvent) -> Result<(), String> {
        let record = Record {
            time: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            run_id: &self.run_id,
            event: &event,
        };
        let line = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        tracing::info!(
            audit = true,
            run_id = %self.run_id,
            phase = event.phase,
            system = %event.system,
            target = %event.target,
            principals = %event.principals.join(","),
            result = ?event.result,
            "audit {}",
            event.phase
        );
        self.append(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::System;

    #[test]
    fn records_are_appended_as_json_lines_with_the_run_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
        let log = AuditLog::open("run-1", Some(&path)).unwrap();
        let event = AuditEvent {
            phase: "intent",
            system: System::Aws,
            target: "arn:aws:iam::1:role/r".into(),
            principals: vec!["p".into()],
            reason: "why".into(),
            result: None,
            error: None,
            before: Some(serde_json::json!({"Statement": []})),
            after: None,
        };
        log.record(event).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "appended, not overwritten");
        let record: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(record["run_id"], "run-1");
        assert_eq!(record["phase"], "intent");
        assert_eq!(record["before"], serde_json::json!({"Statement": []}));
    }

    #[test]
    fn an_unwritable_audit_file_fails_before_anything_happens() {
        assert!(AuditLog::open("r", Some(Path::new("/nonexistent/dir/audit.jsonl"))).is_err());
    }
}
