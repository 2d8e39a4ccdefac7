//! Which principals a document lets assume the role: every `Allow`
//! statement's grants, less what unconditional `Deny` statements take away.

use serde_json::{Map, Value};

use super::actions::{allows_assuming, denies_assuming, statement_covers};
use super::principals::{principals_of, push_principals_of};
use super::statement::{Effect, effect, statements_in};
use super::{PrincipalType, TrustPrincipal};

/// [`TrustPolicy::allowed_principals`](super::TrustPolicy::allowed_principals)
/// of a document already checked, without copying it.
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
    let mut reading = Reading::default();
    for statement in statements_in(document) {
        match effect(statement) {
            Effect::Allow => reading.allow(statement),
            Effect::Deny if !statement.contains_key("Condition") => reading.deny(statement),
            Effect::Deny | Effect::Other => {}
        }
    }
    reading.allowed()
}

/// What the statements read so far say about assuming the role.
#[derive(Default)]
struct Reading<'a> {
    allowed: Vec<TrustPrincipal<'a>>,
    denied: Vec<TrustPrincipal<'a>>,
    /// Each unconditional `Deny` with `NotPrincipal` leaves only the principals it names.
    only: Vec<Vec<TrustPrincipal<'a>>>,
}

impl<'a> Reading<'a> {
    /// An `Allow` that covers assuming grants its `Principal`, and anyone
    /// when it has a `NotPrincipal`.
    fn allow(&mut self, statement: &'a Map<String, Value>) {
        if !allows_assuming(statement) {
            return;
        }
        if let Some(p) = statement.get("Principal") {
            push_principals_of(p, &mut self.allowed);
        }
        if statement.contains_key("NotPrincipal") {
            self.allowed.push(TrustPrincipal {
                kind: PrincipalType::Anyone,
                value: "*",
            });
        }
    }

    /// An unconditional `Deny` takes its `Principal` away (those it denies
    /// the assume action of), or everyone but its `NotPrincipal`.
    fn deny(&mut self, statement: &'a Map<String, Value>) {
        if let Some(p) = statement.get("Principal") {
            self.denied.extend(
                principals_of(p)
                    .into_iter()
                    .filter(|d| denies_assuming(statement, d.kind)),
            );
        }
        if let Some(p) = statement.get("NotPrincipal")
            && statement_covers(statement, "sts:AssumeRole", false)
        {
            self.only.push(principals_of(p));
        }
    }

    /// The principals allowed and not denied, in document order.
    fn allowed(self) -> Vec<TrustPrincipal<'a>> {
        let Reading {
            mut allowed,
            denied,
            only,
        } = self;
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
}

#[cfg(test)]
mod tests {
    use super::super::TrustPolicy;
    use super::super::tests::{aws, doc};
    use super::*;

    #[test]
    fn reads_a_single_statement_with_a_single_string_principal() {
        let p = TrustPolicy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/a"},"Action":"sts:AssumeRole"}}"#).unwrap();
        assert_eq!(
            p.allowed_principals(),
            vec![aws("arn:aws:iam::111111111111:user/a")]
        );
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
}
