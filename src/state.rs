//! What the systems actually grant, as observed (live or from a snapshot).
//! This is also the snapshot file's format, so every field is plain data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything observed in one run. A system that is not managed is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actual {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsState>,
    /// IAM Identity Center (absent from snapshots taken before lapse managed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoState>,
}

/// What IAM Identity Center grants in the managed scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoState {
    pub instance_arn: String,
    /// Each managed permission set in each managed account, with its assignments.
    pub permission_sets: Vec<PermissionSetState>,
    /// The managed groups and every group assigned a managed permission
    /// set, with their members.
    pub groups: Vec<SsoGroup>,
}

impl SsoState {
    /// The permission set named `name` in account `account_id`.
    pub fn permission_set(&self, account_id: &str, name: &str) -> Option<&PermissionSetState> {
        self.permission_sets
            .iter()
            .find(|p| p.account_id == account_id && p.name == name)
    }

    /// The group with this ID.
    pub fn group(&self, id: &str) -> Option<&SsoGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The group with this display name.
    pub fn group_named(&self, name: &str) -> Option<&SsoGroup> {
        self.groups.iter().find(|g| g.name == name)
    }
}

/// One permission set's assignments in one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetState {
    /// The account alias from the config.
    pub account: String,
    pub account_id: String,
    pub name: String,
    pub arn: String,
    /// Users assigned directly.
    #[serde(default)]
    pub users: Vec<SsoUser>,
    /// IDs of the groups assigned.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An Identity Store user as an assignment or a group names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoUser {
    pub id: String,
    /// None when the identity store has no such user (deleted).
    #[serde(default)]
    pub user_name: Option<String>,
}

/// An Identity Center group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoGroup {
    pub id: String,
    /// The display name (the ID when the identity store has no such group).
    pub name: String,
    #[serde(default)]
    pub members: Vec<SsoUser>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubState {
    pub org: String,
    /// The managed teams, and every team below them (child teams grant their
    /// members the parent's access).
    pub teams: Vec<TeamState>,
}

impl GithubState {
    pub fn team(&self, slug: &str) -> Option<&TeamState> {
        self.teams
            .iter()
            .find(|t| t.slug.eq_ignore_ascii_case(slug))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamState {
    pub slug: String,
    /// The parent team's slug, if this is a child team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Direct members only; members of child teams are listed on those teams.
    #[serde(default)]
    pub members: Vec<Member>,
    /// Pending invitations to this team.
    #[serde(default)]
    pub invitations: Vec<Invitation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub login: String,
    #[serde(default)]
    pub role: TeamRole,
    /// The account's numeric id, which survives a change of login (absent
    /// from snapshots taken before lapse read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TeamRole {
    #[default]
    Member,
    Maintainer,
}

/// A pending organisation invitation. One invitation can cover several teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub id: u64,
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Slugs of every team the invitation covers, managed or not.
    #[serde(default)]
    pub teams: Vec<String>,
    /// The invited account's numeric id, when the invitation names an
    /// account (absent from snapshots taken before lapse read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsState {
    /// The managed roles.
    pub roles: Vec<RoleState>,
    /// The users account's IAM users, when activity was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<IamUser>>,
    /// How activity was read: `credential_report` or `per_user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleState {
    pub arn: String,
    /// The account alias from the config, for readers of the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The trust policy document, decoded.
    pub trust_policy: serde_json::Value,
}

impl RoleState {
    /// `(account id, role name)`, the identity lapse matches configured roles by.
    pub fn key(&self) -> Option<(&str, &str)> {
        role_arn_key(&self.arn)
    }
}

/// Splits `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` into account and name.
pub fn role_arn_key(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "iam" {
        return None;
    }
    let path = resource.strip_prefix("role/")?;
    Some((account, path.rsplit('/').next()?))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamUser {
    pub arn: String,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub password_last_used: Option<DateTime<Utc>>,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
}

impl IamUser {
    /// The last time this user did anything lapse can see.
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        self.access_keys
            .iter()
            .filter_map(|k| k.last_used)
            .chain(self.password_last_used)
            .max()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub last_used: Option<DateTime<Utc>>,
}
