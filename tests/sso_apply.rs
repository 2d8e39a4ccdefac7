//! The `lapse` binary end to end against moto's IAM Identity Center
//! (sso-admin and identitystore): every finding kind on both paths (a
//! direct assignment and a group), `apply` deleting assignments and removing
//! memberships after which the plan is clean, a failed read that stops the
//! run, and an endpoint that cannot be reached.

mod aws_support;

use aws_sdk_identitystore::types::MemberId;
use aws_sdk_ssoadmin::types::{PrincipalType, TargetType};
use aws_support::*;
use lapse_test_support::moto::{DEFAULT_ACCOUNT_ID, Fault, Moto};
use serde_json::Value;

/// The clients a test arranges Identity Center with, and the instance.
struct IdentityCenter {
    admin: aws_sdk_ssoadmin::Client,
    store: aws_sdk_identitystore::Client,
    instance_arn: String,
    store_id: String,
}

impl IdentityCenter {
    async fn connect(moto: &Moto) -> IdentityCenter {
        let sdk = moto.sdk_config_in(DEFAULT_ACCOUNT_ID).await;
        let admin = aws_sdk_ssoadmin::Client::new(&sdk);
        let store = aws_sdk_identitystore::Client::new(&sdk);
        let instances = admin.list_instances().send().await.expect("ListInstances");
        let instance = &instances.instances()[0];
        IdentityCenter {
            instance_arn: instance.instance_arn().unwrap().to_string(),
            store_id: instance.identity_store_id().unwrap().to_string(),
            admin,
            store,
        }
    }

    async fn permission_set(&self, name: &str) -> String {
        let out = self
            .admin
            .create_permission_set()
            .instance_arn(&self.instance_arn)
            .name(name)
            // moto's default is the integer 3600 where the API has an ISO
            // 8601 duration, which the SDK refuses to read back.
            .session_duration("PT1H")
            .send()
            .await
            .expect("CreatePermissionSet");
        out.permission_set()
            .and_then(|p| p.permission_set_arn())
            .unwrap()
            .to_string()
    }

    async fn user(&self, email: &str) -> String {
        let out = self
            .store
            .create_user()
            .identity_store_id(&self.store_id)
            .user_name(email)
            .display_name(email)
            .name(
                aws_sdk_identitystore::types::Name::builder()
                    .given_name("Test")
                    .family_name("Person")
                    .build(),
            )
            .send()
            .await
            .expect("CreateUser");
        out.user_id().to_string()
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        let out = self
            .store
            .create_group()
            .identity_store_id(&self.store_id)
            .display_name(name)
            .send()
            .await
            .expect("CreateGroup");
        let id = out.group_id().to_string();
        for member in members {
            self.store
                .create_group_membership()
                .identity_store_id(&self.store_id)
                .group_id(&id)
                .member_id(MemberId::UserId(member.to_string()))
                .send()
                .await
                .expect("CreateGroupMembership");
        }
        id
    }

    async fn assign(&self, account: &str, set_arn: &str, kind: PrincipalType, id: &str) {
        self.admin
            .create_account_assignment()
            .instance_arn(&self.instance_arn)
            .target_id(account)
            .target_type(TargetType::AwsAccount)
            .permission_set_arn(set_arn)
            .principal_type(kind)
            .principal_id(id)
            .send()
            .await
            .expect("CreateAccountAssignment");
    }

    /// The principal IDs assigned a permission set in an account, sorted.
    async fn assigned(&self, account: &str, set_arn: &str) -> Vec<String> {
        let out = self
            .admin
            .list_account_assignments()
            .instance_arn(&self.instance_arn)
            .account_id(account)
            .permission_set_arn(set_arn)
            .send()
            .await
            .expect("ListAccountAssignments");
        let mut ids: Vec<String> = out
            .account_assignments()
            .iter()
            .filter_map(|a| a.principal_id().map(str::to_string))
            .collect();
        ids.sort();
        ids
    }

    /// The member user IDs of a group, sorted.
    async fn members(&self, group_id: &str) -> Vec<String> {
        let out = self
            .store
            .list_group_memberships()
            .identity_store_id(&self.store_id)
            .group_id(group_id)
            .send()
            .await
            .expect("ListGroupMemberships");
        let mut ids: Vec<String> = out
            .group_memberships()
            .iter()
            .filter_map(|m| m.member_id()?.as_user_id().ok().cloned())
            .collect();
        ids.sort();
        ids
    }
}

const LEVELS: &str = "  admin:\n    requires: [bpss]\n    temporary_requires: [bpss]\n    aws_permission_sets: [production/AdminAccess]\n    identity_center_groups: [prod-admins]\n  deploy:\n    requires: [bpss]\n    aws_permission_sets: [staging/DeployAccess]";

