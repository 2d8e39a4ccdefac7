//! `POST /graphql`, for the one thing REST cannot say: who is a team's
//! *direct* member. GitHub's REST listing of a team includes its child
//! teams' members; GraphQL's `members(membership: IMMEDIATE)` does not, and
//! gives each member's role and numeric id (`databaseId`).
//!
//! Served, as GitHub answers it:
//!
//! ```graphql
//! query($org: String!, $slug: String!, $after: String) {
//!   organization(login: $org) {
//!     team(slug: $slug) {
//!       members(membership: IMMEDIATE, first: 100, after: $after) {
//!         edges { role node { login databaseId } }
//!         pageInfo { hasNextPage endCursor }
//!       }
//!     }
//!   }
//! }
//! ```
//!
//! with `membership` IMMEDIATE, CHILD_TEAM or ALL (the default), `first` up
//! to 100 and required, `after` an opaque cursor, members ordered by login,
//! and beside `edges` (`role`, `cursor`, `node`) also `nodes`, `totalCount`
//! and all of `pageInfo`. Anything else is answered the GraphQL way, with
//! HTTP 200 and `{"errors": [...]}`: a query that asks for a field or
//! argument not served gets errors alone (GitHub's validation), an unknown
//! organisation gets `organization: null` and a NOT_FOUND error, an unknown
//! team `team: null`.

mod parse;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use parse::{Field, Literal, Pos};

use super::json::node_id;
use super::server::{Shared, lock};
use super::state::{Org, Role, State as FakeState, Team};

const GRAPHQL_DOCS: &str = "https://docs.github.com/graphql";
/// GitHub's cap on `first` and `last`.
const MAX_PAGE: i64 = 100;

#[derive(serde::Deserialize)]
struct Request {
    query: String,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
}

/// Answers one GraphQL request.
pub(crate) async fn answer(State(shared): State<Shared>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Request>(&body) else {
        let body = json!({"message": "Problems parsing JSON", "documentation_url": GRAPHQL_DOCS});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let operation = match parse::parse(&request.query) {
        Ok(operation) => operation,
        Err(e) => return errors_only(vec![error(None, e.message, e.pos, &[])]),
    };
    let problems = validate(&operation.selections, "Query", &mut Vec::new());
    if !problems.is_empty() {
        return errors_only(problems);
    }
    let state = lock(&shared);
    let mut run = Run {
        state: &state,
        variables: request.variables.unwrap_or_default(),
        errors: Vec::new(),
    };
    let data = run.query(&operation.selections);
    let mut body = json!({ "data": data });
    if !run.errors.is_empty() {
        body["errors"] = Value::Array(run.errors);
    }
    Json(body).into_response()
}

/// GraphQL's answer to a spent rate limit: 403 with the limit named.
pub(crate) fn rate_limited(message: &str) -> Response {
    let body = json!({"errors": [{"type": "RATE_LIMITED", "message": message}]});
    let mut response = (StatusCode::FORBIDDEN, Json(body)).into_response();
    response
        .headers_mut()
        .insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    response
}

fn errors_only(errors: Vec<Value>) -> Response {
    Json(json!({ "errors": errors })).into_response()
}

fn error(kind: Option<&str>, message: String, pos: Pos, path: &[String]) -> Value {
    let mut error = json!({
        "message": message,
        "locations": [{"line": pos.line, "column": pos.column}],
    });
    if let Some(kind) = kind {
        error["type"] = json!(kind);
    }
    if !path.is_empty() {
        error["path"] = json!(path);
    }
    error
}

/// A field served: its name, the arguments it takes, and the type it leads
/// to (`None` for a scalar).
type Served = (&'static str, &'static [&'static str], Option<&'static str>);

/// The fields served on each type.
fn fields_of(type_name: &str) -> &'static [Served] {
    match type_name {
        "Query" => &[("organization", &["login"], Some("Organization"))],
        "Organization" => &[
            ("login", &[], None),
            ("databaseId", &[], None),
            ("team", &["slug"], Some("Team")),
        ],
        "Team" => &[
            ("slug", &[], None),
            ("name", &[], None),
            ("databaseId", &[], None),
            (
                "members",
                &["membership", "first", "after"],
                Some("TeamMemberConnection"),
            ),
        ],
        "TeamMemberConnection" => &[
            ("edges", &[], Some("TeamMemberEdge")),
            ("nodes", &[], Some("User")),
            ("pageInfo", &[], Some("PageInfo")),
            ("totalCount", &[], None),
        ],
        "TeamMemberEdge" => &[
            ("role", &[], None),
            ("cursor", &[], None),
            ("node", &[], Some("User")),
        ],
        "User" => &[
            ("login", &[], None),
            ("databaseId", &[], None),
            ("id", &[], None),
        ],
        "PageInfo" => &[
            ("hasNextPage", &[], None),
            ("hasPreviousPage", &[], None),
            ("startCursor", &[], None),
            ("endCursor", &[], None),
        ],
        _ => &[],
    }
}

/// Every field or argument the query asks for that is not served, or a
/// selection set where none belongs or missing where one must be.
fn validate(fields: &[Field], type_name: &str, path: &mut Vec<String>) -> Vec<Value> {
    let mut problems = Vec::new();
    for field in fields {
        path.push(field.key().to_owned());
        let served = fields_of(type_name)
            .iter()
            .find(|(n, _, _)| *n == field.name);
        let Some((_, args, leads_to)) = served else {
            let message = format!(
                "Field '{}' doesn't exist on type '{type_name}' (this fake GitHub serves a team's members only)",
                field.name
            );
            problems.push(error(None, message, field.pos, path));
            path.pop();
            continue;
        };
        for (arg, _) in field
            .args
            .iter()
            .filter(|(a, _)| !args.contains(&a.as_str()))
        {
            let message = format!(
                "Field '{}' doesn't accept argument '{arg}' (in this fake GitHub)",
                field.name
            );
            problems.push(error(None, message, field.pos, path));
        }
        match (leads_to, field.selections.is_empty()) {
            (Some(object), false) => problems.extend(validate(&field.selections, object, path)),
            (Some(object), true) => problems.push(error(
                None,
                format!(
                    "Field '{}' of type '{object}' must have a selection of subfields",
                    field.name
                ),
                field.pos,
                path,
            )),
            (None, false) => problems.push(error(
                None,
                format!(
                    "Selections can't be made on scalars (field '{}')",
                    field.name
                ),
                field.pos,
                path,
            )),
            (None, true) => {}
        }
        path.pop();
    }
    problems
}

/// One query being answered: what it reads, its variables and the errors
/// met so far.
struct Run<'a> {
    state: &'a FakeState,
    variables: Map<String, Value>,
    errors: Vec<Value>,
}

