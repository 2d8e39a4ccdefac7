//! The built binary, driven as a user or a script would: exit codes, output
//! placement, and that bad input stops everything.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/example")
        .join(file)
}

fn lapse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(args)
        .env("LAPSE_LOG_FORMAT", "text")
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn plan_example(extra: &[&str]) -> Output {
    let config = example("lapse.yaml");
    let state = example("snapshot.json");
    let mut args = vec![
        "plan",
        "--config",
        config.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    lapse(&args)
}

/// A copy of the example in a temp dir, with the roster replaced.
fn example_with_roster(roster: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example("lapse.yaml"), dir.path().join("lapse.yaml")).unwrap();
    std::fs::write(dir.path().join("users.yaml"), roster).unwrap();
    dir
}

#[test]
fn validate_accepts_the_example_and_reports_its_warning() {
    let config = example("lapse.yaml");
    let out = lapse(&[
        "validate",
        "--config",
        config.to_str().unwrap(),
        "--now",
        "2026-11-22",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("12 people, 3 access levels; 1 warning"),
        "{stdout}"
    );
    assert!(
        stdout.contains("users.yaml:23:16"),
        "the expired grant is pointed at: {stdout}"
    );
}

#[test]
fn plan_exits_2_on_drift_and_prints_to_stdout() {
    let out = plan_example(&["--now", "2026-11-22"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("26 findings"), "{stdout}");
    assert!(
        !stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn plan_json_goes_to_the_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = plan_example(&[
        "--now",
        "2026-11-22",
        "--format",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "the report went to the file, not stdout"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["command"], "plan");
    assert_eq!(json["summary"]["revocations_planned"], 14);
    assert_eq!(
        json["api_calls"],
        serde_json::json!({"github": 0, "aws": 0}),
        "a snapshot plan calls no API"
    );
}

#[test]
fn now_answers_what_lapses_next_week() {
    let out = plan_example(&["--now", "2026-11-26", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let erin: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["person"] == "erin.temp@example.gov.uk")
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        erin,
        vec!["expired", "expired", "expired"],
        "Erin's admin grant ended on the 25th"
    );
}

#[test]
fn a_bad_roster_exits_1_with_file_line_and_column() {
    let dir = example_with_roster("- email: jane@example.gov.uk\n  expiers: 2026-12-01\n");
    let config = dir.path().join("lapse.yaml");
    let out = lapse(&[
        "plan",
        "--config",
        config.to_str().unwrap(),
        "--state",
        example("snapshot.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no report from bad input");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("users.yaml:2:3"), "{stderr}");
    assert!(stderr.contains("unknown key `expiers`"), "{stderr}");
}

#[test]
fn an_empty_roster_exits_1() {
    let dir = example_with_roster("");
    let config = dir.path().join("lapse.yaml");
    let out = lapse(&["validate", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("the roster lists nobody"));
}

#[test]
fn a_missing_config_exits_1() {
    let out = lapse(&["validate", "--config", "/nonexistent/lapse.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("cannot open /nonexistent/lapse.yaml"));
}

#[test]
fn a_snapshot_missing_a_managed_team_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example("snapshot.json")).unwrap()).unwrap();
    snapshot["github"]["teams"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["slug"] != "gov-uk-production-admin");
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let config = example("lapse.yaml");
    let out = lapse(&[
        "plan",
        "--config",
        config.to_str().unwrap(),
        "--state",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no team `gov-uk-production-admin`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_snapshot_of_another_version_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(
        &path,
        r#"{"version": 2, "taken_at": "2026-11-22T00:00:00Z"}"#,
    )
    .unwrap();
    let config = example("lapse.yaml");
    let out = lapse(&[
        "plan",
        "--config",
        config.to_str().unwrap(),
        "--state",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("snapshot version 2 is not supported"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn no_drift_exits_0() {
    let dir = example_with_roster(
        "- email: mia.platform@example.gov.uk\n  github_username: miaplatform\n  access: [production_deploy, platform_engineer]\n  attestations: [bpss, probation, admin-checklist]\n",
    );
    let snapshot = serde_json::json!({
        "version": 1,
        "taken_at": "2026-11-22T00:00:00Z",
        "github": {"org": "alphagov", "teams": [
            {"slug": "gov-uk-production-deploy", "members": [{"login": "miaplatform"}]},
            {"slug": "gov-uk-production-admin"},
            {"slug": "gov-uk-platform-engineering", "members": [{"login": "MiaPlatform"}]}
        ]},
        "aws": {"roles": [
            {"arn": "arn:aws:iam::123456789012:role/govuk-developer", "trust_policy": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:user/mia.platform@example.gov.uk"}}}},
            {"arn": "arn:aws:iam::210987654321:role/govuk-admin", "trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:user/break-glass"}}]}},
            {"arn": "arn:aws:iam::123456789012:role/govuk-admin", "trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}}]}},
            {"arn": "arn:aws:iam::210987654321:role/govuk-platformengineer", "trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111111111111:user/mia.platform@example.gov.uk"]}}]}}
        ]}
    });
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let config = dir.path().join("lapse.yaml");
    let out = lapse(&[
        "plan",
        "--config",
        config.to_str().unwrap(),
        "--state",
        path.to_str().unwrap(),
        "--now",
        "2026-11-22",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("No drift"));
}

#[test]
fn usage_errors_exit_1_never_the_drift_code() {
    let config = example("lapse.yaml");
    let config = config.to_str().unwrap();
    for args in [
        &[][..],
        &["plan", "--config", config, "--bogus"][..],
        &["plan"][..],
        &["frobnicate"][..],
        &["apply", "--config", config, "--override-gates", "  "][..],
        &["plan", "--config", config, "--format", "yaml"][..],
    ] {
        let out = lapse(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).is_empty(), "{args:?} says what is wrong");
    }
    for args in [&["--help"][..], &["plan", "--help"][..], &["--version"][..]] {
        let out = lapse(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!text(&out.stdout).is_empty());
    }
}

#[test]
fn every_option_of_every_command_is_described_with_exit_codes_and_log_variables() {
    for command in ["validate", "plan", "apply", "run", "serve", "snapshot"] {
        let out = lapse(&[command, "--help"]);
        let help = text(&out.stdout);
        for line in help.lines().filter(|l| l.trim_start().starts_with("--")) {
            // `--name <VALUE>  What it is for`: a description follows the flag.
            let described = line
                .trim_start()
                .split_once("  ")
                .is_some_and(|(_, rest)| !rest.trim().is_empty());
            assert!(described, "{command}: `{line}` has no description");
        }
        for needed in [
            "Exit codes:",
            "LAPSE_LOG",
            "LAPSE_LOG_FORMAT",
            "not a terminal",
        ] {
            assert!(
                help.contains(needed),
                "{command} --help lacks {needed}:\n{help}"
            );
        }
    }
}
