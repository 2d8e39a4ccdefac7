//! Checking a document the way IAM checks a trust policy it is asked to
//! store, so lapse never sends what IAM would reject (moto would take it).

use serde_json::{Map, Value};

use super::TrustPolicy;

impl TrustPolicy {
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
        validate_version(document)?;
        for (index, statement) in statements(document)?.iter().enumerate() {
            validate_statement(statement)
                .map_err(|problem| format!("statement {}: {problem}", index + 1))?;
        }
        validate_characters(&self.to_json())?;
        let size = self.size();
        if size > max_size {
            return Err(format!(
                "it is {size} characters long; the trust policy quota is {max_size}"
            ));
        }
        Ok(())
    }
}

/// No `Version`, or one IAM knows.
fn validate_version(document: &Map<String, Value>) -> Result<(), String> {
    if let Some(version) = document.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(format!(
            "`Version` is {version}; IAM knows only \"2012-10-17\" and \"2008-10-17\""
        ));
    }
    Ok(())
}

/// The statements, as one object or a non-empty list of objects.
fn statements(document: &Map<String, Value>) -> Result<Vec<&Map<String, Value>>, String> {
    Ok(match document.get("Statement") {
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
    })
}

/// Only the characters IAM allows in a policy.
fn validate_characters(json: &str) -> Result<(), String> {
    if let Some(c) = json
        .chars()
        .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(format!(
            "it contains {c:?}, a character IAM does not allow in a policy"
        ));
    }
    Ok(())
}

fn validate_statement(statement: &Map<String, Value>) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::super::{DEFAULT_MAX_SIZE, Removal};

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
