//! `lapse review` through the built binary: the three forms on the bundled
//! example (the volatile header fields pinned), a header that names what it
//! was made from, every holder the fake GitHub and moto hold with nothing
//! written to either, and a bad roster refused.

mod aws_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use aws_support::{PRODUCTION, STAGING, USERS, allow, create_role, create_user, iam_in};
use chrono::{DateTime, Utc};
use lapse_test_support::github::{FakeGithub, LoggedRequest, Role};
use lapse_test_support::moto::Moto;
use serde_json::{Value, json};
use sha2::Digest as _;

const EXAMPLE_CONFIG: &str = "config/example/lapse.yaml";
const EXAMPLE_ROSTER: &str = "config/example/users.yaml";
const EXAMPLE_SNAPSHOT: &str = "config/example/snapshot.json";

/// `lapse review` of the bundled example as of 2026-11-22, from the package root.
fn review_example(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lapse"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["review", "--config", EXAMPLE_CONFIG])
        .args(["--state", EXAMPLE_SNAPSHOT, "--now", "2026-11-22"])
        .args(extra)
        .env("LAPSE_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .output()
        .expect("run lapse")
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// Runs `check` with the run id, the generation time and the version
/// written as placeholders: all else in a review of a snapshot is fixed.
fn pinned(check: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{8}T\d{6}Z-[0-9a-f]{8}", "[run_id]");
    settings.add_filter(
        r"(generated_at\W+)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z",
        "${1}[generated_at]",
    );
    settings.add_filter(
        r"(lapse.version\W+)\d+\.\d+\.\d+[0-9A-Za-z.+-]*",
        "${1}[version]",
    );
    settings.bind(check);
}

#[test]
fn markdown_review_of_the_example() {
    let output = review_example(&[]);
    assert_exit(&output, 0);
    pinned(|| insta::assert_snapshot!(stdout(&output)));
}

#[test]
fn csv_review_of_the_example() {
    let output = review_example(&["--format", "csv"]);
    assert_exit(&output, 0);
    pinned(|| insta::assert_snapshot!(stdout(&output)));
}

#[test]
fn json_review_of_the_example() {
    let output = review_example(&["--format", "json"]);
    assert_exit(&output, 0);
    pinned(|| insta::assert_snapshot!(stdout(&output)));
}

fn sha256_of(path: &str) -> String {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("read");
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_header_names_the_run_and_the_bytes_it_was_made_from() {
    let before = Utc::now();
    let output = review_example(&["--format", "json"]);
    let after = Utc::now();
    assert_exit(&output, 0);
    let review: Value = serde_json::from_slice(&output.stdout).expect("JSON");

    assert_eq!(review["roster"]["sha256"], sha256_of(EXAMPLE_ROSTER));
    assert_eq!(review["config"]["sha256"], sha256_of(EXAMPLE_CONFIG));
    assert_eq!(review["lapse_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(review["now"], "2026-11-22T00:00:00Z");
    let generated: DateTime<Utc> = review["generated_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("an RFC 3339 generated_at");
    let second = chrono::TimeDelta::seconds(1);
    assert!(before - second <= generated && generated <= after + second);
    // The logs of the run carry the same run id, so they join up.
    let run_id = review["run_id"].as_str().expect("a run id");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("\"run_id\":\"{run_id}\"")),
        "{stderr}"
    );
}

#[test]
fn the_csv_is_one_table_behind_its_comment_header() {
    let json: Value =
        serde_json::from_slice(&review_example(&["--format", "json"]).stdout).expect("JSON");
    let output = review_example(&["--format", "csv"]);
    assert_exit(&output, 0);

    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(&output.stdout[..]);
    let columns = reader.headers().expect("a header row").len();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert!(rows.iter().all(|r| r.len() == columns));
    let holders = json["holders"].as_array().unwrap().len();
    let missing = json["missing"].as_array().unwrap().len();
    assert_eq!(rows.len(), holders + missing);
}

#[test]
fn a_bad_roster_exits_1_and_writes_no_review() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example");
    std::fs::copy(example.join("lapse.yaml"), dir.path().join("lapse.yaml")).expect("config");
    std::fs::write(
        dir.path().join("users.yaml"),
        "- email: jane.doe@example.gov.uk\n  access: production_deploy\n  attestations: [bpss]\n  expiers: 2026-12-01\n",
    )
    .expect("roster");
    let written = dir.path().join("review.md");

    let output = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(["review", "--config"])
        .arg(dir.path().join("lapse.yaml"))
        .args(["--state"])
        .arg(example.join("snapshot.json"))
        .arg("--output")
        .arg(&written)
        .env("LAPSE_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .output()
        .expect("run lapse");

    assert_exit(&output, 1);
    assert!(output.stdout.is_empty());
    assert!(!written.exists(), "a review was written from a bad roster");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown key `expiers`") && stderr.contains(r#""line":4,"column":3"#),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// Against the fakes.

const TOKEN: &str = "ghp_lapseTEST0review0secret0Vb8Rw3";
const TOKEN_ENV: &str = "LAPSE_TEST_GITHUB_TOKEN";

/// Alice holds both levels; Bob deploys; Carol deploys but has been away
/// since January. Nobody else is in it.
const ROSTER: &str = r#"
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
  temporary:
    - access: admin
      expires: 2026-11-30
      approved_by: alice@example.org
      supervised_by: alice@example.org
      reason: release week
"#;

fn user(name: &str) -> String {
    format!("arn:aws:iam::{USERS}:user/{name}@example.org")
}

/// GitHub: `deploy` with four members; `admin` with a maintainer, two
/// members, a child team and a pending invitation. IAM: three managed roles,
/// one also trusting a service.
async fn seed(github: &FakeGithub, moto: &Moto) {
    github.personal_token(TOKEN);
    let org = github.org("acme");
    org.team("deploy")
        .members(["alice", "bob", "carol", "mallory"], Role::Member);
    org.team("admin")
        .maintainer("alice")
        .members(["bob", "mallory"], Role::Member)
        .child("admin-oncall")
        .members(["dave", "bob"], Role::Member);
    org.invite_login("ivy", &["admin"]);

    let users = iam_in(moto, USERS).await;
    for name in ["alice", "bob", "carol", "mallory"] {
        create_user(&users, &format!("{name}@example.org")).await;
    }
    let production = iam_in(moto, PRODUCTION).await;
    let staging = iam_in(moto, STAGING).await;
    create_role(
        &production,
        "deployer",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": [user("alice"), user("bob"), user("carol"), user("mallory")]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]}),
    )
    .await;
    create_role(
        &production,
        "admin",
        &allow(json!([user("alice"), user("bob"), PRODUCTION])),
    )
    .await;
    create_role(
        &staging,
        "deployer",
        &allow(json!([user("alice"), user("bob"), user("carol")])),
    )
    .await;
}

fn config(github: &FakeGithub, moto: &Moto) -> String {
    format!(
        r#"roster: users.yaml
policy:
  inactivity_limit_days: 42
access_levels:
  deploy:
    requires: [bpss]
    github_teams: [deploy]
    aws_roles: [production/deployer, staging/deployer]
  admin:
    requires: [bpss, probation]
    temporary_requires: [bpss]
    github_teams: [admin]
    aws_roles: [production/admin]
github:
  org: acme
  api_url: {api}
  token_env: {TOKEN_ENV}
{aws}"#,
        api = github.base_url(),
        aws = aws_support::aws_section(&moto.endpoint_url()),
    )
}

/// Every grant the fakes hold in the managed scope, as `target principal`:
/// team members as GitHub lists them (child teams included), invitations,
/// and every principal of every managed role's trust policy.
async fn held_by_the_fakes(github: &FakeGithub, moto: &Moto) -> BTreeSet<String> {
    let mut held = BTreeSet::new();
    for team in ["deploy", "admin"] {
        for login in github.members("acme", team) {
            held.insert(format!("github:acme/{team} {login}"));
        }
    }
    for invitation in github.invitations("acme") {
        for team in invitation.teams.iter().filter(|t| *t == "admin") {
            let login = invitation.login.clone().expect("a login");
            held.insert(format!("github:acme/{team} {login} (invited)"));
        }
    }
    for (account, role) in [
        (PRODUCTION, "deployer"),
        (PRODUCTION, "admin"),
        (STAGING, "deployer"),
    ] {
        let document = aws_support::trust_policy(&iam_in(moto, account).await, role).await;
        for statement in document["Statement"].as_array().expect("statements") {
            for principals in statement["Principal"].as_object().expect("a map").values() {
                let list = match principals {
                    Value::Array(list) => list.clone(),
                    one => vec![one.clone()],
                };
                for p in list {
                    let target = aws_support::role_arn(account, role);
                    held.insert(format!("{target} {}", p.as_str().expect("a string")));
                }
            }
        }
    }
    held
}

/// Whether a request to the fake GitHub can change anything: GraphQL
/// queries are POSTs, but they only read.
fn is_write(request: &LoggedRequest) -> bool {
    let query = request.method == "POST" && request.path_and_query.starts_with("/graphql");
    request.method != "GET" && !query
}

fn holder<'r>(review: &'r Value, target: &str, principal: &str) -> &'r Value {
    review["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .find(|h| h["target"] == target && h["principal"] == principal)
        .unwrap_or_else(|| panic!("no holder {principal} on {target}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_review_lists_every_holder_the_fakes_hold_and_changes_nothing() {
    let github = FakeGithub::start();
    let moto = Moto::start();
    seed(&github, &moto).await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("users.yaml"), ROSTER).expect("roster");
    std::fs::write(dir.path().join("lapse.yaml"), config(&github, &moto)).expect("config");
    let before = held_by_the_fakes(&github, &moto).await;
    github.reset_counters();
    moto.reset_counts();

    let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
    command
        .args([
            "review",
            "--format",
            "json",
            "--now",
            "2026-11-22",
            "--config",
        ])
        .arg(dir.path().join("lapse.yaml"))
        .env("LAPSE_LOG_FORMAT", "json")
        .env(TOKEN_ENV, TOKEN)
        .stdin(Stdio::null());
    moto.configure_command(&mut command);
    let output = command.output().expect("run lapse");

    assert_exit(&output, 0);
    let review: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let listed: BTreeSet<String> = review["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| {
            let invited = if h["held_as"] == "invitation" {
                " (invited)"
            } else {
                ""
            };
            format!(
                "{} {}{invited}",
                h["target"].as_str().unwrap(),
                h["principal"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(listed, before);

    assert_eq!(
        github.count_requests(is_write),
        0,
        "{:?}",
        github.requests()
    );
    assert!(github.request_count() > 0, "the review read nothing live");
    let actions = moto.request_counts_by_action();
    assert!(actions.contains_key("GetRole") || actions.contains_key("ListRoles"));
    let reads = |action: &str| {
        ["Get", "List", "GenerateCredentialReport", "AssumeRole"]
            .iter()
            .any(|read| action.starts_with(read))
    };
    assert!(actions.keys().all(|a| reads(a)), "{actions:?}");
    assert_eq!(held_by_the_fakes(&github, &moto).await, before);
    assert_grounds(&review);
}

/// What the review says of a few of the fakes' holders.
fn assert_grounds(review: &Value) {
    let grounds = |target: &str, principal: &str| holder(review, target, principal).clone();
    let mallory = grounds("github:acme/deploy", "mallory");
    assert_eq!(mallory["person"], Value::Null);
    assert_eq!(mallory["findings"][0]["kind"], "unexpected");
    let dave = grounds("github:acme/admin", "dave");
    assert_eq!(dave["via"], "github:acme/admin-oncall");
    // Bob holds admin twice, directly and through the child team: the
    // direct membership is revoked, the other reported.
    let bob: Vec<(&Value, &Value)> = review["holders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["target"] == "github:acme/admin" && h["principal"] == "bob")
        .map(|h| (&h["via"], &h["findings"][0]["action"]))
        .collect();
    let child = json!("github:acme/admin-oncall");
    assert_eq!(
        bob,
        [(&Value::Null, &json!("revoke")), (&child, &json!("none"))]
    );
    let carol = grounds(
        &aws_support::role_arn(PRODUCTION, "deployer"),
        &user("carol"),
    );
    assert_eq!(carol["findings"][0]["kind"], "absent");
    assert_eq!(carol["person"]["absent_since"], "2026-01-05T00:00:00Z");
    assert_eq!(carol["activity"]["iam_user"], user("carol"));
    let alice = grounds("github:acme/admin", "alice");
    assert_eq!(alice["held_as"], "maintainer");
    assert_eq!(alice["person"]["levels"][0]["level"], "admin");
    assert_eq!(alice["person"]["levels"][0]["basis"], "standing");
    assert_eq!(alice["findings"], json!([]));
    let ivy = grounds("github:acme/admin", "ivy");
    assert_eq!(ivy["findings"][0]["kind"], "pending_invitation");
    let service = grounds(
        &aws_support::role_arn(PRODUCTION, "deployer"),
        "codebuild.amazonaws.com",
    );
    assert_eq!(service["principal_type"], "Service");
}

/// What `git hash-object` names these bytes by.
fn git_hash_object(bytes: &[u8]) -> String {
    use std::io::Write as _;
    let mut git = Command::new("git")
        .args(["hash-object", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run git");
    git.stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let out = git.wait_with_output().expect("git hash-object");
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_string()
}

#[test]
fn a_roster_read_from_github_is_named_by_its_blob_sha_and_ref() {
    let github = FakeGithub::start();
    github.personal_token(TOKEN);
    github
        .org("acme")
        .team("deploy")
        .members(["alice", "bob"], Role::Member);
    github.file_at_ref("acme", "access", "release", "people/users.yaml", ROSTER);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "roster: github:acme/access/people/users.yaml@release\npolicy:\n  inactivity_limit_days: null\naccess_levels:\n  deploy:\n    requires: [bpss]\n    github_teams: [deploy]\n  admin:\n    requires: [bpss, probation]\n    temporary_requires: [bpss]\ngithub:\n  org: acme\n  api_url: {}\n  token_env: {TOKEN_ENV}\n",
        github.base_url()
    );
    std::fs::write(dir.path().join("lapse.yaml"), config).expect("config");

    let output = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args([
            "review",
            "--format",
            "json",
            "--now",
            "2026-11-22",
            "--config",
        ])
        .arg(dir.path().join("lapse.yaml"))
        .env("LAPSE_LOG_FORMAT", "json")
        .env(TOKEN_ENV, TOKEN)
        .stdin(Stdio::null())
        .output()
        .expect("run lapse");

    assert_exit(&output, 0);
    let review: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let roster = &review["roster"];
    assert_eq!(
        roster["source"],
        "github:acme/access/people/users.yaml@release"
    );
    assert_eq!(
        roster["git"]["blob_sha"],
        git_hash_object(ROSTER.as_bytes())
    );
    assert_eq!(roster["git"]["ref"], "release");
    let sha256: String = sha2::Sha256::digest(ROSTER.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(roster["sha256"], sha256);
    assert_eq!(github.count_requests(is_write), 0);
}
