//! `apply`, `run` and `snapshot` through the built binary against the fake
//! GitHub and moto together: the plan is clean after an apply; each gate
//! refuses and changes nothing; an override goes through and is recorded;
//! no terminal and no `--yes` changes nothing; a failure on one target
//! leaves the rest done and a second run finishes; SIGTERM mid-apply leaves
//! an audit trail that matches what changed; a snapshot plans like the live
//! systems; progress shows on a terminal only.

mod aws_support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_support::{PRODUCTION, STAGING, USERS, allow, create_role, create_user, iam_in};
use lapse_test_support::github::{FakeGithub, Role};
use lapse_test_support::moto::{Fault, Moto};
use serde_json::{Value, json};

const TOKEN: &str = "ghp_lapseTEST0apply0secret0Zq7Xk2";
const TOKEN_ENV: &str = "LAPSE_TEST_GITHUB_TOKEN";
const NOW: &str = "2026-11-22";

/// Alice holds both levels; Bob deploys; Carol deploys but has been away
/// since January; Mallory is in no roster and `break-glass` is protected.
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
"#;

fn user(name: &str) -> String {
    format!("arn:aws:iam::{USERS}:user/{name}@example.org")
}

/// The fake GitHub and moto seeded with the same small organisation, and a
/// temp dir with its config and roster.
struct World {
    github: FakeGithub,
    moto: Moto,
    dir: tempfile::TempDir,
}

// What lapse should revoke in [`world`], and nothing else:
// GitHub `deploy` carol and mallory, `admin` bob and mallory (of 8 grants,
// break-glass's protected one included); IAM production `deployer` carol
// and mallory, staging `deployer` carol, production `admin` bob (of 10
// people's grants; the service principal is not a person's).
const GITHUB_REVOCATIONS: usize = 4;
const AWS_REVOCATIONS: usize = 4;

async fn world() -> World {
    let github = FakeGithub::start();
    github.personal_token(TOKEN);
    let org = github.org("acme");
    org.team("deploy")
        .members(["alice", "bob", "carol", "mallory"], Role::Member);
    org.team("admin")
        .maintainer("alice")
        .members(["bob", "mallory", "break-glass"], Role::Member);

    let moto = Moto::start();
    let users = iam_in(&moto, USERS).await;
    for name in ["alice", "bob", "carol", "mallory"] {
        create_user(&users, &format!("{name}@example.org")).await;
    }
    let production = iam_in(&moto, PRODUCTION).await;
    let staging = iam_in(&moto, STAGING).await;
    create_role(
        &production,
        "deployer",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "People", "Effect": "Allow", "Principal": {"AWS": [user("alice"), user("bob"), user("carol"), user("mallory")]}, "Action": "sts:AssumeRole"},
            {"Sid": "Pipeline", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]}),
    )
    .await;
    create_role(
        &production,
        "admin",
        &allow(json!([user("alice"), user("bob"), user("break-glass")])),
    )
    .await;
    create_role(
        &staging,
        "deployer",
        &allow(json!([user("alice"), user("bob"), user("carol")])),
    )
    .await;

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("users.yaml"), ROSTER).expect("roster");
    let world = World { github, moto, dir };
    world.write_config(Gates::OPEN, "");
    world
}

/// The count and ratio gates of a config.
#[derive(Clone, Copy)]
struct Gates {
    max_revocations: u32,
    max_revocation_ratio: f64,
}

impl Gates {
    /// Wide enough for every revocation [`world`] plans.
    const OPEN: Gates = Gates {
        max_revocations: 100,
        max_revocation_ratio: 1.0,
    };
}

impl World {
    fn config_path(&self) -> PathBuf {
        self.dir.path().join("lapse.yaml")
    }

