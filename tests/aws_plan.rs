//! `lapse plan` live against moto: roles in two accounts reached through
//! STS, every shape of trust policy principal, inactivity from last-use
//! times, pagination, failures that must stop the run, and request counts.

mod aws_support;

use std::time::{Duration, Instant};

use aws_support::*;
use chrono::{Duration as Days, Utc};
use lapse_test_support::moto::{Fault, Moto};
use serde_json::json;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn levels() -> &'static str {
    "  admin:\n    requires: [bpss]\n    aws_roles: [production/admin, staging/admin]\n  deploy:\n    requires: [bpss]\n    aws_roles: [staging/developer]"
}

/// Alice is an admin; Bob only deploys.
fn roster() -> String {
    person(ALICE, "admin") + &person(BOB, "deploy")
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_roles_in_two_accounts_reached_through_sts() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    let users = iam_in(&moto, USERS).await;
    for email in [ALICE, BOB] {
        create_user(&users, email).await;
    }
    let orphan = "AIDAQEXAMPLEDELETED01";
    let foreign_root = "arn:aws:iam::999999999999:root";
    // A list of principals, a Service and a condition in production...
    create_role(
        &production,
        "admin",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "People", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": [user_arn(ALICE), user_arn(BOB), orphan, foreign_root]},
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]}),
    )
    .await;
    // ...single strings, a federated provider and a protected user in staging.
    create_role(&staging, "admin", &allow(json!(user_arn(BOB)))).await;
    create_role(
        &staging,
        "developer",
        &json!({"Version": "2008-10-17", "Statement": {
            "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:AssumeRoleWithSAML"],
            "Principal": {"AWS": [user_arn(BOB), user_arn("break-glass@example.com")],
                          "Federated": "arn:aws:iam::345678901234:saml-provider/idp"}}}),
    )
    .await;
    let workspace = Workspace::new(&config_yaml(&moto.endpoint_url(), levels(), ""), &roster());
    moto.reset_counts();

    let (output, report) = plan_json(&moto, &workspace, &[]);

    assert_eq!(
        output.status.code(),
        Some(2),
        "drift exits 2; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let prod_admin = role_arn(PRODUCTION, "admin");
    let staging_admin = role_arn(STAGING, "admin");
    let developer = role_arn(STAGING, "developer");
    assert_eq!(
        findings(&report),
        vec![
            finding("missing", &staging_admin, &user_arn(ALICE), "none"),
            finding("orphaned", &prod_admin, orphan, "revoke"),
            finding("unattributable", &prod_admin, foreign_root, "none"),
            finding(
                "unattributable",
                &developer,
                "arn:aws:iam::345678901234:saml-provider/idp",
                "none"
            ),
            finding("unexpected", &prod_admin, &user_arn(BOB), "revoke"),
            finding("unexpected", &staging_admin, &user_arn(BOB), "revoke"),
        ]
    );
    // Each account was assumed once; one managed role is read with GetRole,
    // two with one ListRoles page; activity came from the credential report.
    let counts = moto.request_counts();
    assert_eq!(counts.by_action["AssumeRole"], 2);
    assert_eq!(counts.by_account[PRODUCTION]["GetRole"], 1);
    assert!(!counts.by_account[PRODUCTION].contains_key("ListRoles"));
    assert_eq!(counts.by_account[STAGING]["ListRoles"], 1);
    assert!(!counts.by_account[STAGING].contains_key("GetRole"));
    assert_eq!(counts.by_account[USERS]["GenerateCredentialReport"], 2);
    assert_eq!(counts.by_account[USERS]["GetCredentialReport"], 1);
    assert!(!counts.by_action.contains_key("ListUsers"));
    assert_eq!(counts.total, 7);
    assert_eq!(report["api_calls"]["aws"], json!(counts.total));
}

/// Seeds a users account where Alice used an access key 10 days before
/// `now`, Carol last signed in 55 days before it, and Dan, created 60 days
/// before it, never did anything; all three are admins on one role.
async fn seed_activity(moto: &Moto) -> (Workspace, chrono::DateTime<Utc>) {
    let created = Utc::now();
    let now = created + Days::days(60);
    let users = iam_in(moto, USERS).await;
    let production = iam_in(moto, PRODUCTION).await;
    let (carol, dan) = ("carol@example.com", "dan@example.com");
    for email in [ALICE, carol, dan] {
        create_user(&users, email).await;
    }
    let alice_key = create_access_key(&users, ALICE).await;
    create_access_key(&users, dan).await;
    moto.set_access_key_last_used(
        USERS,
        ALICE,
        &alice_key,
        Some(now - Days::days(10)),
        "sts",
        "eu-west-2",
    );
    create_login_profile(&users, carol).await;
    moto.set_password_last_used(USERS, carol, Some(now - Days::days(55)));
    create_role(
        &production,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(carol), user_arn(dan)])),
    )
    .await;
    let levels = "  admin:\n    requires: [bpss]\n    aws_roles: [production/admin]";
    let roster = person(ALICE, "admin") + &person(carol, "admin") + &person(dan, "admin");
    let workspace = Workspace::new(&config_yaml(&moto.endpoint_url(), levels, ""), &roster);
    (workspace, now)
}

