//! The `lapse` binary end to end against moto: `apply` rewrites the trust
//! policies and audits each write to the file, after which the plan is
//! clean; `snapshot` records what the live plan sees.

mod aws_support;

use aws_support::*;
use lapse_test_support::moto::Moto;
use serde_json::{Value, json};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const ORPHAN: &str = "AIDAQEXAMPLEDELETED01";

/// Alice is an admin, Bob deploys; Bob and a deleted user also hold admin roles.
async fn seed(moto: &Moto, config_extra: &str) -> Workspace {
    let production = iam_in(moto, PRODUCTION).await;
    let staging = iam_in(moto, STAGING).await;
    let users = iam_in(moto, USERS).await;
    for email in [ALICE, BOB] {
        create_user(&users, email).await;
    }
    create_role(
        &production,
        "admin",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [user_arn(ALICE), user_arn(BOB), ORPHAN]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]}),
    )
    .await;
    create_role(
        &staging,
        "admin",
        &allow(json!([user_arn(ALICE), user_arn(BOB)])),
    )
    .await;
    create_role(&staging, "developer", &allow(json!(user_arn(BOB)))).await;
    let levels = "  admin:\n    requires: [bpss]\n    aws_roles: [production/admin, staging/admin]\n  deploy:\n    requires: [bpss]\n    aws_roles: [staging/developer]";
    let config = config_yaml(&moto.endpoint_url(), levels, "") + config_extra;
    Workspace::new(&config, &(person(ALICE, "admin") + &person(BOB, "deploy")))
}

fn revokes(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["action"] == "revoke")
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap_or_default().to_string();
            (field("target"), field("principal"), field("result"))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_rewrites_the_trust_policies_and_audits_every_write() {
    let moto = Moto::start();
    let workspace = seed(&moto, "audit_log: audit.jsonl\n").await;
    let config = std::fs::read_to_string(workspace.config_path()).unwrap();
    // Three of six grants: past the default 25% gate, so allow it here.
    let config = config.replace("safety:\n", "safety:\n  max_revocation_ratio: 1.0\n");
    std::fs::write(workspace.config_path(), config).unwrap();
    let config_path = workspace.config_path();
    let config_arg = config_path.to_str().unwrap();

    let output = lapse(
        &moto,
        &["apply", "--config", config_arg, "--yes", "--format", "json"],
    )
    .output()
    .expect("run lapse");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let (prod_admin, staging_admin) = (role_arn(PRODUCTION, "admin"), role_arn(STAGING, "admin"));
    let done = |target: &str, principal: &str| {
        (
            target.to_string(),
            principal.to_string(),
            "done".to_string(),
        )
    };
    assert_eq!(
        revokes(&report),
        vec![
            done(&prod_admin, ORPHAN),
            done(&prod_admin, &user_arn(BOB)),
            done(&staging_admin, &user_arn(BOB)),
        ]
    );
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    assert_eq!(
        trust_policy(&production, "admin").await,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [user_arn(ALICE)]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]})
    );
    assert_eq!(
        trust_policy(&staging, "admin").await,
        allow(json!([user_arn(ALICE)]))
    );
    assert_eq!(
        trust_policy(&staging, "developer").await,
        allow(json!(user_arn(BOB)))
    );

    // One intent and one result per role written, each with both documents.
    let audit = std::fs::read_to_string(workspace.path().join("audit.jsonl")).expect("audit log");
    let records: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let shape: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap().to_string(),
                r["phase"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for role in [&prod_admin, &staging_admin] {
        let phases: Vec<&str> = shape
            .iter()
            .filter(|(t, _)| t == role)
            .map(|(_, p)| p.as_str())
            .collect();
        assert_eq!(phases, vec!["intent", "result"], "{role}: {audit}");
    }
    let result = records
        .iter()
        .find(|r| r["target"] == prod_admin.as_str() && r["phase"] == "result")
        .unwrap();
    assert_eq!(result["result"], "done");
    assert_eq!(result["principals"], json!([ORPHAN, user_arn(BOB)]));
    assert_eq!(result["after"], trust_policy(&production, "admin").await);
    assert!(
        result["before"]["Statement"][0]["Principal"]["AWS"]
            .as_array()
            .unwrap()
            .len()
            == 3
    );
    assert!(result["run_id"].is_string());

    // What is left is what the roster gives: no drift.
    let (output, report) = plan_json(&moto, &workspace, &[]);
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_plans_as_the_live_system_does() {
    let moto = Moto::start();
    let workspace = seed(&moto, "").await;
    let snapshot = workspace.path().join("snapshot.json");
    let config_path = workspace.config_path();
    let config_arg = config_path.to_str().unwrap();

    let output = lapse(
        &moto,
        &[
            "snapshot",
            "--config",
            config_arg,
            "--output",
            snapshot.to_str().unwrap(),
        ],
    )
    .output()
    .expect("run lapse");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (_, live) = plan_json(&moto, &workspace, &[]);
    let (offline_output, offline) =
        plan_json(&moto, &workspace, &["--state", snapshot.to_str().unwrap()]);
    assert_eq!(offline_output.status.code(), Some(2));
    assert_eq!(findings(&offline), findings(&live));
    assert_eq!(offline["api_calls"]["aws"], 0);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    assert_eq!(saved["aws"]["activity_source"], "credential_report");
    assert_eq!(saved["aws"]["roles"].as_array().unwrap().len(), 3);
}
