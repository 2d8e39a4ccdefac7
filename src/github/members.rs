//! A team's direct members, with their roles and account ids: what lapse
//! revokes is a direct membership, and GitHub's REST listing of a team
//! counts its child teams' members as its own (so does its membership
//! endpoint), with nothing to tell them apart.
//!
//! A team without child teams is read over REST: two listings, by role,
//! which a later cycle can read again as free 304s. A team with child teams
//! is read over GraphQL, whose `members(membership: IMMEDIATE)` leaves the
//! child teams' members out: one paged listing with roles and ids, cheaper
//! than the two REST listings it replaces.

use serde::Deserialize;

use super::client::{ApiError, Client};
use super::error::Problem;
use super::graphql;
use super::request::segment;
use crate::state::{Member, TeamRole};

/// A listing of more pages than this is refused rather than read in part.
const MAX_PAGES: usize = 5_000;

/// The team's direct members, sorted by login (in lower case), read the
/// cheapest way that is still true for a team with or without children.
pub(super) async fn direct_members(
    client: &Client,
    org: &str,
    slug: &str,
    has_children: bool,
) -> Result<Vec<Member>, ApiError> {
    if has_children {
        immediate_members(client, org, slug).await
    } else {
        listed_members(client, org, slug).await
    }
}

#[derive(Deserialize)]
struct User {
    login: String,
    id: u64,
}

/// Everyone the REST API lists for the team, maintainers as maintainers:
/// its direct members only when it has no child teams.
async fn listed_members(client: &Client, org: &str, slug: &str) -> Result<Vec<Member>, ApiError> {
    let base = format!("/orgs/{}/teams/{}/members", segment(org), segment(slug));
    let (members, maintainers) = (
        format!("{base}?role=member"),
        format!("{base}?role=maintainer"),
    );
    let (members, maintainers) = tokio::try_join!(
        client.list::<User>(&members),
        client.list::<User>(&maintainers),
    )?;
    let as_member = |role| {
        move |user: User| Member {
            login: user.login.to_ascii_lowercase(),
            role,
            id: Some(user.id),
        }
    };
    let mut listed: Vec<Member> = maintainers
        .into_iter()
        .map(as_member(TeamRole::Maintainer))
        .collect();
    let maintainer_count = listed.len();
    for member in members.into_iter().map(as_member(TeamRole::Member)) {
        if !listed[..maintainer_count]
            .iter()
            .any(|m| m.login == member.login)
        {
            listed.push(member);
        }
    }
    listed.sort_by(|a, b| a.login.cmp(&b.login));
    Ok(listed)
}

const IMMEDIATE_MEMBERS: &str = "query($org: String!, $slug: String!, $after: String) {
  organization(login: $org) {
    team(slug: $slug) {
      members(membership: IMMEDIATE, first: 100, after: $after) {
        edges { role node { login databaseId } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}";

#[derive(Deserialize)]
struct Data {
    organization: Option<Organization>,
}

#[derive(Deserialize)]
struct Organization {
    team: Option<Team>,
}

#[derive(Deserialize)]
struct Team {
    members: Connection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    edges: Vec<Edge>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
struct Edge {
    role: String,
    node: Node,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    login: String,
    database_id: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

/// The team's direct members by GraphQL, every page of them, one after
/// another in one read slot held throughout.
pub(super) async fn immediate_members(
    client: &Client,
    org: &str,
    slug: &str,
) -> Result<Vec<Member>, ApiError> {
    let what = format!("the direct members of {org}/{slug}");
    let mut members = Vec::new();
    let mut after: Option<String> = None;
    let slot = client.hold_read_slot().await;
    for _ in 0..MAX_PAGES {
        let variables = serde_json::json!({ "org": org, "slug": slug, "after": after });
        let data: Data =
            graphql::query(client, (IMMEDIATE_MEMBERS, variables), slot.as_ref(), &what).await?;
        let Some(team) = data.organization.and_then(|o| o.team) else {
            return Err(not_found(client, &what));
        };
        let connection = team.members;
        members.extend(connection.edges.into_iter().map(|edge| Member {
            login: edge.node.login.to_ascii_lowercase(),
            role: match edge.role.as_str() {
                "MAINTAINER" => TeamRole::Maintainer,
                _ => TeamRole::Member,
            },
            id: edge.node.database_id,
        }));
        match connection.page_info {
            PageInfo {
                has_next_page: true,
                end_cursor: Some(cursor),
            } => after = Some(cursor),
            _ => {
                members.sort_by(|a, b| a.login.cmp(&b.login));
                return Ok(members);
            }
        }
    }
    Err(ApiError {
        request: graphql::request_label(client, &what),
        problem: Problem::Malformed(format!(
            "more than {MAX_PAGES} pages; lapse will not act on a partial list"
        )),
    })
}

/// GraphQL answers `team: null` for a team it does not know: a 404 in
/// lapse's terms.
fn not_found(client: &Client, what: &str) -> ApiError {
    ApiError {
        request: graphql::request_label(client, what),
        problem: Problem::Graphql {
            kind: Some("NOT_FOUND".into()),
            message: "no such team".into(),
        },
    }
}
