//! Each person appears once: no two entries share an email, a GitHub
//! username, a GitHub account id or an IAM user, compared the way the
//! systems compare them (case-insensitively). An IAM user counts whether
//! written out or made by `aws.user_arn_template`. Every message names the
//! other entry by line and email.

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt};

use crate::diag::{Diagnostic, Pos};
use crate::hygiene::quote;

use super::identity::who;
use super::{Check, Person, SpannedString, pos};

/// Who wrote a value first: the line it is on, and which person (an index
/// into the people validated so far). Small, since there is one per person.
#[derive(Debug, Clone, Copy)]
struct First {
    line: u32,
    person: u32,
}

/// A written-out IAM user: where it stands, and whose it is.
#[derive(Debug, Clone, Copy)]
struct Written {
    at: Pos,
    person: u32,
}

/// Where each email, login, account id and written-out ARN was first seen.
pub(super) struct Seen {
    /// The line that names each person so far (their email's, or the entry's).
    lines: Vec<u32>,
    emails: HashMap<String, First>,
    logins: HashMap<String, First>,
    github_ids: HashMap<u64, First>,
    arns: HashMap<String, Written>,
    /// The people whose ARN is written out, in order.
    written: Vec<u32>,
}

impl Seen {
    /// Sized for the whole roster up front: no rehashing as it grows. Few
    /// people have an ARN or an account id written out, so those grow as needed.
    pub(super) fn with_capacity(people: usize) -> Seen {
        Seen {
            lines: Vec::with_capacity(people),
            emails: HashMap::with_capacity(people),
            logins: HashMap::with_capacity(people),
            github_ids: HashMap::new(),
            arns: HashMap::new(),
            written: Vec::new(),
        }
    }

    /// Starts the next person, named in messages by the value on `line`.
    pub(super) fn next_person(&mut self, line: u32) {
        self.lines.push(line);
    }

    /// The person being checked (the last one started).
    fn current(&self) -> First {
        First {
            line: self.lines.last().copied().unwrap_or_default(),
            person: self.lines.len().saturating_sub(1) as u32,
        }
    }

    /// The first person with this email (in lower case), if there is one.
    pub(super) fn person_by_email(&self, email_lower_case: &str) -> Option<usize> {
        self.emails
            .get(email_lower_case)
            .map(|first| first.person as usize)
    }

    /// `email` (trimmed) written at `at`.
    pub(super) fn email(&mut self, check: &mut Check, people: &[Person], email: &str, at: Pos) {
        let key = email.to_lowercase();
        match self.emails.get(&key) {
            Some(first) => check.diags.push(
                Diagnostic::error(
                    check.source,
                    at,
                    taken(&format!("email `{}`", quote(email)), *first, people),
                )
                .help("each person appears once; emails compare case-insensitively"),
            ),
            None => {
                let first = First {
                    line: at.line,
                    ..self.current()
                };
                self.emails.insert(key, first);
            }
        }
    }

    /// `login` (trimmed, lower case) as `written`.
    pub(super) fn github_username(
        &mut self,
        check: &mut Check,
        people: &[Person],
        login: &str,
        written: &SpannedString,
    ) {
        match self.logins.get(login) {
            Some(first) => {
                let what = format!("github_username `{}`", quote(&written.value));
                check.diags.push(
                    Diagnostic::error(check.source, pos(written), taken(&what, *first, people))
                        .help("GitHub usernames compare case-insensitively"),
                );
            }
            None => {
                let first = First {
                    line: pos(written).line,
                    ..self.current()
                };
                self.logins.insert(login.to_string(), first);
            }
        }
    }

    /// A GitHub account id `id` written at `at`.
    pub(super) fn github_id(&mut self, check: &mut Check, people: &[Person], id: u64, at: Pos) {
        match self.github_ids.get(&id) {
            Some(first) => check.diags.push(
                Diagnostic::error(
                    check.source,
                    at,
                    taken(&format!("github_id {id}"), *first, people),
                )
                .help("a GitHub account id belongs to one person: check which entry it is"),
            ),
            None => {
                let first = First {
                    line: at.line,
                    ..self.current()
                };
                self.github_ids.insert(id, first);
            }
        }
    }

