//! `lapse.yaml`: what the user wrote ([`RawConfig`], with source positions)
//! and, after one validation step, a [`Config`] that cannot be invalid.
//!
//! Each section is checked by its own module, in the order diagnostics have
//! always been reported: `roster_source`, `schedule`, `policy`,
//! `github`, `aws`, `levels`, `safety`, `alerts`.

mod alerts;
mod audit;
mod aws;
mod env_names;
mod github;
mod identity_center;
mod levels;
mod policy;
mod principal;
mod raw;
mod roster_source;
mod safety;
mod schedule;
mod template;
mod urls;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diag::{Diagnostics, Pos, Source};
use crate::yaml;

pub use audit::{AuditSettings, S3Location};
pub use principal::ProtectedPrincipal;
use raw::SpannedString;
pub use raw::{
    AlertDetail, Mode, RawAccount, RawAlerts, RawAws, RawConfig, RawGithub, RawGithubApp, RawLevel,
    RawPolicy, RawSafety,
};
pub use schedule::parse_schedule;

/// A config is small; anything bigger is the wrong file.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

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
    /// Who may approve a temporary grant, in lower case; empty lets anyone.
    pub approvers: Vec<String>,
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

/// A managed IAM Identity Center permission set in one account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PermissionSetRef {
    pub account_alias: String,
    pub account_id: String,
    /// The permission set's name, as Identity Center spells it.
    pub name: String,
}

