//! Action forms: whether a statement's `Action` or `NotAction` patterns
//! cover assuming the role.

use serde_json::{Map, Value};

use super::PrincipalType;

/// The actions that let a principal assume a role: AWS principals and
/// services use the first, identity providers the other two.
pub(super) const ASSUME_ACTIONS: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
];

/// Whether an `Allow` statement's actions let anyone assume the role by any
/// of the assume actions; one without actions is taken to.
pub(super) fn allows_assuming(statement: &Map<String, Value>) -> bool {
    ASSUME_ACTIONS
        .iter()
        .any(|action| statement_covers(statement, action, true))
}

/// Whether a statement's `Action` (or the complement of its `NotAction`)
/// includes `action`. With neither, `missing` is the answer.
pub(super) fn statement_covers(
    statement: &Map<String, Value>,
    action: &str,
    missing: bool,
) -> bool {
    if let Some(actions) = statement.get("Action") {
        strings_of(actions).any(|pattern| action_matches(pattern, action))
    } else if let Some(excluded) = statement.get("NotAction") {
        !strings_of(excluded).any(|pattern| action_matches(pattern, action))
    } else {
        missing
    }
}

/// Whether an unconditional `Deny` stops a principal of this type assuming
/// the role: it must deny the action that type of principal assumes with.
pub(super) fn denies_assuming(statement: &Map<String, Value>, kind: PrincipalType) -> bool {
    match kind {
        PrincipalType::Federated => ASSUME_ACTIONS[1..]
            .iter()
            .all(|action| statement_covers(statement, action, false)),
        _ => statement_covers(statement, ASSUME_ACTIONS[0], false),
    }
}

fn strings_of(value: &Value) -> impl Iterator<Item = &str> {
    let items: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    items.into_iter()
}

/// IAM's action matching: case-insensitive, `*` any run of characters, `?` one.
fn action_matches(pattern: &str, action: &str) -> bool {
    fn matches(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], a) || (!a.is_empty() && matches(p, &a[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => matches(&p[1..], &a[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), action.as_bytes())
}