/// A member as a members connection lists it.
struct Listed<'a> {
    login: &'a str,
    id: u64,
    role: Role,
}

impl<'a> Run<'a> {
    /// An argument's value, variables resolved; JSON null when absent.
    fn arg(&self, field: &Field, name: &str) -> Value {
        match field.arg(name) {
            None | Some(Literal::Null) => Value::Null,
            Some(Literal::Variable(v)) => self.variables.get(v).cloned().unwrap_or(Value::Null),
            Some(Literal::Int(i)) => json!(i),
            Some(Literal::Str(s) | Literal::Enum(s)) => json!(s),
            Some(Literal::Bool(b)) => json!(b),
        }
    }

    fn fail(&mut self, kind: &str, message: String, field: &Field, path: &[String]) -> Value {
        self.errors
            .push(error(Some(kind), message, field.pos, path));
        Value::Null
    }

    fn query(&mut self, fields: &[Field]) -> Value {
        let mut data = Map::new();
        for field in fields {
            let path = vec![field.key().to_owned()];
            let value = self.organization(field, &path);
            data.insert(field.key().to_owned(), value);
        }
        Value::Object(data)
    }

    fn organization(&mut self, field: &Field, path: &[String]) -> Value {
        let login = self.arg(field, "login");
        let Some(org) = login.as_str().and_then(|l| self.state.org(l)) else {
            let message = format!(
                "Could not resolve to an Organization with the login of '{}'.",
                login.as_str().unwrap_or_default()
            );
            return self.fail("NOT_FOUND", message, field, path);
        };
        let mut out = Map::new();
        for sub in &field.selections {
            let path = [path, &[sub.key().to_owned()]].concat();
            let value = match sub.name.as_str() {
                "login" => json!(org.login),
                "databaseId" => json!(org.id),
                _ => self.team(org, sub, &path),
            };
            out.insert(sub.key().to_owned(), value);
        }
        Value::Object(out)
    }

    fn team(&mut self, org: &'a Org, field: &Field, path: &[String]) -> Value {
        let slug = self.arg(field, "slug");
        let Some(team) = slug.as_str().and_then(|s| org.teams.get(&s.to_lowercase())) else {
            return Value::Null;
        };
        let mut out = Map::new();
        for sub in &field.selections {
            let path = [path, &[sub.key().to_owned()]].concat();
            let value = match sub.name.as_str() {
                "slug" => json!(team.slug),
                "name" => json!(team.name),
                "databaseId" => json!(team.id),
                _ => self.members(org, team, sub, &path),
            };
            out.insert(sub.key().to_owned(), value);
        }
        Value::Object(out)
    }

