//! `lapse.yaml` as written: serde types with their defaults, keeping the
//! positions of the values that diagnostics point at. The JSON Schema is
//! generated from these, doc comments included.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

/// A string with the place it was written, shown in the schema as a plain string.
pub(super) type SpannedString = Spanned<String>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "lapse config",
    description = "lapse.yaml: where the roster is, the access levels it may grant, and how lapse reads, revokes and alerts."
)]
pub struct RawConfig {
    /// Path of the roster, relative to this file, or `github:OWNER/REPO/PATH[@REF]`.
    #[schemars(with = "String")]
    pub roster: SpannedString,
    /// What `lapse run` does: `report` (plan and alert) or `enforce` (also revoke).
    #[serde(default)]
    pub mode: Mode,
    /// Cron expression with seconds, for `lapse serve`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub schedule: Option<SpannedString>,
    /// IANA time zone the schedule is read in, e.g. `Europe/London` (default `UTC`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub timezone: Option<SpannedString>,
    /// Seconds `lapse serve` gives the cycle in flight to finish after SIGTERM (1–3600).
    #[serde(default = "default_shutdown_grace_s")]
    #[schemars(range(min = 1, max = 3600))]
    pub shutdown_grace_s: u64,
    #[serde(default)]
    pub policy: RawPolicy,
    /// The access levels a roster may grant, by name.
    #[schemars(with = "BTreeMap<String, RawLevel>")]
    pub access_levels: BTreeMap<String, Spanned<RawLevel>>,
    #[serde(default)]
    pub github: Option<RawGithub>,
    #[serde(default)]
    pub aws: Option<RawAws>,
    #[serde(default)]
    pub safety: RawSafety,
    #[serde(default)]
    pub alerts: RawAlerts,
    /// Path of a JSON-lines audit file, relative to this file (the same as `audit.file`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub audit_log: Option<SpannedString>,
    /// Where the audit trail is kept; `apply` and enforce runs need one of these.
    #[serde(default)]
    pub audit: RawAudit,
}

/// The durable audit sinks.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAudit {
    /// Path of a JSON-lines audit file, relative to this file (created mode 0600).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub file: Option<SpannedString>,
    /// One object per record under PREFIX/RUN_ID/ in this bucket.
    #[serde(default)]
    pub s3: Option<RawAuditS3>,
}

/// An S3 bucket and key prefix for audit records.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAuditS3 {
    #[schemars(with = "String")]
    pub bucket: SpannedString,
    #[serde(default)]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Plan and alert; never change anything.
    #[default]
    Report,
    /// Plan, alert, and revoke what has lapsed.
    Enforce,
}

fn default_shutdown_grace_s() -> u64 {
    30
}

fn default_42() -> u32 {
    42
}
fn default_inactivity() -> Option<u32> {
    Some(42)
}
fn default_warn() -> u32 {
    7
}
fn default_max_temporary() -> u32 {
    90
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Days of declared absence after which access is revoked (GOV.UK: 6 weeks).
    #[serde(default = "default_42")]
    pub absence_limit_days: u32,
    /// Days without any console or access-key use after which a person counts as absent; null turns it off.
    #[serde(default = "default_inactivity")]
    pub inactivity_limit_days: Option<u32>,
    /// How many days ahead a lapsing grant or absence is reported as `expiring_soon`.
    #[serde(default = "default_warn")]
    pub warn_before_days: u32,
    /// The longest a temporary grant may run, counted from now.
    #[serde(default = "default_max_temporary")]
    pub max_temporary_days: u32,
    /// Who may approve a temporary grant (`approved_by`), by email; empty lets anyone.
    #[serde(default)]
    pub approvers: Vec<String>,
}

