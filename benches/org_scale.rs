//! lapse against an organisation of 5,000 people, held to the lower bound.
//!
//! Seeds the fake GitHub and moto with a generated organisation
//! (`lapse_test_support::scenario`), injects latency on every GitHub and IAM
//! request (50 ms by default), then runs the release `lapse` binary:
//!
//! - `plan`: requests made (the report's `api_calls` and the fakes' logs)
//!   beside the fewest any reader needs; wall time beside
//!   `ceil(calls / concurrency) × latency`; the process's peak memory;
//! - a plain sequential client on the same fakes (one request at a time,
//!   activity read user by user), the way such scripts are usually written;
//! - `apply` of every planned revocation: requests, wall time, one IAM write
//!   per role touched, and GitHub's guidance for mutating requests (serial,
//!   at least a second apart), checked from the fake's request log;
//! - a second `plan`, which must be clean;
//! - `plan` of an IAM Identity Center (2,000 users, 50 permission sets in
//!   each of 8 accounts, 100 groups) on a moto of its own: requests beside
//!   the fewest any reader needs, and wall time beside its bound.
//!
//! ```sh
//! cargo bench --bench org_scale                  # large: about 15 minutes
//! cargo bench --bench org_scale -- small         # seconds
//! cargo bench --bench org_scale -- --no-baseline --no-apply --no-sso --latency-ms 20
//! cargo bench --bench org_scale -- --sso-only    # Identity Center alone
//! ```
//!
//! Each target prints PASS or FAIL; the run exits 1 if any failed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

#[path = "support/identity_center.rs"]
mod identity_center;

use lapse_test_support::github::FakeGithub;
use lapse_test_support::moto::Moto;
use lapse_test_support::scenario::{
    CONCURRENCY, LowerBound, NOW, ORG, Scenario, Shape, account_id, role_arn,
};
use serde_json::Value;

const TOKEN: &str = "ghp_lapseBENCH0scale0secret0Qm2Vt5";
const TOKEN_ENV: &str = "LAPSE_BENCH_GITHUB_TOKEN";
/// The most memory the lapse process may use at this scale.
const MEMORY_LIMIT: u64 = 100 * 1024 * 1024;
/// How much slower than its bound a plan may be.
const WALL_SLACK: f64 = 1.5;
/// How much faster than a sequential client a plan must be.
const MIN_SPEEDUP: f64 = 5.0;
/// GitHub's guidance: mutating requests one at a time, a second apart.
const WRITE_GAP: Duration = Duration::from_secs(1);

struct Options {
    shape: Shape,
    latency: Duration,
    baseline: bool,
    apply: bool,
    sso: bool,
    /// Only the Identity Center part.
    sso_only: bool,
}

fn options() -> Options {
    let mut options = Options {
        shape: Shape::large(),
        latency: Duration::from_millis(50),
        baseline: true,
        apply: true,
        sso: true,
        sso_only: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-baseline" => options.baseline = false,
            "--no-apply" => options.apply = false,
            "--no-sso" => options.sso = false,
            "--sso-only" => options.sso_only = true,
            "--latency-ms" => {
                let ms = args.next().and_then(|v| v.parse().ok());
                options.latency = Duration::from_millis(ms.expect("--latency-ms takes a number"));
            }
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            name => {
                options.shape = Shape::by_name(name)
                    .unwrap_or_else(|| panic!("unknown scenario or option `{name}`"));
            }
        }
    }
    options
}

/// One run of the lapse binary: its report, exit code, wall time and peak memory.
struct Measured {
    report: Value,
    code: Option<i32>,
    wall: Duration,
    peak_rss: u64,
}

/// Runs `command`, reaping it with `wait4` to read its peak resident set.
#[expect(
    clippy::zombie_processes,
    reason = "wait4 reaps the child, not Child::wait"
)]
fn measure(mut command: Command) -> Measured {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().expect("start lapse");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).map(|_| bytes)
    });
    let err = thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr.read_to_end(&mut bytes).map(|_| bytes)
    });
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `pid` is this process's own child, not yet reaped (std's
    // `Child` reaps only in `wait`, which is never called); `status` and
    // `usage` are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
    let wall = start.elapsed();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    // SAFETY: wait4 succeeded, so it filled `usage` in (and zeroed is valid anyway).
    let usage = unsafe { usage.assume_init() };
    let stdout = out.join().expect("stdout reader").expect("read stdout");
    let stderr = err.join().expect("stderr reader").expect("read stderr");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let report = serde_json::from_slice(&stdout).unwrap_or_else(|e| {
        panic!(
            "lapse printed no JSON report ({e}); exit {code:?}\nstderr: {}",
            String::from_utf8_lossy(&stderr)
        )
    });
    Measured {
        report,
        code,
        wall,
        // Linux reports ru_maxrss in KiB.
        peak_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
    }
}

