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
    // Each account was assumed once; two managed roles or fewer per account
    // are read with GetRole; activity came from the credential report.
    let counts = moto.request_counts();
    assert_eq!(counts.by_action["AssumeRole"], 2);
    assert_eq!(counts.by_account[PRODUCTION]["GetRole"], 1);
    assert_eq!(counts.by_account[STAGING]["GetRole"], 2);
    assert_eq!(counts.by_account[USERS]["GetCredentialReport"], 1);
    assert!(!counts.by_action.contains_key("ListRoles"));
    assert!(!counts.by_action.contains_key("ListUsers"));
    assert_eq!(report["api_calls"]["aws"], json!(counts.total));
}
