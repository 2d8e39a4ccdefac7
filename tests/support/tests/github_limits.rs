//! Rate limits, conditional requests and injected faults.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http;
use lapse_test_support::github::{FakeGithub, Role};
use octocrab::Octocrab;
use octocrab::service::middleware::retry::{NoOpRateLimitMetrics, RetryConfig};

const TOKEN: &str = "ghp_limits_test";
const ORG: &str = "alphagov";
const ADMIN: &str = "gov-uk-production-admin";
const MEMBERS: &str = "/orgs/alphagov/teams/gov-uk-production-admin/members";

fn seeded() -> FakeGithub {
    let github = FakeGithub::start();
    github.personal_token(TOKEN);
    github.org(ORG).team(ADMIN).member("janedoe", Role::Member);
    github
}

fn client_with(github: &FakeGithub, retry: RetryConfig) -> Octocrab {
    Octocrab::builder()
        .base_uri(github.base_url())
        .expect("base uri")
        .personal_token(TOKEN.to_owned())
        .add_retry_config(retry)
        .build()
        .expect("octocrab client")
}

fn header(response: &http::Response<impl Sized>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn header_u64(response: &http::Response<impl Sized>, name: &str) -> u64 {
    header(response, name).parse().unwrap()
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn every_request_spends_one_and_reports_it_in_headers() {
    let github = seeded();
    let octocrab = client_with(&github, RetryConfig::None);

    let first = octocrab._get(MEMBERS).await.unwrap();
    let second = octocrab._get(MEMBERS).await.unwrap();

    assert_eq!(header_u64(&first, "x-ratelimit-limit"), 5000);
    assert_eq!(header_u64(&first, "x-ratelimit-remaining"), 4999);
    assert_eq!(header_u64(&first, "x-ratelimit-used"), 1);
    assert_eq!(header_u64(&second, "x-ratelimit-remaining"), 4998);
    assert_eq!(header_u64(&second, "x-ratelimit-used"), 2);
    assert_eq!(header(&second, "x-ratelimit-resource"), "core");
    let reset = header_u64(&second, "x-ratelimit-reset");
    assert!(reset > now_epoch() && reset <= now_epoch() + 3600);

    // A 404 is still a request GitHub counts.
    let missing = octocrab
        ._get("/orgs/alphagov/teams/nope/members")
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(header_u64(&missing, "x-ratelimit-remaining"), 4997);
    assert_eq!(github.rate_limit().used, 3);

    // `GET /rate_limit` reports the bucket without spending from it.
    let status: serde_json::Value = octocrab.get("/rate_limit", None::<&()>).await.unwrap();
    assert_eq!(status["resources"]["core"]["remaining"], 4997);
    assert_eq!(status["rate"]["used"], 3);
    assert_eq!(github.rate_limit().remaining, 4997);
}

#[tokio::test]
async fn an_exhausted_primary_limit_answers_403_until_reset() {
    let github = seeded();
    let reset = SystemTime::now() + Duration::from_secs(1800);
    github.exhaust_rate_limit(reset);
    let octocrab = client_with(&github, RetryConfig::None);

    let refused = octocrab._get(MEMBERS).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(header_u64(&refused, "x-ratelimit-remaining"), 0);
    assert_eq!(
        header_u64(&refused, "x-ratelimit-reset"),
        reset.duration_since(UNIX_EPOCH).unwrap().as_secs()
    );
    let body = octocrab.body_to_string(refused).await.unwrap();
    assert!(body.contains("API rate limit exceeded for"), "{body}");

    let error = octocrab.teams(ORG).members(ADMIN).send().await.unwrap_err();
    match error {
        octocrab::Error::GitHub { source, .. } => {
            assert_eq!(source.status_code, 403);
            assert_eq!(
                source.rate_limit_reset,
                Some(reset.duration_since(UNIX_EPOCH).unwrap().as_secs())
            );
        }
        other => panic!("unexpected error {other:?}"),
    }

    // Once the window has passed, GitHub refills the bucket.
    github.exhaust_rate_limit(SystemTime::now() - Duration::from_secs(1));
    let members = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(members.items.len(), 1);
    assert_eq!(github.rate_limit().remaining, 4999);
}

#[tokio::test]
async fn a_secondary_limit_sends_retry_after_and_clears() {
    let github = seeded();
    github.secondary_rate_limit("/members", 1, 403, Duration::from_secs(1));
    let plain = client_with(&github, RetryConfig::None);

    let limited = plain._get(MEMBERS).await.unwrap();
    assert_eq!(limited.status(), 403);
    assert_eq!(header(&limited, "retry-after"), "1");
    let body = plain.body_to_string(limited).await.unwrap();
    assert!(body.contains("secondary rate limit"), "{body}");
    assert_eq!(
        github.rate_limit().used,
        0,
        "a limited request is not charged"
    );

    let ok = plain._get(MEMBERS).await.unwrap();
    assert_eq!(ok.status(), 200, "only the next N requests are limited");

    // octocrab's HandleRateLimits waits as long as retry-after says.
    github.secondary_rate_limit("/members", 1, 429, Duration::from_secs(1));
    let patient = client_with(
        &github,
        RetryConfig::HandleRateLimits {
            metrics: Arc::new(NoOpRateLimitMetrics),
            max_retries: 2,
            min_wait_seconds: 30,
            retry_on_forbidden: false,
        },
    );
    let started = Instant::now();
    let members = patient.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(members.items.len(), 1);
    assert!(started.elapsed() >= Duration::from_secs(1));
    let statuses: Vec<u16> = github
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("/members"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [403, 200, 429, 200]);
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_for_free() {
    let github = seeded();
    let octocrab = client_with(&github, RetryConfig::None);

    let first = octocrab._get(MEMBERS).await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag");
    let remaining = header_u64(&first, "x-ratelimit-remaining");

    let mut conditional = http::HeaderMap::new();
    conditional.insert(http::header::IF_NONE_MATCH, etag.parse().unwrap());
    let cached = octocrab
        ._get_with_headers(MEMBERS, Some(conditional.clone()))
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(header(&cached, "etag"), etag);
    assert_eq!(header_u64(&cached, "x-ratelimit-remaining"), remaining);
    assert!(octocrab.body_to_string(cached).await.unwrap().is_empty());
    assert_eq!(github.rate_limit().remaining, remaining);

    // A change to the data changes the ETag, so the same header now gets 200.
    github.org(ORG).team(ADMIN).member("newcomer", Role::Member);
    let changed = octocrab
        ._get_with_headers(MEMBERS, Some(conditional))
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, "etag"), etag);

    assert_eq!(github.request_count(), 3);
    assert_eq!(github.count_requests(|r| r.status != 304), 2);
    assert_eq!(github.rate_limit().used, 2);
}

#[tokio::test]
async fn a_new_page_behind_an_unchanged_one_changes_its_etag() {
    let github = seeded();
    github.org(ORG).team(ADMIN).member("alice", Role::Member);
    let octocrab = client_with(&github, RetryConfig::None);
    let first_page = format!("{MEMBERS}?per_page=2");

    let before = octocrab._get(first_page.as_str()).await.unwrap();
    let etag = header(&before, "etag");
    assert!(before.headers().get("link").is_none(), "one page so far");

    // Sorted by login, "zed" lands on a second page: page one's items stay
    // the same, its links do not.
    github.org(ORG).team(ADMIN).member("zed", Role::Member);
    let mut conditional = http::HeaderMap::new();
    conditional.insert(http::header::IF_NONE_MATCH, etag.parse().unwrap());
    let after = octocrab
        ._get_with_headers(first_page.as_str(), Some(conditional))
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    assert_ne!(header(&after, "etag"), etag);
    assert!(header(&after, "link").contains("rel=\"next\""));
}

#[tokio::test]
async fn injected_server_errors_fail_the_matching_requests() {
    let github = seeded();

    // octocrab's default retry (Simple(3)) retries 5xx at once.
    github.fail_requests("/members", 2, 502);
    let retrying = client_with(&github, RetryConfig::Simple(3));
    let members = retrying.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(members.items.len(), 1);
    let statuses: Vec<u16> = github.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [502, 502, 200]);

    github.fail_requests("/members", 1, 503);
    let plain = client_with(&github, RetryConfig::None);
    let team = plain.teams(ORG).get(ADMIN).await;
    assert!(team.is_ok(), "paths that do not match are untouched");
    match plain.teams(ORG).members(ADMIN).send().await.unwrap_err() {
        octocrab::Error::GitHub { source, .. } => assert_eq!(source.status_code, 503),
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        github.rate_limit().used,
        2,
        "failed requests are not charged"
    );
}

#[tokio::test]
async fn latency_delays_every_response_and_reset_clears_it() {
    let github = seeded();
    let octocrab = client_with(&github, RetryConfig::None);
    github.set_latency(Duration::from_millis(300));

    let started = Instant::now();
    octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    github.fail_requests("/members", 5, 500);
    github.reset_counters();
    assert_eq!(github.request_count(), 0);
    assert_eq!(github.rate_limit().used, 0);
    let started = Instant::now();
    octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(github.count_requests(|r| r.status == 200), 1);
}
