//! The endpoints. Each locks the state once, reads or changes it, and answers
//! in GitHub's shape; the gate in `server.rs` has already checked credentials.

use axum::Json;
use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::app_auth;
use super::json;
use super::pagination::{Query, page_response};
use super::server::{ApiError, FreeOfCharge, Shared, lock, presented_token};
use super::state::{Org, Role, State as FakeState, Team};

type Answer = Result<Response, ApiError>;

/// The path parameters of an org or team route. GitHub serves every team
/// endpoint both by name (`/orgs/{org}/teams/{team_slug}/...`) and by id
/// (`/organizations/{org_id}/team/{team_id}/...`), and its `Link` headers use
/// the id form, so one handler serves both: the parameter names say which.
pub(crate) struct Target(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        Ok(Target(params))
    }
}

impl Target {
    fn param(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The key of the org in `state.orgs`, from its login or its id.
    fn org_in(&self, state: &FakeState) -> Result<String, ApiError> {
        let found = match (self.param("org"), self.param("org_id")) {
            (Some(login), _) => {
                Some(login.to_lowercase()).filter(|key| state.orgs.contains_key(key))
            }
            (None, Some(id)) => id.parse::<u64>().ok().and_then(|id| {
                state
                    .orgs
                    .iter()
                    .find(|(_, org)| org.id == id)
                    .map(|(key, _)| key.clone())
            }),
            (None, None) => None,
        };
        found.ok_or_else(ApiError::not_found)
    }

    fn org<'a>(&self, state: &'a FakeState) -> Result<&'a Org, ApiError> {
        let key = self.org_in(state)?;
        Ok(&state.orgs[&key])
    }

    /// The slug of the team this route names, in `org`.
    fn team_slug(&self, org: &Org) -> Result<String, ApiError> {
        let slug = match (self.param("team"), self.param("team_id")) {
            (Some(slug), _) => Some(slug.to_lowercase()),
            (None, Some(id)) => id.parse::<u64>().ok().and_then(|id| {
                org.teams
                    .values()
                    .find(|team| team.id == id)
                    .map(|team| team.slug.clone())
            }),
            (None, None) => None,
        };
        slug.filter(|slug| org.teams.contains_key(slug))
            .ok_or_else(ApiError::not_found)
    }

    fn team<'a>(&self, org: &'a Org) -> Result<&'a Team, ApiError> {
        let slug = self.team_slug(org)?;
        Ok(&org.teams[&slug])
    }
}

/// Where GitHub's `Link` header points for a team's sub-resource.
fn team_path(org: &Org, team: &Team, rest: &str) -> String {
    format!("/organizations/{}/team/{}/{rest}", org.id, team.id)
}

pub(crate) async fn list_teams(
    State(shared): State<Shared>,
    target: Target,
    RawQuery(raw): RawQuery,
) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let items = org.teams.values().collect();
    let path = format!("/organizations/{}/teams", org.id);
    Ok(page_response(
        items,
        |team| json::team(&state.base_url, org, team),
        &Query::parse(raw.as_deref()),
        &state.base_url,
        &path,
    ))
}

pub(crate) async fn get_team(State(shared): State<Shared>, target: Target) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let team = target.team(org)?;
    Ok(Json(json::team_full(&state.base_url, org, team)).into_response())
}

/// Direct children only, as GitHub lists them.
pub(crate) async fn list_child_teams(
    State(shared): State<Shared>,
    target: Target,
    RawQuery(raw): RawQuery,
) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let team = target.team(org)?;
    let items = org.children(&team.slug).collect();
    let path = team_path(org, team, "teams");
    Ok(page_response(
        items,
        |child| json::team(&state.base_url, org, child),
        &Query::parse(raw.as_deref()),
        &state.base_url,
        &path,
    ))
}

