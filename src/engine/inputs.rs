//! Loading: the config and the roster (from a file or a repository) as of `now`.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::{self, Config, RosterSource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::roster::{self, Loaded};
use crate::yaml;

use super::systems::Kept;

/// What a run reads before it observes anything.
pub struct Inputs {
    pub config: Config,
    pub loaded: Loaded,
    /// Requests sent to GitHub to read the roster from a repository, so the
    /// report's `api_calls` counts them too.
    pub roster_requests: u64,
    pub digests: Digests,
}

/// Digests of the bytes a run read, taken as they were read, so an access
/// review names exactly the files it was made from (reading them again
/// later could see another version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub config_sha256: String,
    pub roster_sha256: String,
    /// For a roster read from a repository, its git blob SHA: the name git
    /// and GitHub give those bytes, so the review points at one version in
    /// the repository's history.
    pub roster_git_blob: Option<String>,
}

impl Digests {
    fn of(config: &[u8], roster: &[u8], from_git: bool) -> Digests {
        Digests {
            config_sha256: sha256_hex(config),
            roster_sha256: sha256_hex(roster),
            roster_git_blob: from_git.then(|| git_blob_sha(roster)),
        }
    }
}

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(bytes))
}

/// The SHA-1 git names a blob of these bytes by (`git hash-object`).
pub fn git_blob_sha(bytes: &[u8]) -> String {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The config and the roster as of `now`, or every problem with them.
/// `kept` lets `serve` read a roster in a repository conditionally, as it
/// reads teams.
pub async fn load_inputs(
    config_path: &Path,
    now: DateTime<Utc>,
    kept: &Kept,
) -> Result<Inputs, Diagnostics> {
    let config_source = yaml::read_source(
        config_path,
        &config_path.display().to_string(),
        config::MAX_CONFIG_BYTES,
    )?;
    let config = config::from_source(&config_source, config_path)?;
    register_secrets(&config);
    let mut roster_requests = 0;
    let source = match &config.roster {
        RosterSource::File(path) => {
            yaml::read_source(path, &path.display().to_string(), roster::MAX_ROSTER_BYTES)
                .map_err(|diags| at_roster_line(config_path, path, diags))?
        }
        RosterSource::Github {
            owner,
            repo,
            path,
            reference,
        } => {
            let (source, requests) =
                read_from_github(&config, owner, repo, path, reference.as_deref(), kept).await?;
            roster_requests = requests;
            source
        }
    };
    let digests = Digests::of(
        config_source.text.as_bytes(),
        source.text.as_bytes(),
        matches!(config.roster, RosterSource::Github { .. }),
    );
    let mut loaded =
        roster::load_source(&source, &config, now).map_err(|d| config.warnings_then(d))?;
    loaded.warnings = config.warnings_then(std::mem::take(&mut loaded.warnings));
    Ok(Inputs {
        config,
        loaded,
        roster_requests,
        digests,
    })
}

/// A roster file that cannot be opened is a problem of the config's
/// `roster:` line: that is where the path is written, and where to fix it.
fn at_roster_line(config_path: &Path, roster: &Path, diags: Diagnostics) -> Diagnostics {
    let unopened = diags
        .0
        .iter()
        .any(|d| d.pos.line == 0 && d.message.starts_with("cannot open"));
    let Ok(text) = std::fs::read_to_string(config_path) else {
        return diags;
    };
    if !unopened {
        return diags;
    }
    let source = crate::diag::Source {
        name: config_path.display().to_string(),
        text,
    };
    let pos = yaml::key_pos(&source, "roster");
    let why = diags
        .0
        .first()
        .map(|d| d.message.clone())
        .unwrap_or_default();
    Diagnostics(vec![Diagnostic::error(&source, pos, why).help(format!(
        "`roster:` names {}, relative to this config file; fix the path, or read the roster from a repository with github:OWNER/REPO/PATH",
        roster.display()
    ))])
}

/// Tells the redaction layer the secrets this config points at, before
/// anything read with them can be printed.
fn register_secrets(config: &Config) {
    if let Some(github) = &config.github {
        match &github.auth {
            config::GithubAuth::Token { env } => crate::redact::register_env(env),
            config::GithubAuth::App {
                private_key_path, ..
            } => {
                if let Ok(key) = std::fs::read_to_string(private_key_path) {
                    crate::redact::register(&key);
                }
            }
        }
    }
    let alerts = [
        &config.alerts.slack_webhook_env,
        &config.alerts.webhook_url_env,
    ];
    for name in alerts.into_iter().flatten() {
        crate::redact::register_env(name);
    }
}

/// Reads a roster kept in a repository, with the requests that took.
async fn read_from_github(
    config: &Config,
    owner: &str,
    repo: &str,
    path: &str,
    reference: Option<&str>,
    kept: &Kept,
) -> Result<(crate::diag::Source, u64), Diagnostics> {
    let name = match reference {
        Some(r) => format!("github:{owner}/{repo}/{path}@{r}"),
        None => format!("github:{owner}/{repo}/{path}"),
    };
    // Config validation guarantees the section; this only guards the invariant.
    let Some(github) = &config.github else {
        return Err(Diagnostics(vec![Diagnostic::file_error(
            &name,
            "the roster is read from GitHub, but the config has no `github` section",
        )]));
    };
    let unreadable = |e: String| {
        Diagnostics(vec![Diagnostic::file_error(&name, e).help(
            "check the repository, path and ref, and that lapse's GitHub credentials can read its contents",
        )])
    };
    let client = crate::github::Client::connect(github).map_err(unreadable)?;
    if let Some(cache) = &kept.github_responses {
        cache.use_for(github);
        client.set_response_cache(cache.clone());
    }
    let fetched = crate::github::fetch_file(&client, owner, repo, path, reference).await;
    let requests = client.requests();
    let source = yaml::source_from_bytes(
        &name,
        fetched.map_err(unreadable)?,
        roster::MAX_ROSTER_BYTES,
    )?;
    Ok((source, requests))
}

/// Prints diagnostics where errors belong: readable text, or one JSON log
/// event each when logs are JSON.
pub fn emit(diags: &Diagnostics) {
    if !crate::console::json_logs() {
        eprint!("{diags}");
        return;
    }
    for d in diags.0.iter().take(crate::diag::MAX_SHOWN) {
        let (file, line, column, help) = (
            d.file.as_str(),
            d.pos.line,
            d.pos.column,
            d.help.as_deref().unwrap_or(""),
        );
        if d.is_error() {
            tracing::error!(file, line, column, help, "{}", d.message);
        } else {
            tracing::warn!(file, line, column, help, "{}", d.message);
        }
    }
    if let Some(rest) = diags
        .0
        .len()
        .checked_sub(crate::diag::MAX_SHOWN)
        .filter(|n| *n > 0)
    {
        tracing::error!(not_shown = rest, "{rest} more problems not shown");
    }
}
