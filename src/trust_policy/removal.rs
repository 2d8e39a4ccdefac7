//! Taking one principal out of a document, leaving everything else as it was.

use serde_json::{Map, Value};

use super::TrustPolicy;
use super::statement::{Effect, effect};

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

impl TrustPolicy {
    /// Takes one `AWS` principal out of every `Allow` statement. `Deny`
    /// statements keep it (a deny only ever narrows access), and so does
    /// everything else: other principals, other types, conditions, `Sid`s,
    /// keys lapse does not know, and the order of statements. A list that
    /// shrinks stays a list. A statement left with no principal is dropped;
    /// if that would leave no statement at all, the document is unchanged.
    pub fn remove_principal(&mut self, principal: &str) -> Removal {
        let mut document = self.document.clone();
        let outcome = match document.get_mut("Statement") {
            Some(Value::Object(statement)) => remove_from_one(statement, principal),
            Some(Value::Array(statements)) => remove_from_list(statements, principal),
            _ => return Removal::Absent,
        };
        match outcome {
            Outcome { found: false, .. } => Removal::Absent,
            Outcome { left: 0, .. } => Removal::WouldLeaveNoStatement,
            Outcome { .. } => {
                self.document = document;
                Removal::Removed
            }
        }
    }
}

/// What removing a principal did to the statements.
struct Outcome {
    /// Whether any statement named it.
    found: bool,
    /// How many statements are left.
    left: usize,
}

/// `Statement` as one object: left in place, or emptied.
fn remove_from_one(statement: &mut Map<String, Value>, principal: &str) -> Outcome {
    match remove_from_statement(statement, principal) {
        InStatement::NotThere => Outcome {
            found: false,
            left: 1,
        },
        InStatement::Removed { emptied } => Outcome {
            found: true,
            left: usize::from(!emptied),
        },
    }
}

/// `Statement` as a list: the statements it empties are dropped, the rest
/// keep their order.
fn remove_from_list(statements: &mut Vec<Value>, principal: &str) -> Outcome {
    let mut found = false;
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
    Outcome {
        found,
        left: statements.len(),
    }
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
fn remove_from_statement(statement: &mut Map<String, Value>, principal: &str) -> InStatement {
    let is_allow = effect(statement) == Effect::Allow;
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

#[cfg(test)]
mod tests {
    use super::super::DEFAULT_MAX_SIZE;
    use super::super::tests::{doc, json};
    use super::*;

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
}
