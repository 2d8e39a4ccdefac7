//! Snapshot files: the observed state of both systems as versioned JSON, so
//! `plan --state` works offline and gives the same findings a live plan would.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::System;
use crate::state::{Actual, AwsState, GithubState, SsoState};
use crate::system::{
    AwsScope, BoxFuture, GithubScope, ObserveAws, ObserveError, ObserveGithub, ObserveSso, SsoScope,
};
use crate::trust_policy::TrustPolicy;

/// The only snapshot version this build reads and writes.
pub const VERSION: u32 = 1;

/// Snapshots can be large (a big org), but not unboundedly so.
const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub version: u32,
    pub taken_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsState>,
    /// Absent from snapshots taken before lapse managed Identity Center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoState>,
}

/// Reads a snapshot and checks it covers everything the config manages, so a
/// stale or partial snapshot can never read as "nobody holds this".
pub fn read(path: &Path, config: &Config) -> Result<Actual, String> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read snapshot {name}: {e}"))?;
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(format!(
            "snapshot {name} is larger than {MAX_SNAPSHOT_BYTES} bytes"
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read snapshot {name}: {e}"))?;
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("{name}:{}:{}: not JSON: {e}", e.line(), e.column()))?
        .get("version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(VERSION as u64) {
        return Err(format!(
            "{name}: snapshot version {} is not supported (this lapse reads version {VERSION}); take a new one with `lapse snapshot`",
            version.map_or("missing".to_string(), |v| v.to_string())
        ));
    }
    let snapshot: Snapshot = serde_json::from_str(&text)
        .map_err(|e| format!("{name}:{}:{}: {e}", e.line(), e.column()))?;
    let actual = Actual {
        github: snapshot.github,
        aws: snapshot.aws,
        sso: snapshot.sso,
    };
    check_coverage(&actual, config).map_err(|e| format!("{name}: {e}"))?;
    Ok(actual)
}

/// Every managed team and role must be present, and every trust policy must parse.
pub fn check_coverage(actual: &Actual, config: &Config) -> Result<(), String> {
    let teams = config.managed_teams();
    if let Some(github) = &config.github
        && !teams.is_empty()
    {
        let state = actual
            .github
            .as_ref()
            .ok_or("it holds no GitHub state, but the config manages GitHub teams")?;
        if !state.org.eq_ignore_ascii_case(&github.org) {
            return Err(format!(
                "it was taken of GitHub org `{}`, but the config manages `{}`",
                state.org, github.org
            ));
        }
        for slug in &teams {
            if state.team(slug).is_none() {
                return Err(format!("it has no team `{slug}`, which the config manages"));
            }
        }
    }
    let roles = config.managed_roles();
    if !roles.is_empty() {
        let state = actual
            .aws
            .as_ref()
            .ok_or("it holds no AWS state, but the config manages IAM roles")?;
        for role in &roles {
            if !state
                .roles
                .iter()
                .any(|r| r.key() == Some((role.account_id.as_str(), role.name.as_str())))
            {
                return Err(format!(
                    "it has no role `{}`, which the config manages",
                    role.arn
                ));
            }
        }
        for role in &state.roles {
            TrustPolicy::from_value(role.trust_policy.clone())
                .map_err(|e| format!("role {}: {e}", role.arn))?;
        }
    }
    check_sso_coverage(actual.sso.as_ref(), config)
}

/// Every managed permission set (in each account) and group must be present.
fn check_sso_coverage(state: Option<&SsoState>, config: &Config) -> Result<(), String> {
    if !config.manages_identity_center() {
        return Ok(());
    }
    let state =
        state.ok_or("it holds no Identity Center state, but the config manages Identity Center")?;
    for set in config.managed_permission_sets() {
        if state.permission_set(&set.account_id, &set.name).is_none() {
            return Err(format!(
                "it has no permission set `{}`, which the config manages",
                set.target()
            ));
        }
    }
    for group in config.managed_sso_groups() {
        if state.group_named(&group).is_none() {
            return Err(format!(
                "it has no Identity Center group `{group}`, which the config manages"
            ));
        }
    }
    Ok(())
}

/// Writes a snapshot atomically (a temporary file renamed into place), so a
/// reader never sees half of one.
pub fn write(path: &Path, actual: &Actual, taken_at: DateTime<Utc>) -> Result<(), String> {
    let snapshot = Snapshot {
        version: VERSION,
        taken_at,
        github: actual.github.clone(),
        aws: actual.aws.clone(),
        sso: actual.sso.clone(),
    };
    let mut text = serde_json::to_string_pretty(&snapshot).map_err(|e| e.to_string())?;
    text.push('\n');
    // A snapshot names who holds production access: it is written for its
    // owner only, through a temporary file nobody could have made in
    // advance (created exclusively, with a random name), then renamed into
    // place, so a reader never sees half a snapshot.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".lapse-snapshot-")
        .tempfile_in(dir)
        .map_err(cannot)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(cannot)?;
    tmp.as_file().sync_all().map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}

/// Observation from a snapshot: no API is called.
pub struct SnapshotObserver {
    actual: Actual,
}

impl SnapshotObserver {
    pub fn new(actual: Actual) -> Self {
        SnapshotObserver { actual }
    }
}

impl ObserveGithub for SnapshotObserver {
    fn observe<'a>(
        &'a self,
        _scope: &'a GithubScope,
    ) -> BoxFuture<'a, Result<GithubState, ObserveError>> {
        let state = self.actual.github.clone().ok_or_else(|| ObserveError {
            system: System::Github,
            message: "the snapshot holds no GitHub state".into(),
        });
        Box::pin(async move { state })
    }

    fn requests(&self) -> u64 {
        0
    }
}

impl ObserveAws for SnapshotObserver {
    fn observe<'a>(
        &'a self,
        _scope: &'a AwsScope,
    ) -> BoxFuture<'a, Result<AwsState, ObserveError>> {
        let state = self.actual.aws.clone().ok_or_else(|| ObserveError {
            system: System::Aws,
            message: "the snapshot holds no AWS state".into(),
        });
        Box::pin(async move { state })
    }

    fn requests(&self) -> u64 {
        0
    }
}

impl ObserveSso for SnapshotObserver {
    fn observe<'a>(
        &'a self,
        _scope: &'a SsoScope,
    ) -> BoxFuture<'a, Result<SsoState, ObserveError>> {
        let state = self.actual.sso.clone().ok_or_else(|| ObserveError {
            system: System::Sso,
            message: "the snapshot holds no Identity Center state".into(),
        });
        Box::pin(async move { state })
    }

    fn requests(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_snapshot_is_written_for_its_owner_only_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.json");
        write(&path, &Actual::default(), Utc::now()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("snapshot.json")]);
        // A file planted at the old predictable name is neither used nor followed.
        std::fs::write(path.with_extension("tmp"), "planted").unwrap();
        write(&path, &Actual::default(), Utc::now()).unwrap();
        assert_eq!(
            std::fs::read_to_string(path.with_extension("tmp")).unwrap(),
            "planted"
        );
    }
}
