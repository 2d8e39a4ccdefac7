//! GitHub answers kept between the cycles of one `serve` process, so the
//! next cycle can ask "has this changed?" (`If-None-Match`) instead of
//! reading it again: GitHub answers an unchanged page with 304 Not Modified,
//! which costs no rate limit.
//!
//! A 304 has no body and, from some servers, no `Link` header, so each entry
//! keeps what the 200 said: its ETag, body and next-page link. Only
//! successful reads that carry an ETag are kept; errors never are. Keys are
//! the request's `Accept` and URI (path and query, or the absolute `Link`
//! URL): never a credential.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::GithubConfig;

/// Entries kept at most: a few pages for each managed team and its children.
pub const MAX_ENTRIES: usize = 4096;
/// Body bytes kept at most, so a large organisation cannot grow the daemon
/// without bound (a full page of members is about 100 KB).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One successful answer, as needed to stand in for a later 304.
#[derive(Debug)]
pub(crate) struct CachedPage {
    pub etag: String,
    pub content_type: String,
    pub body: String,
    /// The `Link` header the 200 came with (its next and last pages).
    pub link: Option<String>,
}

/// The conditional-request cache of one daemon. Shared by the clients of
/// successive cycles through an `Arc`; cycles never overlap, but reads
/// within a cycle run concurrently, so it locks briefly around each use.
pub struct ResponseCache {
    state: Mutex<State>,
    not_modified: AtomicU64,
    max_entries: usize,
    max_bytes: usize,
}

#[derive(Default)]
struct State {
    /// The GitHub section the entries were read with; another one empties
    /// the cache (a different host, organisation or identity).
    config: Option<GithubConfig>,
    entries: HashMap<String, Entry>,
    bytes: usize,
    /// Ticks on every use, to find the least recently used entry.
    clock: u64,
}

struct Entry {
    page: Arc<CachedPage>,
    last_used: u64,
}

impl Default for ResponseCache {
    fn default() -> Self {
        ResponseCache::with_limits(MAX_ENTRIES, MAX_BYTES)
    }
}

impl ResponseCache {
    pub fn new() -> Arc<ResponseCache> {
        Arc::new(ResponseCache::default())
    }

    /// A cache with other bounds than the defaults (tests use small ones).
    pub fn with_limits(max_entries: usize, max_bytes: usize) -> ResponseCache {
        ResponseCache {
            state: Mutex::new(State::default()),
            not_modified: AtomicU64::new(0),
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    /// Declares the GitHub section the next reads use. Answers read under a
    /// different one are dropped: they may describe another organisation or
    /// what another identity may see.
    pub fn use_for(&self, config: &GithubConfig) {
        let mut state = self.lock();
        if state.config.as_ref() != Some(config) {
            if state.config.is_some() {
                tracing::info!(
                    "the github section of the config changed: cached GitHub answers dropped"
                );
            }
            state.entries.clear();
            state.bytes = 0;
            state.config = Some(config.clone());
        }
    }

    /// 304 answers served from this cache since it was made.
    pub fn not_modified_total(&self) -> u64 {
        self.not_modified.load(Ordering::SeqCst)
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn count_not_modified(&self) {
        self.not_modified.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn lookup(&self, key: &str) -> Option<Arc<CachedPage>> {
        let mut state = self.lock();
        state.clock += 1;
        let now = state.clock;
        let entry = state.entries.get_mut(key)?;
        entry.last_used = now;
        Some(entry.page.clone())
    }

    /// Keeps `page` under `key`, replacing what was there, then drops the
    /// least recently used entries until the bounds hold. A page larger
    /// than the whole byte budget is not kept.
    pub(crate) fn store(&self, key: &str, page: CachedPage) {
        let size = page.body.len();
        let mut state = self.lock();
        state.remove(key);
        if size > self.max_bytes {
            return;
        }
        state.clock += 1;
        let now = state.clock;
        state.bytes += size;
        state.entries.insert(
            key.to_string(),
            Entry {
                page: Arc::new(page),
                last_used: now,
            },
        );
        while state.entries.len() > self.max_entries || state.bytes > self.max_bytes {
            let Some(oldest) = state
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            state.remove(&oldest);
        }
    }

    /// Forgets `key`: its resource now answers without an ETag.
    pub(crate) fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl State {
    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.remove(key) {
            self.bytes -= old.page.body.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GithubAuth;

    fn page(body: &str) -> CachedPage {
        CachedPage {
            etag: format!("W/\"{body}\""),
            content_type: "application/json".into(),
            body: body.into(),
            link: None,
        }
    }

    fn github(org: &str) -> GithubConfig {
        GithubConfig {
            org: org.into(),
            api_url: "https://api.github.com".into(),
            auth: GithubAuth::Token {
                env: "GITHUB_TOKEN".into(),
            },
            concurrency: 4,
        }
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let cache = ResponseCache::with_limits(2, 1000);
        cache.store("a", page("1"));
        cache.store("b", page("2"));
        assert!(cache.lookup("a").is_some());
        cache.store("c", page("3"));
        assert!(cache.lookup("b").is_none());
        assert!(cache.lookup("a").is_some());
        assert!(cache.lookup("c").is_some());
    }

    #[test]
    fn bytes_are_bounded_too() {
        let cache = ResponseCache::with_limits(100, 10);
        cache.store("a", page("123456"));
        cache.store("b", page("123456"));
        assert_eq!(cache.len(), 1);
        assert!(cache.lookup("b").is_some());
        cache.store("huge", page("12345678901"));
        assert!(cache.lookup("huge").is_none());
        cache.store("b", page("1"));
        assert_eq!(cache.lock().bytes, 1);
    }

    #[test]
    fn another_github_section_empties_the_cache() {
        let cache = ResponseCache::default();
        cache.use_for(&github("acme"));
        cache.store("a", page("1"));
        cache.use_for(&github("acme"));
        assert_eq!(cache.len(), 1, "the same section keeps what was read");
        cache.use_for(&github("other"));
        assert!(cache.is_empty());
    }
}
