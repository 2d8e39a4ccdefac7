//! Planning one IAM role: what each principal its trust policy allows is
//! (a roster person, an account, a role, a deleted identity…), and the
//! entitled people the policy leaves out.

use foldhash::{HashSet, HashSetExt};

use crate::config::{Config, RoleRef};
use crate::model::{Action, Finding, FindingKind, Revocation, System};
use crate::state::{AwsState, RoleState};
use crate::trust_policy::{PrincipalType, TrustPrincipal, allowed_principals_unordered};

use super::Planner;
use super::index::lowercase;
use super::levels::Levels;

/// The IAM role observed for a configured one. IAM role names are unique
/// regardless of case, so `GovUK-Admin` in the config is IAM's `govuk-admin`.
pub fn actual_role<'s>(state: &'s AwsState, role: &RoleRef) -> Option<&'s RoleState> {
    state.roles.iter().find(|r| {
        r.key().is_some_and(|(account, name)| {
            account == role.account_id && name.eq_ignore_ascii_case(&role.name)
        })
    })
}

/// Managed roles that nothing observed matches: the run must stop rather
/// than skip them, or nobody on them would be reported or revoked.
pub fn unmatched_roles(config: &crate::config::Config, state: &AwsState) -> Vec<RoleRef> {
    config
        .managed_roles()
        .into_iter()
        .filter(|role| actual_role(state, role).is_none())
        .collect()
}

/// What lapse makes of one principal it is not leaving alone.
struct Verdict {
    kind: FindingKind,
    reason: String,
    /// The roster person it is, if any.
    who: Option<usize>,
    revoke: bool,
}

impl Verdict {
    /// A principal no roster person answers for: reported, never revoked.
    fn unattributable(reason: String) -> Self {
        Verdict {
            kind: FindingKind::Unattributable,
            reason,
            who: None,
            revoke: false,
        }
    }
}

/// The principals of one policy met so far. `principals` may repeat itself:
/// a repeat of the first principal that names a person is found by one
/// comparison, and any other principal, rare, by the set `others`.
struct Seen<'p, 'd> {
    /// For each roster person, the first principal that names them (by
    /// place in the roster), if any.
    first_naming: Vec<Option<&'p TrustPrincipal<'d>>>,
    others: HashSet<&'p TrustPrincipal<'d>>,
}

impl<'p, 'd> Seen<'p, 'd> {
    fn new(people: usize) -> Self {
        Seen {
            first_naming: vec![None; people],
            others: HashSet::new(),
        }
    }

    /// Whether `p`, which names the person at `named` if any, was met before.
    fn is_repeat(&mut self, p: &'p TrustPrincipal<'d>, named: Option<usize>) -> bool {
        match named.map(|i| &mut self.first_naming[i]) {
            Some(first @ None) => {
                *first = Some(p);
                false
            }
            Some(Some(first)) => *first == p || !self.others.insert(p),
            None => !self.others.insert(p),
        }
    }

    /// Whether any principal named the person at `holder`.
    fn names(&self, holder: usize) -> bool {
        self.first_naming[holder].is_some()
    }
}

