//! What names a person: an email, a GitHub username, a GitHub account id
//! and an IAM user ARN, each read the way it is compared later and refused
//! when it is not plainly one (see the README: The roster, The config): a look-alike or invisible
//! character, a trailing dot or an underscore would make a second identity
//! that reads as the first.

use std::borrow::Cow;

use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Pos};
use crate::hygiene::quote;

use super::text::code_point;
use super::{Check, SpannedString, pos};

/// The longest address there is (RFC 5321's path limit less the brackets).
const MAX_EMAIL_CHARS: usize = 254;
/// The longest GitHub login.
const MAX_LOGIN_CHARS: usize = 39;
/// The longest IAM user name.
const MAX_IAM_NAME_CHARS: usize = 64;
/// The partitions an IAM user can live in.
const PARTITIONS: [&str; 3] = ["aws", "aws-us-gov", "aws-cn"];

/// Why a value is not an email address lapse accepts.
#[derive(Debug, PartialEq)]
pub(super) enum AddressProblem {
    /// Not `local@domain` at all: no `@`, two of them, or nothing around it.
    NotAnAddress,
    /// An address, but not a plain one: what is wrong, and how to fix it.
    Refused { what: String, fix: &'static str },
}

fn refused(what: String, fix: &'static str) -> Option<AddressProblem> {
    Some(AddressProblem::Refused { what, fix })
}

/// The email grammar lapse accepts: plain ASCII `local@domain`, no spaces or
/// control characters, a local part of RFC 5322 atoms joined by single
/// dots, and a domain of at least two labels of letters, digits and inner
/// hyphens, with no trailing dot; at most 254 characters in all.
pub(super) fn address_problem(s: &str) -> Option<AddressProblem> {
    let Some((local, domain)) = s.split_once('@') else {
        return Some(AddressProblem::NotAnAddress);
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Some(AddressProblem::NotAnAddress);
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic()) {
        let fix = if c.is_ascii() {
            "an address has no spaces or control characters: remove it"
        } else {
            "a look-alike or invisible character makes a different address: retype it in plain ASCII"
        };
        return refused(
            format!("contains {} at character {}", code_point(c), i + 1),
            fix,
        );
    }
    let length = s.len();
    if length > MAX_EMAIL_CHARS {
        return refused(
            format!("is {length} characters long"),
            "an email address has at most 254 characters",
        );
    }
    local_part_problem(local).or_else(|| domain_problem(domain))
}

/// Letters, digits and `!#$%&'*+-/=?^_`{|}~`, in atoms joined by single dots.
fn local_part_problem(local: &str) -> Option<AddressProblem> {
    const FIX: &str = "before the @ go letters, digits, single dots and !#$%&'*+-/=?^_`{|}~";
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '.' || "!#$%&'*+-/=?^_`{|}~".contains(*c)))
    {
        return refused(format!("has `{c}` before the @"), FIX);
    }
    if local.split('.').any(str::is_empty) {
        return refused(
            "has a dot at the start or end of its local part, or two in a row".into(),
            FIX,
        );
    }
    None
}

/// At least two labels; each 1–63 letters, digits or hyphens, no hyphen at
/// either end; no trailing dot (`example.gov.uk.` is another spelling).
fn domain_problem(domain: &str) -> Option<AddressProblem> {
    const FIX: &str = "a domain is labels of letters, digits and inner hyphens joined by dots, e.g. example.gov.uk";
    if domain.ends_with('.') {
        return refused(
            format!("has a trailing dot in its domain `{domain}`"),
            "remove the final dot: `example.gov.uk.` would be a second spelling of the same address",
        );
    }
    let labels = domain.split('.');
    if labels.clone().count() < 2 {
        return refused(format!("has a one-label domain `{domain}`"), FIX);
    }
    for label in labels {
        if label.is_empty() {
            return refused(format!("has an empty label in its domain `{domain}`"), FIX);
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return refused(format!("has `{c}` in its domain"), FIX);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return refused(
                format!("has a label `{label}` that starts or ends with a hyphen"),
                FIX,
            );
        }
        if label.len() > 63 {
            return refused("has a domain label longer than 63 characters".into(), FIX);
        }
    }
    None
}

