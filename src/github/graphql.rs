//! GitHub's GraphQL API, for what REST cannot tell (a team's direct
//! members). A query is a `POST` to the GraphQL endpoint, counted and
//! retried like any read and never cached: GitHub answers GraphQL without
//! ETags. GraphQL reports most failures inside a 200 answer, as `errors`;
//! any error fails the whole query, so nothing is ever read in part.

use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::{Client, HeldSlot};
use super::error::{ApiError, Problem};
use super::request::{Verb, label};

/// Where GraphQL is served for the REST API at `api`: `{api}/graphql` on
/// github.com, and `{host}/api/graphql` on GitHub Enterprise Server, whose
/// REST API lives under `/api/v3`.
pub(super) fn endpoint(api: &Url) -> String {
    let mut url = api.clone();
    let rest = url.path().trim_end_matches('/');
    let path = match rest.strip_suffix("/api/v3") {
        Some(prefix) => format!("{prefix}/api/graphql"),
        None => format!("{rest}/graphql"),
    };
    url.set_path(&path);
    url.set_query(None);
    url.to_string()
}

/// How messages name a query: `POST /graphql (what)`.
pub(super) fn request_label(client: &Client, what: &str) -> String {
    format!(
        "{} ({what})",
        label(Verb::Post, &endpoint(client.api_base()))
    )
}

#[derive(Deserialize)]
struct Answer<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<QueryError>,
}

#[derive(Deserialize)]
struct QueryError {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: String,
}

/// Runs `query` with `variables`, in `slot` when the caller holds one;
/// `what` names it in messages ("the direct members of acme/admin").
pub(super) async fn query<T: DeserializeOwned>(
    client: &Client,
    (query, variables): (&str, serde_json::Value),
    slot: Option<&HeldSlot<'_>>,
    what: &str,
) -> Result<T, ApiError> {
    let url = endpoint(client.api_base());
    let named = |mut error: ApiError| {
        error.request = format!("{} ({what})", error.request);
        error
    };
    let body = serde_json::json!({ "query": query, "variables": variables });
    let reply = client.post_json(&url, &body, slot).await.map_err(named)?;
    let malformed = |detail: String| named(ApiError::malformed(Verb::Post, &url, detail));
    let answer: Answer<T> = serde_json::from_str(&reply.body)
        .map_err(|e| malformed(format!("not the expected GraphQL answer: {e}")))?;
    if let Some(first) = answer.errors.first() {
        let more = answer.errors.len() - 1;
        let message = match more {
            0 => first.message.clone(),
            n => format!("{} (and {n} more errors)", first.message),
        };
        return Err(named(ApiError {
            request: label(Verb::Post, &url),
            problem: Problem::Graphql {
                kind: first.kind.clone(),
                message,
            },
        }));
    }
    answer
        .data
        .ok_or_else(|| malformed("a GraphQL answer with neither data nor errors".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_server_serves_graphql_beside_its_rest_api() {
        let at = |api: &str| endpoint(&Url::parse(api).unwrap());
        assert_eq!(
            at("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            at("https://api.github.com/"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            at("https://github.example.gov.uk/api/v3"),
            "https://github.example.gov.uk/api/graphql"
        );
        assert_eq!(
            at("https://github.example.gov.uk/api/v3/"),
            "https://github.example.gov.uk/api/graphql"
        );
        assert_eq!(at("http://127.0.0.1:8080"), "http://127.0.0.1:8080/graphql");
    }
}
