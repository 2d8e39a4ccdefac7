//! The roster and config as a careless or hostile author would write them,
//! through the built binary: every case exits 1 (or is shown harmlessly),
//! says where the problem is, and never echoes a secret or a control
//! character.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/example")
        .join(file)
}

fn lapse_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lapse"));
    command
        .args(args)
        .current_dir(dir)
        .env("LAPSE_LOG_FORMAT", "text")
        .env_remove("GITHUB_TOKEN");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

/// The example config in a temp dir with this roster text (bytes, so it can be invalid UTF-8).
fn with_roster(roster: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("lapse.yaml"), dir.path().join("lapse.yaml")).unwrap();
    std::fs::write(dir.path().join("users.yaml"), roster).unwrap();
    dir
}

fn validate(dir: &Path) -> (Option<i32>, String) {
    let out = lapse_in(
        dir,
        &["validate", "--config", "lapse.yaml", "--now", "2026-11-22"],
        &[],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), all)
}

const PERSON: &str = "- email: jane@example.gov.uk\n  github_username: janedoe\n  access: production_deploy\n  attestations: [bpss]\n";

#[test]
fn a_tab_at_the_start_of_a_line_is_reported_where_it_stands() {
    let dir = with_roster(b"- name: A\n\temail: a@example.gov.uk\n");
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("users.yaml:2:1"), "{out}");
}

#[test]
fn a_byte_that_is_not_utf8_is_reported_by_line_and_column() {
    let dir = with_roster(b"- name: A\n  email: a\xffb@example.gov.uk\n");
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("users.yaml:2:11"), "{out}");
    assert!(out.contains("0xff"), "{out}");
}

#[test]
fn a_roster_pointing_at_a_secrets_file_never_prints_the_secret() {
    let token = format!("ghp_{}", "Zq7".repeat(12));
    let webhook = "https://hooks.slack.com/services/T000/B000/abcdefghijkl";
    let dir = with_roster(PERSON.as_bytes());
    std::fs::write(
        dir.path().join(".env"),
        format!("GITHUB_TOKEN={token}\nSLACK_WEBHOOK_URL={webhook}\n"),
    )
    .unwrap();
    let config = std::fs::read_to_string(dir.path().join("lapse.yaml"))
        .unwrap()
        .replace("roster: users.yaml", "roster: .env");
    std::fs::write(dir.path().join("lapse.yaml"), config).unwrap();
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(".env"), "{out}");
    assert!(!out.contains(&token), "{out}");
    assert!(!out.contains(webhook), "{out}");
}

#[test]
fn a_secret_in_the_environment_is_masked_wherever_a_file_quotes_it() {
    // Not token-shaped, so only its registration as GITHUB_TOKEN's value masks it.
    let secret = "correct-horse-battery-staple";
    let dir = with_roster(format!("- email: {secret}\n").as_bytes());
    let out = lapse_in(
        dir.path(),
        &["validate", "--config", "lapse.yaml", "--now", "2026-11-22"],
        &[("GITHUB_TOKEN", secret)],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains(secret), "{all}");
    assert!(all.contains("[redacted]"), "{all}");
}

#[test]
fn a_huge_value_is_quoted_in_part() {
    let huge = "a".repeat(10 * 1024 * 1024);
    let dir = with_roster(format!("- email: {huge}\n").as_bytes());
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1), "{}", &out[..out.len().min(2000)]);
    assert!(out.len() < 8 * 1024, "{} bytes of output", out.len());
}

#[test]
fn a_roster_over_the_size_limit_is_refused_before_it_is_read() {
    let limit = lapse::roster::MAX_ROSTER_BYTES as usize;
    let entry = "- email: person@example.gov.uk\n";
    let roster = entry.repeat(limit / entry.len() + 1);
    assert!(roster.len() > limit);
    let dir = with_roster(roster.as_bytes());
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1), "{}", &out[..out.len().min(2000)]);
    assert!(
        out.contains(&format!("is larger than {limit} bytes")),
        "{}",
        &out[..out.len().min(2000)]
    );
}

#[test]
fn after_a_hundred_problems_the_rest_are_counted() {
    let roster: String = (0..150)
        .map(|i| format!("- email: person{i}@example.gov.uk\n  access: no_such_level\n"))
        .collect();
    let dir = with_roster(roster.as_bytes());
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1));
    assert_eq!(out.matches("error: ").count(), 100, "{out}");
    assert!(
        out.contains("… and 50 more (50 errors, 0 warnings) not shown"),
        "{out}"
    );
    assert!(out.contains("150 errors"), "{out}");
}

/// A snapshot whose trust policy names principals written to attack a
/// terminal and a markdown page.
fn hostile_snapshot(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(example("snapshot.json")).unwrap();
    let mut snapshot: serde_json::Value = serde_json::from_str(&text).unwrap();
    let roles = snapshot["aws"]["roles"].as_array_mut().expect("roles");
    let policy = &mut roles[0]["trust_policy"];
    let principal = "arn:aws:iam::999999999999:user/x\u{1b}[2J<!--";
    policy["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(serde_json::json!({
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": "sts:AssumeRole"
        }));
    let path = dir.join("snapshot.json");
    std::fs::write(&path, serde_json::to_string(&snapshot).unwrap()).unwrap();
    path
}

#[test]
fn control_characters_and_markup_from_a_system_are_shown_harmlessly() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = hostile_snapshot(dir.path());
    for (format, escaped) in [
        ("text", "x\\u{1b}[2J<!--"),
        (
            "markdown",
            "`arn:aws:iam::999999999999:user/x\\u{1b}[2J<!--`",
        ),
    ] {
        let config = example("lapse.yaml");
        let out = lapse_in(
            dir.path(),
            &[
                "plan",
                "--config",
                config.to_str().unwrap(),
                "--state",
                snapshot.to_str().unwrap(),
                "--now",
                "2026-11-22",
                "--format",
                format,
            ],
            &[],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{stdout}");
        assert!(!stdout.contains('\u{1b}'), "{format}: raw ESC in\n{stdout}");
        assert!(stdout.contains(escaped), "{format}:\n{stdout}");
    }
}

#[test]
fn a_roster_that_cannot_be_opened_is_reported_at_the_configs_roster_line() {
    let dir = with_roster(PERSON.as_bytes());
    std::fs::remove_file(dir.path().join("users.yaml")).unwrap();
    let (code, out) = validate(dir.path());
    assert_eq!(code, Some(1), "{out}");
    let line = std::fs::read_to_string(dir.path().join("lapse.yaml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("roster:"))
        .unwrap()
        + 1;
    assert!(out.contains(&format!("lapse.yaml:{line}:1")), "{out}");
    assert!(out.contains("cannot open"), "{out}");
    assert!(out.contains("help: `roster:` names"), "{out}");
}