/// Reports what is wrong with an address written for `key` at `at`; the
/// email itself says "email", the approver and supervisor fields name
/// themselves the way they always have.
pub(super) fn check_address(check: &mut Check, key: &str, value: &str, at: Pos) -> bool {
    let Some(problem) = address_problem(value) else {
        return true;
    };
    let diagnostic = match (problem, key) {
        (AddressProblem::NotAnAddress, "email") => Diagnostic::error(
            check.source,
            at,
            format!("`{}` is not an email address", quote(value)),
        )
        .help("write it as local@domain, e.g. jane.doe@example.gov.uk"),
        (AddressProblem::NotAnAddress, _) => Diagnostic::error(
            check.source,
            at,
            format!("`{key}` must be an email address, not `{}`", quote(value)),
        ),
        (AddressProblem::Refused { what, fix }, _) => {
            Diagnostic::error(check.source, at, format!("{key} `{}` {what}", quote(value)))
                .help(fix)
        }
    };
    check.diags.push(diagnostic);
    false
}

/// A value without the spaces around it. Only spaces go: a tab, a newline
/// or an invisible character at either end is reported, not hidden.
pub(super) fn trimmed(s: &str) -> &str {
    s.trim_matches(' ')
}

/// The email, trimmed; empty when the entry has none. Every person needs
/// one, since it is how reports name them.
pub(super) fn email(check: &mut Check, written: Option<&SpannedString>, entry: Pos) -> String {
    match written {
        Some(e) => {
            let value = trimmed(&e.value);
            check_address(check, "email", value, pos(e));
            value.to_string()
        }
        None => {
            check.diags.push(
                Diagnostic::error(check.source, entry, "this person has no `email`")
                    .help("add email: — it is how lapse names a person in reports"),
            );
            String::new()
        }
    }
}

/// How a person is named in messages: their email when it is plain, else
/// the email quoted (escaped and capped). Borrowed for every valid roster.
pub(super) fn who(email: &str) -> Cow<'_, str> {
    if email.is_empty() {
        Cow::Borrowed("this person")
    } else if email.len() <= MAX_EMAIL_CHARS && email.bytes().all(|b| b.is_ascii_graphic()) {
        Cow::Borrowed(email)
    } else {
        Cow::Owned(quote(email))
    }
}

/// What is wrong with a GitHub login (already lower case), by GitHub's own
/// grammar: 1–39 letters, digits or single hyphens, no hyphen at either end.
pub(super) fn login_problem(login: &str) -> Option<String> {
    if login.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = login
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Some(match c {
            '_' => "GitHub usernames have no underscores".into(),
            '.' => "GitHub usernames have no dots".into(),
            c if c.is_ascii_graphic() => format!("`{c}` is not allowed"),
            c => format!("it contains {}", code_point(c)),
        });
    }
    let length = login.len();
    if length > MAX_LOGIN_CHARS {
        return Some(format!("it is {length} characters long; the most is 39"));
    }
    if login.starts_with('-') || login.ends_with('-') {
        return Some("it starts or ends with a hyphen".into());
    }
    if login.contains("--") {
        return Some("it has two hyphens in a row".into());
    }
    None
}

/// The GitHub username, trimmed and in lower case as GitHub compares it.
pub(super) fn github_username(check: &mut Check, written: &SpannedString) -> String {
    let login = trimmed(&written.value).to_ascii_lowercase();
    if let Some(why) = login_problem(&login) {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                format!(
                    "`{}` is not a GitHub username: {why}",
                    quote(&written.value)
                ),
            )
            .help("a GitHub username is 1–39 letters, digits or single hyphens, not starting or ending with a hyphen"),
        );
    }
    login
}

/// GitHub numbers accounts from 1: a 0 is a placeholder, not an account.
pub(super) fn github_id(check: &mut Check, written: &Spanned<u64>) -> u64 {
    if written.value == 0 {
        check.diags.push(
            Diagnostic::error(
                check.source,
                Pos::from_location(&written.referenced),
                "github_id 0 is not a GitHub account id",
            )
            .help("GitHub account ids start at 1; `gh api users/LOGIN --jq .id` gives it, or leave github_id out"),
        );
    }
    written.value
}