impl Planner<'_> {
    /// Plans every managed role IAM reported, when AWS was observed.
    pub(super) fn plan_roles(&mut self) {
        let Some(state) = &self.actual.aws else {
            return;
        };
        for role in self.config.managed_roles() {
            if let Some(actual_role) = actual_role(state, &role) {
                // Observation and snapshots have checked the document's shape.
                let principals = allowed_principals_unordered(&actual_role.trust_policy);
                let start = self.findings.len();
                self.plan_role(&role, &actual_role.arn, &principals);
                self.sort_one_target(start);
            }
        }
    }

    fn levels_with_role(&self, role: &RoleRef) -> Levels {
        self.level_bits.mask(
            self.config
                .levels
                .values()
                .filter(|l| l.aws_roles.contains(role))
                .map(|l| l.name.as_str()),
        )
    }

    fn plan_role(&mut self, role: &RoleRef, arn: &str, principals: &[TrustPrincipal<'_>]) {
        let levels = self.levels_with_role(role);
        let users_account = users_account(self.config);
        let mut seen = Seen::new(self.people.len());
        for p in principals {
            if matches!(
                p.kind,
                PrincipalType::Service | PrincipalType::CanonicalUser
            ) {
                continue;
            }
            let lower = lowercase(p.value);
            let named = self.index.by_arn(lower.as_ref());
            if seen.is_repeat(p, named) {
                continue;
            }
            self.grants.aws += 1;
            if self.protected.claims_aws(&lower) {
                continue;
            }
            let Some(verdict) = self.judge_principal(p, named, levels, users_account) else {
                continue;
            };
            self.findings.push(Finding {
                kind: verdict.kind,
                system: System::Aws,
                target: arn.to_string(),
                principal: p.value.to_string(),
                person: verdict.who.map(|i| self.people[i].person.email.clone()),
                action: if verdict.revoke {
                    Action::Revoke
                } else {
                    Action::None
                },
                reason: verdict.reason,
                result: None,
                error: None,
                revocation: verdict.revoke.then(|| Revocation::TrustPrincipal {
                    role_arn: arn.to_string(),
                    principal: p.value.to_string(),
                }),
            });
        }
        self.plan_missing_trust(arn, levels, &seen);
    }

    /// What a principal is, or None when it is a roster person entitled to the role.
    fn judge_principal(
        &self,
        p: &TrustPrincipal<'_>,
        named: Option<usize>,
        levels: Levels,
        users_account: Option<&str>,
    ) -> Option<Verdict> {
        Some(match (p.kind, classify_aws(p.value)) {
            (PrincipalType::Anyone, _) => Verdict::unattributable(
                "anyone (`*`) may assume this role: not a person lapse can attribute".into(),
            ),
            (PrincipalType::Federated, _) => Verdict::unattributable(
                "a federated identity provider: its users are not attributable to the roster"
                    .into(),
            ),
            (_, AwsPrincipal::AccountRoot(account)) => {
                Verdict::unattributable(account_reason(account, users_account))
            }
            (_, AwsPrincipal::UniqueId(kind)) => Verdict {
                kind: FindingKind::Orphaned,
                reason: format!("a bare unique ID: the {kind} it named has been deleted"),
                who: None,
                revoke: true,
            },
            (_, AwsPrincipal::User) => {
                if self.entitled(named, levels) {
                    return None;
                }
                let (kind, reason) = self.why_not(named, levels);
                Verdict {
                    kind,
                    reason,
                    who: named,
                    revoke: true,
                }
            }
            (_, AwsPrincipal::Role) => {
                Verdict::unattributable("a role or session, not a person".into())
            }
            (_, AwsPrincipal::Other) => {
                Verdict::unattributable("not a principal lapse can attribute to a person".into())
            }
        })
    }

    /// Entitled people the trust policy does not name.
    fn plan_missing_trust(&mut self, arn: &str, levels: Levels, seen: &Seen) {
        for i in 0..self.people.len() {
            if !self.entitled(Some(i), levels) {
                continue;
            }
            let s = &self.people[i];
            let Some(user_arn) = &s.person.aws_user_arn else {
                continue;
            };
            if s.arn_holder.is_some_and(|holder| seen.names(holder)) {
                continue;
            }
            let through = self.entitled_through(s, levels);
            self.findings.push(Finding {
                kind: FindingKind::Missing,
                system: System::Aws,
                target: arn.to_string(),
                principal: user_arn.clone(),
                person: Some(s.person.email.clone()),
                action: Action::None,
                reason: format!(
                    "entitled through {}, but not in the trust policy",
                    through.join(", ")
                ),
                result: None,
                error: None,
                revocation: None,
            });
        }
    }
}

/// The users account's ID, when the config names one.
fn users_account(config: &Config) -> Option<&str> {
    config
        .aws
        .as_ref()
        .and_then(|a| a.users_account.as_ref())
        .map(|a| a.id.as_str())
}

/// Why an account's root is not attributable: the users account's root
/// lets in any of its users.
fn account_reason(account: &str, users_account: Option<&str>) -> String {
    if Some(account) == users_account {
        format!(
            "the root of the users account {account}: any of its users the account allows can assume this role"
        )
    } else {
        format!("account {account}: whoever that account allows can assume this role")
    }
}

/// How an AWS principal string reads.
#[derive(Debug, PartialEq, Eq)]
enum AwsPrincipal<'a> {
    AccountRoot(&'a str),
    UniqueId(&'static str),
    User,
    Role,
    Other,
}

fn classify_aws(value: &str) -> AwsPrincipal<'_> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return AwsPrincipal::AccountRoot(value);
    }
    // Upper case and digits only, so no `:` either: not an ARN.
    if value.len() >= 16
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        let kind = match &value[..4] {
            "AIDA" => "IAM user",
            "AROA" => "IAM role",
            _ => "principal",
        };
        return AwsPrincipal::UniqueId(kind);
    }
    if let Some(["arn", _, service, _, account, resource]) = arn_fields(value) {
        return match (service, resource) {
            ("iam", "root") => AwsPrincipal::AccountRoot(account),
            ("iam", r) if r.starts_with("user/") => AwsPrincipal::User,
            ("iam", r) if r.starts_with("role/") => AwsPrincipal::Role,
            ("sts", r) if r.starts_with("assumed-role/") || r.starts_with("federated-user/") => {
                AwsPrincipal::Role
            }
            _ => AwsPrincipal::Other,
        };
    }
    AwsPrincipal::Other
}

/// The six `:`-separated fields of an ARN, the last keeping any further
/// `:`; `None` with fewer. A byte scan: every trust principal goes through it.
fn arn_fields(value: &str) -> Option<[&str; 6]> {
    let mut fields = [""; 6];
    let mut rest = value;
    for field in &mut fields[..5] {
        let colon = rest.bytes().position(|b| b == b':')?;
        *field = &rest[..colon];
        rest = &rest[colon + 1..];
    }
    fields[5] = rest;
    Some(fields)
}
