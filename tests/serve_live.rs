//! `lapse serve` against the fake GitHub and moto, on a two-second schedule:
//! cycles run, /healthz and /metrics answer, the second cycle reads the
//! unchanged teams with 304s that cost no rate limit, a change made between
//! cycles is seen, a cycle slower than the schedule makes the next tick skip
//! rather than overlap, SIGTERM during a cycle lets it finish and exits 0,
//! and in report mode nothing is changed anywhere.

mod aws_support;
mod github_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use aws_support::{PRODUCTION, STAGING, allow, create_role, iam_in, user_arn};
use github_support::{ORG, ROSTER, TOKEN, TOKEN_ENV, WORLD_PLAN_READS, WORLD_PLAN_REQUESTS};
use lapse_test_support::github::{FakeGithub, InvitationView, Role};
use lapse_test_support::moto::Moto;
use serde_json::{Value, json};

/// Every two seconds: short enough for several cycles in a fast test.
const SCHEDULE: &str = "*/2 * * * * *";
/// A generous bound for anything that should take a cycle or two, on a
/// loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);
/// The fake's delay per request once cycles are to outlast the schedule: a
/// cycle reads three levels of teams one after the other, so it takes at
/// least three times this, well over the two-second interval.
const SLOW: Duration = Duration::from_millis(1500);

const STARTED: &str = "cycle started";
const FINISHED: &str = "cycle finished";
const RUN_FINISHED: &str = "run finished";
const SKIPPED: &str = "a cycle is due but the previous one is still running: skipped";
const STOPPING: &str = "stopping: no new cycles; waiting for the one in flight";

fn config(github: &str, moto: &str) -> String {
    format!(
        r#"roster: users.yaml
mode: report
schedule: "{SCHEDULE}"
policy:
  inactivity_limit_days: null
access_levels:
  deploy:
    requires: [bpss]
    github_teams: [deploy]
    aws_roles: [staging/developer]
  admin:
    requires: [bpss, probation]
    github_teams: [admin]
    aws_roles: [production/admin]
github:
  org: {ORG}
  api_url: {github}
  token_env: {TOKEN_ENV}
{aws}safety:
  max_revocations: 1000
  max_revocation_ratio: 1.0
"#,
        aws = aws_support::aws_section(moto),
    )
}

/// Trust policies with drift: mallory, in no roster, may assume
/// production/admin; carol, absent since January, staging/developer.
fn trust_policies() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            PRODUCTION,
            "admin",
            allow(json!([
                user_arn("alice@example.org"),
                user_arn("mallory@example.org")
            ])),
        ),
        (
            STAGING,
            "developer",
            allow(json!([
                user_arn("bob@example.org"),
                user_arn("carol@example.org")
            ])),
        ),
    ]
}

async fn seed_roles(moto: &Moto) {
    for (account, name, policy) in trust_policies() {
        create_role(&iam_in(moto, account).await, name, &policy).await;
    }
}

async fn current_trust_policies(moto: &Moto) -> Vec<Value> {
    let mut policies = Vec::new();
    for (account, name, _) in trust_policies() {
        policies.push(aws_support::trust_policy(&iam_in(moto, account).await, name).await);
    }
    policies
}

/// What the fake GitHub grants: every team's direct members, and the
/// organisation's invitations.
fn github_grants(github: &FakeGithub) -> (Vec<Vec<(String, Role)>>, Vec<InvitationView>) {
    let teams = ["admin", "admin-oncall", "admin-oncall-nights", "deploy"];
    (
        teams
            .iter()
            .map(|team| github.direct_members(ORG, team))
            .collect(),
        github.invitations(ORG),
    )
}

/// A running `lapse serve` with its JSON log lines collected as they come.
struct Serve {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<Value>>>,
    reader: Option<JoinHandle<()>>,
}