    fn audit_path(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    /// Writes the config with these gates and `top_level` YAML appended
    /// (e.g. `mode: enforce`).
    fn write_config(&self, gates: Gates, top_level: &str) {
        let config = format!(
            r#"roster: users.yaml
policy:
  inactivity_limit_days: null
access_levels:
  deploy:
    requires: [bpss]
    github_teams: [deploy]
    aws_roles: [production/deployer, staging/deployer]
  admin:
    requires: [bpss, probation]
    github_teams: [admin]
    aws_roles: [production/admin]
github:
  org: acme
  api_url: {api}
  token_env: {TOKEN_ENV}
{aws}safety:
  max_revocations: {max_revocations}
  max_revocation_ratio: {max_revocation_ratio}
  max_target_ratio: 1.0
  protected: ["github:break-glass", "{break_glass}"]
audit_log: audit.jsonl
{top_level}"#,
            api = self.github.base_url(),
            aws = aws_support::aws_section(&self.moto.endpoint_url()),
            break_glass = user("break-glass"),
            max_revocations = gates.max_revocations,
            max_revocation_ratio = gates.max_revocation_ratio,
        );
        std::fs::write(self.config_path(), config).expect("config");
    }

    /// `lapse ARGS --config CONFIG [--now NOW]`, reaching only the fakes,
    /// with JSON logs and no terminal.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
        command
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .env("LAPSE_LOG_FORMAT", "json")
            .env("LAPSE_GITHUB_WRITE_PACING_MS", "0")
            .env(TOKEN_ENV, TOKEN)
            .stdin(Stdio::null());
        if args[0] != "snapshot" {
            command.args(["--now", NOW]);
        }
        self.moto.configure_command(&mut command);
        command
    }

    fn lapse(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run lapse")
    }

    /// Every GitHub membership still held, as `team:login`.
    fn github_grants(&self) -> BTreeSet<String> {
        ["deploy", "admin"]
            .iter()
            .flat_map(|team| {
                self.github
                    .direct_members("acme", team)
                    .into_iter()
                    .map(move |(login, _)| format!("{team}:{login}"))
            })
            .collect()
    }

    /// Every principal (of any type) each managed role's trust policy holds,
    /// as `account/role:principal`, and the whole documents.
    async fn iam_grants(&self) -> (BTreeSet<String>, Vec<Value>) {
        let mut grants = BTreeSet::new();
        let mut documents = Vec::new();
        for (account, role) in [
            (PRODUCTION, "deployer"),
            (PRODUCTION, "admin"),
            (STAGING, "deployer"),
        ] {
            let iam = iam_in(&self.moto, account).await;
            let document = aws_support::trust_policy(&iam, role).await;
            for statement in document["Statement"].as_array().expect("statements") {
                for principals in statement["Principal"]
                    .as_object()
                    .expect("principal map")
                    .values()
                {
                    let list = match principals {
                        Value::Array(list) => list.clone(),
                        one => vec![one.clone()],
                    };
                    for p in list {
                        grants.insert(format!("{account}/{role}:{}", p.as_str().unwrap()));
                    }
                }
            }
            documents.push(document);
        }
        (grants, documents)
    }

    /// Mutating requests either system has answered.
    fn writes(&self) -> usize {
        let github = self.github.count_requests(|r| r.method != "GET");
        let counts = self.moto.request_counts_by_action();
        let aws: u64 = [
            "UpdateAssumeRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
        ]
        .iter()
        .map(|a| counts.get(*a).copied().unwrap_or(0))
        .sum();
        github + aws as usize
    }

    fn audit_records(&self) -> Vec<Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every audit line is JSON"))
            .collect()
    }
}

