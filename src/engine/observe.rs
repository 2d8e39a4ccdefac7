//! Observing and planning: the systems' actual grants (live or from a
//! snapshot) against the roster, as of `now`.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::exit::Exit;
use crate::plan::{self, Plan};
use crate::report::ApiCalls;
use crate::roster::Loaded;
use crate::snapshot::{self, SnapshotObserver};
use crate::state::Actual;
use crate::system::{
    AwsScope, GithubScope, ObserveAws, ObserveError, ObserveGithub, ObserveSso, SsoScope,
};

use super::inputs::{Digests, Inputs, emit, load_inputs};
use super::systems::{self, Kept, Systems};

/// Everything a plan needs, loaded and observed.
pub struct Planned {
    pub config: Config,
    pub loaded: Loaded,
    pub actual: Actual,
    pub plan: Plan,
    /// The evaluation time the plan was made for.
    pub now: DateTime<Utc>,
    pub api_calls: ApiCalls,
    /// Requests spent reading the roster from GitHub (in `api_calls.github` already).
    pub roster_requests: u64,
    /// What the config and roster read were, byte for byte.
    pub digests: Digests,
}

/// Loads, observes (a snapshot when `state` is given, else the live
/// systems), and plans. Any failure is reported and becomes exit 1.
pub async fn load_and_plan(
    config_path: &Path,
    now: DateTime<Utc>,
    state: Option<&Path>,
    kept: &Kept,
) -> Result<(Planned, Systems), Exit> {
    let Inputs {
        config,
        loaded,
        roster_requests,
        digests,
    } = match load_inputs(config_path, now, kept).await {
        Ok(x) => x,
        Err(diags) => {
            emit(&diags);
            return Err(Exit::Error);
        }
    };
    emit(&loaded.warnings);
    let mut systems = Systems::default();
    let snapshot_observer;
    let observers: Observers = match state {
        Some(path) => match snapshot::read(path, &config) {
            Ok(actual) => {
                snapshot_observer = SnapshotObserver::new(actual);
                (
                    Some(&snapshot_observer),
                    Some(&snapshot_observer),
                    Some(&snapshot_observer),
                )
            }
            Err(e) => {
                tracing::error!("{e}");
                return Err(Exit::Error);
            }
        },
        None => {
            systems = match systems::connect(&config, kept).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("{e}; nothing was changed");
                    return Err(Exit::Error);
                }
            };
            (
                systems.github.as_deref().map(|g| g as &dyn ObserveGithub),
                systems.aws.as_deref().map(|a| a as &dyn ObserveAws),
                systems.sso.as_deref().map(|s| s as &dyn ObserveSso),
            )
        }
    };
    let (github, aws, sso) = observers;
    let actual = match observe(&config, github, aws, sso).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("{e}{}; nothing was changed", where_to_look(&config, &e));
            return Err(Exit::Error);
        }
    };
    if let Err(missing) = everything_managed_was_found(&config, &actual) {
        tracing::error!("{missing}; nothing was changed");
        return Err(Exit::Error);
    }
    let plan = plan::plan(&config, &loaded.roster, &actual, now);
    for note in &plan.notes {
        tracing::warn!("{note}");
    }
    let api_calls = ApiCalls {
        github: roster_requests + github.map_or(0, |g| g.requests()),
        aws: aws.map_or(0, |a| a.requests()),
        sso: sso.map_or(0, |s| s.requests()),
    };
    Ok((
        Planned {
            config,
            loaded,
            actual,
            plan,
            now,
            api_calls,
            roster_requests,
            digests,
        },
        systems,
    ))
}

/// Every managed role, permission set and group the config names is in what
/// was read: one that is not (a typo, a rename, a stale snapshot) would
/// otherwise read as "nobody holds it" and hide every grant it carries.
fn everything_managed_was_found(config: &Config, actual: &Actual) -> Result<(), String> {
    if let Some(state) = &actual.aws {
        let unmatched = plan::unmatched_roles(config, state);
        if !unmatched.is_empty() {
            let names: Vec<String> = unmatched
                .iter()
                .map(|r| format!("{}/{} ({})", r.account_alias, r.name, r.arn))
                .collect();
            return Err(format!(
                "managed roles not found in what was read: {}; fix aws_roles in the config or the snapshot",
                names.join(", ")
            ));
        }
    }
    if let Some(state) = &actual.sso {
        let unmatched = plan::unmatched_sso(config, state);
        if !unmatched.is_empty() {
            return Err(format!(
                "managed Identity Center permission sets or groups not found in what was read: {}; fix aws_permission_sets or identity_center_groups in the config, or the snapshot",
                unmatched.join(", ")
            ));
        }
    }
    Ok(())
}

