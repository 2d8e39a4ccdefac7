//! Reading a whole REST listing: its pages at `per_page=100`, found through
//! the `Link` header. When the first page's `Link` names the last page by
//! number, the pages between are asked for at once (within the read limit),
//! so a long listing costs about one round trip per `concurrency` pages
//! rather than one per page; otherwise, and after the last page if the
//! listing grew meanwhile, it follows `rel="next"`. Any page that fails
//! fails the whole listing.

use reqwest::Url;
use serde::de::DeserializeOwned;
use tokio::task::JoinSet;

use super::client::Client;
use super::error::ApiError;
use super::request::{JSON, Reply, Verb};

/// GitHub's largest page.
pub const PER_PAGE: u32 = 100;
/// A listing longer than this many pages is refused rather than read in part.
const MAX_PAGES: usize = 5_000;

/// Every item of the listing at `path`.
pub(super) async fn list<T: DeserializeOwned + Send + 'static>(
    client: &Client,
    path: &str,
) -> Result<Vec<T>, ApiError> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let first = format!("{path}{separator}per_page={PER_PAGE}");
    let reply = client.get(&first, JSON).await?;
    let mut items: Vec<T> = page_items(&first, &reply)?;
    let mut next = next_page(client, &first, &reply)?;
    if let Some(pages) = next
        .as_deref()
        .and_then(|next| numbered_pages(next, reply.link.as_deref()?))
    {
        if pages.len() >= MAX_PAGES {
            return Err(too_many_pages(&first));
        }
        let (rest, after) = read_pages_at_once::<T>(client, &first, pages).await?;
        items.extend(rest);
        next = after;
    }
    let mut followed = 0;
    while let Some(uri) = next.take() {
        followed += 1;
        if followed >= MAX_PAGES {
            return Err(too_many_pages(&uri));
        }
        let reply = client.get(&uri, JSON).await?;
        items.extend(page_items::<T>(&uri, &reply)?);
        next = next_page(client, &uri, &reply)?;
    }
    Ok(items)
}

/// The items of `pages`, read concurrently and put back in order, and the
/// page after the last of them if the listing grew meanwhile.
async fn read_pages_at_once<T: DeserializeOwned + Send + 'static>(
    client: &Client,
    first: &str,
    pages: Vec<String>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let mut reads = JoinSet::new();
    for (index, uri) in pages.into_iter().enumerate() {
        let client = client.clone();
        reads.spawn(async move {
            let reply = client.get(&uri, JSON).await?;
            let items: Vec<T> = page_items(&uri, &reply)?;
            let next = next_page(&client, &uri, &reply)?;
            Ok::<_, ApiError>((index, items, next))
        });
    }
    let mut read = Vec::with_capacity(reads.len());
    while let Some(joined) = reads.join_next().await {
        read.push(joined.map_err(|e| {
            ApiError::malformed(Verb::Get, first, format!("a page read stopped: {e}"))
        })??);
    }
    read.sort_by_key(|(index, _, _)| *index);
    let next = read.last_mut().and_then(|(_, _, next)| next.take());
    let items = read.into_iter().flat_map(|(_, page, _)| page).collect();
    Ok((items, next))
}

fn page_items<T: DeserializeOwned>(uri: &str, reply: &Reply) -> Result<Vec<T>, ApiError> {
    serde_json::from_str(&reply.body)
        .map_err(|e| ApiError::malformed(Verb::Get, uri, format!("not the expected list: {e}")))
}

/// The page after `reply`, which must be on the configured API.
fn next_page(client: &Client, uri: &str, reply: &Reply) -> Result<Option<String>, ApiError> {
    let Some(next) = reply.link.as_deref().and_then(next_link) else {
        return Ok(None);
    };
    if client.is_on_api(&next) {
        Ok(Some(next))
    } else {
        Err(ApiError::malformed(
            Verb::Get,
            uri,
            "the next page is on another host than github.api_url".into(),
        ))
    }
}

fn too_many_pages(uri: &str) -> ApiError {
    ApiError::malformed(
        Verb::Get,
        uri,
        format!("more than {MAX_PAGES} pages; lapse will not act on a partial list"),
    )
}

/// The `rel="next"` target of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link_target(link, "next")
}

/// The target of a `Link` header's relation `rel` (`next`, `last`, ...).
fn link_target(link: &str, rel: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("rel="))
            .any(|rels| rels.trim_matches('"').split_whitespace().any(|r| r == rel))
            .then(|| target.to_string())
    })
}

/// Pages `next..=last` of a listing whose `Link` numbers its pages
/// (`page=N`, as GitHub's REST listings do), each URL written as `next` is
/// with only its page number changed; `None` when the pages are not
/// numbered that way (a cursor, say), so the caller follows `next` instead.
fn numbered_pages(next: &str, link: &str) -> Option<Vec<String>> {
    let last = link_target(link, "last")?;
    let page_of = |uri: &str| -> Option<(Url, u64)> {
        let url = Url::parse(uri).ok()?;
        let page = url
            .query_pairs()
            .find(|(key, _)| key == "page")
            .and_then(|(_, value)| value.parse().ok())?;
        Some((url, page))
    };
    let (next_url, from) = page_of(next)?;
    let (last_url, to) = page_of(&last)?;
    let without_page = |url: &Url| -> Vec<(String, String)> {
        url.query_pairs()
            .filter(|(key, _)| key != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let same_listing = next_url.path() == last_url.path()
        && next_url.origin() == last_url.origin()
        && without_page(&next_url) == without_page(&last_url);
    if !same_listing || from > to || to - from >= MAX_PAGES as u64 {
        return None;
    }
    let pages = (from..=to)
        .map(|page| {
            let mut url = next_url.clone();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(without_page(&next_url))
                .append_pair("page", &page.to_string());
            url.to_string()
        })
        .collect();
    Some(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_the_others() {
        let link = r#"<https://api.github.com/organizations/1/team/2/members?per_page=100&page=3>; rel="next", <https://api.github.com/organizations/1/team/2/members?per_page=100&page=5>; rel="last", <https://api.github.com/organizations/1/team/2/members?per_page=100&page=1>; rel="first""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/organizations/1/team/2/members?per_page=100&page=3")
        );
        assert_eq!(
            next_link(r#"<https://x/a?page=1>; rel="prev", <https://x/a?page=1>; rel="first""#),
            None
        );
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn numbered_pages_run_from_next_to_last_as_next_is_written() {
        let link = r#"<https://api.github.com/organizations/1/team/2/members?role=member&per_page=100&page=2>; rel="next", <https://api.github.com/organizations/1/team/2/members?role=member&per_page=100&page=4>; rel="last""#;
        let next = next_link(link).expect("next");
        assert_eq!(
            numbered_pages(&next, link).expect("numbered"),
            [2, 3, 4].map(|n| format!(
                "https://api.github.com/organizations/1/team/2/members?role=member&per_page=100&page={n}"
            ))
        );
        // A cursor, another listing as last, or no last: follow `next` instead.
        let cursor = r#"<https://x/a?per_page=100&after=abc>; rel="next", <https://x/a?per_page=100&page=9>; rel="last""#;
        assert_eq!(
            numbered_pages("https://x/a?per_page=100&after=abc", cursor),
            None
        );
        let other = r#"<https://x/a?page=2>; rel="next", <https://x/b?page=9>; rel="last""#;
        assert_eq!(numbered_pages("https://x/a?page=2", other), None);
        assert_eq!(
            numbered_pages("https://x/a?page=2", r#"<https://x/a?page=2>; rel="next""#),
            None
        );
    }
}
