//! `lapse.yaml`: what the user wrote ([`RawConfig`], with source positions)
//! and, after one validation step, a [`Config`] that cannot be invalid.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics, Pos, Source};
use crate::yaml;

/// A config is small; anything bigger is the wrong file.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A string with the place it was written, shown in the schema as a plain string.
type SpannedString = Spanned<String>;

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
    #[serde(default)]
    pub policy: RawPolicy,
    /// The access levels a roster may grant, by name.
    pub access_levels: BTreeMap<String, RawLevel>,
    #[serde(default)]
    pub github: Option<RawGithub>,
    #[serde(default)]
    pub aws: Option<RawAws>,
    #[serde(default)]
    pub safety: RawSafety,
    #[serde(default)]
    pub alerts: RawAlerts,
    /// Path of a JSON-lines audit file, relative to this file.
    #[serde(default)]
    pub audit_log: Option<String>,
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
}

impl Default for RawPolicy {
    fn default() -> Self {
        RawPolicy {
            absence_limit_days: default_42(),
            inactivity_limit_days: default_inactivity(),
            warn_before_days: default_warn(),
            max_temporary_days: default_max_temporary(),
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
}

fn default_api_url() -> String {
    "https://api.github.com".into()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGithub {
    /// The organisation that owns the managed teams.
    #[schemars(with = "String")]
    pub org: SpannedString,
    /// REST API root: GitHub, GitHub Enterprise Server, or a test server.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Environment variable holding a token (default `GITHUB_TOKEN` when no `app` is given).
    #[serde(default)]
    pub token_env: Option<String>,
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
    pub endpoint_url: Option<String>,
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
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    /// The 12-digit account ID (quote it).
    #[schemars(with = "String")]
    pub id: SpannedString,
    /// Role lapse assumes in this account; null uses the base credentials.
    #[serde(default)]
    pub assume_role_arn: Option<String>,
}

fn default_max_revocations() -> u32 {
    25
}
fn default_ratio() -> f64 {
    0.25
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
    /// Principals never revoked: `github:LOGIN`, or an AWS principal as it stands in a trust policy.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub protected: Vec<SpannedString>,
}

impl Default for RawSafety {
    fn default() -> Self {
        RawSafety {
            max_revocations: default_max_revocations(),
            max_revocation_ratio: default_ratio(),
            protected: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// Environment variable holding a Slack incoming-webhook URL.
    #[serde(default)]
    pub slack_webhook_env: Option<String>,
    /// Environment variable holding a URL that receives the JSON report.
    #[serde(default)]
    pub webhook_url_env: Option<String>,
    /// Prometheus Pushgateway base URL.
    #[serde(default)]
    pub pushgateway_url: Option<String>,
}

// ---------------------------------------------------------------------------
// The validated config.

/// Where the roster comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterSource {
    File(PathBuf),
    Github {
        owner: String,
        repo: String,
        path: String,
        reference: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub absence_limit_days: u32,
    pub inactivity_limit_days: Option<u32>,
    pub warn_before_days: u32,
    pub max_temporary_days: u32,
}

/// A managed IAM role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleRef {
    pub account_alias: String,
    pub account_id: String,
    pub name: String,
    /// The ARN as configured (without a path unless one was written).
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub name: String,
    pub requires: BTreeSet<String>,
    pub temporary_requires: BTreeSet<String>,
    /// Lower-case team slugs.
    pub github_teams: Vec<String>,
    pub aws_roles: Vec<RoleRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GithubAuth {
    Token {
        env: String,
    },
    App {
        id: u64,
        installation_id: u64,
        private_key_path: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct GithubConfig {
    pub org: String,
    pub api_url: String,
    pub auth: GithubAuth,
    pub concurrency: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub alias: String,
    pub id: String,
    pub assume_role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwsConfig {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub revoke_active_sessions: bool,
    pub user_arn_template: Option<String>,
    pub users_account: Option<Account>,
    pub accounts: BTreeMap<String, Account>,
    pub concurrency: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Safety {
    pub max_revocations: u32,
    pub max_revocation_ratio: f64,
    pub protected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alerts {
    pub slack_webhook_env: Option<String>,
    pub webhook_url_env: Option<String>,
    pub pushgateway_url: Option<String>,
}

/// A config that passed validation: nothing downstream re-checks it.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub roster: RosterSource,
    pub mode: Mode,
    pub schedule: String,
    pub policy: Policy,
    pub levels: BTreeMap<String, Level>,
    pub github: Option<GithubConfig>,
    pub aws: Option<AwsConfig>,
    pub safety: Safety,
    pub alerts: Alerts,
    pub audit_log: Option<PathBuf>,
}

impl Config {
    /// Every managed team slug, sorted and unique.
    pub fn managed_teams(&self) -> BTreeSet<String> {
        self.levels
            .values()
            .flat_map(|l| l.github_teams.iter().cloned())
            .collect()
    }

    /// Every managed role, sorted and unique.
    pub fn managed_roles(&self) -> BTreeSet<RoleRef> {
        self.levels
            .values()
            .flat_map(|l| l.aws_roles.iter().cloned())
            .collect()
    }

    /// The IAM user ARN a person gets from the template, if one is set and the
    /// person has the field it names.
    pub fn user_arn_from_template(
        &self,
        email: &str,
        github_username: Option<&str>,
    ) -> Option<String> {
        let template = self.aws.as_ref()?.user_arn_template.as_ref()?;
        if template.contains("{github_username}") {
            let login = github_username?;
            Some(substitute(
                &substitute(template, "{github_username}", login),
                "{email}",
                email,
            ))
        } else {
            Some(substitute(template, "{email}", email))
        }
    }
}

/// `text` with every `placeholder` (which starts with `{`) replaced by
/// `value`, left to right as [`str::replace`] does; found by looking only at
/// each `{`, since this runs once per person in a large roster.
fn substitute(text: &str, placeholder: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + value.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let (before, from_brace) = rest.split_at(i);
        out.push_str(before);
        match from_brace.strip_prefix(placeholder) {
            Some(after) => {
                out.push_str(value);
                rest = after;
            }
            None => {
                out.push('{');
                rest = &from_brace[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Loads and validates `lapse.yaml`. All problems found are returned together.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    let name = path.display().to_string();
    let source = yaml::read_source(path, &name, MAX_CONFIG_BYTES)?;
    let raw: RawConfig = yaml::parse(&source)?;
    validate(raw, path, &source)
}

/// Parses and validates config text as if read from `path` (tests, and
/// configs that arrive by other means).
pub fn from_source(source: &Source, path: &Path) -> Result<Config, Diagnostics> {
    let raw: RawConfig = yaml::parse(source)?;
    validate(raw, path, source)
}

fn pos(s: &Spanned<String>) -> Pos {
    Pos::from_location(&s.referenced)
}

pub fn validate(raw: RawConfig, path: &Path, source: &Source) -> Result<Config, Diagnostics> {
    let mut diags = Diagnostics::default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();

    let roster = match parse_roster_source(&raw.roster.value, &dir) {
        Ok(r) => Some(r),
        Err(msg) => {
            diags.push(
                Diagnostic::error(source, pos(&raw.roster), msg)
                    .help("write a path relative to this file, or github:OWNER/REPO/PATH[@REF]"),
            );
            None
        }
    };
    if matches!(roster, Some(RosterSource::Github { .. })) && raw.github.is_none() {
        diags.push(
            Diagnostic::error(
                source,
                pos(&raw.roster),
                "the roster is read from GitHub, but this config has no `github` section",
            )
            .help("add a `github` section with `org` and credentials (`token_env` or `app`), or point `roster` at a file"),
        );
    }

    let schedule = match &raw.schedule {
        Some(s) => {
            if let Err(msg) = check_cron(&s.value) {
                diags.push(
                    Diagnostic::error(source, pos(s), msg)
                        .help("six fields: second minute hour day-of-month month day-of-week, e.g. \"0 0 7 * * Mon-Fri\""),
                );
            }
            s.value.clone()
        }
        None => "0 0 7 * * Mon-Fri".to_string(),
    };

    let p = &raw.policy;
    if p.absence_limit_days == 0 {
        diags.push(Diagnostic::error(
            source,
            yaml::key_pos(source, "absence_limit_days"),
            "policy.absence_limit_days must be at least 1",
        ));
    }
    if p.inactivity_limit_days == Some(0) {
        diags.push(
            Diagnostic::error(
                source,
                yaml::key_pos(source, "inactivity_limit_days"),
                "policy.inactivity_limit_days must be at least 1",
            )
            .help("use null to turn observed inactivity off"),
        );
    }
    if p.max_temporary_days == 0 {
        diags.push(Diagnostic::error(
            source,
            yaml::key_pos(source, "max_temporary_days"),
            "policy.max_temporary_days must be at least 1",
        ));
    }
    let policy = Policy {
        absence_limit_days: p.absence_limit_days,
        inactivity_limit_days: p.inactivity_limit_days,
        warn_before_days: p.warn_before_days,
        max_temporary_days: p.max_temporary_days,
    };

    let github = raw.github.as_ref().map(|g| {
        let org = g.org.value.trim().to_ascii_lowercase();
        if org.is_empty()
            || !org
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            diags.push(Diagnostic::error(
                source,
                pos(&g.org),
                format!("`{}` is not a GitHub organisation name", g.org.value),
            ));
        }
        if !(g.api_url.starts_with("https://") || g.api_url.starts_with("http://")) {
            diags.push(Diagnostic::error(
                source,
                pos(&g.org),
                format!("github.api_url `{}` is not an http(s) URL", g.api_url),
            ));
        }
        let auth = match (&g.app, &g.token_env) {
            (Some(_), Some(_)) => {
                diags.push(
                    Diagnostic::error(
                        source,
                        pos(&g.org),
                        "github: both `token_env` and `app` are set",
                    )
                    .help("choose one way to authenticate"),
                );
                GithubAuth::Token { env: String::new() }
            }
            (Some(app), None) => GithubAuth::App {
                id: app.id,
                installation_id: app.installation_id,
                private_key_path: dir.join(&app.private_key_path),
            },
            (None, env) => GithubAuth::Token {
                env: env.clone().unwrap_or_else(|| "GITHUB_TOKEN".into()),
            },
        };
        GithubConfig {
            org,
            api_url: g.api_url.trim_end_matches('/').to_string(),
            auth,
            concurrency: g.concurrency.unwrap_or(8).clamp(1, 64),
        }
    });

    let aws = raw.aws.as_ref().map(|a| {
        let mut accounts = BTreeMap::new();
        for (alias, acct) in &a.accounts {
            if !is_account_id(&acct.id.value) {
                diags.push(
                    Diagnostic::error(source, pos(&acct.id), format!("account `{alias}`: `{}` is not a 12-digit AWS account ID", acct.id.value))
                        .help("quote the ID so YAML keeps its leading zeros: id: \"012345678901\""),
                );
            }
            accounts.insert(
                alias.clone(),
                Account { alias: alias.clone(), id: acct.id.value.clone(), assume_role_arn: acct.assume_role_arn.clone() },
            );
        }
        let users_account = a.users_account.as_ref().map(|u| {
            if !is_account_id(&u.id.value) {
                diags.push(Diagnostic::error(source, pos(&u.id), format!("users_account: `{}` is not a 12-digit AWS account ID", u.id.value)));
            }
            Account { alias: "users".into(), id: u.id.value.clone(), assume_role_arn: u.assume_role_arn.clone() }
        });
        if let Some(t) = &a.user_arn_template
            && (!t.value.starts_with("arn:aws")
                || !(t.value.contains("{email}") || t.value.contains("{github_username}")))
        {
            diags.push(
                Diagnostic::error(
                    source,
                    pos(t),
                    "aws.user_arn_template must be an IAM user ARN containing {email} or {github_username}",
                )
                .help("e.g. \"arn:aws:iam::111111111111:user/{email}\""),
            );
        }
        AwsConfig {
            region: a.region.clone(),
            endpoint_url: a.endpoint_url.clone(),
            revoke_active_sessions: a.revoke_active_sessions,
            user_arn_template: a.user_arn_template.as_ref().map(|t| t.value.clone()),
            users_account,
            accounts,
            concurrency: a.concurrency.unwrap_or(8).clamp(1, 64),
        }
    });

    let mut levels = BTreeMap::new();
    if raw.access_levels.len() > 128 {
        diags.push(Diagnostic::error(
            source,
            yaml::key_pos(source, "access_levels"),
            format!(
                "{} access levels; lapse supports at most 128",
                raw.access_levels.len()
            ),
        ));
    }
    if raw.access_levels.is_empty() {
        diags.push(Diagnostic::error(
            source,
            yaml::key_pos(source, "access_levels"),
            "access_levels is empty: there is nothing for lapse to manage",
        ));
    }
    for (name, level) in &raw.access_levels {
        let mut teams = Vec::new();
        for team in &level.github_teams {
            let slug = team.value.trim().to_ascii_lowercase();
            if github.is_none() {
                diags.push(
                    Diagnostic::error(source, pos(team), format!("level `{name}` names GitHub team `{}` but there is no `github` section", team.value))
                        .help("add github: {org: ...}"),
                );
            }
            if slug.is_empty() || slug.contains('/') {
                diags.push(
                    Diagnostic::error(
                        source,
                        pos(team),
                        format!("`{}` is not a team slug", team.value),
                    )
                    .help("write the team's slug as in its URL, without the organisation"),
                );
            }
            teams.push(slug);
        }
        let mut roles = Vec::new();
        for role in &level.aws_roles {
            match resolve_role(&role.value, aws.as_ref()) {
                Ok(r) => roles.push(r),
                Err((msg, help)) => {
                    diags.push(Diagnostic::error(source, pos(role), msg).help(help))
                }
            }
        }
        let requires: BTreeSet<String> = level.requires.iter().map(|s| s.value.clone()).collect();
        let temporary_requires = match &level.temporary_requires {
            Some(t) => t.iter().map(|s| s.value.clone()).collect(),
            None => requires.clone(),
        };
        teams.sort();
        teams.dedup();
        roles.sort();
        roles.dedup();
        levels.insert(
            name.clone(),
            Level {
                name: name.clone(),
                requires,
                temporary_requires,
                github_teams: teams,
                aws_roles: roles,
            },
        );
    }

    let s = &raw.safety;
    if !(s.max_revocation_ratio > 0.0 && s.max_revocation_ratio <= 1.0) {
        diags.push(Diagnostic::error(
            source,
            yaml::key_pos(source, "max_revocation_ratio"),
            format!(
                "safety.max_revocation_ratio is {}; it must be more than 0 and at most 1",
                s.max_revocation_ratio
            ),
        ));
    }
    for p in &s.protected {
        if p.value.trim().is_empty() || p.value.trim() == "github:" {
            diags.push(Diagnostic::error(
                source,
                pos(p),
                "an empty protected principal protects nobody",
            ));
        }
    }
    let safety = Safety {
        max_revocations: s.max_revocations,
        max_revocation_ratio: s.max_revocation_ratio,
        protected: s
            .protected
            .iter()
            .map(|p| p.value.trim().to_string())
            .collect(),
    };

    let alerts = Alerts {
        slack_webhook_env: raw.alerts.slack_webhook_env.clone(),
        webhook_url_env: raw.alerts.webhook_url_env.clone(),
        pushgateway_url: raw.alerts.pushgateway_url.clone(),
    };

    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Config {
        path: path.to_path_buf(),
        roster: roster.expect("set when no error"),
        mode: raw.mode,
        schedule,
        policy,
        levels,
        github,
        aws,
        safety,
        alerts,
        audit_log: raw.audit_log.map(|a| dir.join(a)),
    })
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_roster_source(text: &str, dir: &Path) -> Result<RosterSource, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("`roster` is empty".into());
    }
    if let Some(rest) = text.strip_prefix("github:") {
        let (spec, reference) = match rest.rsplit_once('@') {
            Some((s, r)) if !r.is_empty() => (s, Some(r.to_string())),
            _ => (rest, None),
        };
        let mut parts = spec.splitn(3, '/');
        let (Some(owner), Some(repo), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("`{text}` is not github:OWNER/REPO/PATH[@REF]"));
        };
        if owner.is_empty() || repo.is_empty() || path.is_empty() {
            return Err(format!("`{text}` is not github:OWNER/REPO/PATH[@REF]"));
        }
        return Ok(RosterSource::Github {
            owner: owner.into(),
            repo: repo.into(),
            path: path.into(),
            reference,
        });
    }
    Ok(RosterSource::File(dir.join(text)))
}

/// A light check of the six-field cron form; `serve` parses it for real.
fn check_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if fields == 6 || fields == 7 {
        Ok(())
    } else {
        Err(format!(
            "schedule `{expr}` has {fields} fields; lapse's cron has seconds and needs 6 (or 7 with a year)"
        ))
    }
}

fn resolve_role(text: &str, aws: Option<&AwsConfig>) -> Result<RoleRef, (String, String)> {
    let Some(aws) = aws else {
        return Err((
            format!("role `{text}` is named but there is no `aws` section"),
            "add aws: {accounts: ...}".into(),
        ));
    };
    let aliases = || aws.accounts.keys().cloned().collect::<Vec<_>>().join(", ");
    if let Some(rest) = text.strip_prefix("arn:") {
        // arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() != 5 || parts[1] != "iam" || !parts[4].starts_with("role/") {
            return Err((
                format!("`{text}` is not an IAM role ARN"),
                "write arn:aws:iam::ACCOUNT_ID:role/NAME".into(),
            ));
        }
        let account_id = parts[3];
        let name = parts[4].rsplit('/').next().unwrap_or_default();
        let Some(account) = aws.accounts.values().find(|a| a.id == account_id) else {
            return Err((
                format!("role `{text}` is in account {account_id}, which is not in aws.accounts"),
                "add the account under aws.accounts so lapse knows how to reach it".into(),
            ));
        };
        if name.is_empty() {
            return Err((
                format!("`{text}` names no role"),
                "write arn:aws:iam::ACCOUNT_ID:role/NAME".into(),
            ));
        }
        return Ok(RoleRef {
            account_alias: account.alias.clone(),
            account_id: account_id.to_string(),
            name: name.to_string(),
            arn: text.to_string(),
        });
    }
    let Some((alias, name)) = text.split_once('/') else {
        return Err((
            format!("`{text}` is neither ACCOUNT/ROLE_NAME nor a role ARN"),
            format!("known accounts: {}", aliases()),
        ));
    };
    let Some(account) = aws.accounts.get(alias) else {
        return Err((
            format!("role `{text}`: no account `{alias}` in aws.accounts"),
            format!("known accounts: {}", aliases()),
        ));
    };
    if name.is_empty() || name.contains('/') {
        return Err((
            format!("`{text}`: `{name}` is not a role name"),
            "write ACCOUNT/ROLE_NAME, or a full ARN for a role with a path".into(),
        ));
    }
    Ok(RoleRef {
        account_alias: alias.to_string(),
        account_id: account.id.clone(),
        name: name.to_string(),
        arn: format!("arn:aws:iam::{}:role/{name}", account.id),
    })
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn substitute_matches_str_replace() {
        for text in [
            "arn:aws:iam::1:user/{email}",
            "{email}{email}",
            "{{email}}",
            "{emai{email}",
            "{email",
            "no placeholder",
            "",
            "{é}{email}ü{",
        ] {
            for value in ["", "a@b.c", "{email}", "ü"] {
                assert_eq!(
                    substitute(text, "{email}", value),
                    text.replace("{email}", value),
                    "{text:?} with {value:?}"
                );
            }
        }
    }
}
