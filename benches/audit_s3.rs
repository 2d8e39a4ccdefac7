//! What the S3 audit sink costs an `apply`: S3 requests per revocation, and
//! the wall time it adds over the local audit file, with latency injected on
//! every request to moto and the fake GitHub (50 ms by default).
//!
//! Each round deploys the small generated organisation twice, once with
//! `audit_log: audit.jsonl` and once with `audit.s3`, and applies every
//! planned revocation in each; the figures are medians over the rounds.
//!
//! ```sh
//! cargo bench --bench audit_s3                      # 3 rounds
//! cargo bench --bench audit_s3 -- --rounds 5 --latency-ms 20
//! ```
//!
//! Prints PASS or FAIL for each check; exits 1 if any failed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lapse_test_support::moto::Moto;
use lapse_test_support::scenario::{Scenario, Shape};
use serde_json::Value;

const TOKEN: &str = "ghp_lapseBENCH0audit0s30secret0Qz7Lm2";
const TOKEN_ENV: &str = "LAPSE_BENCH_GITHUB_TOKEN";
const BUCKET: &str = "lapse-audit";
const PREFIX: &str = "lapse/audit";
/// What moto's launcher counts an S3 object upload as.
const S3_PUT: &str = "s3:PUT";

struct Options {
    rounds: usize,
    latency: Duration,
}

fn options() -> Options {
    let mut options = Options {
        rounds: 3,
        latency: Duration::from_millis(50),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{flag} takes a number"))
        };
        match arg.as_str() {
            "--rounds" => options.rounds = number("--rounds").max(1) as usize,
            "--latency-ms" => options.latency = Duration::from_millis(number("--latency-ms")),
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            other => panic!("unknown option `{other}`"),
        }
    }
    options
}

/// Where one apply keeps its audit trail.
#[derive(Clone, Copy, PartialEq)]
enum Sink {
    File,
    S3,
}

/// One apply: its wall time, the revocations it carried out and the S3
/// uploads it made.
struct Applied {
    wall: Duration,
    done: u64,
    s3_puts: u64,
    records: u64,
}

fn lapse_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lapse"))
}

/// A fresh organisation with its audit trail in `sink`, applied once.
fn apply(scenario: &Scenario, sink: Sink, latency: Duration) -> Applied {
    let dir = tempfile::tempdir().expect("temp dir");
    let (github, moto) = scenario.deploy(TOKEN, TOKEN_ENV, dir.path());
    if sink == Sink::S3 {
        use_s3(&moto, &dir.path().join("lapse.yaml"));
    }
    github.set_latency(latency);
    moto.reset_counts();
    moto.set_latency(None, latency);
    let mut command = Scenario::lapse_command(
        &lapse_binary(),
        &moto,
        dir.path(),
        (TOKEN_ENV, TOKEN),
        &["apply", "--yes"],
    );
    let start = Instant::now();
    let output = command.output().expect("run lapse");
    let wall = start.elapsed();
    assert_eq!(
        output.status.code(),
        Some(0),
        "apply failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let counts = moto.request_counts().by_action;
    let records = match sink {
        Sink::File => std::fs::read_to_string(dir.path().join("audit.jsonl"))
            .expect("the audit file")
            .lines()
            .count() as u64,
        Sink::S3 => counts.get(S3_PUT).copied().unwrap_or(0),
    };
    Applied {
        wall,
        done: report["summary"]["revocations_done"].as_u64().unwrap_or(0),
        s3_puts: counts.get(S3_PUT).copied().unwrap_or(0),
        records,
    }
}

/// Points the config's audit trail at a new bucket in moto's S3.
fn use_s3(moto: &Moto, config: &std::path::Path) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let sdk = moto.sdk_loader().load().await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .expect("CreateBucket");
    });
    let text = std::fs::read_to_string(config).expect("the config");
    let text = text.replace(
        "audit_log: audit.jsonl\n",
        &format!("audit:\n  s3: {{bucket: {BUCKET}, prefix: {PREFIX}}}\n"),
    );
    std::fs::write(config, text).expect("write the config");
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn check(failed: &mut Vec<&'static str>, name: &'static str, passed: bool, detail: String) {
    println!(
        "  {} {name}: {detail}",
        if passed { "PASS" } else { "FAIL" }
    );
    if !passed {
        failed.push(name);
    }
}

fn main() {
    let options = options();
    let scenario = Scenario::generate(Shape::small());
    let (on_github, in_iam) = scenario.revocations_by_system();
    println!(
        "scenario small: {on_github} GitHub and {in_iam} IAM revocations; {} ms latency per request; {} rounds",
        options.latency.as_millis(),
        options.rounds
    );
    let mut file_walls = Vec::new();
    let mut s3_walls = Vec::new();
    let mut last = None;
    for round in 1..=options.rounds {
        let file = apply(&scenario, Sink::File, options.latency);
        let s3 = apply(&scenario, Sink::S3, options.latency);
        println!(
            "  round {round}: audit file {:.2} s, S3 {:.2} s",
            file.wall.as_secs_f64(),
            s3.wall.as_secs_f64()
        );
        file_walls.push(file.wall);
        s3_walls.push(s3.wall);
        last = Some((file, s3));
    }
    let (file, s3) = last.expect("at least one round");
    let revocations = s3.done.max(1);
    let added = median(s3_walls).saturating_sub(median(file_walls.clone()));
    println!(
        "apply, audit file: median {:.2} s; {} records, {} revocations",
        median(file_walls).as_secs_f64(),
        file.records,
        file.done
    );
    println!(
        "apply, audit S3:   {} PutObject requests for {} revocations ({:.2} per revocation); \
         {:.0} ms added in all, {:.1} ms per revocation",
        s3.s3_puts,
        s3.done,
        s3.s3_puts as f64 / revocations as f64,
        added.as_secs_f64() * 1000.0,
        added.as_secs_f64() * 1000.0 / revocations as f64
    );
    let mut failed = Vec::new();
    check(
        &mut failed,
        "both sinks revoke every planned grant",
        file.done == (on_github + in_iam) as u64 && s3.done == file.done,
        format!("file {}, S3 {}", file.done, s3.done),
    );
    check(
        &mut failed,
        "one PutObject per audit record",
        s3.s3_puts == file.records,
        format!(
            "{} uploads, {} records in the file",
            s3.s3_puts, file.records
        ),
    );
    if !failed.is_empty() {
        println!("checks failed: {}", failed.join(", "));
        std::process::exit(1);
    }
}
