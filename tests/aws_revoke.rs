//! Revoking through lapse's IAM system against moto: what each trust policy
//! holds afterwards, what was audited, and how failures are reported.

mod aws_support;

use aws_support::*;
use chrono::{DateTime, Utc};
use lapse::aws::IamSystem;
use lapse::model::Outcome;
use lapse::system::{Act, ActResult, Planned};
use lapse_test_support::moto::{Fault, Moto};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";

/// lapse's IAM system for moto, managing production/admin and staging/admin.
async fn system(moto: &Moto, aws_extra: &str) -> (Workspace, IamSystem) {
    let levels = "  admin:\n    requires: [bpss]\n    aws_roles: [production/admin, staging/admin]";
    let workspace = Workspace::new(
        &config_yaml(&moto.endpoint_url(), levels, aws_extra),
        &person(ALICE, "admin"),
    );
    let system = connect(&workspace.config()).await;
    (workspace, system)
}

async fn revoke(system: &IamSystem, batch: Vec<Planned>) -> (Vec<ActResult>, Audit) {
    let audit = Audit::default();
    let results = system.revoke(batch, &audit).await;
    (results, audit)
}

fn done(finding: usize) -> ActResult {
    ActResult {
        finding,
        outcome: Outcome::Done,
        error: None,
    }
}

