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
    roster_diagnostics_with(&example_config(), text)
}

/// The example config with `policy.approvers` set.
fn config_with_approvers(approvers: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example/lapse.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  max_temporary_days: 90\n",
        &format!("  max_temporary_days: 90\n  approvers: {approvers}\n"),
    );
    let source = Source {
        name: "lapse.yaml".into(),
        text,
    };
    config::from_source(&source, &path).expect("the config with approvers is valid")
}

fn roster_diagnostics_with(config: &Config, text: &str) -> String {
    let source = Source {
        name: "users.yaml".into(),
        text: text.into(),
    };
    let now = lapse::when::parse_time("2026-11-22", lapse::when::DayEdge::Start).unwrap();
    match roster::load_source(&source, config, now) {
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
fn identities_are_refused_unless_plainly_written() {
    let text = "- name: \"Jane\\e[2J\"
  email: \"jane\\0@example.gov.uk\"
- email: j\u{430}ne@example.gov.uk
- email: jane@example.gov.uk.
  github_username: jane_doe
  github_id: 0
- email: sam@example.gov.uk
  github_username: sam--senior
  aws_user_arn: arn:aws:iam::222222222222:user/sam
- email: kim@example.gov.uk
  aws_user_arn: arn:aws-iso:iam::111111111111:user/kim
  absent_since: 2026-9-1
";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn people_who_resolve_to_one_identity_are_refused_with_both_named() {
    let text = "- email: sam@example.gov.uk
  aws_user_arn: arn:aws:iam::111111111111:user/JANE@Example.GOV.uk
  github_id: 583231
- email: jane@example.gov.uk
  github_username: janedoe
  github_id: 583231
- email: kim@example.gov.uk
  aws_user_arn: arn:aws:iam::111111111111:user/jane@example.gov.uk
";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn a_supervisor_must_hold_the_level_as_standing_access_and_be_at_work() {
    let text = "- email: lead@example.gov.uk
  github_username: leaddev
  access: production_admin
  attestations: [bpss, probation, admin-checklist]
  absent_since: 2026-09-01
- email: bob@example.gov.uk
  github_username: bobdeploy
  access: production_deploy
  attestations: [bpss]
- email: jane@example.gov.uk
  github_username: janedoe
  attestations: [bpss]
  temporary:
    - access: production_admin
      expires: 2026-12-01
      approved_by: lead@example.gov.uk
      supervised_by: bob@example.gov.uk
    - access: production_admin
      expires: 2026-12-01
      approved_by: lead@example.gov.uk
      supervised_by: LEAD@example.gov.uk
    - access: production_deploy
      expires: 2026-12-01
      approved_by: lead@example.gov.uk
      supervised_by: nobody@example.gov.uk
    - access: production_deploy
      expires: 2026-11-01
      approved_by: lead@example.gov.uk
      supervised_by: nobody@example.gov.uk
";
    insta::assert_snapshot!(roster_diagnostics(text));
}

#[test]
fn only_the_listed_approvers_may_approve() {
    let config = config_with_approvers("[Lead@Example.gov.uk]");
    let text = format!(
        "{PERSON}  temporary:
    - access: production_admin
      expires: 2026-12-01
      approved_by: lead@example.gov.uk
      supervised_by: alice@example.gov.uk
    - access: production_admin
      expires: 2026-12-02
      approved_by: bob@example.gov.uk
      supervised_by: alice@example.gov.uk
      reason: \"incident\\t4821\"
- email: alice@example.gov.uk
  github_username: alice
  access: production_admin
  attestations: [bpss, probation, admin-checklist]
"
    );
    insta::assert_snapshot!(roster_diagnostics_with(&config, &text));
}

#[test]
fn an_unknown_key_does_not_hide_the_other_problems() {
    let text = format!(
        "{PERSON}  colour: blue\n  temporary:\n    - acces: production_admin\n      expires: 2026-12-01\n- email: Jane@example.gov.uk\n  github_username: jane_doe\n"
    );
    insta::assert_snapshot!(roster_diagnostics(&text));
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
