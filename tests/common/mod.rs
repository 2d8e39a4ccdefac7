//! Builders shared by the planner tests: a small config, rosters from YAML,
//! actual state from JSON.
#![allow(dead_code)]

use std::path::Path;

use chrono::{DateTime, Utc};
use lapse::config::{self, Config};
use lapse::diag::Source;
use lapse::roster::{self, Roster};
use lapse::state::Actual;
use lapse::when::{DayEdge, parse_time};

pub const CONFIG: &str = r#"
roster: users.yaml
access_levels:
  deploy:
    requires: [bpss]
    github_teams: [deploy]
    aws_roles: [staging/developer]
  admin:
    requires: [bpss, probation, admin-checklist]
    temporary_requires: [bpss]
    github_teams: [admin]
    aws_roles: [production/admin, staging/admin]
github:
  org: acme
aws:
  user_arn_template: "arn:aws:iam::111111111111:user/{github_username}"
  users_account: {id: "111111111111"}
  accounts:
    production: {id: "210987654321"}
    staging: {id: "123456789012"}
safety:
  protected: ["github:ci-bot", "arn:aws:iam::111111111111:user/break-glass"]
"#;

pub fn config_from(text: &str) -> Config {
    let source = Source {
        name: "lapse.yaml".into(),
        text: text.into(),
    };
    config::from_source(&source, Path::new("lapse.yaml"))
        .unwrap_or_else(|d| panic!("test config is invalid:\n{d}"))
}

pub fn config() -> Config {
    config_from(CONFIG)
}

pub fn at(text: &str) -> DateTime<Utc> {
    parse_time(text, DayEdge::Start).unwrap()
}

pub fn roster(config: &Config, yaml: &str, now: DateTime<Utc>) -> Roster {
    let source = Source {
        name: "users.yaml".into(),
        text: yaml.into(),
    };
    roster::load_source(&source, config, now)
        .unwrap_or_else(|d| panic!("test roster is invalid:\n{d}"))
        .roster
}

pub fn actual(json: serde_json::Value) -> Actual {
    serde_json::from_value(json).expect("test state is valid")
}

pub fn user_arn(login: &str) -> String {
    format!("arn:aws:iam::111111111111:user/{login}")
}

pub const DEV: &str = "arn:aws:iam::123456789012:role/developer";
pub const PROD_ADMIN: &str = "arn:aws:iam::210987654321:role/admin";
pub const STAGING_ADMIN: &str = "arn:aws:iam::123456789012:role/admin";

/// A trust policy allowing these AWS principals.
pub fn trust(principals: &[&str]) -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]})
}

/// Actual state where teams and roles hold exactly these members/principals.
pub fn world(deploy: &[&str], admin: &[&str], dev_role: &[&str], admin_roles: &[&str]) -> Actual {
    let members = |ls: &[&str]| {
        ls.iter()
            .map(|l| serde_json::json!({"login": l}))
            .collect::<Vec<_>>()
    };
    actual(serde_json::json!({
        "github": {"org": "acme", "teams": [
            {"slug": "deploy", "members": members(deploy)},
            {"slug": "admin", "members": members(admin)},
        ]},
        "aws": {"roles": [
            {"arn": DEV, "trust_policy": trust(dev_role)},
            {"arn": PROD_ADMIN, "trust_policy": trust(admin_roles)},
            {"arn": STAGING_ADMIN, "trust_policy": trust(admin_roles)},
        ]}
    }))
}
