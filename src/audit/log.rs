//! The audit record in the log stream, always: its events have a target of
//! their own (`lapse_audit`), which logging always lets through whatever
//! `LAPSE_LOG` says, and the record's fields are named `audit_*`, so the JSON
//! log format's own `target` (the code's module) cannot hide the audit's.

use super::Record;

/// The log target audit records are written under.
pub const TARGET: &str = "lapse_audit";

pub fn write(record: &Record<'_>, line: &str) {
    let event = record.event;
    let result = event
        .result
        .and_then(|r| serde_json::to_value(r).ok())
        .and_then(|v| v.as_str().map(String::from));
    tracing::info!(
        target: TARGET,
        audit_run_id = record.run_id,
        audit_sequence = record.sequence,
        audit_now = %record.now,
        audit_actor = record.actor,
        audit_phase = event.phase,
        audit_system = %event.system,
        audit_target = %event.target,
        audit_principals = %event.principals.join(","),
        audit_reason = %event.reason,
        audit_result = result,
        audit_error = event.error.as_deref(),
        audit_override_reason = record.override_reason,
        // The whole record, policies before and after included.
        audit_record = line,
        "audit {}",
        event.phase
    );
}
