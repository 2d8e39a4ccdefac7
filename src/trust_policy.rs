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

    /// Takes one `AWS` principal out of every `Allow` statement. `Deny`
    /// statements keep it (a deny only ever narrows access), and so does
    /// everything else: other principals, other types, conditions, `Sid`s,
    /// keys lapse does not know, and the order of statements. A list that
    /// shrinks stays a list. A statement left with no principal is dropped;
    /// if that would leave no statement at all, the document is unchanged.
    pub fn remove_principal(&mut self, principal: &str) -> Removal {
        let mut document = self.document.clone();
        let mut found = false;
        let left = match document.get_mut("Statement") {
            Some(Value::Object(statement)) => match remove_from_statement(statement, principal) {
                InStatement::NotThere => 1,
                InStatement::Removed { emptied } => {
                    found = true;
                    usize::from(!emptied)
                }
            },
            Some(Value::Array(statements)) => {
                let mut emptied = Vec::new();
                for (index, statement) in statements.iter_mut().enumerate() {
                    let Some(statement) = statement.as_object_mut() else {
                        continue;
                    };
                    if let InStatement::Removed { emptied: now_empty } =
                        remove_from_statement(statement, principal)
                    {
                        found = true;
                        if now_empty {
                            emptied.push(index);
                        }
                    }
                }
                let mut index = 0;
                statements.retain(|_| {
                    index += 1;
                    !emptied.contains(&(index - 1))
                });
                statements.len()
            }
            _ => return Removal::Absent,
        };
        if !found {
            Removal::Absent
        } else if left == 0 {
            Removal::WouldLeaveNoStatement
        } else {
            self.document = document;
            Removal::Removed
        }
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

    /// Checks the document the way IAM checks a trust policy it is asked to
    /// store, so lapse never sends what IAM would reject (moto would take it):
    /// a known `Version`; at least one statement; each with `Effect` `Allow`
    /// or `Deny`, a non-empty `Action` or `NotAction`, exactly one of a
    /// non-empty `Principal` or `NotPrincipal`, and no `Resource`; only the
    /// characters IAM allows; and at most `max_size` characters.
    pub fn validate(&self, max_size: usize) -> Result<(), String> {
        let Some(document) = self.document.as_object() else {
            return Err("the document is not a JSON object".into());
        };
        if let Some(version) = document.get("Version")
            && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
        {
            return Err(format!(
                "`Version` is {version}; IAM knows only \"2012-10-17\" and \"2008-10-17\""
            ));
        }
        let statements = match document.get("Statement") {
            Some(Value::Object(s)) => vec![s],
            Some(Value::Array(items)) if items.is_empty() => {
                return Err("`Statement` is an empty list".into());
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|s| s.as_object().ok_or("a statement is not a JSON object"))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err("`Statement` is neither an object nor a list".into()),
            None => return Err("there is no `Statement`".into()),
        };
        for (index, statement) in statements.iter().enumerate() {
            validate_statement(statement)
                .map_err(|problem| format!("statement {}: {problem}", index + 1))?;
        }
        let json = self.to_json();
        if let Some(c) = json
            .chars()
            .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
        {
            return Err(format!(
                "it contains {c:?}, a character IAM does not allow in a policy"
            ));
        }
        let size = self.size();
        if size > max_size {
            return Err(format!(
                "it is {size} characters long; the trust policy quota is {max_size}"
            ));
        }
        Ok(())
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
pub fn allowed_principals_in(document: &Value) -> Vec<TrustPrincipal<'_>> {
    let mut allowed = allowed_principals_unordered(document);
    // Equal principals are indistinguishable, so an unstable sort gives the same list.
    allowed.sort_unstable();
    allowed.dedup();
    allowed
}

/// [`allowed_principals_in`] in document order, repeats kept: for a caller
/// that can drop repeats more cheaply than by sorting thousands of ARNs that
/// share a long prefix (the planner does, by the person each one names).
pub fn allowed_principals_unordered(document: &Value) -> Vec<TrustPrincipal<'_>> {
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    // Each unconditional `Deny` with `NotPrincipal` leaves only the principals it names.
    let mut only: Vec<Vec<TrustPrincipal<'_>>> = Vec::new();
    for statement in statements_in(document) {
        let effect = statement
            .get("Effect")
            .and_then(Value::as_str)
            .unwrap_or("");
        if effect.eq_ignore_ascii_case("allow") {
            if !ASSUME_ACTIONS
                .iter()
                .any(|action| statement_covers(statement, action, true))
            {
                continue;
            }
            if let Some(p) = statement.get("Principal") {
                push_principals_of(p, &mut allowed);
            }
            if statement.contains_key("NotPrincipal") {
                allowed.push(TrustPrincipal {
                    kind: PrincipalType::Anyone,
                    value: "*",
                });
            }
        } else if effect.eq_ignore_ascii_case("deny") && !statement.contains_key("Condition") {
            if let Some(p) = statement.get("Principal") {
                denied.extend(
                    principals_of(p)
                        .into_iter()
                        .filter(|d| denies_assuming(statement, d.kind)),
                );
            }
            if let Some(p) = statement.get("NotPrincipal")
                && statement_covers(statement, "sts:AssumeRole", false)
            {
                only.push(principals_of(p));
            }
        }
    }
    if denied.iter().any(|d| d.kind == PrincipalType::Anyone) {
        return Vec::new();
    }
    allowed.retain(|p| {
        !denied
            .iter()
            .any(|d| d.kind == p.kind && d.value == p.value)
            && only
                .iter()
                .all(|kept| kept.iter().any(|k| k.kind == p.kind && k.value == p.value))
    });
    allowed
}

