//! The roster rules, through the built binary: one roster per
//! way of passing one person off as another (or a value off as harmless),
//! each refused with exit 1 (or warned about, exit 0) at `users.yaml:LINE:COL`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/example")
        .join(file)
}

/// The example config in a temp dir, `edit` applied to it, with this roster.
fn setup(roster: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(example("lapse.yaml")).unwrap();
    std::fs::write(dir.path().join("lapse.yaml"), edit(config)).unwrap();
    std::fs::write(dir.path().join("users.yaml"), roster).unwrap();
    dir
}

/// `lapse validate` as of 2026-11-22: the exit code, and stdout and stderr as bytes.
fn validate_in(dir: &Path) -> (Option<i32>, Vec<u8>) {
    let out = Command::new(env!("CARGO_BIN_EXE_lapse"))
        .args(["validate", "--config", "lapse.yaml", "--now", "2026-11-22"])
        .current_dir(dir)
        .env("LAPSE_LOG_FORMAT", "text")
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("the binary runs");
    let mut all = out.stdout;
    all.extend_from_slice(&out.stderr);
    (out.status.code(), all)
}

/// Validates `roster` with the example config and checks the exit code,
/// that `said` is reported, and where.
fn expect(roster: &str, code: i32, at: &str, said: &str) -> String {
    expect_with(roster, |c| c, code, at, said)
}

fn expect_with(
    roster: &str,
    edit: impl Fn(String) -> String,
    code: i32,
    at: &str,
    said: &str,
) -> String {
    let dir = setup(roster, edit);
    let (got, bytes) = validate_in(dir.path());
    let out = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(got, Some(code), "{out}");
    let location = format!("users.yaml:{at}\n");
    let message = out
        .split("\n\n")
        .find(|d| d.contains(&location))
        .unwrap_or_else(|| panic!("nothing at {location}: {out}"));
    assert!(message.contains(said), "wanted {said:?} at {at}: {out}");
    out
}

/// Someone who passes every rule.
const BOB: &str = "- email: bob@example.gov.uk\n  github_username: bobdeploy\n  access: production_deploy\n  attestations: [bpss]\n";

#[test]
fn a_nul_in_an_email_is_refused_by_code_point() {
    let roster = format!("{BOB}- email: \"jane\\0@example.gov.uk\"\n");
    expect(&roster, 1, "5:10", "contains U+0000 NULL at character 5");
}

#[test]
fn a_control_character_in_an_email_is_refused_by_code_point() {
    let roster = format!("{BOB}- email: \"jane\\e[2J@example.gov.uk\"\n");
    expect(&roster, 1, "5:10", "contains U+001B ESCAPE at character 5");
}

#[test]
fn a_zero_width_space_in_an_email_is_refused_by_code_point() {
    let roster = format!("{BOB}- email: jane\u{200b}@example.gov.uk\n");
    expect(
        &roster,
        1,
        "5:10",
        "contains U+200B ZERO WIDTH SPACE at character 5",
    );
}

#[test]
fn a_cyrillic_look_alike_in_an_email_is_refused_by_code_point() {
    // "bob" with a Cyrillic о: another address that reads the same.
    let roster = format!("{BOB}- email: b\u{43e}b@example.gov.uk\n");
    expect(
        &roster,
        1,
        "5:10",
        "contains U+043E CYRILLIC SMALL LETTER O at character 2",
    );
}

#[test]
fn a_trailing_dot_in_an_email_domain_is_refused() {
    let roster = format!("{BOB}- email: jane@example.gov.uk.\n");
    expect(&roster, 1, "5:10", "has a trailing dot in its domain");
}

#[test]
fn an_underscore_in_a_github_username_is_refused() {
    let roster = format!("{BOB}- email: jane@example.gov.uk\n  github_username: jane_doe\n");
    expect(
        &roster,
        1,
        "6:20",
        "`jane_doe` is not a GitHub username: GitHub usernames have no underscores",
    );
}

#[test]
fn an_iam_user_in_another_account_is_refused() {
    let roster = format!(
        "{BOB}- email: jane@example.gov.uk\n  aws_user_arn: arn:aws:iam::222222222222:user/jane\n"
    );
    expect(
        &roster,
        1,
        "6:17",
        "it is in account 222222222222, not aws.users_account (111111111111)",
    );
}

