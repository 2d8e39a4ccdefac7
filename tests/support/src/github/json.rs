//! GitHub's JSON shapes, complete enough that octocrab's models deserialize them
//! (octocrab rejects a user object missing any of its ~17 required fields).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::state::{Invitation, Org, State, Team};

/// GitHub's legacy global node ids are base64 of `0<len>:<Type><id>`.
pub(crate) fn node_id(type_name: &str, id: u64) -> String {
    let raw = format!("{type_name}{id}");
    STANDARD.encode(format!("0{}:{raw}", type_name.len()))
}

/// The `simple-user` schema, as returned in member lists and as an inviter.
pub(crate) fn simple_user(base: &str, login: &str, id: u64) -> Value {
    let api = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("User", id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": "User",
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// The `public-user` schema of "Get a user": the simple user and its profile.
pub(crate) fn public_user(base: &str, login: &str, id: u64) -> Value {
    let mut user = simple_user(base, login, id);
    let profile = json!({
        "name": null, "company": null, "blog": "", "location": null, "email": null,
        "hireable": null, "bio": null, "twitter_username": null,
        "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
        "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
    });
    if let (Value::Object(user), Value::Object(profile)) = (&mut user, profile) {
        user.extend(profile);
    }
    user
}

pub(crate) fn user_by_login(state: &State, login: &str) -> Value {
    simple_user(
        &state.base_url,
        &state.display_login(login),
        state.user_id(login),
    )
}

/// The organisation object embedded in a full team.
pub(crate) fn organization(base: &str, org: &Org) -> Value {
    let api = format!("{base}/orgs/{}", org.login);
    json!({
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.id),
        "url": api,
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events"),
        "hooks_url": format!("{api}/hooks"),
        "issues_url": format!("{api}/issues"),
        "members_url": format!("{api}/members{{/member}}"),
        "public_members_url": format!("{api}/public_members{{/member}}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", org.id),
        "description": null,
        "name": org.login,
        "company": null,
        "blog": "",
        "location": null,
        "email": null,
        "is_verified": false,
        "has_organization_projects": true,
        "has_repository_projects": true,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": format!("https://github.com/{}", org.login),
        "created_at": org.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated_at": org.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "archived_at": null,
        "type": "Organization",
    })
}

/// The `team-simple` schema (what `parent` holds).
pub(crate) fn team_simple(base: &str, org: &Org, team: &Team) -> Value {
    let api = format!("{base}/organizations/{}/team/{}", org.id, team.id);
    json!({
        "id": team.id,
        "node_id": node_id("Team", team.id),
        "url": api,
        "html_url": format!("https://github.com/orgs/{}/teams/{}", org.login, team.slug),
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{api}/members{{/member}}"),
        "repositories_url": format!("{api}/repos"),
        "type": "organization",
        "organization_id": org.id,
    })
}

/// The `team` schema used by list endpoints: simple fields plus `parent`.
pub(crate) fn team(base: &str, org: &Org, team: &Team) -> Value {
    let mut value = team_simple(base, org, team);
    let parent = team
        .parent
        .as_deref()
        .and_then(|slug| org.teams.get(slug))
        .map_or(Value::Null, |parent| team_simple(base, org, parent));
    value["parent"] = parent;
    value["permissions"] = json!({
        "pull": true, "triage": false, "push": false, "maintain": false, "admin": false
    });
    value
}

/// The `team-full` schema returned by "Get a team by name".
pub(crate) fn team_full(base: &str, org: &Org, t: &Team) -> Value {
    let mut value = team(base, org, t);
    let stamp = t
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    value["members_count"] = json!(org.effective_members(&t.slug).len());
    value["repos_count"] = json!(0);
    value["created_at"] = json!(stamp);
    value["updated_at"] = json!(stamp);
    value["organization"] = organization(base, org);
    value
}

/// The `organization-invitation` schema.
pub(crate) fn invitation(state: &State, org: &Org, inv: &Invitation) -> Value {
    json!({
        "id": inv.id,
        "login": inv.login,
        "email": inv.email,
        "role": "direct_member",
        "created_at": inv.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "failed_at": null,
        "failed_reason": null,
        "inviter": user_by_login(state, &inv.inviter),
        "team_count": inv.teams.len(),
        "node_id": node_id("OrganizationInvitation", inv.id),
        "invitation_teams_url": format!(
            "{}/organizations/{}/invitations/{}/teams", state.base_url, org.id, inv.id
        ),
        "invitation_source": "member",
    })
}

/// The `team-membership` schema.
pub(crate) fn membership(base: &str, team: &Team, login: &str, role: &str, state: &str) -> Value {
    json!({
        "url": format!("{base}/teams/{}/memberships/{login}", team.id),
        "role": role,
        "state": state,
    })
}
