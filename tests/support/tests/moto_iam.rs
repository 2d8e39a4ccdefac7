//! The moto harness seen through aws-sdk-iam, as lapse sees it: accounts,
//! last-used evidence, pagination, trust-policy encoding, counts and faults.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_iam::Client;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::primitives::DateTime as SdkDateTime;
use chrono::{DateTime, TimeZone, Utc};
use lapse_test_support::moto::{DEFAULT_ACCOUNT_ID, Fault, Moto};

const OTHER_ACCOUNT_ID: &str = "210987654321";

const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/jane.doe@example.gov.uk"},"Action":"sts:AssumeRole"}]}"#;

async fn sdk_config(moto: &Moto) -> aws_config::SdkConfig {
    moto.sdk_loader().load().await
}

/// A client acting in the default account, with the harness's test key.
async fn iam(moto: &Moto) -> Client {
    Client::new(&sdk_config(moto).await)
}

/// A client acting in `account_id`, reached the way lapse reaches accounts:
/// assuming a role there.
async fn iam_in(moto: &Moto, account_id: &str) -> Client {
    Client::new(&moto.sdk_config_in(account_id).await)
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().expect("an RFC 3339 time")
}

fn chrono_of(time: &SdkDateTime) -> DateTime<Utc> {
    Utc.timestamp_opt(time.secs(), time.subsec_nanos())
        .single()
        .expect("a valid SDK timestamp")
}

async fn create_user(iam: &Client, name: &str) {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("CreateUser");
}

async fn create_role(iam: &Client, name: &str, trust_policy: &str) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy)
        .send()
        .await
        .expect("CreateRole");
}

async fn user_names(iam: &Client) -> BTreeSet<String> {
    let users = iam.list_users().send().await.expect("ListUsers");
    users
        .users()
        .iter()
        .map(|u| u.user_name().to_owned())
        .collect()
}

/// The credential report as (header, rows), generating it first.
async fn credential_report(iam: &Client) -> Vec<std::collections::BTreeMap<String, String>> {
    iam.generate_credential_report()
        .send()
        .await
        .expect("GenerateCredentialReport");
    let report = iam
        .get_credential_report()
        .send()
        .await
        .expect("GetCredentialReport");
    let csv = String::from_utf8(report.content().expect("report content").as_ref().to_vec())
        .expect("UTF-8 report");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header line").split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .map(|(column, value)| (column.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

fn row_of<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    user: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    rows.iter()
        .find(|row| row["user"] == user)
        .unwrap_or_else(|| panic!("no credential report row for {user}"))
}

#[tokio::test]
async fn each_account_has_its_own_users_and_roles() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    let other = iam_in(&moto, OTHER_ACCOUNT_ID).await;

    create_user(&home, "in-default").await;
    create_user(&other, "in-other").await;
    create_role(&other, "govuk-admin", TRUST_POLICY).await;

    assert_eq!(
        user_names(&home).await,
        BTreeSet::from(["in-default".to_owned()])
    );
    assert_eq!(
        user_names(&other).await,
        BTreeSet::from(["in-other".to_owned()])
    );
    let role = other
        .get_role()
        .role_name("govuk-admin")
        .send()
        .await
        .expect("GetRole");
    assert_eq!(
        role.role().expect("role").arn(),
        format!("arn:aws:iam::{OTHER_ACCOUNT_ID}:role/govuk-admin")
    );
    let missing = home.get_role().role_name("govuk-admin").send().await;
    assert_eq!(
        missing
            .expect_err("the role lives in the other account")
            .code(),
        Some("NoSuchEntity")
    );

    // The counter attributes requests to the account they acted in.
    let counts = moto.request_counts();
    assert_eq!(counts.by_account[OTHER_ACCOUNT_ID]["CreateRole"], 1);
    assert_eq!(counts.by_account[DEFAULT_ACCOUNT_ID]["AssumeRole"], 1);
    assert_eq!(counts.by_account[DEFAULT_ACCOUNT_ID]["GetRole"], 1);
}