/// What is wrong with an IAM user ARN: `arn:PARTITION:iam::ACCOUNT:user/[PATH/]NAME`,
/// in `users_account` when there is one.
pub(super) fn user_arn_problem(arn: &str, users_account: Option<&str>) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let mut next = || parts.next().unwrap_or_default();
    let [prefix, partition, service, region, account, resource] = std::array::from_fn(|_| next());
    if prefix != "arn" || service != "iam" || !region.is_empty() {
        return Some("it is not arn:aws:iam::ACCOUNT_ID:user/NAME".into());
    }
    if !PARTITIONS.contains(&partition) {
        return Some(format!(
            "partition `{}` is not aws, aws-us-gov or aws-cn",
            quote(partition)
        ));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("`{}` is not a 12-digit account ID", quote(account)));
    }
    let Some(path_and_name) = resource.strip_prefix("user/") else {
        return Some("it names no IAM user (only a user can hold a trust-policy grant)".into());
    };
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    if name.is_empty() || name.len() > MAX_IAM_NAME_CHARS {
        return Some("an IAM user name is 1–64 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return Some(format!("{} is not allowed in an IAM user name", shown(c)));
    }
    if let Some(c) = path.chars().find(|c| !c.is_ascii_graphic()) {
        return Some(format!("{} is not allowed in an IAM path", code_point(c)));
    }
    match users_account {
        Some(users) if account != users => Some(format!(
            "it is in account {account}, not aws.users_account ({users})"
        )),
        _ => None,
    }
}

/// A character as a message shows it: itself when plainly printable, else by code point.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("`{c}`")
    } else {
        code_point(c)
    }
}

