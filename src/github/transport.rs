//! Sending requests: octocrab carries them, and around it lapse keeps what
//! octocrab leaves to its caller — bounded concurrency for reads, serial and
//! paced writes, a time limit on every attempt, a count of every attempt,
//! and retries with backoff after faults.
//!
//! octocrab's own retry layer is off: it retries 5xx at once, ignores
//! `retry-after` and would hide attempts from the count.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, IF_NONE_MATCH};
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

use super::client::Client;
use super::error::{ApiError, Problem};
use super::rate_limit::LimitWaits;
use super::request::{Call, RawReply, Reply, Verb};
use super::response_cache::CachedPage;
use super::verdict::{Verdict, verdict};

/// Environment variable that overrides the pause between two mutating
/// requests, in milliseconds (default 1000, GitHub's guidance). Tests shrink it.
pub const WRITE_PACING_ENV: &str = "LAPSE_GITHUB_WRITE_PACING_MS";
const DEFAULT_WRITE_PACING: Duration = Duration::from_secs(1);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt, from sending to the last byte of the body.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Retries after a 5xx, a timeout or a connection error.
const MAX_FAULT_RETRIES: u32 = 4;
/// Time spent on failed attempts and their backoff, per request: together
/// with one attempt's limit it keeps an unreachable API under a minute.
const FAULT_BUDGET: Duration = Duration::from_secs(35);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What every attempt of every clone of a client shares: the count, the read
/// limit and the write pacing.
pub(super) struct Transport {
    requests: AtomicU64,
    reads: Semaphore,
    /// Listings that may keep a read slot between their pages: one fewer
    /// than the slots, so other reads (an App token's renewal among them)
    /// always find one.
    chains: Semaphore,
    /// Held across every mutating attempt, so writes are serial; holds when
    /// the last one finished, so they are paced.
    last_write: Mutex<Option<Instant>>,
    /// The least time between two writes, in milliseconds.
    write_pacing_ms: AtomicU64,
    /// Strings that must never appear in a message (the configured token).
    secrets: Vec<String>,
}

/// A place among the concurrent reads that a listing keeps from one page to
/// the next; freed when dropped.
pub(crate) struct HeldSlot<'a> {
    _chain: SemaphorePermit<'a>,
    _read: SemaphorePermit<'a>,
}

