//! Conditional reads: given a [`ResponseCache`], a read names the ETag of
//! its last answer, and a 304 Not Modified reads as the 200 it stands for.
//! Only plain reads take part; the App's own requests (they mint tokens)
//! and writes never do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use super::error::Problem;
use super::request::{Call, RawReply, Reply, Verb, header};
use super::response_cache::{CachedPage, ResponseCache};

/// The cache a client's reads use, once set, and how many 304s it answered.
#[derive(Default)]
pub(super) struct ConditionalReads {
    /// Where reads keep their ETags, when they outlive this client.
    responses: OnceLock<Arc<ResponseCache>>,
    /// Reads answered 304 Not Modified.
    not_modified: AtomicU64,
}

impl ConditionalReads {
    /// Set it before the first request; a second call is ignored.
    pub(super) fn set_cache(&self, cache: Arc<ResponseCache>) {
        let _ = self.responses.set(cache);
    }

    pub(super) fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::SeqCst)
    }

    /// The cache that `call` may use: reads only, and never the App's own
    /// requests.
    fn cache_for(&self, call: &Call<'_>) -> Option<&ResponseCache> {
        (call.verb == Verb::Get && !call.as_app)
            .then(|| self.responses.get())
            .flatten()
            .map(Arc::as_ref)
    }

    /// The answer whose ETag `call` should name, if it is a read with one.
    pub(super) fn lookup(&self, call: &Call<'_>) -> Option<Arc<CachedPage>> {
        self.cache_for(call)
            .and_then(|cache| cache.lookup(&cache_key(call)))
    }

    /// A 304 reads exactly as the 200 whose ETag the request named. Its own
    /// `Link` header, when it has one, is the newer word on the other pages.
    pub(super) fn not_modified_reply(
        &self,
        call: &Call<'_>,
        raw: RawReply,
    ) -> Result<Reply, Problem> {
        let Some(page) = raw.cached else {
            return Err(Problem::Malformed(
                "304 Not Modified to a request that named no ETag".into(),
            ));
        };
        self.not_modified.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = self.cache_for(call) {
            cache.count_not_modified();
        }
        Ok(Reply {
            content_type: page.content_type.clone(),
            body: page.body.clone(),
            link: header(&raw.headers, "link").or_else(|| page.link.clone()),
        })
    }

    /// The reply a successful answer makes, kept for the next cycle's
    /// conditional request (or an older one forgotten when this answer has
    /// no ETag).
    pub(super) fn success(&self, call: &Call<'_>, raw: RawReply) -> Reply {
        let reply = Reply {
            content_type: header(&raw.headers, "content-type").unwrap_or_default(),
            link: header(&raw.headers, "link"),
            body: raw.body.unwrap_or_default(),
        };
        self.remember(call, header(&raw.headers, "etag"), &reply);
        reply
    }

    fn remember(&self, call: &Call<'_>, etag: Option<String>, reply: &Reply) {
        let Some(cache) = self.cache_for(call) else {
            return;
        };
        let key = cache_key(call);
        match etag {
            Some(etag) if !etag.is_empty() && is_header_safe_etag(&etag) => cache.store(
                &key,
                CachedPage {
                    etag,
                    content_type: reply.content_type.clone(),
                    body: reply.body.clone(),
                    link: reply.link.clone(),
                },
            ),
            _ => cache.forget(&key),
        }
    }
}

/// Where a read's answer is kept: what was asked for and where. Both are
/// free of credentials (tokens travel only in the `Authorization` header).
fn cache_key(call: &Call<'_>) -> String {
    format!("{} {}", call.accept, call.uri)
}

/// An ETag that can be sent back in `If-None-Match` as it came.
fn is_header_safe_etag(etag: &str) -> bool {
    etag.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}
