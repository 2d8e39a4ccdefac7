//! What the IAM integration tests share: SDK clients that seed and inspect
//! moto, a config and roster written to a temp dir, the `lapse` binary run
//! hermetically against moto, and an audit sink that keeps what it is told.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use aws_sdk_iam::Client;
use lapse::aws::IamSystem;
use lapse::config::{self, Config};
use lapse::model::Revocation;
use lapse::system::{AuditEvent, AuditSink, Planned};
use lapse_test_support::moto::{DEFAULT_ACCOUNT_ID, Moto, TEST_REGION};
use serde_json::{Value, json};

/// Where the people's IAM users live: moto's default account, reached with
/// the base credentials (`assume_role_arn: null`).
pub const USERS: &str = DEFAULT_ACCOUNT_ID;
/// Two role accounts, each reached by assuming `role/lapse` through moto's STS.
pub const PRODUCTION: &str = "210987654321";
pub const STAGING: &str = "345678901234";

pub fn user_arn(email: &str) -> String {
    format!("arn:aws:iam::{USERS}:user/{email}")
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// A config managing `levels` (YAML under `access_levels:`), with the two
/// role accounts and the users account, pointed at `endpoint`.
pub fn config_yaml(endpoint: &str, levels: &str, aws_extra: &str) -> String {
    format!(
        r#"roster: users.yaml
policy:
  inactivity_limit_days: 42
access_levels:
{levels}
{aws}{aws_extra}
safety:
  protected: ["arn:aws:iam::{USERS}:user/break-glass@example.com"]
"#,
        aws = aws_section(endpoint),
    )
}

/// The config's `aws:` section (ending in a newline): the users account
/// reached with base credentials, the two role accounts through moto's STS,
/// every client pointed at `endpoint`. Append more `aws` keys indented by two.
pub fn aws_section(endpoint: &str) -> String {
    format!(
        r#"aws:
  region: {TEST_REGION}
  endpoint_url: "{endpoint}"
  user_arn_template: "arn:aws:iam::{USERS}:user/{{email}}"
  users_account: {{id: "{USERS}", assume_role_arn: null}}
  accounts:
    production: {{id: "{PRODUCTION}", assume_role_arn: "arn:aws:iam::{PRODUCTION}:role/lapse"}}
    staging: {{id: "{STAGING}", assume_role_arn: "arn:aws:iam::{STAGING}:role/lapse"}}
"#
    )
}

/// One roster entry holding `level` with the attestation it needs.
pub fn person(email: &str, level: &str) -> String {
    format!("- name: {email}\n  email: {email}\n  access: {level}\n  attestations: [bpss]\n")
}

/// A temp dir holding `lapse.yaml` and `users.yaml`.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(config: &str, roster: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("lapse.yaml"), config).expect("write config");
        std::fs::write(dir.path().join("users.yaml"), roster).expect("write roster");
        Workspace { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("lapse.yaml")
    }

    pub fn config(&self) -> Config {
        config::load(&self.config_path()).unwrap_or_else(|d| panic!("test config is invalid:\n{d}"))
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The `lapse` binary, with an environment that reaches moto and nothing else.
pub fn lapse(moto: &Moto, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
    command.args(args).env("LAPSE_LOG_FORMAT", "json");
    moto.configure_command(&mut command);
    command
}

/// Runs `lapse plan --format json` and parses the report it prints.
pub fn plan_json(moto: &Moto, workspace: &Workspace, extra: &[&str]) -> (Output, Value) {
    let config = workspace.config_path();
    let mut args = vec![
        "plan",
        "--config",
        config.to_str().expect("UTF-8 path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = lapse(moto, &args).output().expect("run lapse");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "lapse printed no JSON report ({e}); exit {:?}\nstdout: {}\nstderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, report)
}

/// The findings as `(kind, target, principal, action)`, sorted.
pub fn findings(report: &Value) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap_or_default().to_string();
            (
                field("kind"),
                field("target"),
                field("principal"),
                field("action"),
            )
        })
        .collect();
    out.sort();
    out
}

pub fn finding(
    kind: &str,
    target: &str,
    principal: &str,
    action: &str,
) -> (String, String, String, String) {
    (kind.into(), target.into(), principal.into(), action.into())
}

/// A client acting in `account`: the default account directly, others by
/// assuming a role there, as lapse does.
pub async fn iam_in(moto: &Moto, account: &str) -> Client {
    Client::new(&moto.sdk_config_in(account).await)
}

/// lapse's IAM system for this config, with the test credentials.
pub async fn connect(config: &Config) -> IamSystem {
    let aws = config.aws.as_ref().expect("an aws section");
    let endpoint = aws.endpoint_url.as_deref().expect("an endpoint");
    IamSystem::connect_with(aws, lapse_test_support::moto::sdk_loader(endpoint))
        .await
        .expect("connect to moto")
}

/// A trust policy allowing `principals` (a JSON string or list) to assume the role.
pub fn allow(principals: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]})
}

pub async fn create_role(iam: &Client, name: &str, trust_policy: &Value) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"));
}

/// The role's trust policy as moto holds it now, decoded.
pub async fn trust_policy(iam: &Client, name: &str) -> Value {
    let role = iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetRole {name}: {e:?}"));
    let encoded = role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .expect("a trust policy");
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("UTF-8");
    serde_json::from_str(&decoded).expect("JSON")
}

pub async fn create_user(iam: &Client, name: &str) {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateUser {name}: {e:?}"));
}

/// Creates an access key for the user and answers its ID.
pub async fn create_access_key(iam: &Client, user: &str) -> String {
    iam.create_access_key()
        .user_name(user)
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key()
        .expect("key")
        .access_key_id()
        .to_string()
}

pub async fn create_login_profile(iam: &Client, user: &str) {
    iam.create_login_profile()
        .user_name(user)
        .password("correct-Horse-battery-5taple")
        .send()
        .await
        .expect("CreateLoginProfile");
}

/// A planned trust-policy revocation.
pub fn planned(finding: usize, role_arn: &str, principal: &str) -> Planned {
    Planned {
        finding,
        revocation: Revocation::TrustPrincipal {
            role_arn: role_arn.to_string(),
            principal: principal.to_string(),
        },
        reason: format!("test revocation {finding}"),
    }
}

/// Keeps every audit event, in order.
#[derive(Default)]
pub struct Audit(Mutex<Vec<AuditEvent>>);

impl Audit {
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0.lock().expect("audit lock").clone()
    }
}

impl AuditSink for Audit {
    fn record(&self, event: AuditEvent) -> Result<(), String> {
        self.0.lock().expect("audit lock").push(event);
        Ok(())
    }
}

/// An audit trail whose disk is full: nothing can be recorded.
pub struct FullDisk;

impl AuditSink for FullDisk {
    fn record(&self, _: AuditEvent) -> Result<(), String> {
        Err("No space left on device".into())
    }
}
