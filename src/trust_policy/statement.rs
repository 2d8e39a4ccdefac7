//! Statement forms: `Statement` as one object or a list of them, and what
//! each one's `Effect` says.

use serde_json::{Map, Value};

/// The statements of a document, whether `Statement` is one object or a list.
pub fn statements_in(document: &Value) -> Vec<&Map<String, Value>> {
    match document.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// A statement's `Effect`, read as IAM evaluates it: case aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    Allow,
    Deny,
    /// Missing, or neither of the two.
    Other,
}

pub(super) fn effect(statement: &Map<String, Value>) -> Effect {
    let effect = statement
        .get("Effect")
        .and_then(Value::as_str)
        .unwrap_or("");
    if effect.eq_ignore_ascii_case("allow") {
        Effect::Allow
    } else if effect.eq_ignore_ascii_case("deny") {
        Effect::Deny
    } else {
        Effect::Other
    }
}
