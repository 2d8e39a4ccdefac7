//! Each person appears once: no two entries share an email, a GitHub
//! username or a written-out IAM user ARN, compared case-insensitively.

use foldhash::{HashMap, HashMapExt};

use crate::diag::{Diagnostic, Pos};

use super::{Check, SpannedString, pos};

/// Where each email, login and ARN was first written.
pub(super) struct Seen {
    emails: HashMap<String, Pos>,
    logins: HashMap<String, Pos>,
    arns: HashMap<String, Pos>,
}

impl Seen {
    /// Sized for the whole roster up front: no rehashing as it grows. Few
    /// people have an ARN written out, so that map grows as needed.
    pub(super) fn with_capacity(people: usize) -> Seen {
        Seen {
            emails: HashMap::with_capacity(people),
            logins: HashMap::with_capacity(people),
            arns: HashMap::new(),
        }
    }

    /// `email` (trimmed) written at `at`.
    pub(super) fn email(&mut self, check: &mut Check, email: &str, at: Pos) {
        let key = email.to_lowercase();
        if let Some(first) = self.emails.get(&key) {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    at,
                    format!("email `{email}` is already used on line {}", first.line),
                )
                .help("each person appears once; emails compare case-insensitively"),
            );
        } else {
            self.emails.insert(key, at);
        }
    }

    /// `login` (trimmed, lower case) as `written`.
    pub(super) fn github_username(
        &mut self,
        check: &mut Check,
        login: &str,
        written: &SpannedString,
    ) {
        if let Some(first) = self.logins.get(login) {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(written),
                    format!(
                        "github_username `{}` is already used on line {}",
                        written.value, first.line
                    ),
                )
                .help("GitHub usernames compare case-insensitively"),
            );
        } else {
            self.logins.insert(login.to_string(), pos(written));
        }
    }

    /// `arn` (trimmed) written at `at`. A template-made ARN is not checked:
    /// it repeats only when the email or username it is made from does.
    pub(super) fn aws_user_arn(&mut self, check: &mut Check, arn: &str, at: Pos) {
        let key = arn.to_lowercase();
        if let Some(first) = self.arns.get(&key) {
            check.diags.push(Diagnostic::error(
                check.source,
                at,
                format!(
                    "IAM user `{arn}` is already someone else's (line {})",
                    first.line
                ),
            ));
        } else {
            self.arns.insert(key, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, spanned};
    use super::*;

    fn at(line: u32) -> Pos {
        Pos {
            line,
            ..Pos::default()
        }
    }

    #[test]
    fn email_table() {
        let fx = Fixture::new();
        for (first, second, said) in [
            ("jane@example.gov.uk", "john@example.gov.uk", vec![]),
            (
                "jane@example.gov.uk",
                "jane@example.gov.uk",
                vec!["error: email `jane@example.gov.uk` is already used on line 1"],
            ),
            (
                "jane@example.gov.uk",
                "Jane@EXAMPLE.gov.uk",
                vec!["error: email `Jane@EXAMPLE.gov.uk` is already used on line 1"],
            ),
            ("", "", vec!["error: email `` is already used on line 1"]),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            seen.email(&mut check, first, at(1));
            seen.email(&mut check, second, at(2));
            assert_eq!(fx.said(check), said, "{first:?} then {second:?}");
        }
    }

    #[test]
    fn github_username_table() {
        let fx = Fixture::new();
        for (first, (second, written), said) in [
            ("janedoe", ("johndoe", "johndoe"), vec![]),
            (
                "janedoe",
                ("janedoe", "JaneDoe"),
                vec!["error: github_username `JaneDoe` is already used on line 1"],
            ),
            ("janedoe", ("janedoe2", "janedoe2"), vec![]),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            seen.github_username(&mut check, first, &spanned(first));
            seen.github_username(&mut check, second, &spanned(written));
            assert_eq!(fx.said(check), said, "{first:?} then {written:?}");
        }
    }

    #[test]
    fn aws_user_arn_table() {
        let fx = Fixture::new();
        let jane = "arn:aws:iam::111111111111:user/jane";
        for (second, said) in [
            ("arn:aws:iam::111111111111:user/john", vec![]),
            (
                jane,
                vec![
                    "error: IAM user `arn:aws:iam::111111111111:user/jane` is already someone else's (line 1)",
                ],
            ),
            (
                "ARN:AWS:IAM::111111111111:USER/JANE",
                vec![
                    "error: IAM user `ARN:AWS:IAM::111111111111:USER/JANE` is already someone else's (line 1)",
                ],
            ),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            seen.aws_user_arn(&mut check, jane, at(1));
            seen.aws_user_arn(&mut check, second, at(2));
            assert_eq!(fx.said(check), said, "{second:?}");
        }
    }
}
