//! `users.yaml`: who may hold production access. Raw entries keep their
//! source positions; [`validate`] turns them into a [`Roster`] and reports
//! every problem at once.
//!
//! The rules live in one module per family, each pushing its own diagnostics:
//! `identity` (what names a person), `text` (free text), `unique` (each
//! person once), `levels` (standing access), `reachable` (a level the person
//! can actually be given), `dates` and `temporary` (supervised grants), and
//! `supervision` (who supervises them), a pass over the whole roster.

mod dates;
mod identity;
mod levels;
mod names;
mod raw;
mod reachable;
mod reread;
mod supervision;
mod temporary;
mod text;
mod unique;

use chrono::{DateTime, Utc};
use serde_saphyr::Spanned;

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Pos, Source};
use crate::yaml;

use names::Interner;
pub use names::Names;
use raw::SpannedString;
pub use raw::{LevelNames, RawPerson, RawRoster, RawTemporary};
use supervision::Supervised;
use unique::Seen;

/// Room for 200,000 people (a 50,000-person roster is about 7.4 MB), and
/// small enough that `validate` of a roster this size stays under 200 MB
/// (`scripts/validate-memory.sh` measures it).
pub const MAX_ROSTER_BYTES: u64 = 30 * 1024 * 1024;

// ---------------------------------------------------------------------------
// The validated roster.

#[derive(Debug, Clone, PartialEq)]
pub struct TemporaryGrant {
    pub level: String,
    /// The first instant the grant no longer holds.
    pub expires_at: DateTime<Utc>,
    pub approved_by: String,
    pub supervised_by: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub name: Option<String>,
    /// As written; compared case-insensitively.
    pub email: String,
    /// Lower case.
    pub github_username: Option<String>,
    /// The GitHub account's numeric id, which survives a rename.
    pub github_id: Option<u64>,
    pub aws_user_arn: Option<String>,
    pub standing: Names,
    pub attestations: Names,
    pub absent_since: Option<DateTime<Utc>>,
    pub temporary: Vec<TemporaryGrant>,
}

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub people: Vec<Person>,
}

/// The roster and what validation had to say about it (warnings only, when Ok).
#[derive(Debug)]
pub struct Loaded {
    pub roster: Roster,
    pub warnings: Diagnostics,
}

/// Parses and validates roster text as of `now`.
pub fn load_source(
    source: &Source,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Loaded, Diagnostics> {
    if source
        .text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Diagnostics(vec![empty_roster(source)]));
    }
    let mut reading = Reading::new(source, config, now);
    match yaml::parse_with_seed::<RawRoster, _>(source, Entries(&mut reading)) {
        Ok(()) => reading.finish(source),
        Err(refused) => Err(reread::with_the_other_problems(
            refused, source, config, now,
        )),
    }
}

/// A validation under way: the rules' state and the people so far.
struct Reading<'a> {
    check: Check<'a>,
    seen: Seen,
    people: Vec<Person>,
}

impl<'a> Reading<'a> {
    fn new(source: &'a Source, config: &'a Config, now: DateTime<Utc>) -> Reading<'a> {
        let people = entries_in(&source.text);
        Reading {
            check: Check::new(source, config, now),
            seen: Seen::with_capacity(people),
            people: Vec::with_capacity(people),
        }
    }

    fn add(&mut self, entry: Spanned<RawPerson>) {
        let person = person(&mut self.check, &mut self.seen, &self.people, entry);
        self.people.push(person);
    }

    /// The rules that need the whole roster, then the verdict.
    fn finish(mut self, source: &Source) -> Result<Loaded, Diagnostics> {
        if self.people.is_empty() {
            return Err(Diagnostics(vec![empty_roster(source)]));
        }
        self.seen
            .arns_made_by_the_template(&mut self.check, &self.people);
        supervision::check_supervisors(&mut self.check, &self.people, &self.seen);
        let diags = self.check.diags.sorted();
        if diags.has_errors() {
            Err(diags)
        } else {
            self.people.shrink_to_fit();
            Ok(Loaded {
                roster: Roster {
                    people: self.people,
                },
                warnings: diags,
            })
        }
    }
}

/// About how many people `text` lists (the lines that start an entry of
/// the top-level list), so the people and their indexes are sized once
/// rather than doubled, briefly held twice, as they grow.
fn entries_in(text: &str) -> usize {
    text.lines().filter(|line| line.starts_with("- ")).count()
}

