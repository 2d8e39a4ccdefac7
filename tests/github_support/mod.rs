//! A small organisation on the fake GitHub, the config and roster that
//! manage it, and ways to run lapse against it (the binary, or the library).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use lapse_test_support::github::{FakeGithub, Role, TEST_APP_PRIVATE_KEY_PEM};

/// A token distinctive enough that finding it in any output is no accident.
pub const TOKEN: &str = "ghp_lapseTEST0secret0do0not0print0Zq7Xk2";
pub const TOKEN_ENV: &str = "LAPSE_TEST_GITHUB_TOKEN";
pub const ORG: &str = "acme";
pub const APP_ID: u64 = 424242;
pub const INSTALLATION_ID: u64 = 7;
/// The time the roster is evaluated at.
pub const NOW: &str = "2026-11-22";

/// Who may hold what: alice both levels, bob and grace deploy, carol deploy
/// but absent since January.
pub const ROSTER: &str = r#"
- name: Alice
  email: alice@example.org
  github_username: alice
  access: [deploy, admin]
  attestations: [bpss, probation]
- name: Bob
  email: bob@example.org
  github_username: bob
  access: deploy
  attestations: [bpss]
- name: Carol
  email: carol@example.org
  github_username: carol
  access: deploy
  attestations: [bpss]
  absent_since: 2026-01-05
- name: Grace
  email: grace@example.org
  github_username: grace
  access: deploy
  attestations: [bpss]
"#;

/// The org the roster is compared with:
///
/// - `admin`: alice (maintainer), mallory, dave; child `admin-oncall` with
///   bob and dave (so dave is in admin both directly and through the
///   child); grandchild `admin-oncall-nights` with nina;
/// - `deploy`: alice, bob, carol;
/// - invitations: eve to `admin`; frank to `admin` and the unmanaged
///   `social`; grace to `deploy`.
pub struct World {
    pub github: FakeGithub,
    pub eve: u64,
    pub frank: u64,
    pub grace: u64,
}

pub fn world() -> World {
    let github = FakeGithub::start();
    github.personal_token(TOKEN);
    github.test_app(APP_ID, INSTALLATION_ID);
    let org = github.org(ORG);
    org.team("admin")
        .maintainer("alice")
        .member("mallory", Role::Member)
        .member("dave", Role::Member)
        .child("admin-oncall")
        .member("bob", Role::Member)
        .member("dave", Role::Member)
        .child("admin-oncall-nights")
        .member("nina", Role::Member);
    org.team("deploy")
        .member("alice", Role::Member)
        .member("bob", Role::Member)
        .member("carol", Role::Member);
    org.team("social").member("mallory", Role::Member);
    let eve = org.invite_login("eve", &["admin"]);
    let frank = org.invite_login("frank", &["admin", "social"]);
    let grace = org.invite_login("grace", &["deploy"]);
    World {
        github,
        eve,
        frank,
        grace,
    }
}

/// How lapse authenticates in a test config.
pub enum Auth {
    Token,
    App,
}

/// A temp dir holding `lapse.yaml` and `users.yaml` (and the App key).
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("lapse.yaml")
    }
}

pub fn files(api_url: &str, auth: Auth, roster: &str) -> Files {
    files_with_teams(api_url, auth, roster, &["deploy"], &["admin"])
}

/// Like [`files`], naming the teams each level gives.
pub fn files_with_teams(
    api_url: &str,
    auth: Auth,
    roster: &str,
    deploy_teams: &[&str],
    admin_teams: &[&str],
) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let auth = match auth {
        Auth::Token => format!("token_env: {TOKEN_ENV}"),
        Auth::App => {
            std::fs::write(dir.path().join("app.pem"), TEST_APP_PRIVATE_KEY_PEM).unwrap();
            format!(
                "app: {{id: {APP_ID}, installation_id: {INSTALLATION_ID}, private_key_path: app.pem}}"
            )
        }
    };
    let config = format!(
        r#"
roster: users.yaml
policy:
  inactivity_limit_days: null
access_levels:
  deploy:
    requires: [bpss]
    github_teams: [{deploy}]
  admin:
    requires: [bpss, probation]
    github_teams: [{admin}]
github:
  org: {ORG}
  api_url: {api_url}
  {auth}
safety:
  max_revocations: 1000
  max_revocation_ratio: 1.0
audit_log: audit.jsonl
"#,
        deploy = deploy_teams.join(", "),
        admin = admin_teams.join(", "),
    );
    std::fs::write(dir.path().join("lapse.yaml"), config).unwrap();
    std::fs::write(dir.path().join("users.yaml"), roster).unwrap();
    Files { dir }
}