/// IAM's default quota for a role trust policy, white space not counted.
/// An account can have it raised, so a document IAM already holds may be longer.
pub const DEFAULT_MAX_SIZE: usize = 2048;

/// What [`TrustPolicy::remove_principal`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The principal was in an `Allow` statement and is now in none.
    Removed,
    /// No `Allow` statement names it: it is already revoked.
    Absent,
    /// Removing it would leave the document with no statement, which IAM
    /// does not accept; the document was left as it was.
    WouldLeaveNoStatement,
}

/// The actions that let a principal assume a role: AWS principals and
/// services use the first, identity providers the other two.
const ASSUME_ACTIONS: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
];

/// Whether a statement's `Action` (or the complement of its `NotAction`)
/// includes `action`. With neither, `missing` is the answer.
fn statement_covers(
    statement: &serde_json::Map<String, Value>,
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
fn denies_assuming(statement: &serde_json::Map<String, Value>, kind: PrincipalType) -> bool {
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

/// What removing a principal did to one statement.
enum InStatement {
    NotThere,
    /// It was there; `emptied` when the statement now names no principal.
    Removed {
        emptied: bool,
    },
}

/// Removes `principal` from an `Allow` statement's `AWS` principals. An
/// `AWS` key left with nothing is removed with it.
fn remove_from_statement(
    statement: &mut serde_json::Map<String, Value>,
    principal: &str,
) -> InStatement {
    let is_allow = statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
    let Some(Value::Object(types)) = statement.get_mut("Principal").filter(|_| is_allow) else {
        return InStatement::NotThere;
    };
    let Some(aws) = types.get_mut("AWS") else {
        return InStatement::NotThere;
    };
    let (found, aws_left_empty) = match aws {
        Value::String(s) => (s == principal, s == principal),
        Value::Array(items) => {
            let before = items.len();
            items.retain(|item| item.as_str() != Some(principal));
            (items.len() < before, items.is_empty())
        }
        _ => (false, false),
    };
    if !found {
        return InStatement::NotThere;
    }
    if aws_left_empty {
        types.remove("AWS");
    }
    InStatement::Removed {
        emptied: types.is_empty(),
    }
}

fn validate_statement(statement: &serde_json::Map<String, Value>) -> Result<(), String> {
    match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        Some(other) => return Err(format!("`Effect` is {other:?}, not \"Allow\" or \"Deny\"")),
        None => return Err("it has no `Effect`".into()),
    }
    match (statement.get("Action"), statement.get("NotAction")) {
        (Some(_), Some(_)) => return Err("it has both `Action` and `NotAction`".into()),
        (None, None) => return Err("it has no `Action`".into()),
        (Some(actions), None) | (None, Some(actions)) => {
            non_empty_strings(actions).map_err(|p| format!("its action {p}"))?
        }
    }
    match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err("it has both `Principal` and `NotPrincipal`".into()),
        (None, None) => {
            return Err("it has no `Principal`; a trust policy statement must name one".into());
        }
        (Some(principal), None) | (None, Some(principal)) => validate_principal(principal)?,
    }
    for prohibited in ["Resource", "NotResource"] {
        if statement.contains_key(prohibited) {
            return Err(format!(
                "it has `{prohibited}`, which a trust policy may not have"
            ));
        }
    }
    if statement.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return Err("its `Sid` is not a string".into());
    }
    Ok(())
}

fn validate_principal(principal: &Value) -> Result<(), String> {
    let types = match principal {
        Value::String(s) if s == "*" => return Ok(()),
        Value::Object(types) if types.is_empty() => {
            return Err("its `Principal` is empty".into());
        }
        Value::Object(types) => types,
        _ => return Err("its `Principal` is neither \"*\" nor a map of principal types".into()),
    };
    for (kind, values) in types {
        if !matches!(
            kind.as_str(),
            "AWS" | "Service" | "Federated" | "CanonicalUser"
        ) {
            return Err(format!("`{kind}` is not a principal type"));
        }
        non_empty_strings(values).map_err(|p| format!("its `{kind}` principal {p}"))?;
    }
    Ok(())
}