/// What an attempt holds while it runs.
enum Slot<'a> {
    /// A place among the concurrent reads, freed when dropped.
    Read { _permit: SemaphorePermit<'a> },
    /// A place its caller holds.
    Held,
    /// The write lock, holding when the last write finished.
    Write(MutexGuard<'a, Option<Instant>>),
}

impl Transport {
    /// At most `concurrency` reads at once, writes paced by
    /// [`WRITE_PACING_ENV`] or one second.
    pub(super) fn new(concurrency: usize, secrets: Vec<String>) -> Result<Transport, String> {
        Ok(Transport {
            requests: AtomicU64::new(0),
            reads: Semaphore::new(concurrency.max(1)),
            chains: Semaphore::new(concurrency.max(1) - 1),
            last_write: Mutex::new(None),
            write_pacing_ms: AtomicU64::new(write_pacing()?.as_millis() as u64),
            secrets,
        })
    }

    pub(super) fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// See [`Client::hold_read_slot`].
    pub(super) async fn hold_read_slot(&self) -> Option<HeldSlot<'_>> {
        let chain = self.chains.try_acquire().ok()?;
        let read = self.reads.acquire().await.ok()?;
        Some(HeldSlot {
            _chain: chain,
            _read: read,
        })
    }

    pub(super) fn set_write_pacing(&self, pacing: Duration) {
        self.write_pacing_ms
            .store(pacing.as_millis() as u64, Ordering::SeqCst);
    }

    /// One HTTP attempt, counted, within the concurrency limit (reads) or
    /// serial and paced (writes), and within [`ATTEMPT_TIMEOUT`]. `cached`
    /// gives, once the attempt may go, the answer whose ETag it names. `Err`
    /// is a fault worth retrying: no answer, or no whole answer.
    async fn attempt(
        &self,
        client: &Octocrab,
        call: &Call<'_>,
        cached: impl FnOnce() -> Option<Arc<CachedPage>>,
    ) -> Result<RawReply, String> {
        let slot = if call.in_held_slot {
            Slot::Held
        } else {
            self.slot(call.verb).await?
        };
        let cached = cached();
        self.requests.fetch_add(1, Ordering::SeqCst);
        let result = match tokio::time::timeout(
            ATTEMPT_TIMEOUT,
            self.exchange(client, call, cached),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no whole answer within {} s",
                ATTEMPT_TIMEOUT.as_secs()
            )),
        };
        if let Slot::Write(mut last) = slot {
            *last = Some(Instant::now());
        }
        result
    }

    /// Waits for a read permit, or for the write lock and the pacing after
    /// the last write.
    async fn slot(&self, verb: Verb) -> Result<Slot<'_>, String> {
        if !verb.mutates() {
            return self
                .reads
                .acquire()
                .await
                .map(|permit| Slot::Read { _permit: permit })
                .map_err(|_| "the client is shutting down".to_string());
        }
        let last = self.last_write.lock().await;
        if let Some(at) = *last {
            let pacing = self.write_pacing_ms.load(Ordering::SeqCst);
            let ready = at + Duration::from_millis(pacing);
            tokio::time::sleep_until(ready.into()).await;
        }
        Ok(Slot::Write(last))
    }

    /// Sends `call` and reads the whole answer.
    async fn exchange(
        &self,
        client: &Octocrab,
        call: &Call<'_>,
        cached: Option<Arc<CachedPage>>,
    ) -> Result<RawReply, String> {
        let response = match call.verb {
            Verb::Get => {
                let mut headers = HeaderMap::new();
                headers.insert(ACCEPT, HeaderValue::from_static(call.accept));
                if let Some(etag) = cached
                    .as_ref()
                    .and_then(|page| HeaderValue::from_str(&page.etag).ok())
                {
                    headers.insert(IF_NONE_MATCH, etag);
                }
                client._get_with_headers(call.uri, Some(headers)).await
            }
            Verb::Delete => client._delete(call.uri, None::<&()>).await,
            Verb::Post => client._post(call.uri, call.body).await,
        }
        .map_err(|e| self.redact(&error_chain(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match client.body_to_string(response).await {
            Ok(text) => Some(text),
            Err(octocrab::Error::InvalidUtf8 { .. }) => None,
            Err(e) => {
                return Err(format!(
                    "the answer broke off: {}",
                    self.redact(&error_chain(&e))
                ));
            }
        };
        Ok(RawReply {
            status,
            headers,
            body,
            cached,
        })
    }

    fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "[redacted]")
        })
    }
}

