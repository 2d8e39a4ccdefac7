//! The config rules, through the built binary: each rule refuses (or warns
//! about) a copy of the bundled example changed in one place, at the place.

mod github_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use github_support::*;

/// A copy of `config/example/` whose `lapse.yaml` has `from` replaced by `to`.
fn example_with(from: &str, to: &str) -> tempfile::TempDir {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example");
    let dir = tempfile::tempdir().unwrap();
    for file in ["users.yaml", "snapshot.json"] {
        std::fs::copy(example.join(file), dir.path().join(file)).unwrap();
    }
    let config = std::fs::read_to_string(example.join("lapse.yaml")).unwrap();
    assert!(config.contains(from), "the example has no `{from}`");
    std::fs::write(dir.path().join("lapse.yaml"), config.replacen(from, to, 1)).unwrap();
    dir
}

fn config_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("lapse.yaml")
}

/// `lapse validate` of the example changed as [`example_with`] says.
fn validate(from: &str, to: &str) -> Output {
    let dir = example_with(from, to);
    Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(["validate", "--config"])
        .arg(config_in(&dir))
        .args(["--now", "2026-11-22"])
        .env("LAPSE_LOG_FORMAT", "text")
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the exit code, and that stdout says `said` at `lapse.yaml:at`.
fn assert_told(out: &Output, code: i32, at: &str, said: &str) {
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let shown = format!("lapse.yaml:{at}\n");
    let diagnostic = stdout
        .split("\nerror: ")
        .chain(stdout.split("\nwarning: "))
        .find(|d| d.contains(&shown))
        .unwrap_or_else(|| panic!("nothing at {shown}:\n{stdout}"));
    assert!(diagnostic.contains(said), "{said:?} not at {at}:\n{stdout}");
}

#[test]
fn team_slugs_dot_and_dot_dot_are_refused() {
    for slug in ["..", "."] {
        let out = validate(
            "github_teams: [gov-uk-production-deploy]",
            &format!("github_teams: ['{slug}']"),
        );
        assert_told(&out, 1, "15:20", &format!("`{slug}` is not a team slug"));
    }
}

#[test]
fn an_upper_case_team_slug_is_refused_with_the_slug_to_write() {
    let out = validate("[gov-uk-production-admin]", "[Gov-UK-Admin]");
    assert_told(&out, 1, "20:20", "write `gov-uk-admin`");
}

#[test]
fn a_spaced_team_slug_is_refused_with_the_slug_to_write() {
    let out = validate("[gov-uk-production-admin]", "['gov uk']");
    assert_told(&out, 1, "20:20", "write `gov-uk`");
}

#[test]
fn an_invalid_cron_schedule_is_refused_by_validate() {
    let out = validate("\"0 0 7 * * Mon-Fri\"", "\"61 0 7 * * Mon-Fri\"");
    assert_told(
        &out,
        1,
        "6:11",
        "schedule `61 0 7 * * Mon-Fri` is not a valid cron expression",
    );
}

#[test]
fn an_unknown_timezone_is_refused() {
    let out = validate("mode: report\n", "mode: report\ntimezone: Europe/Londn\n");
    assert_told(
        &out,
        1,
        "6:11",
        "timezone `Europe/Londn` is not an IANA time zone",
    );
}

#[test]
fn an_unprefixed_protected_entry_is_refused() {
    let out = validate("[\"github:govuk-ci-bot\"", "[\"govuk-ci-bot\"");
    assert_told(
        &out,
        1,
        "40:15",
        "protected principal `govuk-ci-bot` is neither github:LOGIN nor an IAM ARN",
    );
}

#[test]
fn a_wildcard_protected_entry_is_refused() {
    let out = validate(
        "protected: [\"github:govuk-ci-bot\", \"arn:aws:iam::111111111111:user/break-glass\"]",
        "protected: [\"*\"]",
    );
    assert_told(&out, 1, "40:15", "protected principal `*` is a wildcard");
}

#[test]
fn a_token_pasted_into_token_env_is_refused_and_never_shown() {
    for secret in [
        "Zq7-not-a-name/but+a=secret",
        "ghp_lapseTEST0secret0do0not0print0Zq7Xk2",
    ] {
        let out = validate("token_env: GITHUB_TOKEN", &format!("token_env: {secret}"));
        assert_told(
            &out,
            1,
            "29:14",
            "`github.token_env` must name an environment variable, not hold a value",
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(secret), "the secret was shown:\n{all}");
    }
}

#[test]
fn a_day_limit_of_billions_is_refused_not_a_panic() {
    let out = validate("absence_limit_days: 42", "absence_limit_days: 4000000000");
    assert_told(
        &out,
        1,
        "8:3",
        "policy.absence_limit_days is 4000000000; it must be from 1 to 3650 days",
    );
}

#[test]
fn a_plain_http_api_url_to_another_machine_is_refused() {
    let out = validate(
        "api_url: https://api.github.com",
        "api_url: http://ghe.example.gov.uk/api/v3",
    );
    assert_told(
        &out,
        1,
        "28:12",
        "github.api_url `http://ghe.example.gov.uk/api/v3` sends requests unencrypted to another machine",
    );
}

#[test]
fn a_level_that_grants_nothing_is_a_warning() {
    let out = validate("github:\n", "  auditor:\n    requires: [bpss]\ngithub:\n");
    assert_told(
        &out,
        0,
        "27:5",
        "level `auditor` grants no GitHub team and no AWS role",
    );
    assert!(
        text(&out.stdout).contains("; 2 warnings"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn observed_inactivity_without_a_users_account_is_refused() {
    let out = validate(
        "  users_account: {id: \"111111111111\", assume_role_arn: null}\n",
        "",
    );
    assert_told(
        &out,
        1,
        "30:1",
        "policy.inactivity_limit_days is 42, but there is no aws.users_account to observe inactivity in",
    );
}

/// `protected: ["GitHub:Mallory"]`, in a config for the fake GitHub.
fn protecting_mallory(world: &World) -> Files {
    let files = files(world.github.base_url(), Auth::Token, ROSTER);
    let config = std::fs::read_to_string(files.config()).unwrap();
    let protected = config.replacen(
        "safety:\n",
        "safety:\n  protected: [\"GitHub:Mallory\"]\n",
        1,
    );
    std::fs::write(files.config(), protected).unwrap();
    files
}

#[test]
fn a_github_entry_in_any_case_protects_the_login_in_plan_and_apply() {
    let world = world();
    let files = protecting_mallory(&world);

    let plan = lapse("plan", &files.config(), Some(TOKEN), &[]);
    plan.assert_code(2);
    let mallory = |report: &serde_json::Value| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["principal"] == "mallory")
    };
    assert!(
        !mallory(&plan.report()),
        "protected, so not drift: {}",
        plan.stdout
    );

    let apply = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);
    apply.assert_code(0);
    let report = apply.report();
    assert!(!mallory(&report), "{report:#}");
    assert_eq!(
        finding(&report, "admin", "eve")["result"],
        "done",
        "{report:#}"
    );
    assert!(
        world
            .github
            .direct_members(ORG, "admin")
            .iter()
            .any(|(login, _)| login == "mallory"),
        "mallory keeps the team"
    );
}

#[test]
fn an_apply_removing_most_of_one_team_is_refused_and_says_by_how_much() {
    let world = world();
    // Only alice keeps deploy: bob and carol lose it, grace's invitation is cancelled.
    let alice_only: String = ROSTER.split("- name: Bob").next().unwrap().to_string();
    let files = files(world.github.base_url(), Auth::Token, &alice_only);

    let apply = lapse("apply", &files.config(), Some(TOKEN), &["--yes"]);

    apply.assert_code(3);
    let refused = apply.report()["refused"].as_str().unwrap().to_owned();
    assert!(
        refused.contains(
            "would remove 3 of 4 holders (75%) of github:acme/deploy; the limit is 50% (safety.max_target_ratio)"
        ),
        "{refused}"
    );
    assert_eq!(world.github.count_requests(|r| r.method == "DELETE"), 0);
}