#[tokio::test]
async fn password_last_used_reads_back_from_get_user_list_users_and_the_report() {
    let moto = Moto::start();
    let other = iam_in(&moto, OTHER_ACCOUNT_ID).await;
    create_user(&other, "jane").await;
    other
        .create_login_profile()
        .user_name("jane")
        .password("correct-Horse-battery-5taple")
        .send()
        .await
        .expect("CreateLoginProfile");
    create_user(&other, "no-password").await;
    let used = at("2026-09-01T08:30:00Z");

    moto.set_password_last_used(OTHER_ACCOUNT_ID, "jane", Some(used));

    let user = other
        .get_user()
        .user_name("jane")
        .send()
        .await
        .expect("GetUser");
    let last_used = user.user().expect("user").password_last_used();
    assert_eq!(last_used.map(chrono_of), Some(used));
    let listed = other.list_users().send().await.expect("ListUsers");
    let jane = listed
        .users()
        .iter()
        .find(|u| u.user_name() == "jane")
        .expect("jane listed");
    assert_eq!(jane.password_last_used().map(chrono_of), Some(used));
    let rows = credential_report(&other).await;
    assert_eq!(row_of(&rows, "jane")["password_enabled"], "true");
    assert_eq!(
        row_of(&rows, "jane")["password_last_used"],
        "2026-09-01T08:30:00+00:00"
    );
    // Real IAM writes N/A for a user without a password (moto: not_supported).
    assert_eq!(row_of(&rows, "no-password")["password_last_used"], "N/A");

    moto.set_password_last_used(OTHER_ACCOUNT_ID, "jane", None);
    let user = other
        .get_user()
        .user_name("jane")
        .send()
        .await
        .expect("GetUser");
    assert_eq!(user.user().expect("user").password_last_used(), None);
    let rows = credential_report(&other).await;
    assert_eq!(
        row_of(&rows, "jane")["password_last_used"],
        "no_information"
    );
}

#[tokio::test]
async fn access_key_last_used_reads_back_from_the_api_and_the_report() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_user(&home, "sam").await;
    let mut key_ids = Vec::new();
    for _ in 0..2 {
        let created = home
            .create_access_key()
            .user_name("sam")
            .send()
            .await
            .expect("CreateAccessKey");
        key_ids.push(
            created
                .access_key()
                .expect("key")
                .access_key_id()
                .to_owned(),
        );
    }
    let used = at("2026-10-02T17:45:10Z");

    moto.set_access_key_last_used(
        DEFAULT_ACCOUNT_ID,
        "sam",
        &key_ids[1],
        Some(used),
        "sts",
        "eu-west-2",
    );

    let last_used = home
        .get_access_key_last_used()
        .access_key_id(&key_ids[1])
        .send()
        .await
        .expect("GetAccessKeyLastUsed");
    assert_eq!(last_used.user_name(), Some("sam"));
    let evidence = last_used.access_key_last_used().expect("AccessKeyLastUsed");
    assert_eq!(evidence.last_used_date().map(chrono_of), Some(used));
    assert_eq!(evidence.service_name(), "sts");
    assert_eq!(evidence.region(), "eu-west-2");

    let never_used = home
        .get_access_key_last_used()
        .access_key_id(&key_ids[0])
        .send()
        .await
        .expect("GetAccessKeyLastUsed");
    let evidence = never_used
        .access_key_last_used()
        .expect("AccessKeyLastUsed");
    assert_eq!(evidence.last_used_date(), None);
    assert_eq!(evidence.service_name(), "N/A");

    let rows = credential_report(&home).await;
    let sam = row_of(&rows, "sam");
    assert_eq!(sam["access_key_1_last_used_date"], "N/A");
    assert_eq!(sam["access_key_1_last_used_region"], "N/A");
    assert_eq!(
        sam["access_key_2_last_used_date"],
        "2026-10-02T17:45:10+00:00"
    );
    assert_eq!(sam["access_key_2_last_used_region"], "eu-west-2");
    assert_eq!(sam["access_key_2_last_used_service"], "sts");
}

