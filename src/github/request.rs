//! What a request to GitHub is and what comes back: the verb, where it goes,
//! which media type it asks for, and how messages name it.

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use reqwest::header::HeaderMap;

use super::auth::Scope;
use super::response_cache::CachedPage;

pub(crate) const JSON: &str = "application/vnd.github+json";
/// File bytes as they are, for files of any size up to 100 MB (the JSON form
/// leaves `content` empty above 1 MB).
pub(crate) const RAW: &str = "application/vnd.github.raw+json";

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    Get,
    Delete,
    Post,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Delete => "DELETE",
            Verb::Post => "POST",
        }
    }

    /// Changes something on GitHub, so it is sent serially and paced.
    pub(super) fn mutates(self) -> bool {
        self == Verb::Delete
    }
}

/// One request as lapse means it; the transport may send it several times.
pub(super) struct Call<'a> {
    pub verb: Verb,
    /// A path below `api_url` (`/orgs/…`), or an absolute `Link` URL.
    pub uri: &'a str,
    pub accept: &'static str,
    /// The JSON body of a `POST`.
    pub body: Option<&'a serde_json::Value>,
    /// Sent with the App's JWT rather than an installation token.
    pub as_app: bool,
    /// The installation token it is sent with (an App's, when not `as_app`).
    pub scope: Scope,
    /// Sent in a read slot its caller holds (see [`super::transport::HeldSlot`])
    /// rather than one it waits for.
    pub in_held_slot: bool,
}

impl Call<'_> {
    /// A read of teams, members or invitations.
    pub(super) fn get<'a>(uri: &'a str, accept: &'static str) -> Call<'a> {
        Call::get_with(uri, accept, Scope::MembersRead)
    }

    pub(super) fn get_with<'a>(uri: &'a str, accept: &'static str, scope: Scope) -> Call<'a> {
        Call {
            verb: Verb::Get,
            uri,
            accept,
            body: None,
            as_app: false,
            scope,
            in_held_slot: false,
        }
    }

    /// `VERB /path?query`, the way requests are named in messages.
    pub(super) fn label(&self) -> String {
        label(self.verb, self.uri)
    }
}

/// `VERB /path?query`: an absolute `Link` URL loses its scheme and host.
pub(super) fn label(verb: Verb, uri: &str) -> String {
    let path = match Url::parse(uri) {
        Ok(url) => match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => uri.to_string(),
    };
    format!("{} {path}", verb.as_str())
}

/// A successful answer.
pub(crate) struct Reply {
    pub content_type: String,
    pub body: String,
    /// The `Link` header: where the next and the last page of a listing are.
    pub(super) link: Option<String>,
}

/// One attempt's answer, whatever its status.
pub(super) struct RawReply {
    pub status: u16,
    pub headers: HeaderMap,
    /// `None` when the body is not UTF-8 text.
    pub body: Option<String>,
    /// The cached answer whose ETag the request named, if it named one.
    pub cached: Option<Arc<CachedPage>>,
}

/// A header's value, trimmed, when it is text.
pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// One URL path segment, percent-encoded (slugs and logins are plain, but a
/// config typo must not turn into a different URL).
pub(crate) fn segment(text: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
    utf8_percent_encode(text, KEEP).to_string()
}
