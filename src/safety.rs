//! The blast-radius gates an apply must pass before anything changes.

use crate::config::Safety;
use crate::model::{Action, Finding, Revocation, System};
use crate::plan::Plan;

/// Why the gates refused an apply, ready to show a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// What the gates let through, and what an override let past them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passed {
    /// Gates that would have refused, passed only because of `--override-gates`.
    pub overridden: Vec<String>,
}

/// Checks the count and ratio gates per system, and that no revocation names
/// a protected principal. `override_reason` lets the count and ratio gates
/// pass (never `protected`).
pub fn check(
    plan: &Plan,
    safety: &Safety,
    override_reason: Option<&str>,
) -> Result<Passed, Refusal> {
    if let Some(f) = plan
        .findings
        .iter()
        .find(|f| f.action == Action::Revoke && is_protected(f, &safety.protected))
    {
        return Err(Refusal(format!(
            "{} on {} is protected (safety.protected), yet a revocation names it; nothing was changed",
            f.principal, f.target
        )));
    }
    let mut tripped = Vec::new();
    for (system, current) in [
        (System::Github, plan.grants.github),
        (System::Aws, plan.grants.aws),
    ] {
        let planned = plan
            .findings
            .iter()
            .filter(|f| f.system == system && f.action == Action::Revoke)
            .count();
        if planned == 0 {
            continue;
        }
        if planned > safety.max_revocations as usize {
            tripped.push(format!(
                "{system}: {planned} revocations planned, more than safety.max_revocations ({})",
                safety.max_revocations
            ));
        }
        let ratio = planned as f64 / current.max(1) as f64;
        if ratio > safety.max_revocation_ratio {
            tripped.push(format!(
                "{system}: {planned} of {current} current grants ({:.0}%) would be revoked, more than safety.max_revocation_ratio ({:.0}%)",
                ratio * 100.0,
                safety.max_revocation_ratio * 100.0
            ));
        }
    }
    match (tripped.is_empty(), override_reason) {
        (true, _) => Ok(Passed::default()),
        (false, Some(_)) => Ok(Passed {
            overridden: tripped,
        }),
        (false, None) => Err(Refusal(format!(
            "{}; nothing was changed (check the roster, or pass --override-gates REASON for a deliberate bulk clean-up)",
            tripped.join("; ")
        ))),
    }
}

/// Whether a finding's principal is one the config protects. Compared
/// case-insensitively: protecting too much is the safe side.
fn is_protected(f: &Finding, protected: &[String]) -> bool {
    let names: Vec<String> = match &f.revocation {
        Some(Revocation::TeamMembership { login, .. }) => vec![format!("github:{login}")],
        Some(Revocation::Invitation { .. }) => vec![format!("github:{}", f.principal)],
        Some(Revocation::TrustPrincipal { principal, .. }) => vec![principal.clone()],
        None => Vec::new(),
    };
    names
        .iter()
        .any(|n| protected.iter().any(|p| p.eq_ignore_ascii_case(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, Revocation};
    use crate::plan::GrantCounts;

    fn revoke(system: System, n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| Finding {
                kind: FindingKind::Unexpected,
                system,
                target: "t".into(),
                principal: format!("p{i}"),
                person: None,
                action: Action::Revoke,
                reason: String::new(),
                result: None,
                error: None,
                revocation: Some(match system {
                    System::Github => Revocation::TeamMembership {
                        org: "o".into(),
                        team: "t".into(),
                        login: format!("p{i}"),
                    },
                    System::Aws => Revocation::TrustPrincipal {
                        role_arn: "r".into(),
                        principal: format!("p{i}"),
                    },
                }),
            })
            .collect()
    }

    fn safety() -> Safety {
        Safety {
            max_revocations: 3,
            max_revocation_ratio: 0.5,
            protected: vec!["github:keeper".into()],
        }
    }

    fn plan(findings: Vec<Finding>, github: usize, aws: usize) -> Plan {
        Plan {
            findings,
            notes: vec![],
            grants: GrantCounts { github, aws },
        }
    }

    #[test]
    fn within_both_limits_passes() {
        assert_eq!(
            check(&plan(revoke(System::Github, 3), 10, 0), &safety(), None),
            Ok(Passed::default())
        );
    }

    #[test]
    fn the_count_gate_is_per_system_and_says_by_how_much() {
        let mut findings = revoke(System::Github, 3);
        findings.extend(revoke(System::Aws, 4));
        let err = check(&plan(findings, 100, 100), &safety(), None).unwrap_err();
        assert!(
            err.0
                .starts_with("aws: 4 revocations planned, more than safety.max_revocations (3)"),
            "{}",
            err.0
        );
        assert!(
            !err.0.contains("github:"),
            "github is within its limits: {}",
            err.0
        );
    }

    #[test]
    fn the_ratio_gate_counts_current_grants() {
        let err = check(&plan(revoke(System::Github, 3), 5, 0), &safety(), None).unwrap_err();
        assert!(err.0.contains("3 of 5 current grants (60%)"), "{}", err.0);
    }

    #[test]
    fn an_override_passes_count_and_ratio_but_not_protected() {
        let passed = check(
            &plan(revoke(System::Github, 9), 10, 0),
            &safety(),
            Some("clean-up"),
        )
        .unwrap();
        assert_eq!(passed.overridden.len(), 2);
        let mut findings = revoke(System::Github, 1);
        findings[0].principal = "Keeper".into();
        findings[0].revocation = Some(Revocation::TeamMembership {
            org: "o".into(),
            team: "t".into(),
            login: "keeper".into(),
        });
        assert!(check(&plan(findings, 10, 0), &safety(), Some("clean-up")).is_err());
    }
}