fn roster() -> String {
    let temporary = |email: &str, standing: &str, expires: &str| {
        format!(
            "- email: {email}\n  attestations: [bpss]\n{standing}  temporary:\n    - access: admin\n      expires: {expires}\n      approved_by: alice@example.com\n      supervised_by: alice@example.com\n"
        )
    };
    let soon = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    person("alice@example.com", "admin")
        + &person("bob@example.com", "deploy")
        + &temporary("carol@example.com", "", "2026-01-05")
        + &person("dave@example.com", "admin")
        + "  absent_since: 2026-01-01\n"
        + &temporary("frank@example.com", "  access: deploy\n", &soon)
}

/// What the scenario made, for assertions on moto's state afterwards.
struct Seeded {
    ic: IdentityCenter,
    workspace: Workspace,
    admin_set: String,
    deploy_set: String,
    admins: String,
    ids: std::collections::BTreeMap<&'static str, String>,
}

/// Alice holds admin directly and through prod-admins; Bob (deploy) holds
/// admin both ways; Carol's temporary admin lapsed (through the group);
/// Dave is absent (direct); Frank's temporary admin ends in three days;
/// Mallory is nobody, assigned deploy; a deleted user is still assigned
/// admin; break-glass is protected. With `unfixable`, Erin is entitled to
/// admin and holds nothing, and Mallory holds admin through an unmanaged group.
async fn seed(moto: &Moto, unfixable: bool) -> Seeded {
    let ic = IdentityCenter::connect(moto).await;
    let admin_set = ic.permission_set("AdminAccess").await;
    let deploy_set = ic.permission_set("DeployAccess").await;
    let mut ids = std::collections::BTreeMap::new();
    for name in [
        "alice",
        "bob",
        "carol",
        "dave",
        "frank",
        "mallory",
        "ghost",
        "break.glass",
    ] {
        ids.insert(name, ic.user(&format!("{name}@example.com")).await);
    }
    let admins = ic
        .group(
            "prod-admins",
            &[&ids["alice"], &ids["bob"], &ids["carol"], &ids["frank"]],
        )
        .await;
    for who in ["alice", "bob", "dave", "frank", "ghost", "break.glass"] {
        ic.assign(PRODUCTION, &admin_set, PrincipalType::User, &ids[who])
            .await;
    }
    ic.assign(PRODUCTION, &admin_set, PrincipalType::Group, &admins)
        .await;
    for who in ["bob", "frank", "mallory"] {
        ic.assign(STAGING, &deploy_set, PrincipalType::User, &ids[who])
            .await;
    }
    ic.store
        .delete_user()
        .identity_store_id(&ic.store_id)
        .user_id(&ids["ghost"])
        .send()
        .await
        .expect("DeleteUser");
    let mut roster = roster();
    if unfixable {
        let contractors = ic.group("contractors", &[&ids["mallory"]]).await;
        ic.assign(PRODUCTION, &admin_set, PrincipalType::Group, &contractors)
            .await;
        roster += &person("erin@example.com", "admin");
    }
    let identity_center = format!(
        "  identity_center:\n    instance_arn: {}\n    identity_store_id: {}\n    region: us-east-1\n",
        ic.instance_arn, ic.store_id
    );
    let config = config_yaml(&moto.endpoint_url(), LEVELS, &identity_center)
        .replace(
            "protected: [",
            "max_revocation_ratio: 1.0\n  max_target_ratio: 1.0\n  protected: [\"sso:break.glass@example.com\", ",
        )
        + "audit_log: audit.jsonl\n";
    let workspace = Workspace::new(&config, &roster);
    Seeded {
        ic,
        workspace,
        admin_set,
        deploy_set,
        admins,
        ids,
    }
}

const ADMIN: &str = "sso:production/AdminAccess";
const DEPLOY: &str = "sso:staging/DeployAccess";
const GROUP: &str = "sso-group:prod-admins";

fn config_arg(seeded: &Seeded) -> String {
    seeded.workspace.config_path().to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_has_every_finding_kind_on_both_paths() {
    let moto = Moto::start();
    let seeded = seed(&moto, true).await;
    let (output, report) = plan_json(&moto, &seeded.workspace, &[]);
    assert_eq!(output.status.code(), Some(2), "{report}");
    let ghost = seeded.ids["ghost"].clone();
    let mut expected = vec![
        finding("absent", ADMIN, "dave@example.com", "revoke"),
        finding("expired", ADMIN, "carol@example.com", "revoke"),
        finding("expired", GROUP, "carol@example.com", "revoke"),
        finding("expiring_soon", ADMIN, "frank@example.com", "none"),
        finding("expiring_soon", GROUP, "frank@example.com", "none"),
        finding("missing", ADMIN, "erin@example.com", "none"),
        finding("missing", GROUP, "erin@example.com", "none"),
        finding("orphaned", ADMIN, &ghost, "revoke"),
        finding("unexpected", ADMIN, "bob@example.com", "revoke"),
        finding("unexpected", ADMIN, "bob@example.com", "revoke"),
        finding("unexpected", ADMIN, "mallory@example.com", "none"),
        finding("unexpected", DEPLOY, "mallory@example.com", "revoke"),
        finding("unexpected", GROUP, "bob@example.com", "revoke"),
    ];
    expected.sort();
    assert_eq!(findings(&report), expected, "{report}");
    assert!(report["api_calls"]["sso"].as_u64().unwrap() > 0, "{report}");
    let mallory = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == ADMIN && f["principal"] == "mallory@example.com")
        .unwrap();
    assert!(
        mallory["reason"]
            .as_str()
            .unwrap()
            .contains("sso-group:contractors"),
        "{mallory}"
    );
}

