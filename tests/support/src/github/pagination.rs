//! GitHub's page-number pagination: `per_page` (default 30, at most 100) and
//! `page` (from 1), with a `Link` header of absolute URLs that keeps every other
//! query parameter as the client sent it.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(crate) const DEFAULT_PER_PAGE: usize = 30;
pub(crate) const MAX_PER_PAGE: usize = 100;

/// The query string split into pairs, in the order the client sent them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .and_then(|raw| serde_urlencoded::from_str::<Vec<(String, String)>>(raw).ok())
            .unwrap_or_default();
        Query { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Values GitHub cannot read (not a number, zero) fall back to the default,
    /// and anything over 100 is clamped to 100.
    pub fn per_page(&self) -> usize {
        match self.get("per_page").and_then(|v| v.parse::<usize>().ok()) {
            Some(0) | None => DEFAULT_PER_PAGE,
            Some(n) => n.min(MAX_PER_PAGE),
        }
    }

    pub fn page(&self) -> usize {
        self.get("page")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&p| p > 0)
            .unwrap_or(1)
    }

    fn with_page(&self, page: usize) -> String {
        let mut pairs: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(key, _)| key != "page")
            .cloned()
            .collect();
        pairs.push(("page".to_owned(), page.to_string()));
        serde_urlencoded::to_string(&pairs).expect("string pairs always encode")
    }
}

/// One page of `items` as a JSON array, with GitHub's `Link` header.
///
/// Only the requested page's items are rendered with `render`, so a page of
/// a 2,000-member team costs as much as a page of a 100-member one: org-scale
/// scenarios read hundreds of pages and the fake must not be their bottleneck.
///
/// GitHub sends no `Link` header when everything fits on one page, and orders
/// the relations prev, next, last, first.
pub(crate) fn page_response<T>(
    items: Vec<T>,
    render: impl Fn(T) -> Value,
    query: &Query,
    base: &str,
    path: &str,
) -> Response {
    let per_page = query.per_page();
    let page = query.page();
    let total = items.len();
    let last_page = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(render)
        .collect();

    let mut response = Json(Value::Array(slice)).into_response();
    if last_page > 1 || page > 1 {
        let link = |page: usize, rel: &str| {
            format!("<{base}{path}?{}>; rel=\"{rel}\"", query.with_page(page))
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(link(page - 1, "prev"));
        }
        if page < last_page {
            links.push(link(page + 1, "next"));
            links.push(link(last_page, "last"));
        }
        if page > 1 {
            links.push(link(1, "first"));
        }
        if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_page_defaults_and_clamps() {
        assert_eq!(Query::parse(None).per_page(), 30);
        assert_eq!(Query::parse(Some("per_page=500")).per_page(), 100);
        assert_eq!(Query::parse(Some("per_page=0")).per_page(), 30);
        assert_eq!(Query::parse(Some("per_page=abc")).per_page(), 30);
        assert_eq!(Query::parse(Some("per_page=7&page=0")).page(), 1);
    }

    #[test]
    fn link_keeps_other_parameters_and_replaces_page() {
        let query = Query::parse(Some("role=all&page=2&per_page=10"));
        let items: Vec<u64> = (0..35).collect();
        let response = page_response(items, Value::from, &query, "http://h", "/x");
        let link = response.headers()[header::LINK].to_str().unwrap();
        assert_eq!(
            link,
            "<http://h/x?role=all&per_page=10&page=1>; rel=\"prev\", \
             <http://h/x?role=all&per_page=10&page=3>; rel=\"next\", \
             <http://h/x?role=all&per_page=10&page=4>; rel=\"last\", \
             <http://h/x?role=all&per_page=10&page=1>; rel=\"first\""
        );
    }
}
