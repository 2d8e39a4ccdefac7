//! `lapse serve` for many cycles against both fakes with failures injected:
//! it must end with no hang, no leaked task or file descriptor, flat memory,
//! and `/healthz` telling the truth after every cycle.
//!
//! The small generated organisation is seeded into the fake GitHub and moto;
//! the daemon runs a cycle every second; before each cycle a request to
//! either fake fails with a 5xx one time in ten, half of them for longer than
//! lapse retries (a cycle whose read still fails is a failed cycle). After each cycle the
//! bench compares `/healthz` with the cycle's own exit code from the log,
//! and samples the process's resident memory and open file descriptors.
//! Then SIGTERM, which must end the process within its grace.
//!
//! ```sh
//! cargo bench --bench serve_soak                 # 200 cycles, about 4 minutes
//! cargo bench --bench serve_soak -- 30           # a shorter soak
//! ```
//!
//! Each target prints PASS or FAIL; the run exits 1 if any failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lapse_test_support::moto::Fault;
use lapse_test_support::scenario::{Scenario, Shape};

const TOKEN: &str = "ghp_lapseSOAK0serve0secret0Wq4Ld8";
const TOKEN_ENV: &str = "LAPSE_SOAK_GITHUB_TOKEN";
/// One request in this many, before a cycle, is made to fail.
const FAIL_ONE_IN: u64 = 10;
/// A fault this many requests long outlasts every retry of the reads in flight.
const LASTING: u32 = 40;
/// Growth of resident memory from the tenth cycle to the last that counts as flat.
const MEMORY_GROWTH_LIMIT: f64 = 1.25;

fn main() {
    let cycles: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = Scenario::generate(Shape::small());
    let (github, moto) = scenario.deploy(TOKEN, TOKEN_ENV, dir.path());
    let config = std::fs::read_to_string(dir.path().join("lapse.yaml")).unwrap();
    std::fs::write(
        dir.path().join("lapse.yaml"),
        format!("schedule: \"*/1 * * * * *\"\nshutdown_grace_s: 20\n{config}"),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_lapse"));
    serve
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(dir.path().join("lapse.yaml"))
        .env("LAPSE_LOG_FORMAT", "json")
        .env(TOKEN_ENV, TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    moto.configure_command(&mut serve);
    let mut child = serve.spawn().expect("start lapse serve");
    let pid = child.id();
    let (finished_tx, finished) = mpsc::channel::<i64>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if event["message"] == "cycle finished" {
                let _ = finished_tx.send(event["exit"].as_i64().unwrap_or(-1));
            }
        }
    });

    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let mut lies = 0;
    let mut failed = 0;
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let started = Instant::now();
    for cycle in 1..=cycles {
        // Half the faults are retried away; half outlast the retries and
        // fail the cycle.
        if next() % FAIL_ONE_IN == 0 {
            github.fail_requests("", if next() % 2 == 0 { 1 } else { LASTING }, 502);
        }
        if next() % FAIL_ONE_IN == 0 {
            let times = if next() % 2 == 0 { 1 } else { LASTING };
            moto.inject_fault(Fault::service_failure().times(times));
        }
        let Ok(exit) = finished.recv_timeout(Duration::from_secs(60)) else {
            println!("FAIL no cycle finished within a minute (cycle {cycle}): the daemon hangs");
            let _ = child.kill();
            std::process::exit(1);
        };
        let ok = exit == 0 || exit == 2;
        failed += u64::from(!ok);
        let health = healthz(port);
        if health != Some(if ok { 200 } else { 503 }) {
            lies += 1;
            println!("cycle {cycle}: exit {exit} but /healthz answered {health:?}");
        }
        samples.push((rss_kib(pid), open_fds(pid)));
        // Faults not used up in this cycle do not spill into the next.
        moto.clear_faults();
        github.clear_failures();
    }
    let soak_time = started.elapsed();
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if stopping.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    let settled = &samples[samples.len().min(10) - 1..];
    let (rss_start, fds_start) = settled[0];
    let (rss_end, fds_end) = *samples.last().unwrap();
    let rss_max = samples.iter().map(|s| s.0).max().unwrap();
    let fds_max = samples.iter().map(|s| s.1).max().unwrap();
    println!(
        "{cycles} cycles in {:.0} s: {failed} failed (injected faults), {lies} where /healthz disagreed",
        soak_time.as_secs_f64()
    );
    println!(
        "resident memory after cycle 10: {rss_start} KiB, at the end: {rss_end} KiB, peak {rss_max} KiB"
    );
    println!(
        "open file descriptors after cycle 10: {fds_start}, at the end: {fds_end}, peak {fds_max}"
    );
    let mut all = true;
    let mut verdict = |ok: bool, what: String| {
        println!("{} {what}", if ok { "PASS" } else { "FAIL" });
        all &= ok;
    };
    verdict(
        lies == 0,
        format!("/healthz told the truth after all {cycles} cycles"),
    );
    verdict(
        (rss_end as f64) <= rss_start as f64 * MEMORY_GROWTH_LIMIT,
        format!("memory flat: {rss_start} → {rss_end} KiB (limit ×{MEMORY_GROWTH_LIMIT})"),
    );
    verdict(
        fds_end <= fds_start + 4,
        format!("no leaked descriptors: {fds_start} → {fds_end}"),
    );
    match status {
        Some(s) => verdict(
            s.code() == Some(0),
            format!(
                "SIGTERM stopped it in {:.1} s with exit {:?}",
                stopping.elapsed().as_secs_f64(),
                s.code()
            ),
        ),
        None => verdict(false, "SIGTERM did not stop it within 30 s".into()),
    }
    std::process::exit(if all { 0 } else { 1 });
}

/// `/healthz`'s status code.
fn healthz(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}