/// The roster's entries validated as the parser reads them: each raw entry
/// (its values and their positions) is dropped once it is a person, so a
/// large roster is never held whole in its raw form.
struct Entries<'r, 'a>(&'r mut Reading<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for Entries<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Entries<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Spanned<RawPerson>>()? {
            self.0.add(entry);
        }
        Ok(())
    }
}

fn empty_roster(source: &Source) -> Diagnostic {
    Diagnostic::error(source, Pos { line: 1, column: 1, width: 1, offset: Some(0) }, "the roster lists nobody")
        .help("an empty or truncated roster would read as \"revoke everyone\", so lapse refuses it; restore the file")
}

fn pos(s: &SpannedString) -> Pos {
    Pos::from_location(&s.referenced)
}

/// What every rule reads, and where it reports: one per validation run.
struct Check<'a> {
    source: &'a Source,
    config: &'a Config,
    now: DateTime<Utc>,
    diags: Diagnostics,
    /// The grants whose supervisor the pass after the per-person loop checks.
    supervised: Vec<Supervised>,
    /// Level and attestation names, one copy each for the whole roster.
    names: Interner,
}

impl<'a> Check<'a> {
    fn new(source: &'a Source, config: &'a Config, now: DateTime<Utc>) -> Check<'a> {
        Check {
            source,
            config,
            now,
            diags: Diagnostics::default(),
            supervised: Vec::new(),
            names: Interner::default(),
        }
    }
}

/// The person a level is granted to, as far as the level rules need to know.
struct Grantee<'a> {
    /// Where the person stands in the roster (an index into the people).
    index: usize,
    /// The email (quoted when it is not plain), or "this person" when there is none.
    who: &'a str,
    /// Trimmed; empty when the entry has none.
    email: &'a str,
    github_username: Option<&'a str>,
    aws_user_arn: Option<&'a str>,
    attestations: &'a Names,
}

