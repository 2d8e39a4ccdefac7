//! `lapse serve`: cycles on schedule, /healthz and /metrics, a bad roster
//! failing its cycle, SIGTERM exiting cleanly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
roster: users.yaml
schedule: "*/1 * * * * *"
access_levels:
  reader:
    requires: []
"#;

const ROSTER: &str = "- email: a@example.gov.uk\n  access: reader\n";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Daemon {
    child: Child,
    port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path) -> Daemon {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args([
            "serve",
            "--config",
            dir.join("lapse.yaml").to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("LAPSE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Daemon { child, port }
}

/// A plain HTTP GET; returns status and body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
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

/// Polls until `check` holds, or fails after `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

fn sigterm(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

#[test]
fn cycles_run_on_schedule_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lapse.yaml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("users.yaml"), ROSTER).unwrap();
    let mut daemon = start(dir.path());
    wait_for(Duration::from_secs(10), || {
        get(daemon.port, "/healthz").is_some()
    });
    assert_eq!(
        get(daemon.port, "/healthz").unwrap().0,
        200,
        "healthy before any cycle"
    );
    wait_for(Duration::from_secs(15), || {
        get(daemon.port, "/metrics")
            .and_then(|(_, b)| metric(&b, "lapse_cycles_total"))
            .is_some_and(|n| n >= 2.0)
    });
    let (status, body) = get(daemon.port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(metric(&body, "lapse_run_success"), Some(1.0), "{body}");
    assert_eq!(
        metric(&body, "lapse_cycles_skipped_total"),
        Some(0.0),
        "{body}"
    );
    assert!(
        body.contains("lapse_findings{kind=\"unexpected\",system=\"github\"} 0"),
        "{body}"
    );
    assert!(metric(&body, "lapse_last_success_timestamp_seconds").is_some());

    // A roster broken between cycles fails the next cycle, and health says so.
    std::fs::write(dir.path().join("users.yaml"), "").unwrap();
    wait_for(Duration::from_secs(10), || {
        get(daemon.port, "/healthz").is_some_and(|(s, _)| s == 503)
    });
    let (_, body) = get(daemon.port, "/metrics").unwrap();
    assert_eq!(metric(&body, "lapse_run_success"), Some(0.0), "{body}");
    assert!(
        metric(&body, "lapse_last_success_timestamp_seconds").is_some(),
        "the last success is remembered"
    );

    sigterm(&daemon.child);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = daemon.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    daemon
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("\"run_id\""),
        "cycles log their run id: {stderr}"
    );
    assert!(stderr.contains("the roster lists nobody"), "{stderr}");
}

#[test]
fn an_invalid_schedule_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lapse.yaml"),
        CONFIG.replace("*/1 * * * * *", "61 * * * * *"),
    )
    .unwrap();
    std::fs::write(dir.path().join("users.yaml"), ROSTER).unwrap();
    let mut daemon = start(dir.path());
    let status = daemon.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

/// Whether the daemon has closed this connection (a read sees end of file
/// or a reset) within `limit`.
fn closed_within(mut stream: &TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn half_sent_requests_are_dropped_and_cannot_hold_the_listener() {
    let dir = tempfile::tempdir().unwrap();
    // A schedule that never comes round in the test: only the listener is exercised.
    std::fs::write(
        dir.path().join("lapse.yaml"),
        CONFIG.replace("*/1 * * * * *", "0 0 0 1 1 *"),
    )
    .unwrap();
    std::fs::write(dir.path().join("users.yaml"), ROSTER).unwrap();
    let daemon = start(dir.path());
    wait_for(Duration::from_secs(20), || {
        get(daemon.port, "/healthz").is_some()
    });

    // More half-sent requests than the listener keeps open at once.
    let held: Vec<TcpStream> = (0..80)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", daemon.port)).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let refused_at_once = held
        .iter()
        .filter(|s| closed_within(s, Duration::from_millis(50)))
        .count();
    assert!(
        refused_at_once >= 16,
        "only {refused_at_once} of 80 refused past the cap"
    );

    // The rest are closed once the header-read timeout passes.
    let started = Instant::now();
    for s in &held {
        assert!(
            closed_within(s, Duration::from_secs(12)),
            "a half-sent request stayed open"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(11),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        get(daemon.port, "/healthz").map(|(code, _)| code),
        Some(200)
    );
}

/// `lapse serve` that is expected to stop at start: its exit code and stderr.
fn serve_refusing(dir: &std::path::Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
    command
        .args([
            "serve",
            "--config",
            dir.join("lapse.yaml").to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .env("LAPSE_LOG_FORMAT", "text")
        .env_remove("LAPSE_TEST_SERVE_TOKEN");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("serve kept running with a config it cannot work with");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

#[test]
fn serve_exits_1_at_start_on_a_bad_roster_or_missing_credentials() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lapse.yaml"), CONFIG).unwrap();
    std::fs::write(
        dir.path().join("users.yaml"),
        "- email: a@example.gov.uk\n  access: no_such_level\n",
    )
    .unwrap();
    let (code, stderr) = serve_refusing(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no_such_level"), "{stderr}");
    assert!(!stderr.contains("cycles run on schedule"), "{stderr}");

    // A valid roster, but GitHub teams to read and no token to read them with.
    let config = format!(
        "{CONFIG}    github_teams: [readers]\ngithub:\n  org: acme\n  token_env: LAPSE_TEST_SERVE_TOKEN\n"
    );
    std::fs::write(dir.path().join("lapse.yaml"), config).unwrap();
    std::fs::write(dir.path().join("users.yaml"), ROSTER).unwrap();
    let (code, stderr) = serve_refusing(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("LAPSE_TEST_SERVE_TOKEN"), "{stderr}");
    assert!(!stderr.contains("cycles run on schedule"), "{stderr}");
}
