//! `roster: github:OWNER/REPO/PATH[@REF]`: the roster read through the
//! contents API, with the same credentials, limits and retries as every
//! other GitHub request (as an App, with a token that may read only that
//! repository's contents).

use super::auth::Scope;
use super::client::Client;
use super::request::{RAW, segment};
use crate::config::GithubConfig;

/// Reads one file from a repository, as bytes, at `reference` (a branch, tag
/// or commit; the default branch when `None`). Asks for GitHub's raw media
/// type, which serves files of any size up to 100 MB (the JSON form leaves
/// `content` empty above 1 MB).
pub async fn fetch_roster(
    config: &GithubConfig,
    owner: &str,
    repo: &str,
    path: &str,
    reference: Option<&str>,
) -> Result<Vec<u8>, String> {
    let client = Client::connect(config)?;
    fetch_file(&client, owner, repo, path, reference).await
}

/// [`fetch_roster`] through a client already connected.
pub async fn fetch_file(
    client: &Client,
    owner: &str,
    repo: &str,
    path: &str,
    reference: Option<&str>,
) -> Result<Vec<u8>, String> {
    let name = match reference {
        Some(r) => format!("github:{owner}/{repo}/{path}@{r}"),
        None => format!("github:{owner}/{repo}/{path}"),
    };
    let encoded_path: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(segment)
        .collect();
    let mut uri = format!(
        "/repos/{}/{}/contents/{}",
        segment(owner),
        segment(repo),
        encoded_path.join("/")
    );
    if let Some(r) = reference {
        uri.push_str(&format!("?ref={}", segment(r)));
    }
    let scope = Scope::RosterContents(repo.to_string());
    let reply = client.get_with(&uri, RAW, scope).await.map_err(|e| {
        if e.is_not_found() {
            format!(
                "{name}: not found (no such repository, file or ref, or lapse's credentials cannot read it)"
            )
        } else {
            format!("{name}: {e}")
        }
    })?;
    // Directories and submodules have no raw form: GitHub answers with JSON.
    if reply.content_type.starts_with("application/json") {
        return Err(format!("{name} is a directory, not a file"));
    }
    Ok(reply.body.into_bytes())
}