/// The IAM user ARN, trimmed. Only a user can hold a trust-policy grant,
/// and people's users live in `aws.users_account`.
pub(super) fn aws_user_arn(check: &mut Check, written: &SpannedString) -> String {
    let arn = trimmed(&written.value);
    let users_account = check
        .config
        .aws
        .as_ref()
        .and_then(|a| a.users_account.as_ref())
        .map(|u| u.id.as_str());
    if let Some(why) = user_arn_problem(arn, users_account) {
        let help = match users_account {
            Some(id) => format!(
                "write arn:aws:iam::{id}:user/NAME, the person's IAM user in aws.users_account"
            ),
            None => "write arn:aws:iam::ACCOUNT_ID:user/NAME".into(),
        };
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                format!("`{}` is not an IAM user ARN: {why}", quote(arn)),
            )
            .help(help),
        );
    }
    arn.to_string()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, spanned};
    use super::*;

    /// The problem as one line, for the tables.
    fn problem(s: &str) -> Option<String> {
        address_problem(s).map(|p| match p {
            AddressProblem::NotAnAddress => "not an address".into(),
            AddressProblem::Refused { what, .. } => what,
        })
    }

    #[test]
    fn address_problem_table() {
        let longest = format!("{}@example.gov.uk", "a".repeat(254 - 15));
        let too_long = format!("a{longest}");
        for (text, said) in [
            ("jane@example.gov.uk", None),
            ("a@b.c", None),
            ("Jane.O'Neil+prod@Example-1.gov.uk", None),
            (longest.as_str(), None),
            ("", Some("not an address")),
            ("jane", Some("not an address")),
            ("@example.gov.uk", Some("not an address")),
            ("jane@", Some("not an address")),
            ("jane@@example.gov.uk", Some("not an address")),
            ("jane@example.gov.uk@x", Some("not an address")),
            (too_long.as_str(), Some("is 255 characters long")),
            (
                "jane doe@example.gov.uk",
                Some("contains U+0020 SPACE at character 5"),
            ),
            (
                "jane\0@example.gov.uk",
                Some("contains U+0000 NULL at character 5"),
            ),
            (
                "jane@example.gov.uk\u{1b}",
                Some("contains U+001B ESCAPE at character 20"),
            ),
            (
                "j\u{430}ne@example.gov.uk",
                Some("contains U+0430 CYRILLIC SMALL LETTER A at character 2"),
            ),
            (
                "jane\u{200b}@example.gov.uk",
                Some("contains U+200B ZERO WIDTH SPACE at character 5"),
            ),
            (
                "jane@example.gov.uk.",
                Some("has a trailing dot in its domain `example.gov.uk.`"),
            ),
            ("jane@localhost", Some("has a one-label domain `localhost`")),
            (
                "jane@example..uk",
                Some("has an empty label in its domain `example..uk`"),
            ),
            (
                ".jane@example.gov.uk",
                Some("has a dot at the start or end of its local part, or two in a row"),
            ),
            (
                "jane..doe@example.gov.uk",
                Some("has a dot at the start or end of its local part, or two in a row"),
            ),
            (
                "jane.@example.gov.uk",
                Some("has a dot at the start or end of its local part, or two in a row"),
            ),
            ("<jane>@example.gov.uk", Some("has `<` before the @")),
            ("jane@exa_mple.gov.uk", Some("has `_` in its domain")),
            (
                "jane@-example.gov.uk",
                Some("has a label `-example` that starts or ends with a hyphen"),
            ),
        ] {
            assert_eq!(problem(text).as_deref(), said, "{text:?}");
        }
    }

    #[test]
    fn email_table() {
        let fx = Fixture::new();
        for (written, value, said) in [
            (Some(" Jane@Example.gov.uk "), "Jane@Example.gov.uk", vec![]),
            (
                Some("jane"),
                "jane",
                vec!["error: `jane` is not an email address"],
            ),
            (Some(" "), "", vec!["error: `` is not an email address"]),
            (
                Some("jane@example.gov.uk\t"),
                "jane@example.gov.uk\t",
                vec![
                    "error: email `jane@example.gov.uk\t` contains U+0009 CHARACTER TABULATION at character 20",
                ],
            ),
            (
                Some("j\u{430}ne@example.gov.uk"),
                "j\u{430}ne@example.gov.uk",
                vec![
                    "error: email `j\u{430}ne@example.gov.uk` contains U+0430 CYRILLIC SMALL LETTER A at character 2",
                ],
            ),
            (None, "", vec!["error: this person has no `email`"]),
        ] {
            let mut check = fx.check();
            let written = written.map(spanned);
            let got = email(&mut check, written.as_ref(), Pos::default());
            assert_eq!(got.as_str(), value, "{written:?}");
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn check_address_names_the_field() {
        let fx = Fixture::new();
        for (key, value, said) in [
            (
                "supervised_by",
                "senior",
                "error: `supervised_by` must be an email address, not `senior`",
            ),
            (
                "approved_by",
                "lead@example.gov.uk.",
                "error: approved_by `lead@example.gov.uk.` has a trailing dot in its domain `example.gov.uk.`",
            ),
        ] {
            let mut check = fx.check();
            assert!(!check_address(&mut check, key, value, Pos::default()));
            assert_eq!(fx.said(check), vec![said]);
        }
    }

    #[test]
    fn who_table() {
        assert_eq!(who(""), "this person");
        assert_eq!(who("jane@example.gov.uk"), "jane@example.gov.uk");
        assert!(matches!(who("jane@example.gov.uk"), Cow::Borrowed(_)));
        assert_eq!(who("a\u{1b}b"), "a\\u{1b}b");
        assert!(who(&"a".repeat(10_000)).chars().count() < 240);
    }

    #[test]
    fn login_problem_table() {
        let longest = "a".repeat(39);
        let too_long = "a".repeat(40);
        for (text, said) in [
            ("janedoe", None),
            ("jane-doe-1", None),
            ("a", None),
            ("7", None),
            (longest.as_str(), None),
            (
                too_long.as_str(),
                Some("it is 40 characters long; the most is 39"),
            ),
            ("", Some("it is empty")),
            ("jane_doe", Some("GitHub usernames have no underscores")),
            ("jane.doe", Some("GitHub usernames have no dots")),
            ("-jane", Some("it starts or ends with a hyphen")),
            ("jane-", Some("it starts or ends with a hyphen")),
            ("-", Some("it starts or ends with a hyphen")),
            ("jane--doe", Some("it has two hyphens in a row")),
            ("jane doe", Some("it contains U+0020 SPACE")),
            ("jane/doe", Some("`/` is not allowed")),
            (
                "j\u{430}ne",
                Some("it contains U+0430 CYRILLIC SMALL LETTER A"),
            ),
        ] {
            assert_eq!(login_problem(text).as_deref(), said, "{text:?}");
        }
    }

    #[test]
    fn github_username_table() {
        let fx = Fixture::new();
        for (written, login, said) in [
            (" JaneDoe ", "janedoe", vec![]),
            (
                "-jane",
                "-jane",
                vec!["error: `-jane` is not a GitHub username: it starts or ends with a hyphen"],
            ),
            (
                "Jane_Doe",
                "jane_doe",
                vec![
                    "error: `Jane_Doe` is not a GitHub username: GitHub usernames have no underscores",
                ],
            ),
            (
                "",
                "",
                vec!["error: `` is not a GitHub username: it is empty"],
            ),
        ] {
            let mut check = fx.check();
            let got = github_username(&mut check, &spanned(written));
            assert_eq!(got.as_str(), login, "{written:?}");
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn github_id_table() {
        let fx = Fixture::new();
        for (written, said) in [
            ("1", vec![]),
            ("583231", vec![]),
            ("18446744073709551615", vec![]),
            ("0", vec!["error: github_id 0 is not a GitHub account id"]),
        ] {
            let mut check = fx.check();
            let id: Spanned<u64> = serde_saphyr::from_str(written).unwrap();
            assert_eq!(github_id(&mut check, &id).to_string(), written);
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn user_arn_problem_table() {
        let users = Some("111111111111");
        for (arn, account, said) in [
            ("arn:aws:iam::111111111111:user/jane", users, None),
            (
                "arn:aws:iam::111111111111:user/ops/oncall/jane",
                users,
                None,
            ),
            ("arn:aws-us-gov:iam::111111111111:user/jane", users, None),
            (
                "arn:aws-cn:iam::111111111111:user/jane.doe@example.gov.uk",
                users,
                None,
            ),
            ("arn:aws:iam::222222222222:user/jane", None, None),
            (
                "arn:aws:iam::222222222222:user/jane",
                users,
                Some("it is in account 222222222222, not aws.users_account (111111111111)"),
            ),
            (
                "arn:aws:iam::111111111111:role/jane",
                users,
                Some("it names no IAM user (only a user can hold a trust-policy grant)"),
            ),
            (
                "arn:aws-iso:iam::111111111111:user/jane",
                users,
                Some("partition `aws-iso` is not aws, aws-us-gov or aws-cn"),
            ),
            (
                "arn:aws:sts::111111111111:user/jane",
                users,
                Some("it is not arn:aws:iam::ACCOUNT_ID:user/NAME"),
            ),
            (
                "arn:aws:iam:eu-west-2:111111111111:user/jane",
                users,
                Some("it is not arn:aws:iam::ACCOUNT_ID:user/NAME"),
            ),
            (
                "arn:aws:iam::11111111111:user/jane",
                users,
                Some("`11111111111` is not a 12-digit account ID"),
            ),
            (
                "arn:aws:iam::111111111111:user/",
                users,
                Some("an IAM user name is 1–64 characters"),
            ),
            (
                "arn:aws:iam::111111111111:user/ja ne",
                users,
                Some("U+0020 SPACE is not allowed in an IAM user name"),
            ),
            (
                "arn:aws:iam::111111111111:user/ja*ne",
                users,
                Some("`*` is not allowed in an IAM user name"),
            ),
            (
                "arn:aws:iam::111111111111:user/j\u{430}ne",
                users,
                Some("U+0430 CYRILLIC SMALL LETTER A is not allowed in an IAM user name"),
            ),
            (
                "jane",
                users,
                Some("it is not arn:aws:iam::ACCOUNT_ID:user/NAME"),
            ),
        ] {
            assert_eq!(user_arn_problem(arn, account).as_deref(), said, "{arn:?}");
        }
    }

    #[test]
    fn aws_user_arn_table() {
        // The fixture's users account is 111111111111 (the account rule has its own table).
        let fx = Fixture::new();
        for (written, said) in [
            ("arn:aws:iam::111111111111:user/jane", vec![]),
            ("arn:aws-us-gov:iam::111111111111:user/jane", vec![]),
            (
                "arn:aws:iam::111111111111:role/jane",
                vec![
                    "error: `arn:aws:iam::111111111111:role/jane` is not an IAM user ARN: it names no IAM user (only a user can hold a trust-policy grant)",
                ],
            ),
            (
                "jane",
                vec![
                    "error: `jane` is not an IAM user ARN: it is not arn:aws:iam::ACCOUNT_ID:user/NAME",
                ],
            ),
        ] {
            let mut check = fx.check();
            let got = aws_user_arn(&mut check, &spanned(&format!(" {written} ")));
            assert_eq!(got.as_str(), written);
            assert_eq!(fx.said(check), said);
        }
    }
}