/// The one result for `finding`, asserting its outcome and that its error says `says`.
fn assert_outcome(results: &[ActResult], finding: usize, outcome: Outcome, says: &str) {
    let result = results
        .iter()
        .find(|r| r.finding == finding)
        .unwrap_or_else(|| panic!("no result for finding {finding}: {results:?}"));
    assert_eq!(result.outcome, outcome, "{result:?}");
    let error = result.error.as_deref().unwrap_or_default();
    assert!(
        error.contains(says),
        "finding {finding}: {error:?} should say {says:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn removes_only_the_planned_principals_and_keeps_the_rest_of_the_document() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    let orphan = "AIDAQEXAMPLEDELETED01";
    let before = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "People", "Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": [user_arn(ALICE), user_arn(BOB), orphan]},
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Sid": "Services", "Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
        {"Sid": "Carol", "Effect": "Allow", "Principal": {"AWS": user_arn(CAROL)}, "Action": ["sts:AssumeRole", "sts:TagSession"]},
        {"Sid": "Sso", "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::210987654321:saml-provider/idp"},
         "Action": "sts:AssumeRoleWithSAML", "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}},
        {"Sid": "NoBob", "Effect": "Deny", "Principal": {"AWS": user_arn(BOB)}, "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}
    ]});
    create_role(&production, "admin", &before).await;
    let single = |aws: Option<String>| {
        let mut principal = json!({"Service": "ecs-tasks.amazonaws.com"});
        if let Some(arn) = aws {
            principal["AWS"] = json!(arn);
        }
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}})
    };
    create_role(&staging, "admin", &single(Some(user_arn(BOB)))).await;
    create_role(&staging, "keep", &allow(json!(user_arn(BOB)))).await;
    let (_workspace, system) = system(&moto, "").await;
    moto.reset_counts();
    let prod_admin = role_arn(PRODUCTION, "admin");
    let staging_admin = role_arn(STAGING, "admin");

    let (results, audit) = revoke(
        &system,
        vec![
            planned(0, &prod_admin, &user_arn(BOB)),
            planned(1, &staging_admin, &user_arn(BOB)),
            planned(2, &prod_admin, orphan),
            planned(3, &prod_admin, &user_arn(CAROL)),
            planned(4, &prod_admin, &user_arn("gone@example.com")),
        ],
    )
    .await;

    assert_eq!(results, (0..5).map(done).collect::<Vec<_>>());
    // Four principals (one already gone) on one role: one read, one write,
    // one read back to verify.
    let counts = moto.request_counts();
    assert_eq!(counts.by_account[PRODUCTION]["GetRole"], 2);
    assert_eq!(counts.by_account[PRODUCTION]["UpdateAssumeRolePolicy"], 1);
    assert_eq!(Act::requests(&system), counts.total);

    let after = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "People", "Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": [user_arn(ALICE)]},
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Sid": "Services", "Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}, "Action": "sts:AssumeRole"},
        {"Sid": "Sso", "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::210987654321:saml-provider/idp"},
         "Action": "sts:AssumeRoleWithSAML", "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}},
        {"Sid": "NoBob", "Effect": "Deny", "Principal": {"AWS": user_arn(BOB)}, "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}
    ]});
    assert_eq!(trust_policy(&production, "admin").await, after);
    // A single string goes with its key; the service keeps the statement.
    assert_eq!(trust_policy(&staging, "admin").await, single(None));
    assert_eq!(
        trust_policy(&staging, "keep").await,
        allow(json!(user_arn(BOB))),
        "roles outside the batch are untouched"
    );

    // Intent before the write, result after it, with both documents.
    let events = audit.events();
    let prod: Vec<_> = events.iter().filter(|e| e.target == prod_admin).collect();
    let phases: Vec<_> = prod.iter().map(|e| (e.phase, e.result)).collect();
    assert_eq!(
        phases,
        vec![
            ("result", Some(Outcome::Done)), // the principal already gone
            ("intent", None),
            ("result", Some(Outcome::Done)),
        ]
    );
    assert_eq!(prod[0].principals, vec![user_arn("gone@example.com")]);
    for event in &prod[1..] {
        assert_eq!(
            event.principals,
            vec![user_arn(BOB), orphan.to_string(), user_arn(CAROL)]
        );
        assert_eq!(event.before.as_ref(), Some(&before));
        assert_eq!(event.after.as_ref(), Some(&after));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_that_would_leave_no_statement_is_refused_and_nothing_is_written() {
    let moto = Moto::start();
    let staging = iam_in(&moto, STAGING).await;
    let production = iam_in(&moto, PRODUCTION).await;
    let only_bob = allow(json!(user_arn(BOB)));
    create_role(&staging, "admin", &only_bob).await;
    create_role(
        &production,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(BOB)])),
    )
    .await;
    let (_workspace, system) = system(&moto, "").await;
    moto.reset_counts();

    let (results, audit) = revoke(
        &system,
        vec![
            planned(0, &role_arn(STAGING, "admin"), &user_arn(BOB)),
            planned(1, &role_arn(PRODUCTION, "admin"), &user_arn(BOB)),
            // With Bob gone, Alice is the last: her removal is the one refused.
            planned(2, &role_arn(PRODUCTION, "admin"), &user_arn(ALICE)),
        ],
    )
    .await;

    assert_outcome(&results, 0, Outcome::Skipped, "no statement");
    assert_eq!(results[1], done(1));
    assert_outcome(&results, 2, Outcome::Skipped, "no statement");
    assert_eq!(trust_policy(&staging, "admin").await, only_bob);
    assert_eq!(
        trust_policy(&production, "admin").await,
        allow(json!([user_arn(ALICE)]))
    );
    let counts = moto.request_counts();
    assert!(!counts.by_account[STAGING].contains_key("UpdateAssumeRolePolicy"));
    assert_eq!(counts.by_account[PRODUCTION]["UpdateAssumeRolePolicy"], 1);
    let skipped = audit
        .events()
        .into_iter()
        .filter(|e| e.result == Some(Outcome::Skipped))
        .count();
    assert_eq!(skipped, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_iam_would_reject_is_caught_before_the_write() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    // moto stored a statement with an empty principal list; real IAM never
    // would, and would refuse to store a document still holding it.
    let invalid = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": [user_arn(ALICE), user_arn(BOB)]}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": []}, "Action": "sts:AssumeRole"}
    ]});
    create_role(&production, "admin", &invalid).await;
    let (_workspace, system) = system(&moto, "").await;
    moto.reset_counts();

    let (results, audit) = revoke(
        &system,
        vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
    )
    .await;

    assert_outcome(
        &results,
        0,
        Outcome::Failed,
        "IAM would reject it: statement 2: its `AWS` principal list is empty",
    );
    assert_eq!(trust_policy(&production, "admin").await, invalid);
    assert!(
        !moto
            .request_counts_by_action()
            .contains_key("UpdateAssumeRolePolicy")
    );
    let events = audit.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].phase, "result");
    assert_eq!(events[0].result, Some(Outcome::Failed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_deleted_between_plan_and_apply_fails_and_the_others_are_done() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    create_role(
        &production,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(BOB)])),
    )
    .await;
    create_role(
        &staging,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(BOB)])),
    )
    .await;
    let (_workspace, system) = system(&moto, "").await;
    production
        .delete_role()
        .role_name("admin")
        .send()
        .await
        .expect("DeleteRole");

    let (results, _) = revoke(
        &system,
        vec![
            planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB)),
            planned(1, &role_arn(STAGING, "admin"), &user_arn(BOB)),
        ],
    )
    .await;

    assert_outcome(&results, 0, Outcome::Failed, "no longer exists");
    assert_outcome(&results, 0, Outcome::Failed, "NoSuchEntity");
    assert_eq!(results[1], done(1));
    assert_eq!(
        trust_policy(&staging, "admin").await,
        allow(json!([user_arn(ALICE)]))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_retried_until_the_write_goes_through() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    create_role(
        &production,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(BOB)])),
    )
    .await;
    let (_workspace, system) = system(&moto, "").await;
    moto.inject_fault(
        Fault::throttling()
            .on_action("UpdateAssumeRolePolicy")
            .times(2),
    );
    moto.reset_counts();

    let (results, _) = revoke(
        &system,
        vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
    )
    .await;

    assert_eq!(results, vec![done(0)]);
    assert_eq!(
        trust_policy(&production, "admin").await,
        allow(json!([user_arn(ALICE)]))
    );
    assert_eq!(moto.pending_faults(), 0);
    let counts = moto.request_counts();
    assert_eq!(counts.by_action["UpdateAssumeRolePolicy"], 3);
    // GetRole in the assertion above came from the test's own client.
    assert_eq!(Act::requests(&system), counts.total - 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_errors_fail_only_their_role() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    let both = allow(json!([user_arn(ALICE), user_arn(BOB)]));
    create_role(&production, "admin", &both).await;
    create_role(&staging, "admin", &both).await;
    create_role(&staging, "ops", &both).await;
    let (_workspace, system) = system(&moto, "").await;
    moto.inject_fault(
        Fault::access_denied()
            .on_action("UpdateAssumeRolePolicy")
            .in_account(PRODUCTION),
    );
    moto.inject_fault(
        Fault::new(400, "MalformedPolicyDocument")
            .message("Invalid principal in policy")
            .on_action("UpdateAssumeRolePolicy")
            .in_account(STAGING),
    );

    let (results, audit) = revoke(
        &system,
        vec![
            planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB)),
            planned(1, &role_arn(STAGING, "admin"), &user_arn(BOB)),
            planned(2, &role_arn(STAGING, "ops"), &user_arn(BOB)),
        ],
    )
    .await;

    assert_outcome(
        &results,
        0,
        Outcome::Failed,
        "AccessDenied: User is not authorized",
    );
    assert_outcome(
        &results,
        1,
        Outcome::Failed,
        "MalformedPolicyDocument: Invalid principal in policy",
    );
    assert_eq!(results[2], done(2));
    assert_eq!(trust_policy(&production, "admin").await, both);
    assert_eq!(trust_policy(&staging, "admin").await, both);
    assert_eq!(
        trust_policy(&staging, "ops").await,
        allow(json!([user_arn(ALICE)]))
    );
    // Every attempted write has its intent and its result.
    let phases: Vec<_> = audit.events().iter().map(|e| (e.phase, e.result)).collect();
    assert_eq!(
        phases,
        vec![
            ("intent", None),
            ("result", Some(Outcome::Failed)),
            ("intent", None),
            ("result", Some(Outcome::Failed)),
            ("intent", None),
            ("result", Some(Outcome::Done)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_active_sessions_puts_aws_deny_policy_on_the_role() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    create_role(
        &production,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(BOB)])),
    )
    .await;
    let (_workspace, system) = system(&moto, "  revoke_active_sessions: true").await;
    let started = Utc::now();

    let (results, _) = revoke(
        &system,
        vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
    )
    .await;

    assert_eq!(results, vec![done(0)]);
    assert_eq!(
        trust_policy(&production, "admin").await,
        allow(json!([user_arn(ALICE)]))
    );
    let inline = production
        .get_role_policy()
        .role_name("admin")
        .policy_name("AWSRevokeOlderSessions")
        .send()
        .await
        .expect("GetRolePolicy");
    let document = percent_encoding::percent_decode_str(inline.policy_document())
        .decode_utf8()
        .expect("UTF-8");
    let mut policy: Value = serde_json::from_str(&document).expect("JSON");
    let cutoff = policy["Statement"]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .take()
        .as_str()
        .expect("a cutoff time")
        .parse::<DateTime<Utc>>()
        .expect("RFC 3339");
    assert!(
        cutoff > started && cutoff <= Utc::now() + chrono::Duration::seconds(1),
        "{cutoff}"
    );
    assert_eq!(
        policy,
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
               "Condition": {"DateLessThan": {"aws:TokenIssueTime": null}}}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_written_when_the_intent_cannot_be_recorded() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let both = allow(json!([user_arn(ALICE), user_arn(BOB)]));
    create_role(&production, "admin", &both).await;
    let (_workspace, system) = system(&moto, "").await;
    moto.reset_counts();

    let results = system
        .revoke(
            vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
            &FullDisk,
        )
        .await;

    assert_outcome(
        &results,
        0,
        Outcome::Failed,
        "audit intent could not be recorded",
    );
    assert_outcome(&results, 0, Outcome::Failed, "No space left on device");
    assert!(
        !moto
            .request_counts_by_action()
            .contains_key("UpdateAssumeRolePolicy")
    );
    assert_eq!(trust_policy(&production, "admin").await, both);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_did_not_take_is_failed_not_verified() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let both = allow(json!([user_arn(ALICE), user_arn(BOB)]));
    create_role(&production, "admin", &both).await;
    let (_workspace, system) = system(&moto, "").await;
    moto.inject_fault(Fault::swallowed().on_action("UpdateAssumeRolePolicy"));

    let (results, audit) = revoke(
        &system,
        vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
    )
    .await;

    assert_outcome(&results, 0, Outcome::Failed, "not verified");
    assert_outcome(&results, 0, Outcome::Failed, "still in the trust policy");
    assert_eq!(trust_policy(&production, "admin").await, both);
    let phases: Vec<_> = audit.events().iter().map(|e| (e.phase, e.result)).collect();
    assert_eq!(
        phases,
        vec![("intent", None), ("result", Some(Outcome::Failed))]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_session_cut_off_comes_first_and_its_failure_keeps_the_principal() {
    let moto = Moto::start();
    let production = iam_in(&moto, PRODUCTION).await;
    let both = allow(json!([user_arn(ALICE), user_arn(BOB)]));
    create_role(&production, "admin", &both).await;
    let (_workspace, system) = system(&moto, "  revoke_active_sessions: true").await;
    moto.inject_fault(Fault::access_denied().on_action("PutRolePolicy"));
    moto.reset_counts();

    let (results, audit) = revoke(
        &system,
        vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
    )
    .await;

    assert_outcome(&results, 0, Outcome::Failed, "was not removed either");
    assert_eq!(trust_policy(&production, "admin").await, both);
    assert!(
        !moto
            .request_counts_by_action()
            .contains_key("UpdateAssumeRolePolicy"),
        "the principal stays, for the next run to retry both"
    );
    let events = audit.events();
    let phases: Vec<_> = events.iter().map(|e| (e.phase, e.result)).collect();
    assert_eq!(
        phases,
        vec![
            ("intent", None),
            ("result", Some(Outcome::Failed)),
            ("result", Some(Outcome::Failed)),
        ]
    );
    assert!(
        events[0].reason.contains("session cut-off"),
        "{:?}",
        events[0]
    );
    assert!(events[0].after.is_some(), "the policy put is on record");

    // The next attempt, with the cut-off allowed, does both in that order.
    let (results, audit) = revoke(
        &system,
        vec![planned(0, &role_arn(PRODUCTION, "admin"), &user_arn(BOB))],
    )
    .await;
    assert_eq!(results, vec![done(0)]);
    let reasons: Vec<_> = audit
        .events()
        .iter()
        .map(|e| (e.phase, e.reason.contains("session cut-off")))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("intent", true),
            ("result", true),
            ("intent", false),
            ("result", false)
        ]
    );
}
