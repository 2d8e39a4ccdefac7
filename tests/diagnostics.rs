//! Every diagnostic lapse gives about a roster or a config, pinned as it
//! reads: file, line, column, the offending line, what is wrong, how to fix it.

use std::path::Path;

use lapse::config::{self, Config};
use lapse::diag::Source;
use lapse::roster;

fn example_config() -> Config {
    config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example/lapse.yaml"))
        .expect("example config is valid")
}

/// Validates roster text as of 2026-11-22 and renders every diagnostic.
fn roster_diagnostics(text: &str) -> String {
    let source = Source {
        name: "users.yaml".into(),
        text: text.into(),
    };
    let now = lapse::when::parse_time("2026-11-22", lapse::when::DayEdge::Start).unwrap();
    match roster::load_source(&source, &example_config(), now) {
        Ok(loaded) => format!("OK with warnings:\n{}", loaded.warnings),
        Err(diags) => diags.to_string(),
    }
}

fn config_diagnostics(text: &str) -> String {
    let source = Source {
        name: "lapse.yaml".into(),
        text: text.into(),
    };
    match config::from_source(&source, Path::new("lapse.yaml")) {
        Ok(_) => "OK".into(),
        Err(diags) => diags.to_string(),
    }
}

const PERSON: &str = "- email: jane@example.gov.uk\n  github_username: janedoe\n  access: production_deploy\n  attestations: [bpss]\n";

#[test]
fn a_misspelt_key_is_refused_where_it_stands() {
    let text = format!(
        "{PERSON}  temporary:\n    - access: production_admin\n      expiers: 2026-12-01\n"
    );
    insta::assert_snapshot!(roster_diagnostics(&text));
}

#[test]
fn every_misspelt_key_is_reported_in_one_run() {
    let text = "- email: a@example.gov.uk\n  githib_username: aye\n  temporary:\n    - acces: production_admin\n      expires: 2026-12-01\n- emial: b@example.gov.uk\n  colour: blue\n";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn duplicate_people_are_refused_case_insensitively() {
    let text = format!("{PERSON}- email: Jane@Example.gov.uk\n  github_username: JaneDoe\n");
    insta::assert_snapshot!(roster_diagnostics(&text));
}

#[test]
fn unknown_levels_and_missing_attestations_are_all_reported_together() {
    let text = "- email: a@example.gov.uk\n  access: [production_deploy, prod_admin]\n- email: b@example.gov.uk\n  github_username: bee\n  access: production_admin\n  attestations: [bpss]\n";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn temporary_grants_need_approval_supervision_and_a_near_end() {
    let text = "- email: a@example.gov.uk
  github_username: aye
  attestations: [bpss]
  temporary:
    - access: production_admin
      expires: 2027-06-01
    - access: production_admin
      expires: 2026-11-01
      approved_by: a@example.gov.uk
      supervised_by: lead@example.gov.uk
    - access: production_admin
      expires: next friday
      approved_by: lead@example.gov.uk
      supervised_by: senior
";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn an_expired_grant_is_a_warning_not_an_error() {
    let text = format!(
        "{PERSON}  temporary:\n    - access: production_admin\n      expires: 2026-11-01\n      approved_by: lead@example.gov.uk\n      supervised_by: senior@example.gov.uk\n"
    );
    insta::assert_snapshot!(roster_diagnostics(&text));
}

#[test]
fn an_empty_roster_is_refused() {
    insta::assert_snapshot!("empty_list", roster_diagnostics("[]\n"));
    insta::assert_snapshot!("empty_file", roster_diagnostics("# nobody\n\n"));
}

#[test]
fn yaml_tags_are_refused() {
    insta::assert_snapshot!(roster_diagnostics("- email: !!str jane@example.gov.uk\n"));
}

#[test]
fn merge_keys_are_refused() {
    let text = "- &base\n  email: a@example.gov.uk\n  attestations: [bpss]\n- <<: *base\n  email: b@example.gov.uk\n";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn duplicate_keys_are_refused() {
    insta::assert_snapshot!(roster_diagnostics(
        "- email: a@example.gov.uk\n  access: production_deploy\n  access: production_admin\n"
    ));
}

#[test]
fn a_roster_that_is_not_a_list_is_refused() {
    insta::assert_snapshot!(roster_diagnostics("email: a@example.gov.uk\n"));
}

#[test]
fn an_alias_bomb_is_stopped_before_it_costs_anything() {
    let mut text = String::from(
        "- email: a@example.gov.uk\n  attestations: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..10 {
        let prev = i - 1;
        text.push_str(&format!("- email: b{i}@example.gov.uk\n  attestations: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    let start = std::time::Instant::now();
    let out = roster_diagnostics(&text);
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    assert!(out.starts_with("error:"), "{out}");
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!(
        "- email: a@example.gov.uk\n  name: {}x{}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    let out = roster_diagnostics(&text);
    assert!(out.starts_with("error:"), "{out}");
}

#[test]
fn config_problems_are_reported_together() {
    let text = r#"roster: users.yaml
access_levels:
  deploy:
    requires: [bpss]
    aws_roles: [prod/admin, "arn:aws:iam::999999999999:role/x"]
aws:
  accounts:
    production: {id: "21098765432"}
safety:
  max_revocation_ratio: 1.5
"#;
    insta::assert_snapshot!(config_diagnostics(text));
}

#[test]
fn an_unknown_config_key_is_refused() {
    insta::assert_snapshot!(config_diagnostics(
        "roster: users.yaml\naccess_levels: {}\nsafty: {}\n"
    ));
}

#[test]
fn a_roster_on_github_needs_a_github_section() {
    let text =
        "roster: github:acme/access/users.yaml@main\naccess_levels:\n  deploy:\n    requires: []\n";
    insta::assert_snapshot!(config_diagnostics(text));
}