    /// `arn` (trimmed) written out at `at`.
    pub(super) fn aws_user_arn(
        &mut self,
        check: &mut Check,
        people: &[Person],
        arn: &str,
        at: Pos,
    ) {
        let current = self.current();
        self.written.push(current.person);
        let key = arn.to_ascii_lowercase();
        match self.arns.get(&key) {
            Some(first) => {
                let first = First {
                    line: first.at.line,
                    person: first.person,
                };
                check.diags.push(
                    Diagnostic::error(
                        check.source,
                        at,
                        taken(&format!("IAM user `{}`", quote(arn)), first, people),
                    )
                    .help("each person has their own IAM user; ARNs compare case-insensitively"),
                );
            }
            None => {
                self.arns.insert(
                    key,
                    Written {
                        at,
                        person: current.person,
                    },
                );
            }
        }
    }

    /// A written-out ARN that `aws.user_arn_template` also makes for someone
    /// else. Template-made ARNs cannot repeat among themselves (they repeat
    /// only when the email or username they are made from does, which is
    /// reported already), so only the few written ones need looking up, and
    /// only after every person is known, whichever comes first.
    pub(super) fn arns_made_by_the_template(&self, check: &mut Check, people: &[Person]) {
        if self.arns.is_empty() {
            return;
        }
        for (index, person) in people.iter().enumerate() {
            let Some(arn) = person.aws_user_arn.as_deref() else {
                continue;
            };
            if self.written.binary_search(&(index as u32)).is_ok() {
                continue;
            }
            let key: Cow<str> = if arn.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(arn.to_ascii_lowercase())
            } else {
                Cow::Borrowed(arn)
            };
            let Some(written) = self.arns.get(key.as_ref()) else {
                continue;
            };
            let first = First {
                line: self.lines.get(index).copied().unwrap_or_default(),
                person: index as u32,
            };
            let written_arn = people
                .get(written.person as usize)
                .and_then(|p| p.aws_user_arn.as_deref())
                .unwrap_or_default();
            let what = format!("IAM user `{}`", quote(written_arn));
            let message = format!(
                "{}: aws.user_arn_template makes it for them",
                taken(&what, first, people)
            );
            check.diags.push(
                Diagnostic::error(check.source, written.at, message)
                    .help("each person has their own IAM user; ARNs compare case-insensitively, written or made by the template"),
            );
        }
    }
}

/// "`what` is already used on line N by jane@example.gov.uk".
fn taken(what: &str, first: First, people: &[Person]) -> String {
    let owner = match people.get(first.person as usize) {
        Some(p) if !p.email.is_empty() => who(&p.email),
        _ => Cow::Borrowed("an entry with no email"),
    };
    format!("{what} is already used on line {} by {owner}", first.line)
}

#[cfg(test)]
mod tests {
    use crate::roster::Names;

    use super::super::tests::{Fixture, spanned};
    use super::*;

    fn at(line: u32) -> Pos {
        Pos {
            line,
            ..Pos::default()
        }
    }