/// Turns raw entries into people, collecting every problem.
pub fn validate(
    raw: RawRoster,
    source: &Source,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Loaded, Diagnostics> {
    let mut reading = Reading::new(source, config, now);
    for entry in raw.0 {
        reading.add(entry);
    }
    reading.finish(source)
}

/// How a person is named: their email, their GitHub account and their IAM user.
struct Identity {
    email: String,
    github_username: Option<String>,
    github_id: Option<u64>,
    aws_user_arn: Option<String>,
}

/// One entry, rule family by rule family. Diagnostics at the same position
/// keep the order they are pushed in, so this order is part of the output.
fn person(
    check: &mut Check,
    seen: &mut Seen,
    people: &[Person],
    entry: Spanned<RawPerson>,
) -> Person {
    let entry_pos = Pos::from_location(&entry.referenced);
    let p = entry.value;
    if let Some(name) = &p.name {
        text::free_text(check, "name", name);
    }
    let id = identify(check, seen, people, &p, entry_pos);

    let attestations = check
        .names
        .names(p.attestations.iter().map(|a| a.value.trim()));
    let (standing, absent_since, temporary) = {
        let who = identity::who(&id.email);
        let grantee = Grantee {
            index: people.len(),
            who: &who,
            email: &id.email,
            github_username: id.github_username.as_deref(),
            aws_user_arn: id.aws_user_arn.as_deref(),
            attestations: &attestations,
        };
        let standing = levels::standing(check, p.access.as_ref(), &grantee);
        let absent_since = p
            .absent_since
            .as_ref()
            .and_then(|a| dates::absent_since(check, a));
        let temporary = temporary::grants(check, &p.temporary, &grantee);
        (standing, absent_since, temporary)
    };

    Person {
        name: p.name.map(|n| n.value),
        email: id.email,
        github_username: id.github_username,
        github_id: id.github_id,
        aws_user_arn: id.aws_user_arn,
        standing,
        attestations,
        absent_since,
        temporary,
    }
}

/// The entry's email, GitHub account and IAM user, each checked and each
/// checked against everyone before. An ARN the entry does not write is made
/// by `aws.user_arn_template`; `Seen` checks those once every person is known.
fn identify(
    check: &mut Check,
    seen: &mut Seen,
    people: &[Person],
    p: &RawPerson,
    entry_pos: Pos,
) -> Identity {
    seen.next_person(p.email.as_ref().map_or(entry_pos.line, |e| pos(e).line));
    let email = identity::email(check, p.email.as_ref(), entry_pos);
    if let Some(written) = &p.email {
        seen.email(check, people, &email, pos(written));
    }
    let github_username = p.github_username.as_ref().map(|written| {
        let login = identity::github_username(check, written);
        seen.github_username(check, people, &login, written);
        login
    });
    let github_id = p.github_id.as_ref().map(|written| {
        let id = identity::github_id(check, written);
        seen.github_id(check, people, id, Pos::from_location(&written.referenced));
        id
    });
    let aws_user_arn = match &p.aws_user_arn {
        Some(written) => {
            let arn = identity::aws_user_arn(check, written);
            seen.aws_user_arn(check, people, &arn, pos(written));
            Some(arn)
        }
        None if !email.is_empty() => check
            .config
            .user_arn_from_template(&email, github_username.as_deref()),
        None => None,
    };
    Identity {
        email,
        github_username,
        github_id,
        aws_user_arn,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::Severity;

    /// A value as YAML gives it, on line 1. A JSON string is YAML, and
    /// escapes every control character the way YAML reads it back.
    pub(super) fn spanned(text: &str) -> SpannedString {
        let quoted = serde_json::to_string(text).expect("a string serialises");
        serde_saphyr::from_str(&quoted).expect("a quoted string parses")
    }

    /// A small config and a fixed now for the rule families' table tests.
    pub(super) struct Fixture {
        pub source: Source,
        pub config: Config,
        pub now: DateTime<Utc>,
    }

    const CONFIG: &str = r#"roster: users.yaml
policy:
  max_temporary_days: 30
access_levels:
  deploy:
    requires: [bpss]
    github_teams: [deploy]
    aws_roles: [prod/deployer]
  admin:
    requires: [bpss, probation]
    temporary_requires: [bpss]
    github_teams: [admin]
  reader:
    aws_roles: [prod/reader]
github:
  org: acme
aws:
  users_account: {id: "111111111111"}
  accounts:
    prod: {id: "111111111111"}
"#;

    impl Fixture {
        pub fn new() -> Fixture {
            let source = Source {
                name: "lapse.yaml".into(),
                text: CONFIG.into(),
            };
            Fixture {
                config: crate::config::from_source(&source, Path::new("lapse.yaml"))
                    .expect("fixture config is valid"),
                source: Source {
                    name: "users.yaml".into(),
                    text: String::new(),
                },
                now: crate::when::parse_time("2026-11-22", crate::when::DayEdge::Start).unwrap(),
            }
        }

        pub fn check(&self) -> Check<'_> {
            Check::new(&self.source, &self.config, self.now)
        }

        pub fn attestations(&self, shown: &[&str]) -> Names {
            shown.iter().collect()
        }

        /// jane@example.gov.uk, with a login and an IAM user.
        pub fn grantee<'a>(&self, attestations: &'a Names) -> Grantee<'a> {
            Grantee {
                index: 0,
                who: "jane@example.gov.uk",
                email: "jane@example.gov.uk",
                github_username: Some("janedoe"),
                aws_user_arn: Some("arn:aws:iam::111111111111:user/jane"),
                attestations,
            }
        }

        /// What a run said, in the order it was said.
        pub fn said(&self, check: Check) -> Vec<String> {
            check
                .diags
                .0
                .iter()
                .map(|d| match d.severity {
                    Severity::Error => format!("error: {}", d.message),
                    Severity::Warning => format!("warning: {}", d.message),
                })
                .collect()
        }
    }

    #[test]
    fn an_empty_list_is_refused() {
        let fx = Fixture::new();
        let err = validate(RawRoster(Vec::new()), &fx.source, &fx.config, fx.now).unwrap_err();
        assert_eq!(err.0[0].message, "the roster lists nobody");
    }

    #[test]
    fn warnings_alone_leave_the_roster_loaded() {
        let fx = Fixture::new();
        let source = Source {
            name: "users.yaml".into(),
            text: "- email: jane@example.gov.uk\n  access: reader\n  absent_since: 2026-12-01\n"
                .into(),
        };
        let loaded = load_source(&source, &fx.config, fx.now).expect("only warnings");
        assert_eq!(loaded.roster.people.len(), 1);
        assert_eq!(loaded.warnings.warnings(), 2);
    }
}
