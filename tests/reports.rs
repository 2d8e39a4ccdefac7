//! The three report formats of the bundled example, pinned, and the JSON
//! report checked against its documented fields.

use std::path::Path;

use lapse::report::{ApiCalls, Format, Report};

fn example_report() -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example");
    let now = lapse::when::parse_time("2026-11-22", lapse::when::DayEdge::Start).unwrap();
    let config = lapse::config::load(&dir.join("lapse.yaml")).unwrap();
    let source = lapse::diag::Source {
        name: "users.yaml".into(),
        text: std::fs::read_to_string(dir.join("users.yaml")).unwrap(),
    };
    let roster = lapse::roster::load_source(&source, &config, now)
        .unwrap()
        .roster;
    let actual = lapse::snapshot::read(&dir.join("snapshot.json"), &config).unwrap();
    let plan = lapse::plan::plan(&config, &roster, &actual, now);
    Report {
        command: "plan".into(),
        run_id: "20261122T070003Z-0000abcd".into(),
        now,
        generated_at: lapse::when::parse_time("2026-11-22T07:00:03Z", lapse::when::DayEdge::Start)
            .unwrap(),
        findings: plan.findings,
        api_calls: ApiCalls {
            github: 7,
            aws: 5,
            sso: 0,
        },
        notes: plan.notes,
        refused: None,
        gates_overridden: None,
    }
}

#[test]
fn text_report() {
    insta::assert_snapshot!(example_report().render(Format::Text, false));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(example_report().render(Format::Markdown, false));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(example_report().render(Format::Json, false));
}

#[test]
fn text_is_coloured_only_when_asked() {
    let report = example_report();
    assert!(!report.render(Format::Text, false).contains('\x1b'));
    assert!(report.render(Format::Text, true).contains("\x1b[31m"));
}

#[test]
fn the_json_report_has_the_fields_spec_5_names() {
    let json: serde_json::Value =
        serde_json::from_str(&example_report().render(Format::Json, false)).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["command"], "plan");
    assert_eq!(json["now"], "2026-11-22T00:00:00Z");
    let findings = json["findings"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "unexpected",
        "expired",
        "absent",
        "pending_invitation",
        "orphaned",
        "unattributable",
        "missing",
        "expiring_soon",
    ] {
        assert!(
            kinds.contains(kind),
            "the example shows no `{kind}` finding"
        );
    }
    for f in findings {
        for key in [
            "kind",
            "system",
            "target",
            "principal",
            "person",
            "action",
            "reason",
        ] {
            assert!(f.get(key).is_some(), "finding lacks `{key}`: {f}");
        }
        assert!(f.get("result").is_none(), "a plan has no results");
        let system = f["system"].as_str().unwrap();
        assert!(system == "github" || system == "aws");
        if system == "github" {
            assert!(
                f["target"]
                    .as_str()
                    .unwrap()
                    .starts_with("github:alphagov/")
            );
            let p = f["principal"].as_str().unwrap();
            assert_eq!(p, p.to_lowercase());
        }
    }
    let planned = findings.iter().filter(|f| f["action"] == "revoke").count();
    assert_eq!(json["summary"]["findings"], findings.len());
    assert_eq!(json["summary"]["revocations_planned"], planned);
    assert_eq!(
        json["api_calls"],
        serde_json::json!({"github": 7, "aws": 5})
    );
}
