//! The grammar of IAM role trust policies: which principals a document lets
//! assume the role. Kept below the planner and the AWS client, because both
//! the snapshot and the live observer read documents, and the revoker rewrites them.
//!
//! Reading is split by the forms a document takes: `statement` (one object
//! or a list, and each one's effect), `principals` (`"*"` or a map of types
//! to a string or a list), `actions` (patterns against the assume actions),
//! and `allowed`, which puts them together. `removal` rewrites a document;
//! `validate` checks it as IAM would.

mod actions;
mod allowed;
mod principals;
mod removal;
mod statement;
mod validate;

use std::borrow::Cow;

use serde_json::Value;

pub use allowed::{allowed_principals_in, allowed_principals_unordered};
pub use principals::principals_of;
pub use removal::Removal;
pub use statement::statements_in;

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

/// One principal a trust policy allows, written as it stands in the document
/// and borrowed from it: a role may list thousands, and planning reads them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrustPrincipal<'a> {
    pub kind: PrincipalType,
    pub value: &'a str,
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
        let json = decoded(text)?;
        let document: Value =
            serde_json::from_str(&json).map_err(|e| format!("trust policy is not JSON: {e}"))?;
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

    /// Every principal that may assume the role: those of `Allow` statements
    /// whose actions include assuming it, less those an unconditional `Deny`
    /// of that action takes away (by `Principal`, or everyone but its
    /// `NotPrincipal`). Sorted, without repeats.
    ///
    /// Where the document is ambiguous (a conditional `Deny`, an `Allow`
    /// without `Action`) it errs towards "may assume", so that a grant is
    /// reported rather than silently missed.
    pub fn allowed_principals(&self) -> Vec<TrustPrincipal<'_>> {
        allowed_principals_in(&self.document)
    }

    /// The document as lapse writes it: compact JSON.
    pub fn to_json(&self) -> String {
        self.document.to_string()
    }

    /// The size IAM counts against its quota: characters, white space excluded.
    pub fn size(&self) -> usize {
        self.to_json()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
    }
}

/// IAM's default quota for a role trust policy, white space not counted.
/// An account can have it raised, so a document IAM already holds may be longer.
pub const DEFAULT_MAX_SIZE: usize = 2048;

/// The JSON text of a document as IAM returns it: raw, or percent-encoded.
fn decoded(text: &str) -> Result<Cow<'_, str>, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        return Ok(Cow::Borrowed(trimmed));
    }
    percent_encoding::percent_decode_str(trimmed)
        .decode_utf8()
        .map_err(|e| format!("trust policy is not UTF-8 after percent-decoding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(in crate::trust_policy) fn aws(v: &str) -> TrustPrincipal<'_> {
        TrustPrincipal {
            kind: PrincipalType::Aws,
            value: v,
        }
    }

    pub(in crate::trust_policy) fn doc(json: &str) -> TrustPolicy {
        TrustPolicy::parse(json).unwrap()
    }

    pub(in crate::trust_policy) fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn reads_percent_encoded_documents() {
        let p = TrustPolicy::parse("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%5B%22AIDAEXAMPLE%22%5D%7D%7D%5D%7D").unwrap();
        assert_eq!(p.allowed_principals(), vec![aws("AIDAEXAMPLE")]);
    }

    #[test]
    fn refuses_what_is_not_a_policy() {
        assert!(TrustPolicy::parse("[]").is_err());
        assert!(TrustPolicy::parse(r#"{"Statement":"x"}"#).is_err());
        assert!(TrustPolicy::parse("not json").is_err());
    }
}