#[test]
fn two_people_on_one_iam_user_through_the_template_are_refused() {
    // The example's template makes arn:aws:iam::111111111111:user/{email}.
    let jane = "- email: jane@example.gov.uk\n  github_username: janedoe\n";
    for (written, writer_first) in [
        ("arn:aws:iam::111111111111:user/jane@example.gov.uk", false),
        ("arn:aws:iam::111111111111:user/JANE@Example.gov.uk", true),
    ] {
        let writer = format!("- email: sam@example.gov.uk\n  aws_user_arn: {written}\n");
        let (roster, at, jane_line) = if writer_first {
            (format!("{writer}{jane}"), "2:17", 3)
        } else {
            (format!("{jane}{writer}"), "4:17", 1)
        };
        expect(
            &roster,
            1,
            at,
            &format!(
                "IAM user `{written}` is already used on line {jane_line} by jane@example.gov.uk: aws.user_arn_template makes it for them"
            ),
        );
    }
}

#[test]
fn a_github_id_held_by_two_people_is_refused() {
    let roster = "- email: jane@example.gov.uk\n  github_username: janedoe\n  github_id: 583231\n- email: sam@example.gov.uk\n  github_username: samsenior\n  github_id: 583231\n";
    expect(
        roster,
        1,
        "6:14",
        "github_id 583231 is already used on line 3 by jane@example.gov.uk",
    );
}

#[test]
fn a_date_without_two_digit_month_and_day_is_refused() {
    let roster = format!("{BOB}  absent_since: 2026-1-5\n");
    expect(
        &roster,
        1,
        "5:17",
        "`2026-1-5` is not a date (YYYY-MM-DD) or an RFC 3339 time",
    );
}

#[test]
fn a_supervisor_without_the_level_is_warned_about_not_refused() {
    let roster = format!(
        "{BOB}- email: jane@example.gov.uk
  github_username: janedoe
  attestations: [bpss]
  temporary:
    - access: production_admin
      expires: 2026-12-01
      approved_by: lead.dev@example.gov.uk
      supervised_by: bob@example.gov.uk
"
    );
    let out = expect(
        &roster,
        0,
        "12:22",
        "jane@example.gov.uk's temporary `production_admin` is supervised by bob@example.gov.uk, who does not hold `production_admin` as standing access",
    );
    assert!(out.contains("warning: jane@example.gov.uk's"), "{out}");
}

#[test]
fn an_approver_outside_policy_approvers_is_refused() {
    let roster = format!(
        "{BOB}- email: jane@example.gov.uk
  github_username: janedoe
  attestations: [bpss]
  temporary:
    - access: production_admin
      expires: 2026-12-01
      approved_by: bob@example.gov.uk
      supervised_by: alice.admin@example.gov.uk
- email: alice.admin@example.gov.uk
  github_username: aliceadmin
  access: production_admin
  attestations: [bpss, probation, admin-checklist]
"
    );
    let with_approvers = |config: String| {
        config.replace(
            "  max_temporary_days: 90\n",
            "  max_temporary_days: 90\n  approvers: [Lead.Dev@example.gov.uk, alice.admin@example.gov.uk]\n",
        )
    };
    let out = expect_with(
        &roster,
        with_approvers,
        1,
        "11:20",
        "approved_by bob@example.gov.uk is not one of policy.approvers",
    );
    assert!(
        out.contains("lead.dev@example.gov.uk, alice.admin@example.gov.uk"),
        "{out}"
    );
    // One of the listed approvers, in any case, is accepted.
    let approved = roster.replace(
        "approved_by: bob@example.gov.uk",
        "approved_by: LEAD.DEV@example.gov.uk",
    );
    let dir = setup(&approved, with_approvers);
    let (code, bytes) = validate_in(dir.path());
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&bytes));
}

#[test]
fn an_escape_in_a_name_is_refused_and_never_printed() {
    let roster =
        format!("- name: \"Jane\\e[2J\\e]0;pwned\\a\"\n  email: jane@example.gov.uk\n{BOB}");
    let dir = setup(&roster, |c| c);
    let (code, bytes) = validate_in(dir.path());
    let out = String::from_utf8_lossy(&bytes);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        !bytes.contains(&0x1b),
        "a raw ESC reached the output: {out:?}"
    );
    assert!(
        !bytes.contains(&0x07),
        "a raw BEL reached the output: {out:?}"
    );
    assert!(out.contains("users.yaml:1:9"), "{out}");
    assert!(
        out.contains(
            "`name` `Jane\\u{1b}[2J\\u{1b}]0;pwned\\u{7}` contains U+001B ESCAPE at character 5"
        ),
        "{out}"
    );
}

#[test]
fn an_unknown_key_does_not_hide_a_duplicate_elsewhere() {
    let roster = format!("{BOB}  colour: blue\n- email: Bob@Example.gov.uk\n");
    let out = expect(
        &roster,
        1,
        "6:10",
        "email `Bob@Example.gov.uk` is already used on line 1 by bob@example.gov.uk",
    );
    assert!(out.contains("users.yaml:5:3"), "{out}");
    assert!(out.contains("unknown key `colour`"), "{out}");
}