    /// The team's members of the kind `membership` asks for, by login.
    fn listed(&self, org: &Org, team: &Team, membership: &str) -> Vec<Listed<'a>> {
        let everyone = org.effective_members(&team.slug);
        let mut listed: Vec<Listed> = everyone
            .iter()
            .filter(|(login, _)| match membership {
                "IMMEDIATE" => team.members.contains_key(*login),
                "CHILD_TEAM" => !team.members.contains_key(*login),
                _ => true,
            })
            .filter_map(|(login, role)| {
                let user = self.state.users.get(login)?;
                Some(Listed {
                    login: &user.login,
                    id: user.id,
                    role: *role,
                })
            })
            .collect();
        listed.sort_by_key(|m| m.login.to_lowercase());
        listed
    }

    fn members(&mut self, org: &Org, team: &Team, field: &Field, path: &[String]) -> Value {
        let membership = self.arg(field, "membership");
        let membership = membership.as_str().unwrap_or("ALL").to_owned();
        if !["ALL", "IMMEDIATE", "CHILD_TEAM"].contains(&membership.as_str()) {
            let message = format!(
                "Argument 'membership' on Field 'members' has an invalid value ({membership}). Expected type 'TeamMembershipType'."
            );
            return self.fail("INVALID_ARGUMENT", message, field, path);
        }
        let Some(first) = self.arg(field, "first").as_i64() else {
            let message = "You must provide a `first` or `last` value to properly paginate the `members` connection.".to_owned();
            return self.fail("MISSING_PAGINATION_BOUNDARIES", message, field, path);
        };
        if !(0..=MAX_PAGE).contains(&first) {
            let message = format!(
                "Requesting {first} records on the `members` connection exceeds the `first` limit of {MAX_PAGE} records."
            );
            return self.fail("EXCESSIVE_PAGINATION", message, field, path);
        }
        let start = match self.arg(field, "after") {
            Value::Null => 0,
            Value::String(cursor) => match position(&cursor) {
                Some(position) => position,
                None => {
                    let message = format!("`{cursor}` does not appear to be a valid cursor.");
                    return self.fail("INVALID_CURSOR_ARGUMENTS", message, field, path);
                }
            },
            other => {
                let message =
                    format!("Argument 'after' on Field 'members' has an invalid value ({other}).");
                return self.fail("INVALID_ARGUMENT", message, field, path);
            }
        };
        let listed = self.listed(org, team, &membership);
        let end = (start + first as usize).min(listed.len());
        let page = Page {
            listed: &listed,
            start: start.min(end),
            end,
        };
        page.render(&field.selections)
    }
}

/// One page of a members connection: `listed[start..end]`.
struct Page<'p, 'a> {
    listed: &'p [Listed<'a>],
    start: usize,
    end: usize,
}

impl Page<'_, '_> {
    fn render(&self, selections: &[Field]) -> Value {
        let mut out = Map::new();
        for sub in selections {
            let value = match sub.name.as_str() {
                "totalCount" => json!(self.listed.len()),
                "pageInfo" => self.page_info(&sub.selections),
                "nodes" => (self.start..self.end)
                    .map(|i| user(&self.listed[i], &sub.selections))
                    .collect(),
                _ => (self.start..self.end)
                    .map(|i| self.edge(i, &sub.selections))
                    .collect(),
            };
            out.insert(sub.key().to_owned(), value);
        }
        Value::Object(out)
    }

    fn edge(&self, index: usize, selections: &[Field]) -> Value {
        let member = &self.listed[index];
        let mut out = Map::new();
        for sub in selections {
            let value = match sub.name.as_str() {
                "role" => json!(member.role.as_str().to_uppercase()),
                "cursor" => json!(cursor(index + 1)),
                _ => user(member, &sub.selections),
            };
            out.insert(sub.key().to_owned(), value);
        }
        Value::Object(out)
    }

    fn page_info(&self, selections: &[Field]) -> Value {
        let has_items = self.end > self.start;
        let mut out = Map::new();
        for sub in selections {
            let value = match sub.name.as_str() {
                "hasNextPage" => json!(self.end < self.listed.len()),
                "hasPreviousPage" => json!(self.start > 0),
                "startCursor" => has_items.then(|| cursor(self.start + 1)).into(),
                _ => has_items.then(|| cursor(self.end)).into(),
            };
            out.insert(sub.key().to_owned(), value);
        }
        Value::Object(out)
    }
}

fn user(member: &Listed, selections: &[Field]) -> Value {
    let mut out = Map::new();
    for sub in selections {
        let value = match sub.name.as_str() {
            "login" => json!(member.login),
            "databaseId" => json!(member.id),
            _ => json!(node_id("User", member.id)),
        };
        out.insert(sub.key().to_owned(), value);
    }
    Value::Object(out)
}

/// An opaque cursor naming the `position`th member (1-based).
fn cursor(position: usize) -> String {
    STANDARD.encode(format!("cursor:v2:{position}"))
}

/// The position a cursor names, if it is one of ours.
fn position(cursor: &str) -> Option<usize> {
    let decoded = STANDARD.decode(cursor).ok()?;
    std::str::from_utf8(&decoded)
        .ok()?
        .strip_prefix("cursor:v2:")?
        .parse()
        .ok()
}