#[tokio::test]
async fn list_roles_pages_through_more_than_a_hundred_roles() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    for n in 0..105 {
        create_role(&home, &format!("role-{n:03}"), TRUST_POLICY).await;
    }

    // Without MaxItems a page holds 100 roles, as in real IAM.
    let first = home.list_roles().send().await.expect("ListRoles");
    assert_eq!(first.roles().len(), 100);
    assert!(first.is_truncated());
    let marker = first.marker().expect("a marker when truncated");
    let rest = home
        .list_roles()
        .marker(marker)
        .send()
        .await
        .expect("ListRoles");
    assert_eq!(rest.roles().len(), 5);
    assert!(!rest.is_truncated());

    moto.reset_counts();
    let names: BTreeSet<String> = home
        .list_roles()
        .max_items(30)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("ListRoles pages")
        .into_iter()
        .map(|role| role.role_name().to_owned())
        .collect();
    assert_eq!(names.len(), 105);
    assert_eq!(moto.request_counts_by_action()["ListRoles"], 4);
}

#[tokio::test]
async fn list_users_pages_like_real_iam() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    for name in ["a", "b", "c"] {
        create_user(&home, name).await;
    }

    let first = home
        .list_users()
        .max_items(2)
        .send()
        .await
        .expect("ListUsers");
    assert_eq!(first.users().len(), 2);
    assert!(first.is_truncated());
    let rest = home
        .list_users()
        .max_items(2)
        .marker(first.marker().expect("marker"))
        .send()
        .await
        .expect("ListUsers");
    assert_eq!(rest.users().len(), 1);
    assert!(!rest.is_truncated());
    assert_eq!(rest.marker(), None);
}

#[tokio::test]
async fn get_role_percent_encodes_the_trust_policy_and_list_roles_does_not() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_role(&home, "govuk-admin", TRUST_POLICY).await;

    let got = home
        .get_role()
        .role_name("govuk-admin")
        .send()
        .await
        .expect("GetRole");
    let encoded = got
        .role()
        .expect("role")
        .assume_role_policy_document()
        .expect("document");
    assert!(
        encoded.starts_with("%7B%22Version%22"),
        "GetRole gave {encoded}"
    );
    assert_eq!(percent_decode(encoded), TRUST_POLICY);

    let listed = home.list_roles().send().await.expect("ListRoles");
    let raw = listed.roles()[0]
        .assume_role_policy_document()
        .expect("document");
    assert_eq!(raw, TRUST_POLICY);
}

/// Minimal %XX decoding, enough for JSON trust policies.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ASCII escape");
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test]
async fn moto_accepts_trust_policies_real_iam_rejects() {
    // lapse must validate what it writes: moto will not catch these.
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_role(&home, "lenient", TRUST_POLICY).await;
    let invalid = [
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/made-up"},"Action":"sts:AssumeRole"}]}"#,
    ];
    for document in invalid {
        home.update_assume_role_policy()
            .role_name("lenient")
            .policy_document(document)
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto now rejects {document}: {e:?}"));
    }
}

#[tokio::test]
async fn a_deleted_users_arn_stays_in_trust_policies() {
    // Real IAM rewrites it to the user's unique ID (AIDA...); moto does not,
    // so tests of orphaned principals must seed the unique ID themselves.
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_user(&home, "jane.doe@example.gov.uk").await;
    create_role(&home, "govuk-admin", TRUST_POLICY).await;
    home.delete_user()
        .user_name("jane.doe@example.gov.uk")
        .send()
        .await
        .expect("DeleteUser");

    let listed = home.list_roles().send().await.expect("ListRoles");
    assert_eq!(
        listed.roles()[0].assume_role_policy_document(),
        Some(TRUST_POLICY)
    );
}

#[tokio::test]
async fn the_counter_counts_each_sdk_request() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_user(&home, "jane").await;
    home.get_user()
        .user_name("jane")
        .send()
        .await
        .expect("GetUser");
    home.get_user()
        .user_name("jane")
        .send()
        .await
        .expect("GetUser");
    assert_eq!(moto.request_count(), 3);

    moto.reset_counts();
    home.list_roles().send().await.expect("ListRoles");
    let by_action = moto.request_counts_by_action();
    assert_eq!(
        by_action.into_iter().collect::<Vec<_>>(),
        vec![("ListRoles".to_owned(), 1)]
    );
    assert_eq!(moto.request_count(), 1);
}

