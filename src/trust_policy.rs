//! The grammar of IAM role trust policies: which principals a document lets
//! assume the role. Kept below the planner and the AWS client, because both
//! the snapshot and the live observer read documents, and the revoker rewrites them.

use serde_json::Value;

/// Which key of a `Principal` block a principal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalType {
    /// `"AWS": …`: accounts, users, roles, unique IDs.
    Aws,
    /// `"Federated": …`: SAML or OIDC providers.
    Federated,
    /// `"Service": …`: AWS services; never a person.
    Service,
    CanonicalUser,
    /// `"Principal": "*"`, `"AWS": "*"`, or an `Allow` with `NotPrincipal`.
    Anyone,
}

/// One principal a trust policy allows, written as it stands in the document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrustPrincipal {
    pub kind: PrincipalType,
    pub value: String,
}

/// A parsed trust policy document. The JSON is kept whole so a rewrite can
/// leave every key lapse does not understand exactly as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPolicy {
    pub document: Value,
}

impl TrustPolicy {
    /// Parses a document as IAM returns it: raw JSON, or percent-encoded JSON
    /// (real IAM encodes it from both GetRole and ListRoles; moto from GetRole only).
    pub fn parse(text: &str) -> Result<TrustPolicy, String> {
        let trimmed = text.trim();
        let decoded;
        let json = if trimmed.starts_with('{') {
            trimmed
        } else {
            decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|e| format!("trust policy is not UTF-8 after percent-decoding: {e}"))?;
            decoded.as_ref()
        };
        let document: Value =
            serde_json::from_str(json).map_err(|e| format!("trust policy is not JSON: {e}"))?;
        Self::from_value(document)
    }

    /// Checks the shape lapse relies on: an object whose `Statement` is an object or a list of objects.
    pub fn from_value(document: Value) -> Result<TrustPolicy, String> {
        let Some(obj) = document.as_object() else {
            return Err("trust policy is not a JSON object".into());
        };
        match obj.get("Statement") {
            Some(Value::Object(_)) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => {}
            Some(_) => {
                return Err(
                    "trust policy `Statement` is neither an object nor a list of objects".into(),
                );
            }
            None => return Err("trust policy has no `Statement`".into()),
        }
        Ok(TrustPolicy { document })
    }

    /// The statements, whether `Statement` is one object or a list.
    pub fn statements(&self) -> Vec<&serde_json::Map<String, Value>> {
        statements_in(&self.document)
    }

    /// Every principal that may assume the role: those of `Allow` statements,
    /// less those an unconditional `Deny` names. Sorted, without repeats.
    pub fn allowed_principals(&self) -> Vec<TrustPrincipal> {
        allowed_principals_in(&self.document)
    }
}

/// The statements of a document, whether `Statement` is one object or a list.
pub fn statements_in(document: &Value) -> Vec<&serde_json::Map<String, Value>> {
    match document.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// [`TrustPolicy::allowed_principals`] of a document already checked, without copying it.
pub fn allowed_principals_in(document: &Value) -> Vec<TrustPrincipal> {
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    let mut deny_all = false;
    for statement in statements_in(document) {
        let effect = statement
            .get("Effect")
            .and_then(Value::as_str)
            .unwrap_or("");
        if effect.eq_ignore_ascii_case("allow") {
            if let Some(p) = statement.get("Principal") {
                allowed.extend(principals_of(p));
            }
            if statement.contains_key("NotPrincipal") {
                allowed.push(TrustPrincipal {
                    kind: PrincipalType::Anyone,
                    value: "*".into(),
                });
            }
        } else if effect.eq_ignore_ascii_case("deny")
            && !statement.contains_key("Condition")
            && let Some(p) = statement.get("Principal")
        {
            let named = principals_of(p);
            deny_all |= named.iter().any(|n| n.kind == PrincipalType::Anyone);
            denied.extend(named);
        }
    }
    if deny_all {
        return Vec::new();
    }
    allowed.retain(|p| {
        !denied
            .iter()
            .any(|d| d.kind == p.kind && d.value == p.value)
    });
    allowed.sort();
    allowed.dedup();
    allowed
}

/// Reads a `Principal` value: `"*"` or a map of type to a string or a list of strings.
pub fn principals_of(principal: &Value) -> Vec<TrustPrincipal> {
    let mut out = Vec::new();
    match principal {
        Value::String(s) if s == "*" => out.push(TrustPrincipal {
            kind: PrincipalType::Anyone,
            value: "*".into(),
        }),
        Value::Object(map) => {
            for (key, value) in map {
                let kind = match key.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Federated" => PrincipalType::Federated,
                    "Service" => PrincipalType::Service,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    _ => continue,
                };
                let values: Vec<&str> = match value {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                for v in values {
                    let kind = if v == "*" && kind == PrincipalType::Aws {
                        PrincipalType::Anyone
                    } else {
                        kind
                    };
                    out.push(TrustPrincipal {
                        kind,
                        value: v.to_string(),
                    });
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(v: &str) -> TrustPrincipal {
        TrustPrincipal {
            kind: PrincipalType::Aws,
            value: v.into(),
        }
    }

    #[test]
    fn reads_a_single_statement_with_a_single_string_principal() {
        let p = TrustPolicy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/a"},"Action":"sts:AssumeRole"}}"#).unwrap();
        assert_eq!(
            p.allowed_principals(),
            vec![aws("arn:aws:iam::111111111111:user/a")]
        );
    }

    #[test]
    fn reads_percent_encoded_documents() {
        let p = TrustPolicy::parse("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%5B%22AIDAEXAMPLE%22%5D%7D%7D%5D%7D").unwrap();
        assert_eq!(p.allowed_principals(), vec![aws("AIDAEXAMPLE")]);
    }

    #[test]
    fn an_unconditional_deny_takes_the_grant_away_and_a_conditional_one_does_not() {
        let p = TrustPolicy::parse(
            r#"{"Statement":[
                {"Effect":"Allow","Principal":{"AWS":["a","b","c"]},"Action":"sts:AssumeRole"},
                {"Effect":"Deny","Principal":{"AWS":"b"},"Action":"sts:AssumeRole"},
                {"Effect":"Deny","Principal":{"AWS":"c"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(p.allowed_principals(), vec![aws("a"), aws("c")]);
    }

    #[test]
    fn star_and_not_principal_mean_anyone() {
        let star =
            TrustPolicy::parse(r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#).unwrap();
        assert_eq!(star.allowed_principals()[0].kind, PrincipalType::Anyone);
        let not =
            TrustPolicy::parse(r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"x"}}]}"#)
                .unwrap();
        assert_eq!(not.allowed_principals()[0].kind, PrincipalType::Anyone);
    }

    #[test]
    fn refuses_what_is_not_a_policy() {
        assert!(TrustPolicy::parse("[]").is_err());
        assert!(TrustPolicy::parse(r#"{"Statement":"x"}"#).is_err());
        assert!(TrustPolicy::parse("not json").is_err());
    }
}
