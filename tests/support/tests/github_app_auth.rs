//! GitHub App authentication: octocrab signs a JWT, trades it for an
//! installation token at the fake's exchange endpoint, and uses that token.

use axum::http;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lapse_test_support::github::{
    FakeGithub, Role, TEST_APP_PRIVATE_KEY_PEM, UNREGISTERED_PRIVATE_KEY_PEM,
};
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use serde_json::{Value, json};

const APP_ID: u64 = 424242;
const INSTALLATION_ID: u64 = 7;
const ORG: &str = "alphagov";
const ADMIN: &str = "gov-uk-production-admin";

fn seeded(members: usize) -> FakeGithub {
    let github = FakeGithub::start();
    github.test_app(APP_ID, INSTALLATION_ID);
    github
        .org(ORG)
        .team(ADMIN)
        .members((0..members).map(|i| format!("person-{i:02}")), Role::Member);
    github
}

fn app_client(github: &FakeGithub) -> Octocrab {
    let key = EncodingKey::from_rsa_pem(TEST_APP_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .app(AppId(APP_ID), key)
        .build()
        .unwrap()
}

fn installation_client(github: &FakeGithub) -> Octocrab {
    app_client(github)
        .installation(InstallationId(INSTALLATION_ID))
        .unwrap()
}

fn sign(claims: &Value, private_key_pem: &str) -> String {
    let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

fn claims(iat_offset: i64, exp_offset: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({"iss": APP_ID, "iat": now + iat_offset, "exp": now + exp_offset})
}

/// POSTs to the exchange endpoint with `Authorization: Bearer <jwt>`.
async fn exchange(github: &FakeGithub, jwt: &str, installation: u64) -> (u16, Value) {
    let anonymous = Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .build()
        .unwrap();
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(format!("/app/installations/{installation}/access_tokens"))
        .header(http::header::AUTHORIZATION, format!("Bearer {jwt}"))
        .body(String::from("{}"))
        .unwrap();
    let response = anonymous.execute(request).await.unwrap();
    let status = response.status().as_u16();
    let body = anonymous.body_to_string(response).await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn octocrab_installation_flow_gets_a_token_and_lists_members() {
    let github = seeded(3);
    let octocrab = installation_client(&github);

    let members = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(members.items.len(), 3);
    let again = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(again.items.len(), 3);

    assert_eq!(
        github.installation_tokens_issued(),
        1,
        "the token is cached"
    );
    let log: Vec<(String, String, u16)> = github
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path_and_query, r.status))
        .collect();
    assert_eq!(
        log[0],
        (
            "POST".to_owned(),
            format!("/app/installations/{INSTALLATION_ID}/access_tokens"),
            201
        )
    );
    assert_eq!(log.len(), 3);
    assert!(
        log[1..]
            .iter()
            .all(|(method, _, status)| method == "GET" && *status == 200)
    );
    assert_eq!(
        github.rate_limit().used,
        2,
        "the exchange is not charged to the installation"
    );
}

#[tokio::test]
async fn the_exchange_checks_the_jwt_like_github() {
    let github = seeded(1);

    let (status, body) = exchange(
        &github,
        &sign(&claims(-60, 540), TEST_APP_PRIVATE_KEY_PEM),
        INSTALLATION_ID,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
    let expires: DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - Utc::now();
    assert!(lifetime > chrono::Duration::minutes(59) && lifetime <= chrono::Duration::hours(1));
    assert_eq!(body["repository_selection"], "all");
    assert!(body["permissions"].is_object());

    let refusals = [
        (
            sign(&claims(-60, 540), UNREGISTERED_PRIVATE_KEY_PEM),
            INSTALLATION_ID,
            401,
            "could not be decoded",
        ),
        (
            sign(&claims(0, 660), TEST_APP_PRIVATE_KEY_PEM),
            INSTALLATION_ID,
            401,
            "too far in the future",
        ),
        (
            sign(&claims(-700, -100), TEST_APP_PRIVATE_KEY_PEM),
            INSTALLATION_ID,
            401,
            "'Expiration time' claim ('exp') must be",
        ),
        (
            sign(&claims(120, 540), TEST_APP_PRIVATE_KEY_PEM),
            INSTALLATION_ID,
            401,
            "'Issued at' claim ('iat')",
        ),
        (
            sign(&claims(-60, 540), TEST_APP_PRIVATE_KEY_PEM),
            999,
            404,
            "Not Found",
        ),
        (
            sign(
                &json!({"iss": 1, "iat": Utc::now().timestamp(), "exp": Utc::now().timestamp() + 60}),
                TEST_APP_PRIVATE_KEY_PEM,
            ),
            INSTALLATION_ID,
            404,
            "Integration not found",
        ),
        (
            "ghp_a_personal_token_is_not_a_jwt".to_owned(),
            INSTALLATION_ID,
            401,
            "could not be decoded",
        ),
    ];
    for (jwt, installation, want_status, want_message) in refusals {
        let (status, body) = exchange(&github, &jwt, installation).await;
        assert_eq!(status, want_status, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(want_message), "{message}");
    }
    assert_eq!(github.installation_tokens_issued(), 1);

    // The issued token is a credential like any other.
    let as_installation = Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .personal_token(token)
        .build()
        .unwrap();
    let members = as_installation
        .teams(ORG)
        .members(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
}

#[tokio::test]
async fn tokens_about_to_expire_are_replaced_before_use() {
    let github = seeded(1);
    // octocrab renews a token with under 30 s left before sending a request.
    github.set_installation_token_lifetime(std::time::Duration::from_secs(10));
    let octocrab = installation_client(&github);

    octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    octocrab.teams(ORG).members(ADMIN).send().await.unwrap();

    assert_eq!(github.installation_tokens_issued(), 2);
    assert_eq!(github.count_requests(|r| r.status == 401), 0);
}

#[tokio::test]
async fn an_expired_token_gets_401_and_octocrab_fetches_a_new_one() {
    let github = seeded(1);
    let octocrab = installation_client(&github);
    octocrab.teams(ORG).members(ADMIN).send().await.unwrap();

    github.expire_installation_tokens();
    github.reset_counters();
    let members = octocrab.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(members.items.len(), 1);

    let statuses: Vec<(String, u16)> = github
        .requests()
        .into_iter()
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("GET".to_owned(), 401),
            ("POST".to_owned(), 201),
            ("GET".to_owned(), 200)
        ]
    );
    assert_eq!(github.installation_tokens_issued(), 2);
}

/// octocrab 0.54 sends an installation token only to `api.github.com` or to
/// relative URIs, so following an absolute `Link` URL to any other host (a
/// GitHub Enterprise Server, or this fake) goes out without credentials. A
/// client that paginates with installation auth must send the minted token
/// through a client built with `personal_token`, which does honour its base
/// URI; this test pins both halves so a change in octocrab shows up here.
#[tokio::test]
async fn installation_auth_is_dropped_on_link_urls_so_paginate_with_the_minted_token() {
    let github = seeded(45);
    let app = app_client(&github);
    let (installation, token) = app
        .installation_and_token(InstallationId(INSTALLATION_ID))
        .await
        .unwrap();

    let first = installation.teams(ORG).members(ADMIN).send().await.unwrap();
    assert_eq!(first.items.len(), 30);
    let error = installation
        .get_page::<octocrab::models::Author>(&first.next)
        .await
        .unwrap_err();
    match error {
        octocrab::Error::GitHub { source, .. } => {
            assert_eq!(source.status_code, 401);
            assert_eq!(source.message, "Requires authentication");
        }
        other => panic!("unexpected error {other:?}"),
    }

    use octocrab::secrecy::ExposeSecret;
    let with_token = Octocrab::builder()
        .base_uri(github.base_url())
        .unwrap()
        .personal_token(token.expose_secret().to_owned())
        .build()
        .unwrap();
    let first = with_token.teams(ORG).members(ADMIN).send().await.unwrap();
    let everyone = with_token.all_pages(first).await.unwrap();
    assert_eq!(everyone.len(), 45);
}