impl Default for RawPolicy {
    fn default() -> Self {
        RawPolicy {
            absence_limit_days: default_42(),
            inactivity_limit_days: default_inactivity(),
            warn_before_days: default_warn(),
            max_temporary_days: default_max_temporary(),
            approvers: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    /// Attestations a person needs to hold this level as standing access.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub requires: Vec<SpannedString>,
    /// Attestations a person needs to hold this level temporarily (default: the same as `requires`).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub temporary_requires: Option<Vec<SpannedString>>,
    /// GitHub team slugs in `github.org` that this level gives.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub github_teams: Vec<SpannedString>,
    /// IAM roles this level may assume: `ACCOUNT_ALIAS/ROLE_NAME` or a role ARN.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub aws_roles: Vec<SpannedString>,
    /// IAM Identity Center permission sets this level gives: `ACCOUNT_ALIAS/PERMISSION_SET_NAME`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub aws_permission_sets: Vec<SpannedString>,
    /// IAM Identity Center groups (by display name) whose membership this level gives.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub identity_center_groups: Vec<SpannedString>,
}

const DEFAULT_API_URL: &str = "https://api.github.com";

fn default_api_url() -> SpannedString {
    Spanned::new(DEFAULT_API_URL.into(), Location::UNKNOWN, Location::UNKNOWN)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGithub {
    /// The organisation that owns the managed teams.
    #[schemars(with = "String")]
    pub org: SpannedString,
    /// REST API root: GitHub, GitHub Enterprise Server, or a test server.
    #[serde(default = "default_api_url")]
    #[schemars(with = "String", extend("default" = DEFAULT_API_URL))]
    pub api_url: SpannedString,
    /// Environment variable holding a token (default `GITHUB_TOKEN` when no `app` is given).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub token_env: Option<SpannedString>,
    /// Authenticate as a GitHub App installation instead of with a token.
    #[serde(default)]
    pub app: Option<RawGithubApp>,
    /// How many read requests may be in flight at once (default 8).
    #[serde(default)]
    pub concurrency: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGithubApp {
    pub id: u64,
    pub installation_id: u64,
    /// PEM private key of the App, relative to this file.
    pub private_key_path: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAws {
    #[serde(default)]
    pub region: Option<String>,
    /// Send every AWS request here (an emulator, or a VPC endpoint).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub endpoint_url: Option<SpannedString>,
    /// Also deny sessions issued before a revocation (AWS's "revoke active sessions").
    #[serde(default)]
    pub revoke_active_sessions: bool,
    /// How a person's IAM user ARN is made when the roster gives none: `{email}` or `{github_username}`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub user_arn_template: Option<SpannedString>,
    /// The account where the people's IAM users live.
    #[serde(default)]
    pub users_account: Option<RawAccount>,
    /// Accounts holding managed roles, by alias.
    #[serde(default)]
    pub accounts: BTreeMap<String, RawAccount>,
    /// How many read requests may be in flight at once per account (default 8).
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// IAM Identity Center, whose permission sets and groups levels may give.
    #[serde(default)]
    pub identity_center: Option<RawIdentityCenter>,
}

fn default_user_name() -> SpannedString {
    Spanned::new(
        DEFAULT_USER_NAME.into(),
        Location::UNKNOWN,
        Location::UNKNOWN,
    )
}

const DEFAULT_USER_NAME: &str = "{email}";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawIdentityCenter {
    /// The instance's ARN: `arn:aws:sso:::instance/ssoins-...`.
    #[schemars(with = "String")]
    pub instance_arn: SpannedString,
    /// The instance's identity store, where its users and groups live: `d-...`.
    #[schemars(with = "String")]
    pub identity_store_id: SpannedString,
    /// The region the instance is in (default `aws.region`).
    #[serde(default)]
    pub region: Option<String>,
    /// Role lapse assumes to read, in the account that administers Identity Center; null uses the base credentials.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub assume_role_arn: Option<SpannedString>,
    /// Role lapse assumes only to revoke; null revokes with the read role.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub write_role_arn: Option<SpannedString>,
    /// How a roster person's Identity Store user name is made: `{email}` or `{github_username}`.
    #[serde(default = "default_user_name")]
    #[schemars(with = "String", extend("default" = DEFAULT_USER_NAME))]
    pub user_name: SpannedString,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    /// The 12-digit account ID (quote it).
    #[schemars(with = "String")]
    pub id: SpannedString,
    /// Role lapse assumes in this account to read; null uses the base credentials.
    #[serde(default)]
    pub assume_role_arn: Option<String>,
    /// Role lapse assumes only to write (revoke) in this account; null writes
    /// with the read role, which then needs the write permissions too.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub write_role_arn: Option<SpannedString>,
}

fn default_max_revocations() -> u32 {
    25
}
fn default_ratio() -> f64 {
    0.25
}
fn default_target_ratio() -> f64 {
    0.5
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    /// More planned revocations than this, in either system, and apply refuses.
    #[serde(default = "default_max_revocations")]
    pub max_revocations: u32,
    /// More than this share of a system's current grants, and apply refuses.
    #[serde(default = "default_ratio")]
    pub max_revocation_ratio: f64,
    /// Principals never revoked: `github:LOGIN` (the prefix in any case), or an IAM user, role or account-root ARN.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub protected: Vec<SpannedString>,
    /// More than this share of the holders of any one team or role (of at least 4), and apply refuses.
    #[serde(default = "default_target_ratio")]
    pub max_target_ratio: f64,
}

impl Default for RawSafety {
    fn default() -> Self {
        RawSafety {
            max_revocations: default_max_revocations(),
            max_revocation_ratio: default_ratio(),
            protected: Vec::new(),
            max_target_ratio: default_target_ratio(),
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// Environment variable holding a Slack incoming-webhook URL.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub slack_webhook_env: Option<SpannedString>,
    /// Environment variable holding a URL that receives the JSON report.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub webhook_url_env: Option<SpannedString>,
    /// Prometheus Pushgateway base URL.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub pushgateway_url: Option<SpannedString>,
    /// How much an alert says: `summary` (no dates of leave) or `full`.
    #[serde(default)]
    pub detail: AlertDetail,
}

/// How much a Slack alert tells about each person (see the README: The config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertDetail {
    /// "Absent beyond the limit", without dates of leave.
    #[default]
    Summary,
    /// Every finding's reason as the report gives it.
    Full,
}