/// GitHub: "Team members will include the members of child teams."
pub(crate) async fn list_team_members(
    State(shared): State<Shared>,
    target: Target,
    RawQuery(raw): RawQuery,
) -> Answer {
    let query = Query::parse(raw.as_deref());
    let wanted: Option<Role> = match query.get("role").unwrap_or("all") {
        "all" => None,
        "member" => Some(Role::Member),
        "maintainer" => Some(Role::Maintainer),
        _ => return Err(ApiError::new(422, "Validation Failed")),
    };
    let state = lock(&shared);
    let org = target.org(&state)?;
    let team = target.team(org)?;
    let mut members: Vec<(u64, &str)> = org
        .effective_members(&team.slug)
        .into_iter()
        .filter(|(_, role)| wanted.is_none_or(|wanted| wanted == *role))
        .map(|(login, _)| {
            let user = &state.users[&login];
            (user.id, user.login.as_str())
        })
        .collect();
    members.sort();
    let path = team_path(org, team, "members");
    Ok(page_response(
        members,
        |(id, login)| json::simple_user(&state.base_url, login, id),
        &query,
        &state.base_url,
        &path,
    ))
}

/// Active for direct members and (as GitHub documents) for members of child
/// teams; pending while an open invitation covers the team; else 404.
pub(crate) async fn get_membership(State(shared): State<Shared>, target: Target) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let team = target.team(org)?;
    let username = target.param("username").unwrap_or_default();
    let login = username.to_lowercase();
    let display = state.display_login(username);
    if let Some(role) = org.effective_members(&team.slug).get(&login) {
        let body = json::membership(&state.base_url, team, &display, role.as_str(), "active");
        return Ok(Json(body).into_response());
    }
    if org.pending_invitation_for(&team.slug, &login).is_some() {
        let body = json::membership(&state.base_url, team, &display, "member", "pending");
        return Ok(Json(body).into_response());
    }
    Err(ApiError::not_found())
}

/// Removes a direct membership (204), or a pending one: GitHub's "Remove team
/// membership" removes "both active and pending memberships".
///
/// A pending membership is this team's part of an organisation invitation, so
/// removing it takes the team off the invitation; the invitation itself stays
/// open (an org invitation may cover no team at all). Cancel it with
/// `DELETE /orgs/{org}/invitations/{id}` to withdraw it entirely.
///
/// Someone who is only a member of a child team has no membership of this team
/// to remove: GitHub documents no answer for that case, and the fake says 404
/// and changes nothing (the person stays listed through the child team).
pub(crate) async fn remove_membership(State(shared): State<Shared>, target: Target) -> Answer {
    let mut state = lock(&shared);
    let org_key = target.org_in(&state)?;
    let org = state.orgs.get_mut(&org_key).expect("resolved above");
    let slug = target.team_slug(org)?;
    let login = target.param("username").unwrap_or_default().to_lowercase();
    let team = org.teams.get_mut(&slug).expect("resolved above");
    if team.members.remove(&login).is_some() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let invitation = org.invitations.values_mut().find(|inv| {
        inv.login
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(&login))
            && inv.teams.contains(&slug)
    });
    if let Some(invitation) = invitation {
        invitation.teams.retain(|t| *t != slug);
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Err(ApiError::not_found())
}

/// GitHub's "Get a user": the account holding this login now, or 404.
pub(crate) async fn get_user(State(shared): State<Shared>, Path(username): Path<String>) -> Answer {
    let state = lock(&shared);
    let user = state
        .users
        .get(&username.to_lowercase())
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json::public_user(&state.base_url, &user.login, user.id)).into_response())
}

/// `GET /user`: the account a personal token belongs to. Every personal
/// token of the fake belongs to one machine user, `lapse-bot`.
pub(crate) async fn authenticated_user(State(shared): State<Shared>) -> Answer {
    let state = lock(&shared);
    Ok(Json(json::public_user(
        &state.base_url,
        TOKEN_OWNER,
        TOKEN_OWNER_ID,
    ))
    .into_response())
}

/// The login and id of the account the fake's personal tokens belong to.
pub const TOKEN_OWNER: &str = "lapse-bot";
pub const TOKEN_OWNER_ID: u64 = 90_000_001;

pub(crate) async fn list_team_invitations(
    State(shared): State<Shared>,
    target: Target,
    RawQuery(raw): RawQuery,
) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let team = target.team(org)?;
    let items = org
        .invitations
        .values()
        .filter(|inv| inv.teams.contains(&team.slug))
        .collect();
    let path = team_path(org, team, "invitations");
    Ok(page_response(
        items,
        |inv| json::invitation(&state, org, inv),
        &Query::parse(raw.as_deref()),
        &state.base_url,
        &path,
    ))
}

