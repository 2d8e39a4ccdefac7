//! What an installation token may do, as GitHub decides it. The exchange
//! narrows a token to the permissions and repositories its body asks for
//! (422 when it asks for more than the installation has); each request made
//! with the token then needs the permission its endpoint does, or gets 403
//! "Resource not accessible by integration". Personal tokens are unchecked.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use serde_json::Value;

use super::app_auth::Refusal;
use super::state::{IssuedToken, State};

/// What one token is granted.
pub(crate) struct Grant {
    pub permissions: BTreeMap<String, String>,
    /// Lower-case repository names, when the body limits the token to some.
    pub repositories: Option<BTreeSet<String>>,
}

const NOT_GRANTED: Refusal = Refusal {
    status: 422,
    message: "The permissions requested are not granted to this installation.",
};
const NO_SUCH_REPOSITORY: Refusal = Refusal {
    status: 422,
    message: "There is at least one repository that does not exist or is not accessible to the parent installation.",
};
const INVALID: Refusal = Refusal {
    status: 422,
    message: "Invalid request.",
};

/// GitHub's order of access levels: `write` includes `read`.
fn rank(level: &str) -> u8 {
    match level {
        "read" => 1,
        "write" => 2,
        _ => 0,
    }
}

/// The grant the exchange's `body` asks for: without `permissions`, all the
/// installation has; without `repositories`, all of them.
pub(crate) fn grant(state: &State, body: &Value) -> Result<Grant, Refusal> {
    let installed = &state.credentials.installation_permissions;
    let permissions = match body.get("permissions") {
        None => installed.clone(),
        Some(Value::Object(asked)) => {
            let mut permissions = BTreeMap::new();
            for (name, level) in asked {
                let level = level.as_str().filter(|l| rank(l) > 0).ok_or(INVALID)?;
                let held = installed.get(name).map_or(0, |l| rank(l));
                if rank(level) > held {
                    return Err(NOT_GRANTED);
                }
                permissions.insert(name.clone(), level.to_owned());
            }
            permissions
        }
        Some(_) => return Err(INVALID),
    };
    let repositories = match body.get("repositories") {
        None => None,
        Some(Value::Array(names)) => {
            let mut repositories = BTreeSet::new();
            for name in names {
                let name = name.as_str().ok_or(INVALID)?.to_lowercase();
                if !state
                    .repos
                    .values()
                    .any(|r| r.name.eq_ignore_ascii_case(&name))
                {
                    return Err(NO_SUCH_REPOSITORY);
                }
                repositories.insert(name);
            }
            Some(repositories)
        }
        Some(_) => return Err(INVALID),
    };
    Ok(Grant {
        permissions,
        repositories,
    })
}

/// The permission a request needs: its name, level and, for a repository
/// permission, the repository.
struct Need {
    permission: &'static str,
    level: &'static str,
    repository: Option<String>,
}

/// What the endpoints the fake serves need of an installation token; `None`
/// for public reads (`/users/…`) and `/rate_limit`.
fn need(method: &Method, path: &str) -> Option<Need> {
    let members = |level| {
        Some(Need {
            permission: "members",
            level,
            repository: None,
        })
    };
    if let Some(rest) = path.strip_prefix("/repos/") {
        let mut parts = rest.split('/');
        let (_owner, repo, kind) = (parts.next()?, parts.next()?, parts.next()?);
        return (kind == "contents").then(|| Need {
            permission: "contents",
            level: "read",
            repository: Some(repo.to_lowercase()),
        });
    }
    let on_org = path.starts_with("/orgs/") || path.starts_with("/organizations/");
    match *method {
        Method::DELETE if on_org => members("write"),
        Method::GET if on_org => members("read"),
        // The fake's GraphQL answers only queries of team members.
        Method::POST if path == "/graphql" => members("read"),
        _ => None,
    }
}

/// Whether `token` may make this request.
pub(crate) fn allows(token: &IssuedToken, method: &Method, path: &str) -> bool {
    let Some(need) = need(method, path) else {
        return true;
    };
    let held = token
        .permissions
        .get(need.permission)
        .map_or(0, |l| rank(l));
    let on_repository = match (&need.repository, &token.repositories) {
        (Some(repo), Some(granted)) => granted.contains(repo),
        _ => true,
    };
    held >= rank(need.level) && on_repository
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(permissions: &[(&str, &str)], repositories: Option<&[&str]>) -> IssuedToken {
        IssuedToken {
            installation_id: 1,
            expires_at: chrono::Utc::now(),
            permissions: permissions
                .iter()
                .map(|(n, l)| (n.to_string(), l.to_string()))
                .collect(),
            repositories: repositories.map(|r| r.iter().map(|n| n.to_string()).collect()),
        }
    }

    #[test]
    fn each_endpoint_needs_its_permission() {
        let read = token(&[("members", "read")], None);
        let write = token(&[("members", "write")], None);
        let roster = token(&[("contents", "read")], Some(&["access"]));
        let team = "/orgs/acme/teams/admin/memberships/bob";
        assert!(allows(&read, &Method::GET, team));
        assert!(!allows(&read, &Method::DELETE, team));
        assert!(allows(&write, &Method::DELETE, team));
        assert!(allows(&read, &Method::POST, "/graphql"));
        assert!(!allows(&roster, &Method::GET, team));
        assert!(!allows(&roster, &Method::POST, "/graphql"));
        let file = "/repos/acme/access/contents/users.yaml";
        assert!(allows(&roster, &Method::GET, file));
        assert!(!allows(
            &roster,
            &Method::GET,
            "/repos/acme/other/contents/users.yaml"
        ));
        assert!(!allows(&read, &Method::GET, file));
        assert!(allows(&read, &Method::GET, "/users/bob"));
    }
}