impl PermissionSetRef {
    /// How findings name it: `sso:ACCOUNT/PERMISSION_SET_NAME`.
    pub fn target(&self) -> String {
        crate::model::sso_target(&self.account_alias, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub name: String,
    pub requires: BTreeSet<String>,
    pub temporary_requires: BTreeSet<String>,
    /// Lower-case team slugs.
    pub github_teams: Vec<String>,
    pub aws_roles: Vec<RoleRef>,
    pub aws_permission_sets: Vec<PermissionSetRef>,
    /// Identity Center group display names.
    pub identity_center_groups: Vec<String>,
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
    /// The role lapse reads with.
    pub assume_role_arn: Option<String>,
    /// The role lapse writes with; `None` writes with the read role.
    pub write_role_arn: Option<String>,
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
    pub identity_center: Option<IdentityCenterConfig>,
}

/// `aws.identity_center`: the instance whose assignments and groups lapse manages.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityCenterConfig {
    pub instance_arn: String,
    pub identity_store_id: String,
    /// The instance's region (`aws.region` when not given).
    pub region: Option<String>,
    /// The role lapse reads with.
    pub assume_role_arn: Option<String>,
    /// The role lapse revokes with; `None` revokes with the read role.
    pub write_role_arn: Option<String>,
    /// How a person's Identity Store user name is made.
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Safety {
    pub max_revocations: u32,
    pub max_revocation_ratio: f64,
    /// Read once, for the planner and the gates alike.
    pub protected: Vec<ProtectedPrincipal>,
    /// The largest share of one team's or role's holders an apply may remove.
    pub max_target_ratio: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alerts {
    pub slack_webhook_env: Option<String>,
    pub webhook_url_env: Option<String>,
    pub pushgateway_url: Option<String>,
    /// How much of each finding Slack is told (the webhook gets the whole report).
    pub detail: AlertDetail,
}

/// A config that passed validation: nothing downstream re-checks it.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub roster: RosterSource,
    pub mode: Mode,
    pub schedule: String,
    /// The zone `schedule` is read in.
    pub timezone: chrono_tz::Tz,
    /// How long `serve` lets the cycle in flight finish after SIGTERM.
    pub shutdown_grace: Duration,
    pub policy: Policy,
    pub levels: BTreeMap<String, Level>,
    pub github: Option<GithubConfig>,
    pub aws: Option<AwsConfig>,
    pub safety: Safety,
    pub alerts: Alerts,
    /// `alerts.detail`: how much an alert tells about each person.
    /// Where the audit trail is kept durably (`audit.file`, its synonym
    /// `audit_log`, and `audit.s3`).
    pub audit: AuditSettings,
    /// What validation warned about (a level that grants nothing): shown
    /// with the roster's warnings, never a reason to stop.
    pub warnings: Diagnostics,
}

impl Config {
    /// Every managed team slug, sorted and unique.
    pub fn managed_teams(&self) -> BTreeSet<String> {
        self.levels
            .values()
            .flat_map(|l| l.github_teams.iter().cloned())
            .collect()
    }

    /// The config's warnings, then `later` (the roster's diagnostics): the
    /// order a person reads the files in.
    pub fn warnings_then(&self, later: Diagnostics) -> Diagnostics {
        let mut all = self.warnings.clone();
        all.extend(later);
        all
    }

    /// Every managed role, sorted and unique.
    pub fn managed_roles(&self) -> BTreeSet<RoleRef> {
        self.levels
            .values()
            .flat_map(|l| l.aws_roles.iter().cloned())
            .collect()
    }

    /// Every managed Identity Center permission set, per account, sorted and unique.
    pub fn managed_permission_sets(&self) -> BTreeSet<PermissionSetRef> {
        self.levels
            .values()
            .flat_map(|l| l.aws_permission_sets.iter().cloned())
            .collect()
    }

    /// Every managed Identity Center group, by display name, sorted and unique.
    pub fn managed_sso_groups(&self) -> BTreeSet<String> {
        self.levels
            .values()
            .flat_map(|l| l.identity_center_groups.iter().cloned())
            .collect()
    }

    /// Whether Identity Center is a system this config manages anything in.
    pub fn manages_identity_center(&self) -> bool {
        self.levels
            .values()
            .any(|l| !l.aws_permission_sets.is_empty() || !l.identity_center_groups.is_empty())
    }
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

fn pos(s: &SpannedString) -> Pos {
    Pos::from_location(&s.referenced)
}

/// Where every section's rules report: one per validation run.
struct Check<'a> {
    source: &'a Source,
    diags: Diagnostics,
}

/// Checks every section, each by its own rules, and reports all problems
/// together, in the order the sections are checked.
pub fn validate(raw: RawConfig, path: &Path, source: &Source) -> Result<Config, Diagnostics> {
    let mut check = Check {
        source,
        diags: Diagnostics::default(),
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();

    let roster = roster_source::roster(&mut check, &raw.roster, &dir, raw.github.is_some());
    let schedule = schedule::schedule(&mut check, raw.schedule.as_ref());
    let policy = policy::policy(&mut check, &raw.policy);
    let github = raw
        .github
        .as_ref()
        .map(|g| github::github(&mut check, g, &dir));
    let aws = raw.aws.as_ref().map(|a| aws::aws(&mut check, a));
    let levels = levels::levels(
        &mut check,
        &raw.access_levels,
        github.is_some(),
        aws.as_ref(),
    );
    let safety = safety::safety(&mut check, &raw.safety);
    let alerts = alerts::alerts(&mut check, &raw.alerts);
    let timezone = schedule::timezone(&mut check, raw.timezone.as_ref());
    let shutdown_grace = schedule::shutdown_grace(&mut check, raw.shutdown_grace_s);
    let audit = audit::audit(&mut check, raw.audit_log.as_ref(), &raw.audit, &dir);
    aws::inactivity_is_observable(&mut check, &policy, aws.as_ref(), &levels);
    aws::write_roles_when_enforcing(&mut check, raw.mode, raw.aws.as_ref());

    if check.diags.has_errors() {
        return Err(check.diags);
    }
    Ok(Config {
        path: path.to_path_buf(),
        roster: roster.expect("set when no error"),
        mode: raw.mode,
        schedule,
        timezone,
        shutdown_grace,
        policy,
        levels,
        github,
        aws,
        safety,
        alerts,
        audit,
        warnings: check.diags,
    })
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::diag::Severity;

    pub(super) fn source(text: &str) -> Source {
        Source {
            name: "lapse.yaml".into(),
            text: text.into(),
        }
    }

    /// A section of the config, read from all of `source` as lapse reads the file.
    pub(super) fn section<T: DeserializeOwned + schemars::JsonSchema>(source: &Source) -> T {
        yaml::parse(source).expect("the section parses")
    }

    /// A value as YAML gives it, on line 1.
    pub(super) fn spanned(text: &str) -> SpannedString {
        serde_saphyr::from_str(&format!("{text:?}")).expect("a quoted string parses")
    }

    /// A YAML list of strings, each with its position.
    pub(super) fn spanned_list(yaml: &str) -> Vec<SpannedString> {
        serde_saphyr::from_str(yaml).expect("a list of strings parses")
    }

    pub(super) fn check(source: &Source) -> Check<'_> {
        Check {
            source,
            diags: Diagnostics::default(),
        }
    }

    /// What a run said, in the order it was said.
    pub(super) fn said(check: Check) -> Vec<String> {
        check
            .diags
            .0
            .iter()
            .map(|d| match d.severity {
                Severity::Error => format!("error: {}", d.message),
                Severity::Warning => format!("warning: {}", d.message),
            })
            .collect()
    }

    #[test]
    fn sections_are_reported_in_order() {
        let text = "roster: ''\nschedule: '* *'\npolicy: {absence_limit_days: 0}\naccess_levels: {}\ngithub: {org: '', app: {id: 1, installation_id: 2, private_key_path: k}, token_env: T}\naws: {accounts: {a: {id: '1'}}}\nsafety: {max_revocation_ratio: 2, protected: ['']}\n";
        let err = from_source(&source(text), Path::new("lapse.yaml")).unwrap_err();
        let said: Vec<&str> = err.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            said,
            vec![
                "`roster` is empty",
                "schedule `* *` has 2 fields; lapse's cron has seconds and needs 6 (or 7 with a year)",
                "policy.absence_limit_days is 0; it must be from 1 to 3650 days",
                "`` is not a GitHub organisation name",
                "github: both `token_env` and `app` are set",
                "account `a`: `1` is not a 12-digit AWS account ID",
                "access_levels is empty: there is nothing for lapse to manage",
                "safety.max_revocation_ratio is 2; it must be more than 0 and at most 1",
                "an empty protected principal protects nobody",
            ]
        );
    }
}
