//! GOV.UK: "supervision to be given by a production cleared person". A
//! temporary grant's supervisor must be in the roster, hold the same level
//! as standing access, and be at work. Each of these needs the whole
//! roster, so it is a pass after every person is read. A lapse here is a
//! warning, not an error: one supervisor's leave must never stop every
//! other revocation in the run.

use std::borrow::Cow;

use crate::diag::{Diagnostic, Pos};
use crate::when;

use super::identity::who;
use super::unique::Seen;
use super::{Check, Person};

/// A grant kept by the per-person loop, to be checked here: whose it is
/// (an index into the people), which of their grants, and where its
/// `supervised_by` is written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Supervised {
    pub grantee: usize,
    pub grant: usize,
    pub at: Pos,
}

/// Warns for every unexpired grant whose supervisor cannot supervise it.
/// An expired grant is left alone: it gives nothing any more, and its
/// revocation is reported already.
pub(super) fn check_supervisors(check: &mut Check, people: &[Person], seen: &Seen) {
    for s in std::mem::take(&mut check.supervised) {
        let Some(grantee) = people.get(s.grantee) else {
            continue;
        };
        let Some(grant) = grantee.temporary.get(s.grant) else {
            continue;
        };
        if grant.expires_at <= check.now {
            continue;
        }
        let supervisor = seen
            .person_by_email(&lower_case(&grant.supervised_by))
            .and_then(|i| people.get(i));
        let Some(why) = cannot_supervise(check, supervisor, &grant.level) else {
            continue;
        };
        let message = format!(
            "{}'s temporary `{}` is supervised by {}, who {why}",
            who(&grantee.email),
            grant.level,
            who(&grant.supervised_by)
        );
        check.diags.push(
            Diagnostic::warning(check.source, s.at, message).help(format!(
                "supervision is given by a production-cleared person: name someone at work who holds `{}` as standing access",
                grant.level
            )),
        );
    }
}

/// `email` as the roster's emails are keyed; borrowed when it is already.
fn lower_case(email: &str) -> Cow<'_, str> {
    if email.chars().any(char::is_uppercase) {
        Cow::Owned(email.to_lowercase())
    } else {
        Cow::Borrowed(email)
    }
}

/// Why `supervisor` (None when nobody in the roster has that email) cannot
/// supervise a grant of `level`, or None when they can.
fn cannot_supervise(
    check: &Check,
    supervisor: Option<&Person>,
    level: &str,
) -> Option<Cow<'static, str>> {
    let Some(supervisor) = supervisor else {
        return Some("is not in the roster".into());
    };
    if !supervisor.standing.contains(level) {
        return Some(format!("does not hold `{level}` as standing access").into());
    }
    let limit = check.config.policy.absence_limit_days;
    match supervisor.absent_since {
        Some(since) if when::more_than_days(since, check.now, limit) => Some(
            format!(
                "has been absent since {} (more than {limit} days)",
                when::day(since)
            )
            .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::roster::Names;

    use super::super::TemporaryGrant;
    use super::super::tests::Fixture;
    use super::*;
    use crate::when::{DayEdge, parse_time};

    fn person(email: &str, standing: &[&str], absent_since: Option<&str>) -> Person {
        Person {
            name: None,
            email: email.into(),
            github_username: None,
            github_id: None,
            aws_user_arn: None,
            standing: standing.iter().map(|s| s.to_string()).collect(),
            attestations: Names::default(),
            absent_since: absent_since.map(|t| parse_time(t, DayEdge::Start).unwrap()),
            temporary: Vec::new(),
        }
    }

    fn grantee(supervised_by: &str, expires: &str) -> Person {
        Person {
            temporary: vec![TemporaryGrant {
                level: "admin".into(),
                expires_at: parse_time(expires, DayEdge::End).unwrap(),
                approved_by: "lead@example.gov.uk".into(),
                supervised_by: supervised_by.into(),
                reason: None,
            }],
            ..person("jane@example.gov.uk", &["deploy"], None)
        }
    }

    /// What the pass says of Jane's grant, supervised as given, among `others`.
    fn said(fx: &Fixture, jane: Person, others: Vec<Person>) -> Vec<String> {
        let mut people = vec![jane];
        people.extend(others);
        let mut seen = Seen::with_capacity(people.len());
        let mut check = fx.check();
        for (i, p) in people.iter().enumerate() {
            seen.next_person(i as u32 + 1);
            seen.email(&mut check, &people[..i], &p.email, Pos::default());
        }
        check.supervised.push(Supervised {
            grantee: 0,
            grant: 0,
            at: Pos::default(),
        });
        check_supervisors(&mut check, &people, &seen);
        fx.said(check)
    }

    #[test]
    fn check_supervisors_table() {
        // The fixture's now is 2026-11-22 and its absence limit 42 days.
        let fx = Fixture::new();
        let sam = "sam@example.gov.uk";
        for (supervisor, expires, others, told) in [
            (
                sam,
                "2026-12-01",
                vec![person(sam, &["admin"], None)],
                vec![],
            ),
            // Case does not matter, and a declared absence within the limit is no absence.
            (
                "Sam@Example.gov.uk",
                "2026-12-01",
                vec![person(sam, &["admin", "deploy"], Some("2026-10-11"))],
                vec![],
            ),
            (
                sam,
                "2026-12-01",
                vec![],
                vec![
                    "warning: jane@example.gov.uk's temporary `admin` is supervised by sam@example.gov.uk, who is not in the roster",
                ],
            ),
            (
                sam,
                "2026-12-01",
                vec![person(sam, &["deploy"], None)],
                vec![
                    "warning: jane@example.gov.uk's temporary `admin` is supervised by sam@example.gov.uk, who does not hold `admin` as standing access",
                ],
            ),
            (
                sam,
                "2026-12-01",
                vec![person(sam, &["admin"], Some("2026-10-10"))],
                vec![
                    "warning: jane@example.gov.uk's temporary `admin` is supervised by sam@example.gov.uk, who has been absent since 2026-10-10 (more than 42 days)",
                ],
            ),
            // An expired grant gives nothing to supervise.
            (sam, "2026-11-21", vec![], vec![]),
            (
                sam,
                "2026-11-22",
                vec![],
                vec![
                    "warning: jane@example.gov.uk's temporary `admin` is supervised by sam@example.gov.uk, who is not in the roster",
                ],
            ),
        ] {
            let got = said(&fx, grantee(supervisor, expires), others);
            assert_eq!(got, told, "{supervisor} {expires}");
        }
    }
}
