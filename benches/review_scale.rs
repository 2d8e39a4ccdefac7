//! `lapse review` of an organisation of 5,000 people: wall time and peak
//! memory of the release binary, and a `plan` of the same organisation run
//! after it for comparison (the two read the same; the review also writes
//! every holder out).
//!
//! Seeds the fake GitHub and moto with the generated organisation of the
//! org_scale bench (`lapse_test_support::scenario`), injects latency on
//! every request (50 ms by default), then runs `review` and `plan` once each.
//!
//! ```sh
//! cargo bench --bench review_scale                # large: a few minutes
//! cargo bench --bench review_scale -- small       # seconds
//! cargo bench --bench review_scale -- --latency-ms 0 --format csv
//! ```
//!
//! Prints PASS or FAIL for each target; exits 1 if any failed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use lapse_test_support::github::FakeGithub;
use lapse_test_support::moto::Moto;
use lapse_test_support::scenario::{NOW, Scenario, Shape};
use serde_json::Value;

const TOKEN: &str = "ghp_lapseBENCH0review0secret0Hx4Np9";
const TOKEN_ENV: &str = "LAPSE_BENCH_GITHUB_TOKEN";
/// The most memory the lapse process may use at this scale (as for `plan`).
const MEMORY_LIMIT: u64 = 100 * 1024 * 1024;

struct Options {
    shape: Shape,
    latency: Duration,
    /// The review's format: json is checked against the scenario, the
    /// others only measured.
    format: String,
}

fn options() -> Options {
    let mut options = Options {
        shape: Shape::large(),
        latency: Duration::from_millis(50),
        format: "json".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--latency-ms" => {
                let ms = args.next().and_then(|v| v.parse().ok());
                options.latency = Duration::from_millis(ms.expect("--latency-ms takes a number"));
            }
            "--format" => options.format = args.next().expect("--format takes a format"),
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

/// One run of the lapse binary: what it printed, its exit code, wall time
/// and peak resident memory.
struct Measured {
    stdout: Vec<u8>,
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
    if stdout.is_empty() {
        panic!(
            "lapse printed nothing; exit {code:?}\nstderr: {}",
            String::from_utf8_lossy(&stderr)
        );
    }
    Measured {
        stdout,
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

/// `lapse plan` against the fakes, as the org_scale bench runs it.
fn plan_command(moto: &Moto, dir: &Path) -> Command {
    Scenario::lapse_command(&lapse_binary(), moto, dir, (TOKEN_ENV, TOKEN), &["plan"])
}

/// `lapse review` against the fakes, in `format`, with the environment
/// `plan_command` has.
fn review_command(moto: &Moto, dir: &Path, format: &str) -> Command {
    let mut command = Command::new(lapse_binary());
    command
        .args(["review", "--format", format, "--now", NOW, "--config"])
        .arg(dir.join("lapse.yaml"))
        .env("LAPSE_LOG_FORMAT", "json")
        .env(TOKEN_ENV, TOKEN)
        .stdin(Stdio::null());
    moto.configure_command(&mut command);
    command
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn fresh_counts(github: &FakeGithub, moto: &Moto, latency: Duration) {
    github.reset_counters();
    github.set_latency(latency);
    moto.reset_counts();
    moto.set_latency(None, latency);
}

fn check(failed: &mut Vec<String>, name: &str, passed: bool, detail: String) {
    println!(
        "  {} {name}: {detail}",
        if passed { "PASS" } else { "FAIL" }
    );
    if !passed {
        failed.push(name.to_owned());
    }
}

/// Holders the review lists for `system`.
fn holders(review: &Value, system: &str) -> usize {
    review["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .filter(|h| h["system"] == system)
        .count()
}

fn main() {
    let options = options();
    let scenario = Scenario::generate(options.shape.clone());
    let (github_grants, aws_grants) = scenario.grants();
    println!(
        "scenario {}: {} people, {github_grants} GitHub grants, {aws_grants} IAM grants; {} ms latency per request",
        scenario.shape.name,
        scenario.shape.people,
        options.latency.as_millis()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (github, moto) = scenario.deploy(TOKEN, TOKEN_ENV, dir.path());
    let mut failed = Vec::new();

    // The review first, as a quarterly run meets IAM: no credential report
    // ready yet. The plan after it finds one, so it gives the review the
    // benefit of no doubt.
    fresh_counts(&github, &moto, options.latency);
    let format = options.format.as_str();
    let review = measure(review_command(&moto, dir.path(), format));
    let grants = (github_grants, aws_grants);
    check_review(&mut failed, &review, format, &github, &moto, grants);

    fresh_counts(&github, &moto, options.latency);
    let plan = measure(plan_command(&moto, dir.path()));
    println!(
        "plan, after it: exit {:?}, wall {}, peak memory {}",
        plan.code,
        secs(plan.wall),
        mib(plan.peak_rss)
    );
    if failed.is_empty() {
        println!("all targets met");
    } else {
        println!("targets missed: {}", failed.join(", "));
        std::process::exit(1);
    }
}

/// The review's targets: exit 0, nothing written to either fake, the
/// memory limit, and (for JSON) every grant the scenario holds listed.
fn check_review(
    failed: &mut Vec<String>,
    review: &Measured,
    format: &str,
    github: &FakeGithub,
    moto: &Moto,
    (github_grants, aws_grants): (usize, usize),
) {
    // GraphQL queries are POSTs, but they only read.
    let writes = github.count_requests(|r| {
        r.method != "GET" && !(r.method == "POST" && r.path_and_query.starts_with("/graphql"))
    });
    let iam_writes = moto
        .request_counts()
        .by_action
        .keys()
        .filter(|a| {
            !["Get", "List", "Generate", "AssumeRole"]
                .iter()
                .any(|r| a.starts_with(r))
        })
        .count();
    println!(
        "review:         exit {:?}, wall {}, peak memory {}, {} bytes of {format}",
        review.code,
        secs(review.wall),
        mib(review.peak_rss),
        review.stdout.len()
    );
    check(
        failed,
        "review exits 0",
        review.code == Some(0),
        format!("{:?}", review.code),
    );
    check(
        failed,
        "review changes nothing",
        writes == 0 && iam_writes == 0,
        format!("{writes} GitHub writes, {iam_writes} IAM write actions"),
    );
    check(
        failed,
        "peak memory < 100 MB",
        review.peak_rss < MEMORY_LIMIT,
        mib(review.peak_rss),
    );
    if format == "json" {
        let json: Value = serde_json::from_slice(&review.stdout).expect("a JSON review");
        let (on_github, in_iam) = (holders(&json, "github"), holders(&json, "aws"));
        check(
            failed,
            "review lists every grant the scenario holds",
            on_github == github_grants && in_iam == aws_grants,
            format!("GitHub {on_github} of {github_grants}, IAM {in_iam} of {aws_grants}"),
        );
    }
}