fn initial_github() -> BTreeSet<String> {
    [
        "admin:alice",
        "admin:bob",
        "admin:break-glass",
        "admin:mallory",
        "deploy:alice",
        "deploy:bob",
        "deploy:carol",
        "deploy:mallory",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn initial_iam() -> BTreeSet<String> {
    let mut grants = BTreeSet::new();
    for name in ["alice", "bob", "carol", "mallory"] {
        grants.insert(format!("{PRODUCTION}/deployer:{}", user(name)));
    }
    grants.insert(format!("{PRODUCTION}/deployer:codebuild.amazonaws.com"));
    for name in ["alice", "bob", "break-glass"] {
        grants.insert(format!("{PRODUCTION}/admin:{}", user(name)));
    }
    for name in ["alice", "bob", "carol"] {
        grants.insert(format!("{STAGING}/deployer:{}", user(name)));
    }
    grants
}

/// The grants a complete apply leaves.
fn cleaned(initial: BTreeSet<String>, revoked: &[&str]) -> BTreeSet<String> {
    initial
        .into_iter()
        .filter(|g| !revoked.contains(&g.as_str()))
        .collect()
}

fn expected_github_after() -> BTreeSet<String> {
    cleaned(
        initial_github(),
        &[
            "deploy:carol",
            "deploy:mallory",
            "admin:bob",
            "admin:mallory",
        ],
    )
}

fn expected_iam_after() -> BTreeSet<String> {
    let revoked = [
        format!("{PRODUCTION}/deployer:{}", user("carol")),
        format!("{PRODUCTION}/deployer:{}", user("mallory")),
        format!("{PRODUCTION}/admin:{}", user("bob")),
        format!("{STAGING}/deployer:{}", user("carol")),
    ];
    let revoked: Vec<&str> = revoked.iter().map(String::as_str).collect();
    cleaned(initial_iam(), &revoked)
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); exit {:?}\nstdout: {}\nstderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
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

/// `(system, target, principal, result)` of every finding lapse meant to revoke.
fn revocations(report: &Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["action"] == "revoke")
        .map(|f| {
            let field = |name: &str| f[name].as_str().unwrap_or("-").to_string();
            (
                field("system"),
                field("target"),
                field("principal"),
                field("result"),
            )
        })
        .collect()
}

fn results(report: &Value) -> Vec<String> {
    revocations(report).into_iter().map(|r| r.3).collect()
}

/// Every intent in the audit file is followed by exactly one result for the
/// same target and principals; answers the results' outcomes.
fn assert_audit_consistent(records: &[Value]) -> Vec<(String, Vec<String>, String)> {
    let mut open: Vec<(String, Value)> = Vec::new();
    let mut closed = Vec::new();
    for record in records {
        let key = |r: &Value| {
            (
                r["target"].as_str().unwrap_or("").to_string(),
                r["principals"].clone(),
            )
        };
        match record["phase"].as_str() {
            Some("intent") => {
                let (target, principals) = key(record);
                assert!(
                    !open.iter().any(|(t, p)| *t == target && *p == principals),
                    "two intents without a result: {record}"
                );
                open.push((target, principals));
            }
            Some("result") => {
                let (target, principals) = key(record);
                let at = open
                    .iter()
                    .position(|(t, p)| *t == target && *p == principals)
                    .unwrap_or_else(|| panic!("a result without an intent: {record}"));
                open.remove(at);
                let principals = principals
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect();
                closed.push((
                    target,
                    principals,
                    record["result"].as_str().unwrap().to_string(),
                ));
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "intents with no result: {open:?}");
    closed
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_revokes_in_both_systems_then_the_plan_is_clean() {
    let world = world().await;

    let output = world.lapse(&["apply", "--yes", "--format", "json"]);

    assert_exit(&output, 0);
    let report = json_report(&output);
    assert_eq!(
        results(&report),
        vec!["done"; GITHUB_REVOCATIONS + AWS_REVOCATIONS]
    );
    assert_eq!(world.github_grants(), expected_github_after());
    let (iam, documents) = world.iam_grants().await;
    assert_eq!(iam, expected_iam_after());
    // The statement with the service principal keeps its Sid and place.
    assert_eq!(
        documents[0],
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "People", "Effect": "Allow", "Principal": {"AWS": [user("alice"), user("bob")]}, "Action": "sts:AssumeRole"},
            {"Sid": "Pipeline", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]})
    );
    // Protected principals are reported, never revoked.
    for f in report["findings"].as_array().unwrap() {
        if f["principal"].as_str().unwrap().contains("break-glass") {
            assert_eq!(f["action"], "none", "{f}");
        }
    }
    // The audit file: one run id, the report's; every change opened and closed.
    let records = world.audit_records();
    assert!(
        records.iter().all(|r| r["run_id"] == report["run_id"]),
        "{records:?}"
    );
    let closed = assert_audit_consistent(&records);
    assert!(closed.iter().all(|(_, _, result)| result == "done"));
    let principals: usize = closed.iter().map(|(_, p, _)| p.len()).sum();
    assert_eq!(principals, GITHUB_REVOCATIONS + AWS_REVOCATIONS);

    let again = world.lapse(&["plan", "--format", "json"]);
    assert_exit(&again, 0);
    assert!(revocations(&json_report(&again)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn each_gate_refuses_with_exit_3_says_why_and_changes_nothing() {
    let world = world().await;
    let gates = [
        (
            Gates {
                max_revocations: 3,
                ..Gates::OPEN
            },
            "github: 4 revocations planned, more than safety.max_revocations (3)",
        ),
        (
            Gates {
                max_revocation_ratio: 0.45,
                ..Gates::OPEN
            },
            "github: 4 of 8 current grants (50%) would be revoked, more than safety.max_revocation_ratio (45%)",
        ),
        (
            Gates {
                max_revocation_ratio: 0.35,
                ..Gates::OPEN
            },
            "aws: 4 of 10 current grants (40%) would be revoked",
        ),
    ];
    for (gates, why) in gates {
        world.write_config(gates, "");

        let output = world.lapse(&["apply", "--yes", "--format", "json"]);

        assert_exit(&output, 3);
        let report = json_report(&output);
        let refused = report["refused"].as_str().expect("report.refused");
        assert!(refused.contains(why), "{refused}\nwanted: {why}");
        assert!(
            results(&report).iter().all(|r| r == "refused"),
            "{report:#}"
        );
        assert_eq!(world.writes(), 0, "a refused apply wrote something");
        assert!(world.audit_records().is_empty());
    }
    assert_eq!(world.github_grants(), initial_github());
    assert_eq!(world.iam_grants().await.0, initial_iam());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_override_lets_a_bulk_clean_up_through_and_records_why() {
    let world = world().await;
    world.write_config(
        Gates {
            max_revocations: 1,
            ..Gates::OPEN
        },
        "",
    );
    let reason = "leavers of the October reorganisation, ticket 4711";

    let output = world.lapse(&[
        "apply",
        "--yes",
        "--override-gates",
        reason,
        "--format",
        "json",
    ]);

    assert_exit(&output, 0);
    let report = json_report(&output);
    assert_eq!(report["gates_overridden"], reason);
    assert_eq!(world.github_grants(), expected_github_after());
    assert_eq!(world.iam_grants().await.0, expected_iam_after());
    let records = world.audit_records();
    // The run's first record says it starts acting; the override follows,
    // and every record of the run carries the reason.
    assert_eq!(records[0]["phase"], "start", "{records:?}");
    let first = &records[1];
    assert_eq!(first["phase"], "override", "{records:?}");
    assert!(records.iter().all(|r| r["override_reason"] == reason));
    let recorded = first["reason"].as_str().unwrap();
    assert!(
        recorded.contains(reason) && recorded.contains("max_revocations (1)"),
        "{recorded}"
    );
    // Protected principals stay, override or not.
    assert!(world.github_grants().contains("admin:break-glass"));
    assert!(
        world
            .iam_grants()
            .await
            .0
            .contains(&format!("{PRODUCTION}/admin:{}", user("break-glass")))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_or_yes_apply_refuses_and_changes_nothing() {
    let world = world().await;

    let output = world.lapse(&["apply", "--format", "json"]);

    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(world.writes(), 0);
    assert_eq!(world.github_grants(), initial_github());
    assert_eq!(world.iam_grants().await.0, initial_iam());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_on_one_target_leaves_the_rest_done_and_a_second_run_finishes() {
    let world = world().await;
    // GitHub refuses one membership (403, not retried); IAM denies one write
    // in production (AccessDenied, not retried).
    world
        .github
        .fail_requests("/teams/admin/memberships/mallory", 1, 403);
    world.moto.inject_fault(
        Fault::access_denied()
            .on_action("UpdateAssumeRolePolicy")
            .in_account(PRODUCTION),
    );

    let first = world.lapse(&["apply", "--yes", "--format", "json"]);

    assert_exit(&first, 4);
    let report = json_report(&first);
    let failed: Vec<_> = revocations(&report)
        .into_iter()
        .filter(|r| r.3 != "done")
        .collect();
    assert!(failed.iter().all(|r| r.3 == "failed"), "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|r| r.0 == "github" && r.1 == "github:acme/admin" && r.2 == "mallory"),
        "{failed:?}"
    );
    // The denied write is one production role: all its principals failed together.
    let aws_failed: BTreeSet<&str> = failed
        .iter()
        .filter(|r| r.0 == "aws")
        .map(|r| r.1.as_str())
        .collect();
    assert_eq!(aws_failed.len(), 1, "{failed:?}");
    assert!(aws_failed.iter().next().unwrap().contains(PRODUCTION));
    let github_failed = failed.iter().filter(|r| r.0 == "github").count();
    assert_eq!(github_failed, 1, "{failed:?}");
    // Everything else is done, in the live systems too.
    assert!(!world.github_grants().contains("deploy:mallory"));
    assert!(world.github_grants().contains("admin:mallory"));
    assert!(
        !world
            .iam_grants()
            .await
            .0
            .contains(&format!("{STAGING}/deployer:{}", user("carol")))
    );
    for f in report["findings"].as_array().unwrap() {
        if f["result"] == "failed" {
            assert!(f["error"].as_str().is_some_and(|e| !e.is_empty()), "{f}");
        }
    }

    let second = world.lapse(&["apply", "--yes", "--format", "json"]);

    assert_exit(&second, 0);
    let finished = revocations(&json_report(&second));
    assert_eq!(finished.len(), failed.len(), "{finished:?}");
    assert!(finished.iter().all(|r| r.3 == "done"));
    assert_eq!(world.github_grants(), expected_github_after());
    assert_eq!(world.iam_grants().await.0, expected_iam_after());
    assert_audit_consistent(&world.audit_records());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_apply_finishes_the_change_in_flight_and_leaves_a_consistent_audit() {
    let world = world().await;
    // Slow writes, so the signal arrives while changes remain.
    world
        .moto
        .set_latency(Some("UpdateAssumeRolePolicy"), Duration::from_millis(700));
    let child = world
        .command(&["apply", "--yes", "--format", "json"])
        .env("LAPSE_GITHUB_WRITE_PACING_MS", "700")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lapse");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !world.audit_records().iter().any(|r| r["phase"] == "intent") {
        assert!(Instant::now() < deadline, "no change began");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started_waiting = Instant::now();
    let output = child.wait_with_output().expect("lapse exits");
    assert!(started_waiting.elapsed() < Duration::from_secs(20));

    assert_exit(&output, 4);
    let report = json_report(&output);
    let results = results(&report);
    let done = results.iter().filter(|r| *r == "done").count();
    let skipped = results.iter().filter(|r| *r == "skipped").count();
    assert!(done >= 1, "the change in flight finishes: {results:?}");
    assert!(skipped >= 1, "the run stopped: {results:?}");
    assert_eq!(done + skipped, results.len(), "{results:?}");
    // The audit says exactly what changed: every intent has its result, and
    // the live systems hold exactly what the results say.
    let closed = assert_audit_consistent(&world.audit_records());
    let audited: usize = closed.iter().map(|(_, p, _)| p.len()).sum();
    assert_eq!(audited, done);
    let github_removed = initial_github().len() - world.github_grants().len();
    let iam_removed = initial_iam().len() - world.iam_grants().await.0.len();
    assert_eq!(github_removed + iam_removed, done);

    // A second run finishes the job.
    let again = world.lapse(&["apply", "--yes", "--format", "json"]);
    assert_exit(&again, 0);
    assert_eq!(world.github_grants(), expected_github_after());
    assert_eq!(world.iam_grants().await.0, expected_iam_after());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_plans_exactly_like_the_live_systems() {
    let world = world().await;
    let snapshot = world.dir.path().join("snapshot.json");

    let written = world.lapse(&["snapshot", "--output", snapshot.to_str().unwrap()]);
    assert_exit(&written, 0);
    let live = json_report(&world.lapse(&["plan", "--format", "json"]));
    let offline = json_report(&world.lapse(&[
        "plan",
        "--state",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
    ]));

    assert_eq!(live["findings"], offline["findings"]);
    assert_eq!(offline["api_calls"], json!({"github": 0, "aws": 0}));
    assert!(live["api_calls"]["github"].as_u64().unwrap() > 0);
    assert_eq!(world.writes(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_reports_in_report_mode_and_revokes_in_enforce_mode() {
    let world = world().await;

    let reported = world.lapse(&["run", "--format", "json"]);

    assert_exit(&reported, 2);
    assert!(
        results(&json_report(&reported)).iter().all(|r| r == "-"),
        "report mode has no results"
    );
    assert_eq!(world.writes(), 0);
    // Logs on stderr are JSON lines carrying the run id.
    let run_id = json_report(&reported)["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let stderr = String::from_utf8_lossy(&reported.stderr);
    let logs: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        logs.iter().any(|l| l["span"]["run_id"] == run_id.as_str()),
        "{stderr}"
    );

    world.write_config(Gates::OPEN, "mode: enforce\n");
    let enforced = world.lapse(&["run", "--format", "json"]);

    assert_exit(&enforced, 0);
    assert_eq!(
        results(&json_report(&enforced)),
        vec!["done"; GITHUB_REVOCATIONS + AWS_REVOCATIONS]
    );
    assert_eq!(world.github_grants(), expected_github_after());
    assert_eq!(world.iam_grants().await.0, expected_iam_after());
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_shows_on_a_terminal_and_nowhere_else() {
    let world = world().await;
    let config = world.config_path();
    let lapse = env!("CARGO_BIN_EXE_lapse");
    let plan = format!(
        "{lapse} plan --config {} --now {NOW} --output /dev/null",
        config.display()
    );
    // `script` gives the command a terminal for stdin, stdout and stderr.
    let mut on_terminal = Command::new("script");
    on_terminal
        .args(["-qec", &plan, "/dev/null"])
        .env(TOKEN_ENV, TOKEN)
        .env_remove("LAPSE_LOG_FORMAT");
    world.moto.configure_command(&mut on_terminal);
    let shown = on_terminal.output().expect("run script");
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("reading: teams 2/2, roles 3/3"), "{shown}");

    let redirected = world.lapse(&["plan", "--output", "/dev/null"]);
    assert_exit(&redirected, 2);
    assert!(!String::from_utf8_lossy(&redirected.stderr).contains("reading:"));
}

/// `lapse apply` on a terminal, answering its question with `answer`;
/// answers what the terminal showed.
fn apply_on_terminal(world: &World, answer: &str) -> (Option<i32>, String) {
    let apply = format!(
        "{} apply --config {} --now {NOW}",
        env!("CARGO_BIN_EXE_lapse"),
        world.config_path().display()
    );
    let mut on_terminal = Command::new("script");
    on_terminal
        .args(["-qec", &apply, "/dev/null"])
        .env(TOKEN_ENV, TOKEN)
        .env("LAPSE_GITHUB_WRITE_PACING_MS", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    world.moto.configure_command(&mut on_terminal);
    let mut child = on_terminal.spawn().expect("run script");
    let mut stdin = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, format!("{answer}\n").as_bytes()).expect("answer");
    let output = child.wait_with_output().expect("script exits");
    drop(stdin);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_apply_shows_the_plan_and_acts_only_on_yes() {
    let world = world().await;

    let (code, shown) = apply_on_terminal(&world, "y");

    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("Type yes to go ahead"), "{shown}");
    assert!(
        shown.contains("mallory"),
        "the plan is shown first: {shown}"
    );
    assert!(shown.contains("nothing was changed"), "{shown}");
    assert_eq!(world.writes(), 0);

    let (code, shown) = apply_on_terminal(&world, "yes");

    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(world.github_grants(), expected_github_after());
    assert_eq!(world.iam_grants().await.0, expected_iam_after());
}

/// `lapse COMMAND --now NOW ARGS --config CONFIG`, as [`World::command`] but at another time.
fn at_time(world: &World, command: &str, now: &str, args: &[&str]) -> Output {
    let mut run = Command::new(env!("CARGO_BIN_EXE_lapse"));
    run.args([command, "--now", now])
        .args(args)
        .arg("--config")
        .arg(world.config_path())
        .env("LAPSE_LOG_FORMAT", "json")
        .env("LAPSE_GITHUB_WRITE_PACING_MS", "0")
        .env(TOKEN_ENV, TOKEN)
        .stdin(Stdio::null());
    world.moto.configure_command(&mut run);
    run.output().expect("run lapse")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_future_now_is_refused_by_apply_and_run_before_any_request() {
    let world = world().await;
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
    let seeding = world.moto.request_count();

    let apply = at_time(&world, "apply", &tomorrow, &["--yes"]);
    world.write_config(Gates::OPEN, "mode: enforce");
    let run = at_time(&world, "run", &tomorrow, &[]);

    for output in [&apply, &run] {
        assert_exit(output, 1);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("is in the future"), "{stderr}");
    }
    assert_eq!(world.github.count_requests(|_| true), 0);
    assert_eq!(world.moto.request_count(), seeding);
    assert_eq!(world.github_grants(), initial_github());

    // A minute ahead is within the tolerance for clocks that disagree.
    let soon = (chrono::Utc::now() + chrono::TimeDelta::minutes(1)).to_rfc3339();
    let apply = at_time(&world, "apply", &soon, &["--yes"]);
    assert_exit(&apply, 0);
    assert_eq!(world.github_grants(), expected_github_after());
}

/// `lapse apply` on a terminal; once the plan is shown, `meanwhile` runs
/// (changing the world), then `yes` is typed. Answers the exit code and
/// what the terminal showed.
fn apply_confirmed_after(world: &World, meanwhile: impl FnOnce()) -> (Option<i32>, String) {
    use std::io::Read as _;
    let apply = format!(
        "{} apply --config {} --now {NOW} --format json --output {}",
        env!("CARGO_BIN_EXE_lapse"),
        world.config_path().display(),
        world.dir.path().join("report.json").display()
    );
    let mut on_terminal = Command::new("script");
    on_terminal
        .args(["-qec", &apply, "/dev/null"])
        .env(TOKEN_ENV, TOKEN)
        .env("LAPSE_GITHUB_WRITE_PACING_MS", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    world.moto.configure_command(&mut on_terminal);
    let mut child = on_terminal.spawn().expect("run script");
    let mut stdout = child.stdout.take().expect("stdout");
    let shown = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !shown.lock().unwrap().contains("Type yes") {
        assert!(
            Instant::now() < deadline,
            "no prompt: {}",
            shown.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    meanwhile();
    let mut stdin = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, b"yes\n").expect("answer");
    let status = child.wait().expect("script exits");
    drop(stdin);
    reader.join().expect("reader");
    let shown = shown.lock().unwrap().clone();
    (status.code(), shown)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_that_changes_while_the_prompt_waits_changes_nothing() {
    let world = world().await;

    let (code, shown) = apply_confirmed_after(&world, || {
        world
            .github
            .org("acme")
            .team("deploy")
            .members(["eve"], Role::Member);
    });

    assert_eq!(code, Some(3), "{shown}");
    assert!(
        shown.contains("changed after they were confirmed"),
        "{shown}"
    );
    assert!(
        shown.contains("now also: revoke eve on github:acme/deploy"),
        "{shown}"
    );
    assert_eq!(world.writes(), 0);
    assert_eq!(world.iam_grants().await.0, initial_iam());
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(world.dir.path().join("report.json")).unwrap(),
    )
    .unwrap();
    assert!(
        report["refused"].as_str().unwrap().contains("eve"),
        "{report}"
    );

    // Unchanged while it waits: the fresh plan matches and is carried out.
    let (code, shown) = apply_confirmed_after(&world, || {});
    assert_eq!(code, Some(0), "{shown}");
    assert!(world.github_grants().iter().all(|g| !g.ends_with(":eve")));
}

/// The bucket and prefix the S3 audit test writes under.
const AUDIT_BUCKET: &str = "lapse-audit";
const AUDIT_PREFIX: &str = "lapse/audit";

/// An S3 client for moto's S3, addressed by path as lapse addresses it.
async fn s3_client(moto: &Moto) -> aws_sdk_s3::Client {
    let sdk = moto.sdk_loader().load().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_goes_to_s3_one_object_per_record_before_each_change() {
    let world = world().await;
    let s3 = s3_client(&world.moto).await;
    // The test region is us-east-1, where a bucket takes no location constraint.
    s3.create_bucket()
        .bucket(AUDIT_BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    world.write_config(
        Gates::OPEN,
        &format!("audit:\n  s3: {{bucket: {AUDIT_BUCKET}, prefix: {AUDIT_PREFIX}}}\n"),
    );

    let output = world.lapse(&["apply", "--yes", "--format", "json"]);

    assert_exit(&output, 0);
    let run_id = json_report(&output)["run_id"].as_str().unwrap().to_string();
    let listed = s3
        .list_objects_v2()
        .bucket(AUDIT_BUCKET)
        .prefix(format!("{AUDIT_PREFIX}/{run_id}/"))
        .send()
        .await
        .expect("ListObjectsV2");
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(String::from))
        .collect();
    // The same records as the file, in the same order, one object each.
    let file = world.audit_records();
    assert_eq!(keys.len(), file.len(), "{keys:?}");
    assert_eq!(keys[0], format!("{AUDIT_PREFIX}/{run_id}/0001-start.json"));
    for (key, record) in keys.iter().zip(&file) {
        let object = s3
            .get_object()
            .bucket(AUDIT_BUCKET)
            .key(key)
            .send()
            .await
            .expect("GetObject");
        let body = object.body.collect().await.expect("body").into_bytes();
        let stored: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(&stored, record, "{key}");
        let phase = record["phase"].as_str().unwrap();
        assert!(key.ends_with(&format!("-{phase}.json")), "{key}");
    }
    assert_audit_consistent(&file);
    assert_eq!(world.github_grants(), expected_github_after());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_durable_audit_trail_apply_changes_nothing() {
    let world = world().await;
    let config = std::fs::read_to_string(world.config_path())
        .unwrap()
        .replace("audit_log: audit.jsonl\n", "");
    std::fs::write(world.config_path(), config).unwrap();

    let output = world.lapse(&["apply", "--yes", "--format", "json"]);

    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("durable audit trail"), "{stderr}");
    assert_eq!(world.writes(), 0);

    // A bucket that does not exist takes no first record: nothing changes either.
    world.write_config(
        Gates::OPEN,
        "audit:\n  s3: {bucket: no-such-bucket, prefix: x}\n",
    );
    let config = std::fs::read_to_string(world.config_path())
        .unwrap()
        .replace("audit_log: audit.jsonl\n", "");
    std::fs::write(world.config_path(), config).unwrap();
    let output = world.lapse(&["apply", "--yes", "--format", "json"]);
    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did not take the run's first record"),
        "{stderr}"
    );
    assert_eq!(world.writes(), 0);
    assert_eq!(world.github_grants(), initial_github());
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_never_assume_the_write_role_and_writes_assume_only_it() {
    let world = world().await;
    let write_role = format!("arn:aws:iam::{PRODUCTION}:role/lapse-write");
    let read_role = format!("arn:aws:iam::{PRODUCTION}:role/lapse");
    let config = std::fs::read_to_string(world.config_path())
        .unwrap()
        .replace(
            &format!("assume_role_arn: \"{read_role}\"}}"),
            &format!("assume_role_arn: \"{read_role}\", write_role_arn: \"{write_role}\"}}"),
        );
    assert!(config.contains(&write_role), "{config}");
    std::fs::write(world.config_path(), config).unwrap();

    world.moto.reset_counts();
    for args in [&["plan"][..], &["run"][..]] {
        let output = world.lapse(args);
        assert_exit(&output, 2);
    }
    let snapshot = world.dir.path().join("snapshot.json");
    let output = world.lapse(&["snapshot", "--output", snapshot.to_str().unwrap()]);
    assert_exit(&output, 0);
    let assumed = world.moto.request_counts().assumed_roles;
    assert!(!assumed.contains_key(&write_role), "{assumed:?}");
    assert!(assumed.contains_key(&read_role), "{assumed:?}");

    world.moto.reset_counts();
    let output = world.lapse(&["apply", "--yes", "--format", "json"]);
    assert_exit(&output, 0);
    let assumed = world.moto.request_counts().assumed_roles;
    assert_eq!(assumed.get(&write_role), Some(&1), "{assumed:?}");
    // The audit names who acted: the write role's session in production,
    // the token's owner on GitHub.
    let records = world.audit_records();
    let production_write = records
        .iter()
        .find(|r| r["phase"] == "intent" && r["target"].as_str().unwrap().contains(PRODUCTION))
        .expect("a production write");
    assert!(
        production_write["actor"]
            .as_str()
            .unwrap()
            .contains("lapse-write"),
        "{production_write}"
    );
    let github_write = records
        .iter()
        .find(|r| r["phase"] == "intent" && r["system"] == "github")
        .expect("a GitHub write");
    assert_eq!(github_write["actor"], "token of lapse-bot");
    assert!(records.iter().all(|r| r["now"] == "2026-11-22T00:00:00Z"));
}