fn results(report: &Value) -> Vec<(String, String, String)> {
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
async fn apply_deletes_assignments_and_memberships_then_the_plan_is_clean() {
    let moto = Moto::start();
    let seeded = seed(&moto, false).await;
    let config = config_arg(&seeded);
    let output = lapse(
        &moto,
        &["apply", "--config", &config, "--yes", "--format", "json"],
    )
    .output()
    .expect("run lapse");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let done = |t: &str, p: &str| (t.to_string(), p.to_string(), "done".to_string());
    let mut expected = vec![
        done(ADMIN, "bob@example.com"),
        done(ADMIN, "bob@example.com"),
        done(ADMIN, "carol@example.com"),
        done(ADMIN, "dave@example.com"),
        done(ADMIN, &seeded.ids["ghost"]),
        done(DEPLOY, "mallory@example.com"),
        done(GROUP, "bob@example.com"),
        done(GROUP, "carol@example.com"),
    ];
    expected.sort();
    assert_eq!(results(&report), expected);

    let ic = &seeded.ic;
    let ids = &seeded.ids;
    let mut admin_holders = vec![
        ids["alice"].clone(),
        ids["frank"].clone(),
        ids["break.glass"].clone(),
        seeded.admins.clone(),
    ];
    admin_holders.sort();
    assert_eq!(
        ic.assigned(PRODUCTION, &seeded.admin_set).await,
        admin_holders
    );
    let mut deploy_holders = vec![ids["bob"].clone(), ids["frank"].clone()];
    deploy_holders.sort();
    assert_eq!(
        ic.assigned(STAGING, &seeded.deploy_set).await,
        deploy_holders
    );
    let mut members = vec![ids["alice"].clone(), ids["frank"].clone()];
    members.sort();
    assert_eq!(ic.members(&seeded.admins).await, members);

    // Every change announced before it was made, and its result after.
    let audit = std::fs::read_to_string(seeded.workspace.path().join("audit.jsonl")).unwrap();
    let records: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sso: Vec<&Value> = records.iter().filter(|r| r["system"] == "sso").collect();
    let intents = sso.iter().filter(|r| r["phase"] == "intent").count();
    let done = sso
        .iter()
        .filter(|r| r["phase"] == "result" && r["result"] == "done")
        .count();
    // Bob's and Carol's memberships, four direct assignments.
    assert_eq!((intents, done), (6, 6), "{audit}");

    let (output, report) = plan_json(&moto, &seeded.workspace, &[]);
    assert_eq!(output.status.code(), Some(0), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_read_stops_the_run_before_anything_changes() {
    let moto = Moto::start();
    let seeded = seed(&moto, false).await;
    moto.inject_fault(
        Fault::new(403, "AccessDeniedException")
            .message("not allowed to list group memberships")
            .on_action("ListGroupMemberships"),
    );
    let config = config_arg(&seeded);
    let output = lapse(
        &moto,
        &["apply", "--config", &config, "--yes", "--format", "json"],
    )
    .output()
    .expect("run lapse");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ListGroupMemberships"), "{stderr}");
    assert!(stderr.contains("AccessDeniedException"), "{stderr}");
    let ic = &seeded.ic;
    assert_eq!(ic.assigned(STAGING, &seeded.deploy_set).await.len(), 3);
    assert_eq!(ic.members(&seeded.admins).await.len(), 4);
    assert!(!seeded.workspace.path().join("audit.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_names_the_url_and_the_config_key() {
    let moto = Moto::start();
    let seeded = seed(&moto, false).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let path = seeded.workspace.config_path();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&moto.endpoint_url(), &url);
    std::fs::write(&path, text).unwrap();
    let config = config_arg(&seeded);
    let output = lapse(&moto, &["plan", "--config", &config, "--format", "json"])
        .output()
        .expect("run lapse");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
    assert!(stderr.contains("aws.endpoint_url"), "{stderr}");
}
