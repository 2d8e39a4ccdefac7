//! The small generated organisation through the binary, against the fake
//! GitHub and moto: `plan` makes exactly the fewest requests any reader
//! needs and finds exactly the drift seeded; `apply` revokes it with one
//! trust-policy write per role touched; a second plan is clean. The large
//! organisation runs only in `cargo bench --bench org_scale`.

mod aws_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use lapse_test_support::github::Role;
use lapse_test_support::moto::Moto;
use lapse_test_support::scenario::{ExpectedRevocation, ORG, Scenario, Shape};
use serde_json::Value;

const TOKEN: &str = "ghp_lapseTEST0scale0secret0Wd4Rk8";
const TOKEN_ENV: &str = "LAPSE_TEST_GITHUB_TOKEN";

fn lapse(moto: &Moto, dir: &Path, args: &[&str]) -> (Output, Value) {
    let binary = Path::new(env!("CARGO_BIN_EXE_lapse"));
    let output = Scenario::lapse_command(binary, moto, dir, (TOKEN_ENV, TOKEN), args)
        .env("LAPSE_GITHUB_WRITE_PACING_MS", "0")
        .output()
        .expect("run lapse");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "lapse {args:?} printed no JSON report ({e}); exit {:?}\nstderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, report)
}

/// The report's findings that revoke, as the scenario states them.
fn revocations(report: &Value) -> Vec<ExpectedRevocation> {
    let mut found: Vec<ExpectedRevocation> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["action"] == "revoke")
        .map(|f| ExpectedRevocation {
            system: if f["system"] == "github" {
                "github"
            } else {
                "aws"
            },
            target: f["target"].as_str().expect("target").to_owned(),
            principal: f["principal"].as_str().expect("principal").to_owned(),
        })
        .collect();
    found.sort();
    found
}

fn calls(report: &Value, system: &str) -> u64 {
    report["api_calls"][system].as_u64().expect("api_calls")
}

#[test]
fn the_small_organisation_plans_at_the_lower_bound_then_applies_and_comes_back_clean() {
    let scenario = Scenario::generate(Shape::small());
    let dir = tempfile::tempdir().expect("temp dir");
    let (github, moto) = scenario.deploy(TOKEN, TOKEN_ENV, dir.path());

    // Plan: exactly the drift seeded, in exactly the fewest requests.
    let (output, report) = lapse(&moto, dir.path(), &["plan"]);
    assert_eq!(output.status.code(), Some(2), "{report:#}");
    assert_eq!(revocations(&report), scenario.expected_revocations());
    let bound = scenario.lower_bound(false);
    assert_eq!(calls(&report, "github"), bound.github as u64);
    assert_eq!(github.request_count(), bound.github);
    let counts = moto.request_counts();
    assert_eq!(
        counts.by_action.get("AssumeRole").copied(),
        Some(bound.assume_role as u64)
    );
    assert_eq!(counts.total, (bound.aws + bound.assume_role) as u64);
    assert_eq!(calls(&report, "aws"), counts.total);
    // GraphQL queries are POSTs that change nothing: the writes are DELETEs.
    let writes = || github.count_requests(|r| r.method == "DELETE");
    assert_eq!(writes(), 0, "plan changed nothing");

    // Apply: every revocation done; one trust-policy write per role touched.
    github.reset_counters();
    moto.reset_counts();
    let (output, report) = lapse(&moto, dir.path(), &["apply", "--yes"]);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(revocations(&report), scenario.expected_revocations());
    let (on_github, in_iam) = scenario.revocations_by_system();
    assert_eq!(report["summary"]["revocations_done"], on_github + in_iam);
    assert_eq!(writes(), on_github);
    let counts = moto.request_counts();
    assert_eq!(
        counts.by_action.get("UpdateAssumeRolePolicy").copied(),
        Some(scenario.roles_touched() as u64)
    );
    assert!(scenario.roles_touched() < in_iam);

    // The fakes hold exactly what the roster allows.
    for expected in scenario.expected_revocations() {
        match expected.system {
            "github" => {
                let slug = expected.target.rsplit('/').next().expect("slug");
                let held = github
                    .direct_members(ORG, slug)
                    .iter()
                    .any(|(login, _)| *login == expected.principal);
                let invited = github.invitations(ORG).iter().any(|i| {
                    i.login.as_deref() == Some(expected.principal.as_str())
                        && i.teams.iter().any(|t| t == slug)
                });
                assert!(!held && !invited, "{expected:?} still holds");
            }
            _ => assert!(
                !trust_principals(&moto, &expected.target).contains(&expected.principal),
                "{expected:?} still trusted"
            ),
        }
    }
    let maintainers = github
        .direct_members(ORG, "team-00")
        .into_iter()
        .filter(|(_, role)| *role == Role::Maintainer)
        .count();
    assert_eq!(maintainers, 2, "entitled members stay");

    // A second plan finds nothing to do, at the bound of what is left with
    // the report ready.
    github.reset_counters();
    moto.reset_counts();
    let (output, report) = lapse(&moto, dir.path(), &["plan"]);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert!(revocations(&report).is_empty());
    let bound = scenario.after_apply().lower_bound(true);
    assert_eq!(calls(&report, "github"), bound.github as u64);
    assert_eq!(
        calls(&report, "aws"),
        (bound.aws + bound.assume_role) as u64
    );
}

/// The user ARNs a role's trust policy names now, read through the IAM API.
fn trust_principals(moto: &Moto, role_arn: &str) -> BTreeSet<String> {
    let (account, name) = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(":role/"))
        .expect("a role ARN");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let iam = aws_support::iam_in(moto, account).await;
        let role = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .expect("GetRole");
        let encoded = role
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .expect("a trust policy")
            .to_owned();
        let decoded = percent_encoding::percent_decode_str(&encoded)
            .decode_utf8()
            .expect("UTF-8")
            .into_owned();
        let policy: Value = serde_json::from_str(&decoded).expect("JSON");
        policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| match &s["Principal"]["AWS"] {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    })
}