/// The observers of a run, one per system (a snapshot serves all three).
type Observers<'a> = (
    Option<&'a dyn ObserveGithub>,
    Option<&'a dyn ObserveAws>,
    Option<&'a dyn ObserveSso>,
);

/// Observes every system, each only when the config manages something in it.
/// A read that fails anywhere fails the whole observation.
pub async fn observe(
    config: &Config,
    github: Option<&dyn ObserveGithub>,
    aws: Option<&dyn ObserveAws>,
    sso: Option<&dyn ObserveSso>,
) -> Result<Actual, ObserveError> {
    let github_scope = github_scope(config);
    let aws_scope = aws_scope(config);
    let sso_scope = sso_scope(config);
    let github = async {
        match (&github_scope, github) {
            (Some(scope), Some(observer)) => observer.observe(scope).await.map(Some),
            _ => Ok(None),
        }
    };
    let aws = async {
        match (&aws_scope, aws) {
            (Some(scope), Some(observer)) => observer.observe(scope).await.map(Some),
            _ => Ok(None),
        }
    };
    let sso = async {
        match (&sso_scope, sso) {
            (Some(scope), Some(observer)) => observer.observe(scope).await.map(Some),
            _ => Ok(None),
        }
    };
    let reading = crate::progress::Reading::start();
    let (github, aws, sso) = tokio::join!(github, aws, sso);
    drop(reading);
    Ok(Actual {
        github: github?,
        aws: aws?,
        sso: sso?,
    })
}

/// For a system that could not be reached: the URL lapse tried and the
/// config key that sets it, since "connection refused" alone names neither.
fn where_to_look(config: &Config, error: &ObserveError) -> String {
    const UNREACHABLE: [&str; 7] = [
        "connect",
        "dns",
        "timed out",
        "timeout",
        "unreachable",
        "dispatch failure",
        "no route",
    ];
    let message = error.message.to_ascii_lowercase();
    if !UNREACHABLE.iter().any(|m| message.contains(m)) {
        return String::new();
    }
    match error.system {
        crate::model::System::Github => config.github.as_ref().map_or_else(String::new, |g| {
            format!(
                " (could not reach {}: check `github.api_url` in {})",
                g.api_url,
                config.path.display()
            )
        }),
        crate::model::System::Aws | crate::model::System::Sso => config.aws.as_ref().map_or_else(String::new, |a| {
            match &a.endpoint_url {
                Some(url) => format!(
                    " (could not reach {url}: check `aws.endpoint_url` in {})",
                    config.path.display()
                ),
                None => format!(
                    " (could not reach AWS's endpoint for region {}: check the network, or set `aws.endpoint_url` in {})",
                    a.region.as_deref().unwrap_or("us-east-1"),
                    config.path.display()
                ),
            }
        }),
    }
}

/// The managed teams, when the config manages any in a GitHub org.
fn github_scope(config: &Config) -> Option<GithubScope> {
    let teams: Vec<String> = config.managed_teams().into_iter().collect();
    config
        .github
        .as_ref()
        .filter(|_| !teams.is_empty())
        .map(|g| GithubScope {
            org: g.org.clone(),
            teams,
        })
}

/// The managed roles, and where activity is read, when the config manages any.
fn aws_scope(config: &Config) -> Option<AwsScope> {
    let roles: Vec<_> = config.managed_roles().into_iter().collect();
    config
        .aws
        .as_ref()
        .filter(|_| !roles.is_empty())
        .map(|a| AwsScope {
            roles,
            users_account: a.users_account.clone(),
            read_activity: config.policy.inactivity_limit_days.is_some(),
        })
}

/// The managed permission sets and groups, when the config manages any.
fn sso_scope(config: &Config) -> Option<SsoScope> {
    config.manages_identity_center().then(|| SsoScope {
        permission_sets: config.managed_permission_sets().into_iter().collect(),
        groups: config.managed_sso_groups().into_iter().collect(),
    })
}