#[tokio::test]
async fn injected_throttling_is_retried_and_counted() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    moto.inject_fault(Fault::throttling().on_action("ListRoles").times(2));

    // The SDK's standard retry makes 3 attempts; the third gets through.
    home.list_roles()
        .send()
        .await
        .expect("ListRoles after retries");
    assert_eq!(moto.request_counts_by_action()["ListRoles"], 3);
    assert_eq!(moto.pending_faults(), 0);
}

#[tokio::test]
async fn injected_access_denied_reaches_the_caller_once() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_role(&home, "govuk-admin", TRUST_POLICY).await;
    moto.inject_fault(
        Fault::access_denied()
            .on_action("UpdateAssumeRolePolicy")
            .in_account(DEFAULT_ACCOUNT_ID),
    );
    // Faults only fire on their action.
    home.get_role()
        .role_name("govuk-admin")
        .send()
        .await
        .expect("GetRole");

    let denied = home
        .update_assume_role_policy()
        .role_name("govuk-admin")
        .policy_document(TRUST_POLICY)
        .send()
        .await
        .expect_err("the injected AccessDenied");
    assert_eq!(denied.code(), Some("AccessDenied"));
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    assert_eq!(moto.request_counts_by_action()["UpdateAssumeRolePolicy"], 1);

    home.update_assume_role_policy()
        .role_name("govuk-admin")
        .policy_document(TRUST_POLICY)
        .send()
        .await
        .expect("UpdateAssumeRolePolicy once the fault is used up");
}

#[tokio::test]
async fn faults_can_target_one_account() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    let other = iam_in(&moto, OTHER_ACCOUNT_ID).await;
    moto.inject_fault(
        Fault::service_failure()
            .on_action("ListUsers")
            .in_account(OTHER_ACCOUNT_ID)
            .times(10),
    );

    home.list_users()
        .send()
        .await
        .expect("the default account is unaffected");
    let failed = other.list_users().send().await.expect_err("ServiceFailure");
    assert_eq!(failed.code(), Some("ServiceFailure"));
    assert_eq!(
        failed.raw_response().map(|r| r.status().as_u16()),
        Some(500)
    );

    moto.clear_faults();
    assert_eq!(moto.pending_faults(), 0);
    other
        .list_users()
        .send()
        .await
        .expect("ListUsers after clearing");
}

#[tokio::test]
async fn injected_latency_delays_only_its_action() {
    // Generous against a loaded machine: an undelayed call takes milliseconds.
    const DELAY: Duration = Duration::from_millis(800);
    let moto = Moto::start();
    let home = iam(&moto).await;
    create_user(&home, "jane").await;
    moto.set_latency(Some("GetUser"), DELAY);

    let started = Instant::now();
    home.list_users().send().await.expect("ListUsers");
    assert!(started.elapsed() < DELAY);

    let started = Instant::now();
    home.get_user()
        .user_name("jane")
        .send()
        .await
        .expect("GetUser");
    assert!(started.elapsed() >= DELAY);

    moto.set_latency(Some("GetUser"), Duration::ZERO);
    let started = Instant::now();
    home.get_user()
        .user_name("jane")
        .send()
        .await
        .expect("GetUser");
    assert!(started.elapsed() < DELAY);
}

#[tokio::test]
async fn reset_state_forgets_every_account() {
    let moto = Moto::start();
    let home = iam(&moto).await;
    let other = iam_in(&moto, OTHER_ACCOUNT_ID).await;
    create_user(&home, "a").await;
    create_user(&other, "b").await;

    moto.reset_state();

    assert!(user_names(&home).await.is_empty());
    // A fresh client: the reset also forgot the assumed-role session.
    assert!(
        user_names(&iam_in(&moto, OTHER_ACCOUNT_ID).await)
            .await
            .is_empty()
    );
}