/// The release binary: Cargo builds it with the bench profile for every
/// bench target and names it here.
fn lapse_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lapse"))
}

/// lapse against the fakes, pacing its GitHub writes as it does by default.
fn lapse(moto: &Moto, dir: &Path, args: &[&str]) -> Command {
    let mut command = Scenario::lapse_command(&lapse_binary(), moto, dir, (TOKEN_ENV, TOKEN), args);
    command.env_remove("LAPSE_GITHUB_WRITE_PACING_MS");
    command
}

/// Targets met and missed, printed as they are decided.
#[derive(Default)]
struct Verdicts {
    failed: Vec<String>,
}

impl Verdicts {
    /// Says whether every target was met, and exits 1 if not (no
    /// destructor runs after it: drop what must be cleaned up first).
    fn finish(&self) -> ! {
        if self.failed.is_empty() {
            println!("all targets met");
            std::process::exit(0);
        }
        println!("targets missed: {}", self.failed.join(", "));
        std::process::exit(1);
    }

    fn check(&mut self, name: &str, passed: bool, detail: String) {
        println!(
            "  {} {name}: {detail}",
            if passed { "PASS" } else { "FAIL" }
        );
        if !passed {
            self.failed.push(name.to_owned());
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// `ceil(calls / concurrency) × latency`: the wall time of `calls` requests
/// kept `concurrency` at a time in flight.
fn wall_bound(calls: usize, latency: Duration) -> Duration {
    latency * u32::try_from(calls.div_ceil(CONCURRENCY)).expect("fits")
}

fn calls(report: &Value, system: &str) -> usize {
    report["api_calls"][system].as_u64().expect("api_calls") as usize
}

fn revocations_planned(report: &Value) -> usize {
    report["summary"]["revocations_planned"]
        .as_u64()
        .expect("summary") as usize
}

/// Resets the fakes' logs and counters and puts the latency back
/// (resetting the fake GitHub drops it).
fn fresh_counts(github: &FakeGithub, moto: &Moto, latency: Duration) {
    github.reset_counters();
    github.set_latency(latency);
    moto.reset_counts();
    moto.set_latency(None, latency);
}

fn main() {
    let options = options();
    if options.sso_only {
        let mut verdicts = Verdicts::default();
        identity_center::plan(&mut verdicts, &options);
        verdicts.finish();
    }
    let latency = options.latency;
    let scenario = Scenario::generate(options.shape.clone());
    let shape = &scenario.shape;
    let (github_grants, aws_grants) = scenario.grants();
    println!(
        "scenario {}: {} people, {} managed teams ({} grants) and {} unmanaged, {} accounts, \
         {} managed roles ({} grants) and {} unmanaged, {} IAM users; {} ms latency per request",
        shape.name,
        shape.people,
        shape.managed_teams,
        github_grants,
        shape.unmanaged_teams,
        shape.accounts,
        shape.managed_roles,
        aws_grants,
        shape.unmanaged_roles,
        scenario.iam_users(),
        latency.as_millis(),
    );

    let seeding = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let (github, moto) = scenario.deploy(TOKEN, TOKEN_ENV, dir.path());
    println!(
        "seeded the fake GitHub and moto in {}",
        secs(seeding.elapsed())
    );

    let mut verdicts = Verdicts::default();
    fresh_counts(&github, &moto, latency);
    let plan = measure(lapse(&moto, dir.path(), &["plan"]));
    let plan_github = github.request_count();
    let plan_aws = moto.request_counts();
    let bound = scenario.lower_bound(false);
    report_plan(&mut verdicts, &scenario, &plan, &bound, latency);
    println!(
        "  fakes' logs: GitHub {plan_github} requests, IAM/STS {} ({})",
        plan_aws.total,
        plan_aws
            .by_action
            .iter()
            .map(|(action, n)| format!("{action} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    verdicts.check(
        "report counts what the fakes saw",
        calls(&plan.report, "github") == plan_github
            && calls(&plan.report, "aws") as u64 == plan_aws.total,
        format!(
            "api_calls github {} aws {}",
            calls(&plan.report, "github"),
            calls(&plan.report, "aws")
        ),
    );

    if options.baseline {
        fresh_counts(&github, &moto, latency);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let started = Instant::now();
        let requests = runtime.block_on(sequential_read(&scenario, &github, &moto));
        let wall = started.elapsed();
        let speedup = wall.as_secs_f64() / plan.wall.as_secs_f64();
        println!("sequential client (one request at a time, activity user by user):");
        println!(
            "  {} requests (GitHub {}, IAM/STS {}) in {}",
            requests.0 + requests.1,
            requests.0,
            requests.1,
            secs(wall)
        );
        verdicts.check(
            "plan at least 5x faster than the sequential client",
            speedup >= MIN_SPEEDUP,
            format!("{speedup:.1}x ({} vs {})", secs(plan.wall), secs(wall)),
        );
    }

    if options.apply {
        apply_and_replan(
            &mut verdicts,
            &scenario,
            &github,
            &moto,
            dir.path(),
            latency,
        );
    }

    // Stopped and removed before exiting, which runs no destructors.
    drop((github, moto, dir));
    if options.sso {
        identity_center::plan(&mut verdicts, &options);
    }
    verdicts.finish();
}

fn report_plan(
    verdicts: &mut Verdicts,
    scenario: &Scenario,
    plan: &Measured,
    bound: &LowerBound,
    latency: Duration,
) {
    let github = calls(&plan.report, "github");
    let aws = calls(&plan.report, "aws");
    println!("plan:");
    println!(
        "  exit {:?}, {} revocations planned (seeded {})",
        plan.code,
        revocations_planned(&plan.report),
        scenario.expected_revocations().len()
    );
    verdicts.check(
        "plan finds exactly the drift seeded",
        plan.code == Some(2)
            && revocations_planned(&plan.report) == scenario.expected_revocations().len(),
        format!("{} revocations", revocations_planned(&plan.report)),
    );
    println!(
        "  calls: GitHub {github} (lower bound {}), IAM/STS {aws} (lower bound {} + {} AssumeRole)",
        bound.github, bound.aws, bound.assume_role
    );
    verdicts.check(
        "plan calls <= lower bound + one AssumeRole per account",
        github <= bound.github && aws <= bound.aws + bound.assume_role,
        format!(
            "{} <= {}",
            github + aws,
            bound.github + bound.aws + bound.assume_role
        ),
    );
    let github_wall = wall_bound(bound.github, latency);
    let aws_wall = wall_bound(bound.aws + bound.assume_role, latency);
    // The two systems are read at the same time, so the slower one bounds the plan.
    let plan_bound = github_wall.max(aws_wall);
    println!(
        "  wall: {} (bound: GitHub {}, IAM {}; both read at once, so {})",
        secs(plan.wall),
        secs(github_wall),
        secs(aws_wall),
        secs(plan_bound)
    );
    let ratio = plan.wall.as_secs_f64() / plan_bound.as_secs_f64();
    if scenario.shape.name == "large" {
        verdicts.check(
            "plan wall <= 1.5x bound",
            ratio <= WALL_SLACK,
            format!("{ratio:.2}x"),
        );
    } else {
        // A few dozen requests take less than lapse's first wait (0.5 s) for
        // IAM to generate the credential report, which then decides the time.
        println!(
            "  INFO plan wall: {ratio:.2}x the bound (a target at org scale only: here the \
             credential report's generation wait dominates)"
        );
    }
    verdicts.check(
        "peak memory < 100 MB",
        plan.peak_rss < MEMORY_LIMIT,
        mib(plan.peak_rss),
    );
}

fn apply_and_replan(
    verdicts: &mut Verdicts,
    scenario: &Scenario,
    github: &FakeGithub,
    moto: &Moto,
    dir: &Path,
    latency: Duration,
) {
    fresh_counts(github, moto, latency);
    let (on_github, in_iam) = scenario.revocations_by_system();
    let apply = measure(lapse(moto, dir, &["apply", "--yes"]));
    let done = apply.report["summary"]["revocations_done"]
        .as_u64()
        .unwrap_or(0) as usize;
    let log = github.requests();
    // GraphQL queries are POSTs that change nothing: the writes are DELETEs.
    let mut writes: Vec<SystemTime> = log
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.at)
        .collect();
    writes.sort();
    let gaps: Vec<Duration> = writes
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).unwrap_or_default())
        .collect();
    let smallest_gap = gaps.iter().min().copied();
    let iam = moto.request_counts();
    let iam_writes = iam
        .by_action
        .get("UpdateAssumeRolePolicy")
        .copied()
        .unwrap_or(0) as usize;
    println!("apply:");
    println!(
        "  exit {:?}, {done} revocations done (GitHub {on_github}, IAM {in_iam}) in {}, peak memory {}",
        apply.code,
        secs(apply.wall),
        mib(apply.peak_rss)
    );
    println!(
        "  calls: GitHub {} ({} mutating), IAM/STS {} ({iam_writes} UpdateAssumeRolePolicy, {} GetRole)",
        calls(&apply.report, "github"),
        writes.len(),
        calls(&apply.report, "aws"),
        iam.by_action.get("GetRole").copied().unwrap_or(0)
    );
    verdicts.check(
        "apply revokes every planned grant",
        apply.code == Some(0) && done == on_github + in_iam,
        format!("{done} of {}", on_github + in_iam),
    );
    verdicts.check(
        "IAM writes = roles touched, not principals",
        iam_writes == scenario.roles_touched(),
        format!(
            "{iam_writes} writes for {} roles, {in_iam} principals",
            scenario.roles_touched()
        ),
    );
    verdicts.check(
        "GitHub mutating requests serial and >= 1 s apart",
        writes.len() == on_github && smallest_gap.is_none_or(|gap| gap >= WRITE_GAP),
        format!(
            "{} mutating requests, smallest gap {}",
            writes.len(),
            smallest_gap.map_or_else(|| "n/a".to_owned(), |g| format!("{} ms", g.as_millis()))
        ),
    );

    fresh_counts(github, moto, latency);
    let replan = measure(lapse(moto, dir, &["plan"]));
    let bound = scenario.after_apply().lower_bound(true);
    let calls_made = calls(&replan.report, "github") + calls(&replan.report, "aws");
    verdicts.check(
        "second plan clean",
        replan.code == Some(0) && revocations_planned(&replan.report) == 0,
        format!(
            "exit {:?} in {}, {calls_made} calls (bound {} + {} AssumeRole)",
            replan.code,
            secs(replan.wall),
            bound.github + bound.aws,
            bound.assume_role
        ),
    );
}

/// Reads what `plan` reads the way a plain script would: one request at a
/// time, every member page of every managed team and the teams below it and
/// its invitations, GetRole per managed role, and activity user by user
/// (ListUsers pages, then ListAccessKeys and GetAccessKeyLastUsed per user).
/// Answers the requests made to (GitHub, IAM/STS).
async fn sequential_read(scenario: &Scenario, github: &FakeGithub, moto: &Moto) -> (usize, usize) {
    let octocrab = octocrab::Octocrab::builder()
        .base_uri(github.base_url())
        .expect("base URI")
        .personal_token(TOKEN.to_owned())
        .build()
        .expect("octocrab");
    let mut github_requests = 0;
    let mut teams: Vec<String> = scenario
        .teams
        .iter()
        .filter(|t| t.managed)
        .map(|t| t.slug.clone())
        .collect();
    let mut index = 0;
    while index < teams.len() {
        let slug = teams[index].clone();
        index += 1;
        let base = format!("/orgs/{ORG}/teams/{slug}");
        for listing in ["members", "teams", "invitations"] {
            let mut page: octocrab::Page<Value> = octocrab
                .get(format!("{base}/{listing}"), Some(&[("per_page", "100")]))
                .await
                .expect("a GitHub listing");
            github_requests += 1;
            loop {
                if listing == "teams" {
                    teams.extend(
                        page.items
                            .iter()
                            .filter_map(|t| t["slug"].as_str().map(str::to_owned)),
                    );
                }
                match octocrab
                    .get_page::<Value>(&page.next)
                    .await
                    .expect("a GitHub page")
                {
                    Some(next) => {
                        github_requests += 1;
                        page = next;
                    }
                    None => break,
                }
            }
        }
    }

    let base = moto.sdk_loader().load().await;
    let users = aws_sdk_iam::Client::new(&base);
    let mut marker: Option<String> = None;
    loop {
        let page = users
            .list_users()
            .set_marker(marker.take())
            .send()
            .await
            .expect("ListUsers");
        for user in page.users() {
            let keys = users
                .list_access_keys()
                .user_name(user.user_name())
                .send()
                .await
                .expect("ListAccessKeys");
            for key in keys.access_key_metadata() {
                users
                    .get_access_key_last_used()
                    .access_key_id(key.access_key_id().expect("a key id"))
                    .send()
                    .await
                    .expect("GetAccessKeyLastUsed");
            }
        }
        match page.marker().filter(|_| page.is_truncated()) {
            Some(next) => marker = Some(next.to_owned()),
            None => break,
        }
    }
    for account in 0..scenario.shape.accounts {
        let id = account_id(account);
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config_in(&id).await);
        for role in scenario
            .roles
            .iter()
            .filter(|r| r.managed && r.account == account)
        {
            let got = iam
                .get_role()
                .role_name(&role.name)
                .send()
                .await
                .expect("GetRole");
            assert_eq!(
                got.role().map(|r| r.arn().to_owned()),
                Some(role_arn(account, &role.name))
            );
        }
    }
    (github_requests, moto.request_count() as usize)
}
