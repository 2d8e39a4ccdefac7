//! Principal forms: a `Principal` (or `NotPrincipal`) is `"*"`, or a map of
//! principal type to one string or a list of strings.

use serde_json::{Map, Value};

use super::{PrincipalType, TrustPrincipal};

/// Reads a `Principal` value: `"*"` or a map of type to a string or a list of strings.
pub fn principals_of(principal: &Value) -> Vec<TrustPrincipal<'_>> {
    let mut out = Vec::new();
    push_principals_of(principal, &mut out);
    out
}

/// [`principals_of`] onto the end of `out`, without a list of its own:
/// an `Allow` may name thousands.
pub(super) fn push_principals_of<'a>(principal: &'a Value, out: &mut Vec<TrustPrincipal<'a>>) {
    match principal {
        Value::String(s) if s == "*" => push(out, PrincipalType::Anyone, "*"),
        Value::Object(types) => push_typed(types, out),
        _ => {}
    }
}

/// The principals of a map of principal type to values; keys that are no
/// principal type are passed over.
fn push_typed<'a>(types: &'a Map<String, Value>, out: &mut Vec<TrustPrincipal<'a>>) {
    for (key, value) in types {
        let Some(kind) = principal_type(key) else {
            continue;
        };
        match value {
            Value::String(s) => push(out, kind, s),
            Value::Array(items) => {
                for v in items.iter().filter_map(Value::as_str) {
                    push(out, kind, v);
                }
            }
            _ => {}
        }
    }
}

fn principal_type(key: &str) -> Option<PrincipalType> {
    match key {
        "AWS" => Some(PrincipalType::Aws),
        "Federated" => Some(PrincipalType::Federated),
        "Service" => Some(PrincipalType::Service),
        "CanonicalUser" => Some(PrincipalType::CanonicalUser),
        _ => None,
    }
}

/// One principal; `"AWS": "*"` is anyone, as `"Principal": "*"` is.
fn push<'a>(out: &mut Vec<TrustPrincipal<'a>>, kind: PrincipalType, value: &'a str) {
    let kind = if value == "*" && kind == PrincipalType::Aws {
        PrincipalType::Anyone
    } else {
        kind
    };
    out.push(TrustPrincipal { kind, value });
}