/// A string, or a non-empty list of strings, none of them empty.
fn non_empty_strings(value: &Value) -> Result<(), &'static str> {
    let items = match value {
        Value::String(_) => std::slice::from_ref(value),
        Value::Array(items) if items.is_empty() => return Err("list is empty"),
        Value::Array(items) => items.as_slice(),
        _ => return Err("is neither a string nor a list of strings"),
    };
    match items
        .iter()
        .all(|i| i.as_str().is_some_and(|s| !s.is_empty()))
    {
        true => Ok(()),
        false => Err("list holds something other than a non-empty string"),
    }
}

/// Reads a `Principal` value: `"*"` or a map of type to a string or a list of strings.
pub fn principals_of(principal: &Value) -> Vec<TrustPrincipal<'_>> {
    let mut out = Vec::new();
    push_principals_of(principal, &mut out);
    out
}

/// [`principals_of`] onto the end of `out`, without a list of its own:
/// an `Allow` may name thousands.
fn push_principals_of<'a>(principal: &'a Value, out: &mut Vec<TrustPrincipal<'a>>) {
    let mut push = |kind, v: &'a str| {
        let kind = if v == "*" && kind == PrincipalType::Aws {
            PrincipalType::Anyone
        } else {
            kind
        };
        out.push(TrustPrincipal { kind, value: v });
    };
    match principal {
        Value::String(s) if s == "*" => push(PrincipalType::Anyone, "*"),
        Value::Object(map) => {
            for (key, value) in map {
                let kind = match key.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Federated" => PrincipalType::Federated,
                    "Service" => PrincipalType::Service,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    _ => continue,
                };
                match value {
                    Value::String(s) => push(kind, s),
                    Value::Array(items) => {
                        for v in items.iter().filter_map(Value::as_str) {
                            push(kind, v);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(v: &str) -> TrustPrincipal<'_> {
        TrustPrincipal {
            kind: PrincipalType::Aws,
            value: v,
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

    fn doc(json: &str) -> TrustPolicy {
        TrustPolicy::parse(json).unwrap()
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn an_allow_for_other_actions_grants_no_assuming() {
        let p = doc(r#"{"Version":"2008-10-17","Statement":[
                {"Effect":"Allow","Principal":{"AWS":"tagger"},"Action":"sts:TagSession"},
                {"Effect":"Allow","Principal":{"AWS":"star"},"Action":"sts:*"},
                {"Effect":"Allow","Principal":{"AWS":"not-action"},"NotAction":"iam:*"},
                {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/x"},"Action":"sts:AssumeRoleWithWebIdentity"}
            ]}"#);
        let values: Vec<&str> = p
            .allowed_principals()
            .into_iter()
            .map(|p| p.value)
            .collect();
        assert_eq!(
            values,
            vec!["not-action", "star", "arn:aws:iam::1:oidc-provider/x"]
        );
    }

    #[test]
    fn a_deny_with_not_principal_leaves_only_those_it_names() {
        let p = doc(r#"{"Statement":[
                {"Effect":"Allow","Principal":{"AWS":["a","b"]},"Action":"sts:AssumeRole"},
                {"Effect":"Deny","NotPrincipal":{"AWS":"a"},"Action":"sts:AssumeRole"},
                {"Effect":"Deny","Principal":{"AWS":"a"},"Action":"sts:TagSession"}
            ]}"#);
        assert_eq!(p.allowed_principals(), vec![aws("a")]);
    }

    #[test]
    fn removing_from_a_list_keeps_everything_else_as_it_was() {
        let mut p = doc(r#"{"Version":"2012-10-17","Id":"kept","Statement":[
                {"Sid":"People","Effect":"Allow","Principal":{"AWS":["a","b"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}},"X-Unknown":[1,2]},
                {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML"}
            ]}"#);
        assert_eq!(p.remove_principal("a"), Removal::Removed);
        assert_eq!(
            p.document,
            json(
                r#"{"Version":"2012-10-17","Id":"kept","Statement":[
                {"Sid":"People","Effect":"Allow","Principal":{"AWS":["b"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}},"X-Unknown":[1,2]},
                {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML"}
            ]}"#
            )
        );
        assert_eq!(p.remove_principal("a"), Removal::Absent);
    }

    #[test]
    fn a_single_string_goes_with_its_key_and_other_types_keep_the_statement() {
        let mut p = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"a","Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
        );
        assert_eq!(p.remove_principal("a"), Removal::Removed);
        assert_eq!(
            p.document,
            json(
                r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}"#
            )
        );
    }

    #[test]
    fn a_statement_left_without_principals_is_dropped_and_the_order_kept() {
        let mut p = doc(r#"{"Statement":[
                {"Sid":"One","Effect":"Allow","Principal":{"AWS":"x"},"Action":"sts:AssumeRole"},
                {"Sid":"Two","Effect":"Allow","Principal":{"AWS":["a"]},"Action":"sts:AssumeRole"},
                {"Sid":"Three","Effect":"Allow","Principal":{"AWS":"a"},"Action":"sts:TagSession"},
                {"Sid":"Four","Effect":"Deny","Principal":{"AWS":"a"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
                {"Sid":"Five","Effect":"Allow","Principal":{"AWS":"y"},"Action":"sts:AssumeRole"}
            ]}"#);
        assert_eq!(p.remove_principal("a"), Removal::Removed);
        let sids: Vec<&str> = p
            .statements()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        // Allow statements lose it (and are dropped when empty); the Deny keeps it.
        assert_eq!(sids, vec!["One", "Four", "Five"]);
        assert!(p.validate(DEFAULT_MAX_SIZE).is_ok());
    }

    #[test]
    fn a_removal_that_would_leave_no_statement_changes_nothing() {
        for text in [
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"a"},"Action":"sts:AssumeRole"}}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["a"]},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"a"},"Action":"sts:TagSession"}]}"#,
        ] {
            let mut p = doc(text);
            assert_eq!(p.remove_principal("a"), Removal::WouldLeaveNoStatement);
            assert_eq!(p.document, json(text));
        }
    }

    #[test]
    fn a_principal_only_a_deny_names_is_absent() {
        let mut p = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"b"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"a"},"Action":"sts:AssumeRole"}]}"#,
        );
        let before = p.document.clone();
        assert_eq!(p.remove_principal("a"), Removal::Absent);
        assert_eq!(p.document, before);
    }

    #[test]
    fn validation_rejects_what_iam_rejects() {
        let valid = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"a"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(doc(valid).validate(DEFAULT_MAX_SIZE), Ok(()));
        let cases = [
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}]}"#,
                "`Principal` is empty",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}]}"#,
                "list is empty",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
                "no `Principal`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
                "no `Action`",
            ),
            (
                r#"{"Statement":[{"Principal":"*","Action":"sts:AssumeRole"}]}"#,
                "no `Effect`",
            ),
            (
                r#"{"Statement":[{"Effect":"allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
                "not \"Allow\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"Users":"a"},"Action":"sts:AssumeRole"}]}"#,
                "not a principal type",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":{"AWS":"a"},"Action":"sts:AssumeRole"}]}"#,
                "both",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}"#,
                "`Resource`",
            ),
            (
                r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
                "`Version`",
            ),
            (r#"{"Statement":[]}"#, "empty list"),
            (
                r#"{"Statement":[{"Sid":"\u0100","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
                "character",
            ),
        ];
        for (text, expected) in cases {
            let problem = doc(text).validate(DEFAULT_MAX_SIZE).unwrap_err();
            assert!(problem.contains(expected), "{text}: {problem}");
        }
    }

    /// A document of `n` user principals, pretty-printed as people write them.
    fn with_users(n: usize) -> String {
        let users: Vec<String> = (0..n)
            .map(|i| format!("\"arn:aws:iam::111111111111:user/person-{i:03}\""))
            .collect();
        format!(
            "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{ \"AWS\": [ {} ] }},\n      \"Action\": \"sts:AssumeRole\"\n    }}\n  ]\n}}",
            users.join(",\n ")
        )
    }

    #[test]
    fn size_counts_no_white_space_and_a_revocation_only_shrinks_it() {
        let text = with_users(46);
        let mut p = doc(&text);
        let non_space = text.chars().filter(|c| !c.is_whitespace()).count();
        assert_eq!(p.size(), non_space);
        assert!(p.size() > DEFAULT_MAX_SIZE, "{} characters", p.size());
        let problem = p.validate(DEFAULT_MAX_SIZE).unwrap_err();
        assert!(problem.contains("quota is 2048"), "{problem}");

        // An account whose quota was raised holds it; each removal shrinks it.
        let mut size = p.size();
        for i in 0..45 {
            let removed = format!("arn:aws:iam::111111111111:user/person-{i:03}");
            assert_eq!(p.remove_principal(&removed), Removal::Removed);
            assert!(p.size() < size);
            size = p.size();
            assert_eq!(p.validate(DEFAULT_MAX_SIZE.max(size)), Ok(()));
        }
        assert!(p.validate(DEFAULT_MAX_SIZE).is_ok());
    }
}
