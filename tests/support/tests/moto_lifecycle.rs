//! The moto harness starts, says clearly when it cannot, and leaves no
//! process behind however a test ends.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::panic;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use lapse_test_support::moto::{Moto, launcher_path, python_path};

/// Whether a process with this ID still exists (Linux and macOS `kill -0`).
fn process_exists(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .expect("run kill -0")
        .success()
}

fn wait_until_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !process_exists(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn drop_stops_the_server() {
    let moto = Moto::start();
    let (pid, addr) = (moto.pid(), moto.addr());
    assert!(process_exists(pid));
    assert!(TcpStream::connect(addr).is_ok());

    drop(moto);

    assert!(!process_exists(pid), "moto (pid {pid}) outlived its Moto");
    assert!(
        TcpStream::connect(addr).is_err(),
        "{addr} still accepts connections"
    );
}

#[test]
fn a_panicking_test_stops_its_server() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let outcome = thread::spawn(move || {
        let moto = Moto::start();
        sender.send(moto.pid()).expect("send pid");
        panic!("the test failed");
    })
    .join();

    assert!(outcome.is_err());
    let pid = receiver.recv().expect("the thread started moto");
    assert!(
        !process_exists(pid),
        "moto (pid {pid}) outlived a panicking test"
    );
}

#[test]
fn the_launcher_exits_when_its_parent_goes_away() {
    // What saves us when the test process is killed and Drop never runs: the
    // kernel closes the launcher's stdin, and the launcher exits on EOF.
    let mut child = Command::new(python_path())
        .arg(launcher_path())
        .args(["--port", "0", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the launcher");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("LISTENING line");
    assert!(line.starts_with("LISTENING 127.0.0.1:"), "got {line:?}");

    drop(child.stdin.take());

    let pid = child.id();
    let exited = wait_until_gone_or_reap(&mut child);
    assert!(
        exited,
        "the launcher (pid {pid}) kept running after stdin closed"
    );
}

/// The launcher is our own child, so it lingers as a zombie until reaped:
/// poll `try_wait` rather than `kill -0`.
fn wait_until_gone_or_reap(child: &mut std::process::Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

#[test]
fn a_missing_venv_says_how_to_make_one() {
    let outcome = panic::catch_unwind(|| Moto::start_with_python(Path::new("/nonexistent/python")));

    let message = outcome.expect_err("start must fail without python");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("scripts/setup-venv.sh"),
        "unhelpful: {message}"
    );
}

#[test]
fn servers_are_independent() {
    let first = Moto::start();
    let second = Moto::start();
    assert_ne!(first.addr(), second.addr());
    first.set_latency(None, Duration::ZERO);
    assert_eq!(first.request_count(), 0);
    assert_eq!(second.request_count(), 0);
    let pid = first.pid();
    drop(first);
    assert!(wait_until_gone(pid));
    assert!(
        second.request_count() == 0,
        "the second server survives the first"
    );
}

#[test]
fn configure_command_gives_a_hermetic_aws_environment() {
    let moto = Moto::start();
    let mut command = Command::new("env");
    // A developer's own profile must not reach the program under test.
    command
        .env("AWS_PROFILE", "production")
        .env("AWS_SESSION_TOKEN", "real");
    moto.configure_command(&mut command);

    let output = command.output().expect("run env");
    let env = String::from_utf8(output.stdout).expect("UTF-8 env");
    let value = |name: &str| {
        env.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    assert_eq!(value("AWS_PROFILE"), None);
    assert_eq!(value("AWS_SESSION_TOKEN"), None);
    assert_eq!(value("AWS_ENDPOINT_URL"), Some(moto.endpoint_url()));
    assert_eq!(value("AWS_EC2_METADATA_DISABLED").as_deref(), Some("true"));
    assert!(value("AWS_ACCESS_KEY_ID").is_some() && value("AWS_REGION").is_some());
    let home = value("HOME").expect("HOME");
    assert!(Path::new(&home).is_dir(), "HOME {home} should exist, empty");
    for file in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        let path = value(file).expect(file);
        assert!(!Path::new(&path).exists(), "{file} {path} should not exist");
    }
}