fn assert_carol_and_dan_are_absent(report: &serde_json::Value) {
    let admin = role_arn(PRODUCTION, "admin");
    assert_eq!(
        findings(report),
        vec![
            finding("absent", &admin, &user_arn("carol@example.com"), "revoke"),
            finding("absent", &admin, &user_arn("dan@example.com"), "revoke"),
        ]
    );
    for f in report["findings"].as_array().unwrap() {
        let reason = f["reason"].as_str().unwrap();
        assert!(reason.contains("observed"), "{reason}");
    }
    let carol = &report["findings"][0]["reason"];
    assert!(carol.as_str().unwrap().contains("55 days"), "{carol}");
}

#[tokio::test(flavor = "multi_thread")]
async fn inactivity_comes_from_the_credential_report() {
    let moto = Moto::start();
    let (workspace, now) = seed_activity(&moto).await;
    moto.reset_counts();

    let (output, report) = plan_json(&moto, &workspace, &["--now", &now.to_rfc3339()]);

    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_carol_and_dan_are_absent(&report);
    let counts = moto.request_counts().by_account[USERS].clone();
    assert_eq!(
        counts["GenerateCredentialReport"], 2,
        "STARTED, then COMPLETE"
    );
    assert_eq!(counts["GetCredentialReport"], 1);
    assert!(!counts.contains_key("ListUsers"));
    assert!(!counts.contains_key("GetAccessKeyLastUsed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_credential_report_falls_back_to_reading_each_user() {
    let moto = Moto::start();
    let (workspace, now) = seed_activity(&moto).await;
    moto.inject_fault(Fault::access_denied().on_action("GenerateCredentialReport"));
    moto.reset_counts();

    let (output, report) = plan_json(&moto, &workspace, &["--now", &now.to_rfc3339()]);

    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_carol_and_dan_are_absent(&report);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("credential report is unavailable"),
        "{stderr}"
    );
    let counts = moto.request_counts().by_account[USERS].clone();
    assert!(!counts.contains_key("GetCredentialReport"));
    assert_eq!(counts["ListUsers"], 1);
    assert_eq!(counts["ListAccessKeys"], 3, "one per user");
    assert_eq!(counts["GetAccessKeyLastUsed"], 2, "one per key");
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_a_thousand_roles_are_paged_and_a_missing_one_stops_the_run() {
    const ROLES: usize = 1100;
    const MANAGED: usize = 200;
    let moto = Moto::start();
    let staging = iam_in(&moto, STAGING).await;
    let mallory = user_arn("mallory@example.com");
    let mut seeding = tokio::task::JoinSet::new();
    for lane in 0..8 {
        let (staging, mallory) = (staging.clone(), mallory.clone());
        seeding.spawn(async move {
            for n in (lane..ROLES).step_by(8) {
                let principals = match n {
                    7 => json!([user_arn(BOB), mallory]),
                    _ => json!(user_arn(BOB)),
                };
                create_role(&staging, &format!("role-{n:04}"), &allow(principals)).await;
            }
        });
    }
    while let Some(done) = seeding.join_next().await {
        done.expect("seeding");
    }
    // ListRoles orders by role ID, which is random: with 200 of 1100 roles
    // managed, the chance all fall on the first page of 1000 is below 1e-8.
    let managed: Vec<String> = (0..MANAGED)
        .map(|n| format!("staging/role-{n:04}"))
        .collect();
    let levels = |roles: &[String]| {
        format!(
            "  deploy:\n    requires: [bpss]\n    aws_roles: [{}]",
            roles.join(", ")
        )
    };
    let workspace = Workspace::new(
        &config_yaml(&moto.endpoint_url(), &levels(&managed), ""),
        &person(BOB, "deploy"),
    );
    moto.reset_counts();

    let (output, report) = plan_json(&moto, &workspace, &[]);

    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        findings(&report),
        vec![finding(
            "unexpected",
            &role_arn(STAGING, "role-0007"),
            &mallory,
            "revoke"
        )]
    );
    let counts = moto.request_counts().by_account[STAGING].clone();
    assert_eq!(counts["ListRoles"], 2);
    assert!(!counts.contains_key("GetRole"));

    // A managed role that does not exist: every page is read, then exit 1.
    let mut with_missing = managed.clone();
    with_missing.push("staging/no-such-role".into());
    let workspace = Workspace::new(
        &config_yaml(&moto.endpoint_url(), &levels(&with_missing), ""),
        &person(BOB, "deploy"),
    );
    moto.reset_counts();
    let output = lapse(
        &moto,
        &[
            "plan",
            "--config",
            workspace.config_path().to_str().unwrap(),
        ],
    )
    .output()
    .expect("run lapse");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no-such-role") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no report from a failed read");
    assert_eq!(moto.request_counts().by_account[STAGING]["ListRoles"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_role_read_with_get_role_stops_the_run() {
    let moto = Moto::start();
    create_role(
        &iam_in(&moto, PRODUCTION).await,
        "admin",
        &allow(json!(user_arn(ALICE))),
    )
    .await;
    // staging/admin and staging/developer do not exist.
    let workspace = Workspace::new(&config_yaml(&moto.endpoint_url(), levels(), ""), &roster());

    let output = lapse(
        &moto,
        &[
            "plan",
            "--config",
            workspace.config_path().to_str().unwrap(),
        ],
    )
    .output()
    .expect("run lapse");

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not exist in account 345678901234"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn request_counts_match_motos_own_retries_included() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    create_role(&production, "admin", &allow(json!(user_arn(ALICE)))).await;
    create_role(&staging, "admin", &allow(json!(user_arn(ALICE)))).await;
    create_role(&staging, "developer", &allow(json!(user_arn(BOB)))).await;
    let workspace = Workspace::new(&config_yaml(&moto.endpoint_url(), levels(), ""), &roster());
    moto.inject_fault(
        Fault::throttling()
            .on_action("ListRoles")
            .in_account(STAGING)
            .times(2),
    );
    moto.inject_fault(Fault::service_failure().on_action("AssumeRole"));
    moto.reset_counts();

    let (output, report) = plan_json(&moto, &workspace, &[]);

    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(moto.pending_faults(), 0);
    let counts = moto.request_counts();
    assert_eq!(
        counts.by_account[STAGING]["ListRoles"], 3,
        "one page, two throttled attempts"
    );
    assert_eq!(
        counts.by_action["AssumeRole"], 3,
        "two accounts, one failed attempt"
    );
    assert_eq!(report["api_calls"]["aws"], json!(counts.total));
    // 3 AssumeRole + 1 GetRole + 3 ListRoles + 3 for the credential report.
    assert_eq!(counts.total, 10);
}

#[test]
fn an_unreachable_endpoint_exits_1_within_a_minute() {
    let moto = Moto::start();
    let workspace = Workspace::new(&config_yaml("http://127.0.0.1:1", levels(), ""), &roster());
    let started = Instant::now();

    let output = lapse(
        &moto,
        &[
            "plan",
            "--config",
            workspace.config_path().to_str().unwrap(),
        ],
    )
    .output()
    .expect("run lapse");

    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not reach http://127.0.0.1:1: check `aws.endpoint_url`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert_eq!(moto.request_count(), 0);
}

#[test]
fn missing_credentials_fail_fast() {
    let moto = Moto::start();
    let workspace = Workspace::new(&config_yaml(&moto.endpoint_url(), levels(), ""), &roster());
    let started = Instant::now();

    let output = lapse(
        &moto,
        &[
            "plan",
            "--config",
            workspace.config_path().to_str().unwrap(),
        ],
    )
    .env_remove("AWS_ACCESS_KEY_ID")
    .env_remove("AWS_SECRET_ACCESS_KEY")
    .output()
    .expect("run lapse");

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    assert_eq!(moto.request_count(), 0, "nothing was sent");
}

/// A role configured as `GovUK-Admin` is IAM's `govuk-admin`, whichever way
/// it is read: GetRole (one managed role in the account) or ListRoles (two).
#[tokio::test(flavor = "multi_thread")]
async fn role_names_match_regardless_of_case_on_both_read_paths() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    let users = iam_in(&moto, USERS).await;
    for email in [ALICE, BOB] {
        create_user(&users, email).await;
    }
    let both = allow(json!([user_arn(ALICE), user_arn(BOB)]));
    create_role(&production, "govuk-admin", &both).await;
    create_role(&staging, "govuk-admin", &both).await;
    create_role(&staging, "developer", &both).await;
    let levels = "  admin:\n    requires: [bpss]\n    aws_roles: [production/GovUK-Admin, staging/GovUK-Admin]\n  deploy:\n    requires: [bpss]\n    aws_roles: [staging/developer]";
    let workspace = Workspace::new(&config_yaml(&moto.endpoint_url(), levels, ""), &roster());

    let (output, report) = plan_json(&moto, &workspace, &[]);

    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = findings(&report);
    for account in [PRODUCTION, STAGING] {
        let target = role_arn(account, "govuk-admin");
        assert!(
            found.contains(&finding("unexpected", &target, &user_arn(BOB), "revoke")),
            "{account}: {found:?}"
        );
    }

    // A managed role that matches nothing is an error, never skipped.
    let levels = "  admin:\n    requires: [bpss]\n    aws_roles: [production/no-such-role]";
    let workspace = Workspace::new(
        &config_yaml(&moto.endpoint_url(), levels, ""),
        &person(ALICE, "admin"),
    );
    let config = workspace.config_path();
    let output = lapse(&moto, &["plan", "--config", config.to_str().unwrap()])
        .output()
        .expect("run lapse");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-role"));
}