pub(crate) async fn list_org_invitations(
    State(shared): State<Shared>,
    target: Target,
    RawQuery(raw): RawQuery,
) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let items = org.invitations.values().collect();
    let path = format!("/organizations/{}/invitations", org.id);
    Ok(page_response(
        items,
        |inv| json::invitation(&state, org, inv),
        &Query::parse(raw.as_deref()),
        &state.base_url,
        &path,
    ))
}

fn invitation_id(target: &Target) -> Result<u64, ApiError> {
    target
        .param("invitation_id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(ApiError::not_found)
}

pub(crate) async fn list_invitation_teams(
    State(shared): State<Shared>,
    target: Target,
    RawQuery(raw): RawQuery,
) -> Answer {
    let state = lock(&shared);
    let org = target.org(&state)?;
    let invitation = org
        .invitations
        .get(&invitation_id(&target)?)
        .ok_or_else(ApiError::not_found)?;
    let items = invitation
        .teams
        .iter()
        .filter_map(|slug| org.teams.get(slug))
        .collect();
    let path = format!(
        "/organizations/{}/invitations/{}/teams",
        org.id, invitation.id
    );
    Ok(page_response(
        items,
        |team| json::team(&state.base_url, org, team),
        &Query::parse(raw.as_deref()),
        &state.base_url,
        &path,
    ))
}

/// GitHub: "Cancel an organization invitation" answers 204, and 404 for an
/// invitation it does not know (including one already cancelled).
pub(crate) async fn cancel_invitation(State(shared): State<Shared>, target: Target) -> Answer {
    let mut state = lock(&shared);
    let org_key = target.org_in(&state)?;
    let id = invitation_id(&target)?;
    let org = state.orgs.get_mut(&org_key).expect("resolved above");
    org.invitations
        .remove(&id)
        .ok_or_else(ApiError::not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn get_root_contents(
    State(shared): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    contents(&shared, &owner, &repo, "", raw.as_deref(), &headers)
}

pub(crate) async fn get_contents(
    State(shared): State<Shared>,
    Path((owner, repo, path)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    contents(&shared, &owner, &repo, &path, raw.as_deref(), &headers)
}

/// The largest file GitHub returns inside the JSON form of the contents API.
const JSON_CONTENT_LIMIT: usize = 1024 * 1024;

/// Git's blob id: SHA-1 of `blob <len>\0<bytes>`, which is what GitHub puts in `sha`.
fn git_blob_sha(bytes: &[u8]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(format!("blob {}\0", bytes.len()).as_bytes());
    ctx.update(bytes);
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// GitHub's `content` is base64 broken into 60-character lines, each ending
/// in `\n` (Ruby's `Base64.encode64`).
fn wrapped_base64(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

fn contents(
    shared: &Shared,
    owner: &str,
    repo: &str,
    path: &str,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> Answer {
    let state = lock(shared);
    let repository = state
        .repos
        .get(&format!("{owner}/{repo}").to_lowercase())
        .ok_or_else(ApiError::not_found)?;
    let query = Query::parse(raw_query);
    let git_ref = query
        .get("ref")
        .filter(|r| !r.is_empty())
        .unwrap_or(&repository.default_branch)
        .to_owned();
    let ref_known =
        git_ref == repository.default_branch || repository.files.keys().any(|(r, _)| *r == git_ref);
    if !ref_known {
        return Err(ApiError::new(
            404,
            format!("No commit found for the ref {git_ref}"),
        ));
    }
    let path = path.trim_matches('/');
    let base = &state.base_url;
    let full = format!("{}/{}", repository.owner, repository.name);
    let entry = |entry_path: &str, kind: &str, sha: &str, size: usize| {
        let name = entry_path.rsplit('/').next().unwrap_or(entry_path);
        let url = format!("{base}/repos/{full}/contents/{entry_path}?ref={git_ref}");
        let git_url = format!(
            "{base}/repos/{full}/git/{}/{sha}",
            if kind == "file" { "blobs" } else { "trees" }
        );
        let html_url = format!(
            "https://github.com/{full}/{}/{git_ref}/{entry_path}",
            if kind == "file" { "blob" } else { "tree" }
        );
        let download_url = (kind == "file")
            .then(|| format!("https://raw.githubusercontent.com/{full}/{git_ref}/{entry_path}"));
        json!({
            "type": kind, "size": size, "name": name, "path": entry_path, "sha": sha,
            "url": url, "git_url": git_url, "html_url": html_url, "download_url": download_url,
            "_links": {"self": url, "git": git_url, "html": html_url},
        })
    };

    if let Some(bytes) = repository.files.get(&(git_ref.clone(), path.to_owned())) {
        let wants_raw = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains(".raw"));
        if wants_raw {
            let mut response = bytes.clone().into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/vnd.github.raw"),
            );
            return Ok(response);
        }
        let sha = git_blob_sha(bytes);
        let mut body = entry(path, "file", &sha, bytes.len());
        // GitHub: files of 1-100 MB come whole only in the raw media type;
        // the JSON form leaves `content` empty with encoding "none".
        if bytes.len() > JSON_CONTENT_LIMIT {
            body["encoding"] = json!("none");
            body["content"] = json!("");
        } else {
            body["encoding"] = json!("base64");
            body["content"] = json!(wrapped_base64(bytes));
        }
        return Ok(Json(body).into_response());
    }

    // A directory: list its immediate entries, as GitHub does.
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let mut listing: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for ((file_ref, file_path), bytes) in &repository.files {
        let Some(rest) = file_path.strip_prefix(&prefix) else {
            continue;
        };
        if *file_ref != git_ref {
            continue;
        }
        match rest.split_once('/') {
            None => {
                listing.insert(
                    rest.to_owned(),
                    entry(file_path, "file", &git_blob_sha(bytes), bytes.len()),
                );
            }
            Some((dir, _)) => {
                let dir_path = format!("{prefix}{dir}");
                let sha = git_blob_sha(dir_path.as_bytes());
                listing
                    .entry(dir.to_owned())
                    .or_insert_with(|| entry(&dir_path, "dir", &sha, 0));
            }
        }
    }
    if listing.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Json(Value::Array(listing.into_values().collect())).into_response())
}

/// GitHub: 201 with the token, its expiry, the permissions it carries and the
/// repository selection. The body may narrow the token (`permissions`,
/// `repositories`); none, or `{}`, asks for all the installation has.
pub(crate) async fn create_installation_token(
    State(shared): State<Shared>,
    Path(installation_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let jwt = match presented_token(&headers) {
        None => return Err(ApiError::new(401, "Requires authentication")),
        Some(Err(())) => return Err(ApiError::new(401, "A JSON web token could not be decoded")),
        Some(Ok(jwt)) => jwt,
    };
    let installation_id = installation_id
        .parse::<u64>()
        .map_err(|_| ApiError::not_found())?;
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|_| ApiError::new(400, "Problems parsing JSON"))?
    };
    let mut state = lock(&shared);
    let minted = app_auth::exchange(&mut state, &jwt, installation_id, &body)
        .map_err(|refusal| ApiError::new(refusal.status, refusal.message))?;
    let expires_at = state.credentials.installation_tokens[&minted.token].expires_at;
    let mut answer = json!({
        "token": minted.token,
        "expires_at": expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "permissions": minted.permissions,
        "repository_selection": if minted.repositories.is_some() { "selected" } else { "all" },
    });
    if let Some(names) = &minted.repositories {
        answer["repositories"] = names.iter().map(|name| json!({"name": name})).collect();
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// GitHub's `GET /rate_limit`, which does not itself count against the limit.
pub(crate) async fn rate_limit(State(shared): State<Shared>) -> Response {
    let state = lock(&shared);
    let rate = &state.rate;
    let core = json!({
        "limit": rate.limit, "used": rate.used, "remaining": rate.remaining, "reset": rate.reset,
    });
    let untouched =
        |limit: u64| json!({"limit": limit, "used": 0, "remaining": limit, "reset": rate.reset});
    let graphql = &state.graphql_rate;
    let graphql = json!({
        "limit": graphql.limit, "used": graphql.used, "remaining": graphql.remaining,
        "reset": graphql.reset,
    });
    let body = json!({
        "resources": {
            "core": core,
            "search": untouched(30),
            "graphql": graphql,
            "integration_manifest": untouched(5000),
            "code_search": untouched(10),
        },
        "rate": core,
    });
    let mut response = Json(body).into_response();
    response.extensions_mut().insert(FreeOfCharge);
    response
}
