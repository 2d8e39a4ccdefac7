//! What names a person: an email, a GitHub username and an IAM user ARN,
//! each read the way it is compared later, and reported when it cannot be one.

use crate::diag::{Diagnostic, Pos};

use super::{Check, SpannedString, pos};

/// One `@`, something before it, a dot after it, and no spaces: enough to
/// catch a name or a username written where an address belongs.
pub(super) fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if !a.is_empty() && b.contains('.') && !s.contains(char::is_whitespace))
}

/// GitHub's own limits on a login, as lapse compares it (lower case).
fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !s.starts_with('-')
}

/// The email, trimmed; empty when the entry has none. Every person needs
/// one, since it is how reports name them.
pub(super) fn email(check: &mut Check, written: Option<&SpannedString>, entry: Pos) -> String {
    match written {
        Some(e) => {
            let value = e.value.trim().to_string();
            if !is_email(&value) {
                check.diags.push(Diagnostic::error(
                    check.source,
                    pos(e),
                    format!("`{}` is not an email address", e.value),
                ));
            }
            value
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

/// The GitHub username, trimmed and in lower case as GitHub compares it.
pub(super) fn github_username(check: &mut Check, written: &SpannedString) -> String {
    let login = written.value.trim().to_ascii_lowercase();
    if !is_login(&login) {
        check.diags.push(Diagnostic::error(
            check.source,
            pos(written),
            format!("`{}` is not a GitHub username", written.value),
        ));
    }
    login
}

/// The IAM user ARN, trimmed. Only a user can hold a trust-policy grant,
/// so a role or account ARN here is a mistake.
pub(super) fn aws_user_arn(check: &mut Check, written: &SpannedString) -> String {
    let arn = written.value.trim().to_string();
    if !(arn.starts_with("arn:aws") && arn.contains(":user/")) {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                format!("`{arn}` is not an IAM user ARN"),
            )
            .help("write arn:aws:iam::ACCOUNT_ID:user/NAME"),
        );
    }
    arn
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, spanned};
    use super::*;

    #[test]
    fn is_email_table() {
        for (text, ok) in [
            ("jane@example.gov.uk", true),
            ("a@b.c", true),
            ("", false),
            ("jane", false),
            ("@example.gov.uk", false),
            ("jane@localhost", false),
            ("jane@@example.gov.uk", false),
            ("jane@example.gov.uk@x", false),
            ("jane doe@example.gov.uk", false),
        ] {
            assert_eq!(is_email(text), ok, "{text:?}");
        }
    }

    #[test]
    fn is_login_table() {
        let longest = "a".repeat(39);
        let too_long = "a".repeat(40);
        for (text, ok) in [
            ("janedoe", true),
            ("jane-doe_1.x", true),
            (longest.as_str(), true),
            (too_long.as_str(), false),
            ("", false),
            ("-jane", false),
            ("jane doe", false),
            ("jane/doe", false),
        ] {
            assert_eq!(is_login(text), ok, "{text:?}");
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
            (Some(" "), "", vec!["error: ` ` is not an email address"]),
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
    fn github_username_table() {
        let fx = Fixture::new();
        for (written, login, said) in [
            (" JaneDoe ", "janedoe", vec![]),
            (
                "-jane",
                "-jane",
                vec!["error: `-jane` is not a GitHub username"],
            ),
            ("", "", vec!["error: `` is not a GitHub username"]),
        ] {
            let mut check = fx.check();
            let got = github_username(&mut check, &spanned(written));
            assert_eq!(got.as_str(), login, "{written:?}");
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn aws_user_arn_table() {
        let fx = Fixture::new();
        for (written, said) in [
            ("arn:aws:iam::111111111111:user/jane", vec![]),
            ("arn:aws-us-gov:iam::111111111111:user/jane", vec![]),
            (
                "arn:aws:iam::111111111111:role/jane",
                vec!["error: `arn:aws:iam::111111111111:role/jane` is not an IAM user ARN"],
            ),
            ("jane", vec!["error: `jane` is not an IAM user ARN"]),
        ] {
            let mut check = fx.check();
            let got = aws_user_arn(&mut check, &spanned(&format!(" {written} ")));
            assert_eq!(got.as_str(), written);
            assert_eq!(fx.said(check), said);
        }
    }
}