impl Serve {
    fn start(moto: &Moto, config: &Path) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
        command
            .args(["serve", "--config"])
            .arg(config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("LAPSE_LOG_FORMAT", "json")
            .env(TOKEN_ENV, TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        moto.configure_command(&mut command);
        let mut child = command.spawn().expect("start lapse serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let event = serde_json::from_str(&line).unwrap_or(Value::String(line));
                lines.lock().unwrap().push(event);
            }
        });
        Serve {
            child,
            port,
            log,
            reader: Some(reader),
        }
    }

    fn log(&self) -> Vec<Value> {
        self.log.lock().unwrap().clone()
    }

    /// The first log event that satisfies `found`, waiting for it.
    fn wait_for(&mut self, what: &str, found: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            if let Some(event) = self.log().into_iter().find(&found) {
                return event;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited ({status}) before {what}:\n{}", self.dump());
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no {what} within {PATIENCE:?}:\n{}",
                self.dump()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn finished(&mut self, cycle: u64) -> Value {
        self.wait_for(&format!("cycle {cycle} finished"), |e| {
            is(e, FINISHED) && e["cycle"] == cycle
        })
    }

    fn dump(&self) -> String {
        self.log()
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(self.port, path).unwrap_or_else(|| panic!("no answer on {path}"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

fn is(event: &Value, message: &str) -> bool {
    event["message"] == message
}

/// When the event was logged.
fn logged_at(event: &Value) -> SystemTime {
    let text = event["timestamp"].as_str().expect("a timestamp");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("timestamp {text}: {e}"))
        .into()
}

fn number(event: &Value, field: &str) -> u64 {
    event[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {event}"))
}

/// A plain HTTP GET; returns status and body.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| {
        let value = l.strip_prefix(name)?;
        value
            .starts_with(' ')
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// The cycles in the log as `(number, started, finished)` events, checking
/// on the way that they never overlap: each start is followed by its own
/// finish before anything else starts, and ticks are skipped only while a
/// cycle runs.
fn cycles(log: &[Value]) -> Vec<(u64, Value, Value)> {
    let mut cycles = Vec::new();
    let mut running: Option<(u64, Value)> = None;
    for event in log {
        if is(event, STARTED) {
            let cycle = number(event, "cycle");
            assert!(
                running.is_none(),
                "cycle {cycle} started while {running:?} ran"
            );
            assert_eq!(
                cycle,
                cycles.len() as u64 + 1,
                "cycles are numbered in turn"
            );
            running = Some((cycle, event.clone()));
        } else if is(event, FINISHED) {
            let (cycle, started) = running.take().expect("a finish follows a start");
            assert_eq!(number(event, "cycle"), cycle);
            cycles.push((cycle, started, event.clone()));
        } else if is(event, SKIPPED) {
            assert!(
                running.is_some(),
                "a tick was skipped with no cycle running"
            );
        }
    }
    cycles
}

/// The `run finished` event of a cycle: the one logged inside its window.
fn run_finished<'a>(log: &'a [Value], started: &Value, finished: &Value) -> &'a Value {
    let (from, to) = (logged_at(started), logged_at(finished));
    log.iter()
        .find(|e| is(e, RUN_FINISHED) && (from..=to).contains(&logged_at(e)))
        .expect("each cycle logs its run")
}

#[test]
fn serve_reads_unchanged_teams_for_free_and_never_overlaps_cycles() {
    let moto = Moto::start();
    let world = github_support::world();
    let github = &world.github;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(seed_roles(&moto));
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("lapse.yaml");
    std::fs::write(
        &config_path,
        config(github.base_url(), &moto.endpoint_url()),
    )
    .unwrap();
    std::fs::write(dir.path().join("users.yaml"), ROSTER).unwrap();
    let grants_before = github_grants(github);
    let policies_before = runtime.block_on(current_trust_policies(&moto));
    github.reset_counters();
    moto.reset_counts();

    let mut serve = Serve::start(&moto, &config_path);

    // Two cycles: the first reads everything, the second only asks whether
    // anything changed.
    let first = serve.finished(1);
    let second = serve.finished(2);
    let rate = github.rate_limit();
    let requests = github.requests();
    println!(
        "cycle 1: {} GitHub requests, {} not modified; cycle 2: {} requests, {} not modified; primary rate limit used after both: {} (remaining {})",
        first["github_requests"],
        first["github_not_modified"],
        second["github_requests"],
        second["github_not_modified"],
        rate.used,
        rate.remaining
    );
    assert_eq!(number(&first, "github_requests"), WORLD_PLAN_REQUESTS);
    assert_eq!(number(&first, "github_not_modified"), 0);
    assert_eq!(
        number(&second, "github_requests"),
        WORLD_PLAN_REQUESTS,
        "a 304 is a request, and counted"
    );
    assert_eq!(
        number(&second, "github_not_modified"),
        WORLD_PLAN_READS,
        "every GET of the second cycle was answered 304 (GraphQL has no 304s)"
    );
    assert_eq!(number(&first, "exit"), 2, "drift in report mode");
    assert_eq!(number(&second, "exit"), 2);
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    let paid = WORLD_PLAN_REQUESTS as usize;
    let later_reads: Vec<u16> = requests[paid..]
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.status)
        .collect();
    assert!(
        statuses[..paid].iter().all(|&s| s == 200) && later_reads.iter().all(|&s| s == 304),
        "cycle 1 read, later cycles got 304s: {statuses:?}"
    );
    assert!(statuses.len() >= 2 * paid);
    assert_eq!(
        rate.used, WORLD_PLAN_READS,
        "only the first cycle used the primary rate limit"
    );
    assert_eq!(rate.remaining, rate.limit - WORLD_PLAN_READS);

    let (status, _) = serve.get("/healthz");
    assert_eq!(status, 200);
    let (status, metrics) = serve.get("/metrics");
    assert_eq!(status, 200);
    assert!(metric(&metrics, "lapse_cycles_total").is_some_and(|n| n >= 2.0));
    assert_eq!(
        metric(&metrics, "lapse_run_success"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "lapse_cycles_skipped_total"),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        metric(&metrics, "lapse_github_not_modified_total")
            .is_some_and(|n| n >= WORLD_PLAN_READS as f64),
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "lapse_findings{kind=\"unexpected\",system=\"aws\"}"
        ),
        Some(1.0),
        "mallory on production/admin: {metrics}"
    );
    assert_eq!(
        metric(&metrics, "lapse_findings{kind=\"absent\",system=\"aws\"}"),
        Some(1.0),
        "carol on staging/developer: {metrics}"
    );
    assert!(metric(&metrics, "lapse_api_calls{system=\"aws\"}").is_some_and(|n| n > 0.0));

    // A member added between cycles: the changed page's ETag no longer
    // matches, so it alone is read again, and the next cycle sees zoe.
    let changed_at = SystemTime::now();
    github.org(ORG).team("deploy").member("zoe", Role::Member);
    let after_change = serve.wait_for("a cycle started after the change", |e| {
        is(e, STARTED) && logged_at(e) > changed_at
    });
    serve.finished(number(&after_change, "cycle"));
    let read_again: Vec<_> = github
        .requests()
        .into_iter()
        .filter(|r| r.at >= changed_at && r.method == "GET" && r.status == 200)
        .collect();
    assert_eq!(read_again.len(), 1, "{read_again:?}");
    assert!(
        read_again[0]
            .path_and_query
            .starts_with("/orgs/acme/teams/deploy/members?role=member"),
        "{read_again:?}"
    );
    assert_eq!(github.rate_limit().used, WORLD_PLAN_READS + 1);
    let log = serve.log();
    let (_, seen_started, seen_finished) = cycles(&log)
        .into_iter()
        .find(|(_, s, f)| (logged_at(s)..=logged_at(f)).contains(&read_again[0].at))
        .expect("the cycle that read the changed page");
    assert_eq!(
        number(&seen_finished, "github_not_modified"),
        WORLD_PLAN_READS - 1
    );
    let findings_before = number(run_finished(&log, &first_started(&log), &first), "findings");
    assert_eq!(
        number(
            run_finished(&log, &seen_started, &seen_finished),
            "findings"
        ),
        findings_before + 1,
        "zoe is unexpected on deploy"
    );

    // Cycles slower than the schedule: the tick that comes during one is
    // skipped and logged, never run alongside.
    let slowed_at = SystemTime::now();
    github.set_latency(SLOW);
    let slow = serve.wait_for("a cycle started after the slowdown", |e| {
        is(e, STARTED) && logged_at(e) > slowed_at
    });
    let slow_cycle = number(&slow, "cycle");
    serve.wait_for("a skipped tick", |e| {
        is(e, SKIPPED) && logged_at(e) > logged_at(&slow)
    });
    let (_, metrics) = serve.get("/metrics");
    assert!(
        metric(&metrics, "lapse_cycles_skipped_total").is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert_eq!(
        serve.get("/healthz").0,
        200,
        "a skipped tick is not a failure"
    );

    // SIGTERM while that cycle runs: it finishes, then serve exits 0.
    assert!(
        !serve
            .log()
            .iter()
            .any(|e| is(e, FINISHED) && e["cycle"] == slow_cycle),
        "the slow cycle ended before SIGTERM could reach it mid-way"
    );
    let status = Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopped = Instant::now();
    let exit = loop {
        if let Some(exit) = serve.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopped.elapsed() < PATIENCE,
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    if let Some(reader) = serve.reader.take() {
        reader.join().unwrap();
    }
    let log = serve.log();
    assert_eq!(exit.code(), Some(0), "{}", serve.dump());
    let position = |found: &dyn Fn(&Value) -> bool| log.iter().position(found);
    let stopping = position(&|e| is(e, STOPPING)).expect("serve logs that it is stopping");
    let slow_finished = position(&|e| is(e, FINISHED) && e["cycle"] == slow_cycle)
        .expect("the cycle in flight finished");
    assert!(stopping < slow_finished, "SIGTERM came during the cycle");
    assert_eq!(
        log[slow_finished]["exit"], 2,
        "the cycle in flight ran to its end"
    );
    assert!(
        !log[stopping..].iter().any(|e| is(e, STARTED)),
        "no cycle starts after SIGTERM"
    );
    assert!(is(log.last().unwrap(), "stopped"), "{}", serve.dump());
    let all = cycles(&log);
    assert_eq!(all.last().unwrap().0, slow_cycle);
    println!(
        "{} cycles, {} ticks skipped",
        all.len(),
        log.iter().filter(|e| is(e, SKIPPED)).count()
    );

    // Report mode changes nothing, in either system.
    assert_eq!(github.count_requests(|r| r.method == "DELETE"), 0);
    let (mut expected_teams, expected_invitations) = grants_before;
    expected_teams[3].push(("zoe".to_owned(), Role::Member));
    expected_teams[3].sort();
    assert_eq!(
        github_grants(github),
        (expected_teams, expected_invitations)
    );
    let moto_actions = moto.request_counts_by_action();
    for write in [
        "UpdateAssumeRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
    ] {
        assert!(!moto_actions.contains_key(write), "{moto_actions:?}");
    }
    assert_eq!(
        runtime.block_on(current_trust_policies(&moto)),
        policies_before
    );
}

/// The `cycle started` event of cycle 1.
fn first_started(log: &[Value]) -> Value {
    log.iter()
        .find(|e| is(e, STARTED) && e["cycle"] == 1)
        .cloned()
        .expect("cycle 1 started")
}