    fn person(email: &str, arn: Option<&str>) -> Person {
        Person {
            name: None,
            email: email.into(),
            github_username: None,
            github_id: None,
            aws_user_arn: arn.map(str::to_string),
            standing: Names::default(),
            attestations: Names::default(),
            absent_since: None,
            temporary: Vec::new(),
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
                vec![
                    "error: email `jane@example.gov.uk` is already used on line 1 by jane@example.gov.uk",
                ],
            ),
            (
                "jane@example.gov.uk",
                "Jane@EXAMPLE.gov.uk",
                vec![
                    "error: email `Jane@EXAMPLE.gov.uk` is already used on line 1 by jane@example.gov.uk",
                ],
            ),
            (
                "",
                "",
                vec!["error: email `` is already used on line 1 by an entry with no email"],
            ),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            let people = [person(first, None)];
            seen.next_person(1);
            seen.email(&mut check, &[], first, at(1));
            seen.next_person(2);
            seen.email(&mut check, &people, second, at(2));
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
                vec![
                    "error: github_username `JaneDoe` is already used on line 1 by jane@example.gov.uk",
                ],
            ),
            ("janedoe", ("janedoe2", "janedoe2"), vec![]),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            let people = [person("jane@example.gov.uk", None)];
            seen.next_person(1);
            seen.github_username(&mut check, &[], first, &spanned(first));
            seen.next_person(2);
            seen.github_username(&mut check, &people, second, &spanned(written));
            assert_eq!(fx.said(check), said, "{first:?} then {written:?}");
        }
    }

    #[test]
    fn github_id_table() {
        let fx = Fixture::new();
        for (second, said) in [
            (583232, vec![]),
            (
                583231,
                vec!["error: github_id 583231 is already used on line 3 by jane@example.gov.uk"],
            ),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            let people = [person("jane@example.gov.uk", None)];
            seen.next_person(1);
            seen.github_id(&mut check, &[], 583231, at(3));
            seen.next_person(5);
            seen.github_id(&mut check, &people, second, at(7));
            assert_eq!(fx.said(check), said, "{second:?}");
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
                    "error: IAM user `arn:aws:iam::111111111111:user/jane` is already used on line 1 by jane@example.gov.uk",
                ],
            ),
            (
                "ARN:AWS:IAM::111111111111:USER/JANE",
                vec![
                    "error: IAM user `ARN:AWS:IAM::111111111111:USER/JANE` is already used on line 1 by jane@example.gov.uk",
                ],
            ),
        ] {
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            let people = [person("jane@example.gov.uk", Some(jane))];
            seen.next_person(1);
            seen.aws_user_arn(&mut check, &[], jane, at(1));
            seen.next_person(2);
            seen.aws_user_arn(&mut check, &people, second, at(2));
            assert_eq!(fx.said(check), said, "{second:?}");
        }
    }

    #[test]
    fn a_written_arn_is_checked_against_template_made_ones_before_and_after_it() {
        let fx = Fixture::new();
        let template = |email: &str| format!("arn:aws:iam::111111111111:user/{email}");
        let written = "arn:aws:iam::111111111111:user/JANE@example.gov.uk";
        let said = "error: IAM user `arn:aws:iam::111111111111:user/JANE@example.gov.uk` is already used on line 1 by jane@example.gov.uk: aws.user_arn_template makes it for them";
        // The template-made ARN first, then the written one; then the other way round.
        for (order, people) in [
            (
                "template first",
                vec![
                    person(
                        "jane@example.gov.uk",
                        Some(&template("jane@example.gov.uk")),
                    ),
                    person("john@example.gov.uk", Some(written)),
                ],
            ),
            (
                "written first",
                vec![
                    person("john@example.gov.uk", Some(written)),
                    person(
                        "jane@example.gov.uk",
                        Some(&template("jane@example.gov.uk")),
                    ),
                ],
            ),
        ] {
            let writer = people
                .iter()
                .position(|p| p.email.starts_with("john"))
                .unwrap();
            let mut check = fx.check();
            let mut seen = Seen::with_capacity(2);
            for i in 0..people.len() {
                seen.next_person(if i == writer { 2 } else { 1 });
                if i == writer {
                    seen.aws_user_arn(&mut check, &people[..i], written, at(2));
                }
            }
            seen.arns_made_by_the_template(&mut check, &people);
            assert_eq!(fx.said(check), vec![said], "{order}");
        }
        // No template-made ARN to meet: nothing to say.
        let mut check = fx.check();
        let mut seen = Seen::with_capacity(2);
        let people = [
            person("john@example.gov.uk", Some(written)),
            person("a@b.uk", Some(&template("a@b.uk"))),
        ];
        seen.next_person(1);
        seen.aws_user_arn(&mut check, &[], written, at(1));
        seen.next_person(2);
        seen.arns_made_by_the_template(&mut check, &people);
        assert!(fx.said(check).is_empty());
    }
}
