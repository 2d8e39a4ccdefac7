//! The shared vocabulary: what a grant is, what a finding says, what an
//! action does. Everything above this module speaks in these terms.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The systems lapse reads and revokes in: GitHub, IAM, and IAM Identity Center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    Github,
    Aws,
    Sso,
}

impl System {
    pub const ALL: [System; 3] = [System::Github, System::Aws, System::Sso];

    pub fn as_str(self) -> &'static str {
        match self {
            System::Github => "github",
            System::Aws => "aws",
            System::Sso => "sso",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding says about one grant (see the README: Reading a report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Unexpected,
    Expired,
    Absent,
    PendingInvitation,
    Orphaned,
    Unattributable,
    Missing,
    ExpiringSoon,
}

impl FindingKind {
    pub const ALL: [FindingKind; 8] = [
        FindingKind::Unexpected,
        FindingKind::Expired,
        FindingKind::Absent,
        FindingKind::PendingInvitation,
        FindingKind::Orphaned,
        FindingKind::Unattributable,
        FindingKind::Missing,
        FindingKind::ExpiringSoon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Unexpected => "unexpected",
            FindingKind::Expired => "expired",
            FindingKind::Absent => "absent",
            FindingKind::PendingInvitation => "pending_invitation",
            FindingKind::Orphaned => "orphaned",
            FindingKind::Unattributable => "unattributable",
            FindingKind::Missing => "missing",
            FindingKind::ExpiringSoon => "expiring_soon",
        }
    }

    /// `expiring_soon` is a warning ahead of time, not drift (see the README's exit codes).
    pub fn is_drift(self) -> bool {
        self != FindingKind::ExpiringSoon
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What lapse does about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Revoke,
    None,
}

/// The concrete change that revokes one grant. Carries everything the act
/// layer needs, so acting never has to re-plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revocation {
    /// Remove a direct team membership.
    TeamMembership {
        org: String,
        team: String,
        login: String,
    },
    /// Cancel a pending organisation invitation (it may cover several
    /// managed teams; cancelling it once revokes all of them).
    Invitation { org: String, invitation_id: u64 },
    /// Remove one principal from a role's trust policy.
    TrustPrincipal { role_arn: String, principal: String },
    /// Delete a user's direct assignment of a permission set in an account.
    SsoAssignment {
        /// `sso:ACCOUNT/PERMISSION_SET_NAME`, as findings and audit records name it.
        target: String,
        account_id: String,
        permission_set_arn: String,
        user_id: String,
        /// The Identity Store user name (the user ID when the user is gone).
        user_name: String,
    },
    /// Remove a user from an Identity Center group: revokes every grant the
    /// group gives them, so every finding it carries out is done together.
    SsoGroupMembership {
        group_id: String,
        group: String,
        user_id: String,
        user_name: String,
    },
}

impl Revocation {
    pub fn system(&self) -> System {
        match self {
            Revocation::TeamMembership { .. } | Revocation::Invitation { .. } => System::Github,
            Revocation::TrustPrincipal { .. } => System::Aws,
            Revocation::SsoAssignment { .. } | Revocation::SsoGroupMembership { .. } => System::Sso,
        }
    }
}

/// The outcome of acting on one finding (`result` in the README's report fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Done,
    Failed,
    Skipped,
    Refused,
}

/// One finding: one principal on one team or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub system: System,
    /// `github:ORG/TEAM_SLUG`, a role ARN, `sso:ACCOUNT/PERMISSION_SET` or `sso-group:GROUP`.
    pub target: String,
    /// A lower-case GitHub login, an AWS principal as it stands in the
    /// policy, or an Identity Store user name.
    pub principal: String,
    /// The roster email of the person, when the principal is somebody in it.
    pub person: Option<String>,
    pub action: Action,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The change that carries out a `revoke` action.
    #[serde(skip)]
    pub revocation: Option<Revocation>,
}

impl Finding {
    /// The order reports use (README: Reading a report): system, target, principal (then
    /// kind, so that two findings on one grant still sort deterministically).
    pub fn sort_key(&self) -> (System, &str, &str, FindingKind) {
        (self.system, &self.target, &self.principal, self.kind)
    }
}

/// The string that names an Identity Center permission set in an account as a target.
pub fn sso_target(account_alias: &str, permission_set: &str) -> String {
    format!("sso:{account_alias}/{permission_set}")
}

/// The string that names an Identity Center group as a target.
pub fn sso_group_target(group: &str) -> String {
    format!("sso-group:{group}")
}

/// The string that names a GitHub team as a target.
pub fn github_target(org: &str, team: &str) -> String {
    format!(
        "github:{}/{}",
        org.to_ascii_lowercase(),
        team.to_ascii_lowercase()
    )
}