impl Client {
    /// Sends one request until it succeeds or fails for good: waits out rate
    /// limits within bounds, retries faults with backoff, and renews an App
    /// token GitHub stopped accepting.
    pub(super) async fn send(&self, call: &Call<'_>) -> Result<Reply, ApiError> {
        let fail = |problem| ApiError {
            request: call.label(),
            problem,
        };
        let (auth, conditional) = (self.credentials(), self.conditional());
        let mut faults = Faults::default();
        let mut limit_waits = LimitWaits::default();
        let mut renewed_token = false;
        loop {
            let session = if call.as_app {
                auth.app_session()
            } else {
                auth.session(self, &call.scope).await?
            };
            let started = Instant::now();
            let answer = self
                .transport()
                .attempt(&session.client, call, || conditional.lookup(call))
                .await;
            let fault = match answer {
                Err(fault) => fault,
                Ok(raw) if raw.status == 304 => {
                    return conditional.not_modified_reply(call, raw).map_err(fail);
                }
                Ok(raw) => match verdict(&raw) {
                    Verdict::Success => return Ok(conditional.success(call, raw)),
                    Verdict::Fault(why) => why,
                    Verdict::Wait(delay, problem) => {
                        let delay = limit_waits.allow(delay, problem).map_err(fail)?;
                        tracing::warn!(
                            request = %call.label(),
                            wait_seconds = delay.as_secs_f64(),
                            "GitHub rate limit reached; waiting before trying again"
                        );
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    Verdict::Unauthorized(problem) => match session.token_serial {
                        Some(serial) if !renewed_token => {
                            auth.retire(&call.scope, serial).await;
                            renewed_token = true;
                            continue;
                        }
                        _ => return Err(fail(problem)),
                    },
                    Verdict::Fail(problem) => return Err(fail(problem)),
                },
            };
            let delay = faults.record(started.elapsed(), &fault).map_err(fail)?;
            tracing::warn!(
                request = %call.label(),
                attempt = faults.count,
                "GitHub did not answer usefully ({fault}); retrying in {} ms",
                delay.as_millis()
            );
            tokio::time::sleep(delay).await;
        }
    }
}

/// The faults one request has met, and the time they and their backoff took.
#[derive(Default)]
struct Faults {
    count: u32,
    time: Duration,
}

impl Faults {
    /// Counts a fault whose attempt took `elapsed`, and says how long to back
    /// off before the next attempt; gives up, with `fault` as the last word,
    /// once the retries or their time budget are spent.
    fn record(&mut self, elapsed: Duration, fault: &str) -> Result<Duration, Problem> {
        self.count += 1;
        self.time += elapsed;
        let delay = backoff(self.count);
        if self.count > MAX_FAULT_RETRIES || self.time + delay > FAULT_BUDGET {
            return Err(Problem::Unavailable {
                attempts: self.count,
                last: fault.to_string(),
            });
        }
        self.time += delay;
        Ok(delay)
    }
}

/// Exponential backoff with jitter: about 0.5, 1, 2, 4 s, each between half
/// and all of that, so clients that failed together do not retry together.
fn backoff(fault: u32) -> Duration {
    let full = FIRST_BACKOFF * 2u32.saturating_pow(fault.saturating_sub(1).min(10));
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(fault);
    let fraction = 0.5 + (hasher.finish() % 1000) as f64 / 2000.0;
    full.mul_f64(fraction)
}

/// A builder with lapse's transport settings: no hidden retries, bounded
/// connect and read times.
pub(super) fn octocrab_builder(
    api_url: &str,
) -> Result<
    octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    >,
    String,
> {
    Ok(Octocrab::builder()
        .base_uri(api_url)
        .map_err(|_| format!("github.api_url `{api_url}` is not a URL"))?
        .add_retry_config(RetryConfig::None)
        .set_connect_timeout(Some(CONNECT_TIMEOUT))
        .set_read_timeout(Some(ATTEMPT_TIMEOUT))
        .set_write_timeout(Some(ATTEMPT_TIMEOUT)))
}

/// The text of an error and every error under it: octocrab's own Display is
/// just "GitHub"-level, the cause is underneath.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut current = Some(error);
    while let Some(e) = current {
        // Wrappers often repeat their cause's text; say each thing once.
        let part = e.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        current = e.source();
    }
    text
}

fn write_pacing() -> Result<Duration, String> {
    match std::env::var(WRITE_PACING_ENV) {
        Err(_) => Ok(DEFAULT_WRITE_PACING),
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("{WRITE_PACING_ENV} must be a whole number of milliseconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_its_band() {
        for fault in 1..=4 {
            let full = FIRST_BACKOFF * 2u32.pow(fault - 1);
            let delay = backoff(fault);
            assert!(delay >= full / 2 && delay <= full, "{fault}: {delay:?}");
        }
    }

    #[test]
    fn faults_give_up_after_the_last_retry() {
        let mut faults = Faults::default();
        for _ in 0..MAX_FAULT_RETRIES {
            assert!(faults.record(Duration::ZERO, "502").is_ok());
        }
        assert!(matches!(
            faults.record(Duration::ZERO, "502"),
            Err(Problem::Unavailable { attempts, .. }) if attempts == MAX_FAULT_RETRIES + 1
        ));
    }

    #[test]
    fn faults_give_up_when_their_time_is_spent() {
        let mut faults = Faults::default();
        assert!(matches!(
            faults.record(FAULT_BUDGET, "no whole answer"),
            Err(Problem::Unavailable { attempts: 1, .. })
        ));
    }
}