/// Points the config's roster at `source` instead of the local file.
pub fn roster_from(files: &Files, source: &str) {
    let config = std::fs::read_to_string(files.config()).unwrap();
    let config = config.replace("roster: users.yaml", &format!("roster: {source}"));
    std::fs::write(files.config(), config).unwrap();
    std::fs::remove_file(files.dir.path().join("users.yaml")).unwrap();
}

/// What a run of the binary left behind.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The JSON report on stdout.
    pub fn report(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr:\n{}", self.stderr))
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Runs `lapse ARGS --config CONFIG --now NOW --format json` with only the
/// environment given (plus the token, unless `token` is `None`).
pub fn lapse(command: &str, config: &Path, token: Option<&str>, extra: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lapse"));
    cmd.arg(command)
        .arg("--config")
        .arg(config)
        .args(["--now", NOW, "--format", "json"])
        .args(extra)
        .env_clear()
        .env("LAPSE_LOG_FORMAT", "text")
        .env("LAPSE_GITHUB_WRITE_PACING_MS", "0");
    if let Some(token) = token {
        cmd.env(TOKEN_ENV, token);
    }
    let started = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the lapse binary runs");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

pub fn plan(config: &Path) -> Run {
    lapse("plan", config, Some(TOKEN), &[])
}

/// `(kind, target, principal, action)` of every finding, as sorted in the report.
pub fn findings(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["target"].as_str().unwrap().to_owned(),
                f["principal"].as_str().unwrap().to_owned(),
                f["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The finding on `principal` at team `team`.
pub fn finding<'a>(
    report: &'a serde_json::Value,
    team: &str,
    principal: &str,
) -> &'a serde_json::Value {
    let target = format!("github:{ORG}/{team}");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"] == target.as_str() && f["principal"] == principal)
        .unwrap_or_else(|| panic!("no finding for {principal} on {team}: {report:#}"))
}

pub fn row(
    kind: &str,
    team: &str,
    principal: &str,
    action: &str,
) -> (String, String, String, String) {
    (
        kind.to_owned(),
        format!("github:{ORG}/{team}"),
        principal.to_owned(),
        action.to_owned(),
    )
}

/// The findings the roster and [`world`] give, in report order.
pub fn expected_findings() -> Vec<(String, String, String, String)> {
    vec![
        row("unexpected", "admin", "bob", "none"),
        row("unexpected", "admin", "dave", "revoke"),
        row("unexpected", "admin", "dave", "none"),
        row("pending_invitation", "admin", "eve", "revoke"),
        row("pending_invitation", "admin", "frank", "none"),
        row("unexpected", "admin", "mallory", "revoke"),
        row("unexpected", "admin", "nina", "none"),
        row("absent", "deploy", "carol", "revoke"),
    ]
}

/// Requests a plan of [`world`] needs, at most 100 of anything per listing:
/// for each of admin, admin-oncall, admin-oncall-nights and deploy, one page
/// of child teams (4); for the two with children (admin, admin-oncall), one
/// GraphQL page of direct members each (2), and for the two without, one
/// page each of members and maintainers (4); the invitations of the two
/// managed teams (2); the teams of frank's invitation, the only one
/// covering more than one team (1); and the account of each invited login,
/// eve, frank and grace (3).
pub const WORLD_PLAN_REQUESTS: u64 = 16;
/// Of those, the GraphQL queries (`POST /graphql`), which GitHub never
/// answers 304 and counts against GraphQL's own rate limit.
pub const WORLD_PLAN_QUERIES: u64 = 2;
/// Of those, the `GET`s: what a later cycle can read again as 304s, and
/// what the REST API's rate limit counts.
pub const WORLD_PLAN_READS: u64 = WORLD_PLAN_REQUESTS - WORLD_PLAN_QUERIES;
