//! The blast-radius gates an apply must pass before anything changes.

use std::collections::BTreeMap;

use crate::config::{ProtectedPrincipal, Safety};
use crate::model::{Finding, Revocation, System};
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

/// Teams and roles with fewer holders than this are left to the per-system
/// gates: removing 2 of 3 is a small change, not a mass removal.
const MIN_HOLDERS_FOR_TARGET_GATE: usize = 4;

/// Checks that no revocation names a protected principal, then the count
/// and ratio gates per system and the share gate per team or role.
/// `override_reason` lets the count and ratio gates pass (never `protected`).
pub fn check(
    plan: &Plan,
    safety: &Safety,
    override_reason: Option<&str>,
) -> Result<Passed, Refusal> {
    refuse_protected(plan, &safety.protected)?;
    let mut tripped = system_gates(plan, safety);
    tripped.extend(target_gate(plan, safety.max_target_ratio));
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

/// The planner never revokes a protected principal; a plan that does is
/// refused whole, whatever the override.
fn refuse_protected(plan: &Plan, protected: &[ProtectedPrincipal]) -> Result<(), Refusal> {
    match plan.revocations().find(|f| is_protected(f, protected)) {
        Some(f) => Err(Refusal(format!(
            "{} on {} is protected (safety.protected), yet a revocation names it; nothing was changed",
            f.principal, f.target
        ))),
        None => Ok(()),
    }
}

/// `safety.max_revocations` and `safety.max_revocation_ratio`, per system.
fn system_gates(plan: &Plan, safety: &Safety) -> Vec<String> {
    let mut tripped = Vec::new();
    for (system, current) in [
        (System::Github, plan.grants.github),
        (System::Aws, plan.grants.aws),
        (System::Sso, plan.grants.sso),
    ] {
        let planned = plan.revocations().filter(|f| f.system == system).count();
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
    tripped
}

/// `safety.max_target_ratio`: no apply removes more than that share of the
/// holders of one team or role (of at least [`MIN_HOLDERS_FOR_TARGET_GATE`]),
/// however small a share of the whole system that is.
fn target_gate(plan: &Plan, max_target_ratio: f64) -> Vec<String> {
    let mut removed: BTreeMap<&str, usize> = BTreeMap::new();
    for f in plan.revocations() {
        *removed.entry(f.target.as_str()).or_default() += 1;
    }
    removed
        .into_iter()
        .filter_map(|(target, removing)| {
            let holders = *plan.grants.by_target.get(target)?;
            let share = removing as f64 / holders.max(1) as f64;
            (holders >= MIN_HOLDERS_FOR_TARGET_GATE && share > max_target_ratio).then(|| {
                format!(
                    "would remove {removing} of {holders} holders ({:.0}%) of {target}; the limit is {:.0}% (safety.max_target_ratio)",
                    share * 100.0,
                    max_target_ratio * 100.0
                )
            })
        })
        .collect()
}

/// Whether a finding's principal is one the config protects, read by the
/// same entries, compared the same way, as the planner reads them.
fn is_protected(f: &Finding, protected: &[ProtectedPrincipal]) -> bool {
    match &f.revocation {
        Some(Revocation::TeamMembership { login, .. }) => {
            protected.iter().any(|p| p.protects_login(login))
        }
        Some(Revocation::Invitation { .. }) => {
            protected.iter().any(|p| p.protects_login(&f.principal))
        }
        Some(Revocation::TrustPrincipal { principal, .. }) => {
            protected.iter().any(|p| p.protects_aws(principal))
        }
        Some(
            Revocation::SsoAssignment { user_name, .. }
            | Revocation::SsoGroupMembership { user_name, .. },
        ) => protected.iter().any(|p| p.protects_sso_user(user_name)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, FindingKind, Revocation};
    use crate::plan::GrantCounts;

    fn revoke(system: System, n: usize) -> Vec<Finding> {
        revoke_on(system, "t", n)
    }

    fn revoke_on(system: System, target: &str, n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| Finding {
                kind: FindingKind::Unexpected,
                system,
                target: target.into(),
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
                    System::Sso => Revocation::SsoAssignment {
                        target: "sso:production/Admin".into(),
                        account_id: "210987654321".into(),
                        permission_set_arn: "ps".into(),
                        user_id: format!("u{i}"),
                        user_name: format!("p{i}"),
                    },
                }),
            })
            .collect()
    }

    fn safety() -> Safety {
        Safety {
            max_revocations: 3,
            max_revocation_ratio: 0.5,
            protected: vec![
                ProtectedPrincipal::parse("GitHub:Keeper").unwrap(),
                ProtectedPrincipal::parse("arn:aws:iam::111111111111:user/Break-Glass").unwrap(),
            ],
            max_target_ratio: 0.5,
        }
    }

    fn plan(findings: Vec<Finding>, github: usize, aws: usize) -> Plan {
        Plan {
            findings,
            notes: vec![],
            grants: GrantCounts {
                github,
                aws,
                sso: 0,
                by_target: BTreeMap::new(),
            },
        }
    }

    /// A plan removing `removing` of the `holders` of one team, within the per-system gates.
    fn plan_on_one_team(removing: usize, holders: usize) -> Plan {
        let mut plan = plan(
            revoke_on(System::Github, "github:acme/deploy", removing),
            1000,
            0,
        );
        plan.grants
            .by_target
            .insert("github:acme/deploy".into(), holders);
        plan
    }

    fn roomy() -> Safety {
        Safety {
            max_revocations: 1000,
            max_revocation_ratio: 1.0,
            ..safety()
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

    #[test]
    fn protected_entries_are_matched_in_any_case_in_both_systems() {
        let mut findings = revoke(System::Github, 1);
        findings[0].revocation = Some(Revocation::TeamMembership {
            org: "o".into(),
            team: "t".into(),
            login: "KEEPER".into(),
        });
        let err = check(&plan(findings, 10, 0), &roomy(), None).unwrap_err();
        assert!(
            err.0.contains("is protected (safety.protected)"),
            "{}",
            err.0
        );
        let mut findings = revoke(System::Aws, 1);
        findings[0].revocation = Some(Revocation::TrustPrincipal {
            role_arn: "r".into(),
            principal: "arn:aws:iam::111111111111:user/break-glass".into(),
        });
        assert!(check(&plan(findings, 0, 10), &roomy(), None).is_err());
        let mut findings = revoke(System::Github, 1);
        findings[0].principal = "keeper".into();
        findings[0].revocation = Some(Revocation::Invitation {
            org: "o".into(),
            invitation_id: 7,
        });
        assert!(check(&plan(findings, 10, 0), &roomy(), None).is_err());
    }

    #[test]
    fn the_target_gate_table() {
        const THREE_OF_FOUR: &str = "would remove 3 of 4 holders (75%) of github:acme/deploy; the limit is 50% (safety.max_target_ratio)";
        for (removing, holders, refused) in [
            // Exactly the limit passes; one more is refused.
            (2, 4, None),
            (3, 4, Some(THREE_OF_FOUR)),
            (5, 10, None),
            (
                6,
                10,
                Some("would remove 6 of 10 holders (60%) of github:acme/deploy"),
            ),
            // Fewer than 4 holders: left to the per-system gates.
            (3, 3, None),
            (1, 1, None),
        ] {
            let verdict = check(&plan_on_one_team(removing, holders), &roomy(), None);
            match refused {
                None => assert_eq!(verdict, Ok(Passed::default()), "{removing} of {holders}"),
                Some(said) => {
                    let err = verdict.unwrap_err();
                    assert!(err.0.contains(said), "{removing} of {holders}: {}", err.0);
                }
            }
        }
    }

    #[test]
    fn the_target_gate_reads_its_own_limit_and_each_target_alone() {
        let mut findings = revoke_on(System::Github, "github:acme/deploy", 2);
        findings.extend(revoke_on(System::Aws, "arn:aws:iam::1:role/admin", 4));
        let mut both = plan(findings, 1000, 1000);
        both.grants.by_target.insert("github:acme/deploy".into(), 8);
        both.grants
            .by_target
            .insert("arn:aws:iam::1:role/admin".into(), 5);
        let err = check(&both, &roomy(), None).unwrap_err();
        assert!(
            err.0
                .contains("would remove 4 of 5 holders (80%) of arn:aws:iam::1:role/admin"),
            "{}",
            err.0
        );
        assert!(!err.0.contains("github:acme/deploy"), "{}", err.0);
        let lenient = Safety {
            max_target_ratio: 0.8,
            ..roomy()
        };
        assert_eq!(check(&both, &lenient, None), Ok(Passed::default()));
    }

    #[test]
    fn an_override_passes_the_target_gate() {
        let passed = check(&plan_on_one_team(4, 4), &roomy(), Some("team disbanded")).unwrap();
        assert_eq!(
            passed.overridden,
            vec![
                "would remove 4 of 4 holders (100%) of github:acme/deploy; the limit is 50% (safety.max_target_ratio)"
            ]
        );
    }
}
