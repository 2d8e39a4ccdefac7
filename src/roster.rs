//! `users.yaml`: who may hold production access. Raw entries keep their
//! source positions; [`validate`] turns them into a [`Roster`] and reports
//! every problem at once.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use foldhash::{HashMap, HashMapExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Pos, Source};
use crate::when::{self, DayEdge};
use crate::yaml;

/// Far above a 50,000-person roster (about 10 MB), far below trouble.
pub const MAX_ROSTER_BYTES: u64 = 64 * 1024 * 1024;

type SpannedString = Spanned<String>;

/// One person in the roster.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "lapse roster entry")]
pub struct RawPerson {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub name: Option<SpannedString>,
    /// Required and unique (case-insensitive): the person's identity in reports.
    #[serde(default)]
    #[schemars(with = "String", required)]
    pub email: Option<SpannedString>,
    /// Unique (case-insensitive).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub github_username: Option<SpannedString>,
    /// The person's IAM user; default from aws.user_arn_template.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub aws_user_arn: Option<SpannedString>,
    /// Standing access: a level name, or a list of them.
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub access: Option<Spanned<LevelNames>>,
    /// What this person has shown, e.g. bpss, probation, admin-checklist.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub attestations: Vec<SpannedString>,
    /// Start of a declared absence (YYYY-MM-DD or RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub absent_since: Option<SpannedString>,
    /// Time-limited, supervised grants.
    #[serde(default)]
    #[schemars(with = "Vec<RawTemporary>")]
    pub temporary: Vec<Spanned<RawTemporary>>,
}

/// A temporary, supervised grant of one level.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTemporary {
    #[serde(default)]
    #[schemars(with = "String")]
    pub access: Option<SpannedString>,
    /// End date (end of that day, UTC) or RFC 3339 time.
    #[serde(default)]
    #[schemars(with = "String")]
    pub expires: Option<SpannedString>,
    #[serde(default)]
    #[schemars(with = "String")]
    pub approved_by: Option<SpannedString>,
    #[serde(default)]
    #[schemars(with = "String")]
    pub supervised_by: Option<SpannedString>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Schema-only shape of `access`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `access:` as written: one level name or a list.
#[derive(Debug)]
pub enum LevelNames {
    One(String),
    Many(Vec<SpannedString>),
}

impl<'de> Deserialize<'de> for LevelNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LevelNames;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a level name or a list of level names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LevelNames, E> {
                Ok(LevelNames::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LevelNames, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<SpannedString>()? {
                    out.push(s);
                }
                Ok(LevelNames::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The whole roster file: a list of people.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(
    title = "lapse roster",
    description = "users.yaml: who may hold production access, and on what grounds."
)]
pub struct RawRoster(
    #[schemars(with = "Vec<RawPerson>", length(min = 1))] pub Vec<Spanned<RawPerson>>,
);

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
    pub aws_user_arn: Option<String>,
    pub standing: BTreeSet<String>,
    pub attestations: BTreeSet<String>,
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
    let raw: RawRoster = yaml::parse(source)?;
    validate(raw, source, config, now)
}

fn empty_roster(source: &Source) -> Diagnostic {
    Diagnostic::error(source, Pos { line: 1, column: 1, width: 1, offset: Some(0) }, "the roster lists nobody")
        .help("an empty or truncated roster would read as \"revoke everyone\", so lapse refuses it; restore the file")
}

fn pos(s: &Spanned<String>) -> Pos {
    Pos::from_location(&s.referenced)
}

fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if !a.is_empty() && b.contains('.') && !s.contains(char::is_whitespace))
}

fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !s.starts_with('-')
}

/// Turns raw entries into people, collecting every problem.
pub fn validate(
    raw: RawRoster,
    source: &Source,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Loaded, Diagnostics> {
    let mut diags = Diagnostics::default();
    if raw.0.is_empty() {
        return Err(Diagnostics(vec![empty_roster(source)]));
    }
    let known_levels = || config.levels.keys().cloned().collect::<Vec<_>>().join(", ");
    // Sized for the whole roster up front: no rehashing as it grows.
    let mut emails: HashMap<String, Pos> = HashMap::with_capacity(raw.0.len());
    let mut logins: HashMap<String, Pos> = HashMap::with_capacity(raw.0.len());
    let mut arns: HashMap<String, Pos> = HashMap::new();
    let mut people = Vec::with_capacity(raw.0.len());

    for entry in raw.0 {
        let entry_pos = Pos::from_location(&entry.referenced);
        let p = entry.value;

        let email = match &p.email {
            Some(e) => {
                let value = e.value.trim().to_string();
                if !is_email(&value) {
                    diags.push(Diagnostic::error(
                        source,
                        pos(e),
                        format!("`{}` is not an email address", e.value),
                    ));
                }
                let key = value.to_lowercase();
                if let Some(first) = emails.get(&key) {
                    diags.push(
                        Diagnostic::error(
                            source,
                            pos(e),
                            format!("email `{value}` is already used on line {}", first.line),
                        )
                        .help("each person appears once; emails compare case-insensitively"),
                    );
                } else {
                    emails.insert(key, pos(e));
                }
                value
            }
            None => {
                diags.push(
                    Diagnostic::error(source, entry_pos, "this person has no `email`")
                        .help("add email: — it is how lapse names a person in reports"),
                );
                String::new()
            }
        };
        let who: &str = if email.is_empty() {
            "this person"
        } else {
            &email
        };

        let github_username = p.github_username.as_ref().map(|g| {
            let login = g.value.trim().to_ascii_lowercase();
            if !is_login(&login) {
                diags.push(Diagnostic::error(
                    source,
                    pos(g),
                    format!("`{}` is not a GitHub username", g.value),
                ));
            }
            if let Some(first) = logins.get(&login) {
                diags.push(
                    Diagnostic::error(
                        source,
                        pos(g),
                        format!(
                            "github_username `{}` is already used on line {}",
                            g.value, first.line
                        ),
                    )
                    .help("GitHub usernames compare case-insensitively"),
                );
            } else {
                logins.insert(login.clone(), pos(g));
            }
            login
        });

        let aws_user_arn = match &p.aws_user_arn {
            Some(a) => {
                let arn = a.value.trim().to_string();
                if !(arn.starts_with("arn:aws") && arn.contains(":user/")) {
                    diags.push(
                        Diagnostic::error(
                            source,
                            pos(a),
                            format!("`{arn}` is not an IAM user ARN"),
                        )
                        .help("write arn:aws:iam::ACCOUNT_ID:user/NAME"),
                    );
                }
                Some(arn)
            }
            None if !email.is_empty() => {
                config.user_arn_from_template(&email, github_username.as_deref())
            }
            None => None,
        };
        // A template-made ARN repeats only when the email or username does,
        // which is reported already; check the ones written out.
        if let (Some(arn), Some(written)) = (&aws_user_arn, &p.aws_user_arn) {
            let key = arn.to_lowercase();
            let at = pos(written);
            if let Some(first) = arns.get(&key) {
                diags.push(Diagnostic::error(
                    source,
                    at,
                    format!(
                        "IAM user `{arn}` is already someone else's (line {})",
                        first.line
                    ),
                ));
            } else {
                arns.insert(key, at);
            }
        }

        let attestations: BTreeSet<String> = p
            .attestations
            .iter()
            .map(|a| a.value.trim().to_string())
            .collect();

        // Standing levels.
        let mut standing = BTreeSet::new();
        if let Some(access) = &p.access {
            let names: Vec<(&str, Pos)> = match &access.value {
                LevelNames::One(s) => vec![(s.as_str(), Pos::from_location(&access.referenced))],
                LevelNames::Many(v) => v.iter().map(|s| (s.value.as_str(), pos(s))).collect(),
            };
            for (name, at) in names {
                let name = name.trim();
                let Some(level) = config.levels.get(name) else {
                    diags.push(
                        Diagnostic::error(source, at, format!("unknown access level `{name}`"))
                            .help(format!("levels in the config: {}", known_levels())),
                    );
                    continue;
                };
                let lacking: Vec<&str> = level
                    .requires
                    .iter()
                    .filter(|r| !attestations.contains(*r))
                    .map(String::as_str)
                    .collect();
                if !lacking.is_empty() {
                    diags.push(
                        Diagnostic::error(source, at, format!("{who} holds `{name}` without the attestations it requires: {}", lacking.join(", ")))
                            .help(format!("add them to `attestations` once shown, or grant `{name}` temporarily under supervision")),
                    );
                }
                check_reachable(
                    config,
                    name,
                    github_username.as_deref(),
                    aws_user_arn.as_deref(),
                    source,
                    at,
                    who,
                    &mut diags,
                );
                standing.insert(name.to_string());
            }
        }

        let absent_since = p.absent_since.as_ref().and_then(|a| {
            match when::parse_time(&a.value, DayEdge::Start) {
                Ok(t) => {
                    if t > now {
                        diags.push(Diagnostic::warning(
                            source,
                            pos(a),
                            format!(
                                "absent_since {} is in the future; it counts from then",
                                a.value
                            ),
                        ));
                    }
                    Some(t)
                }
                Err(msg) => {
                    diags.push(Diagnostic::error(source, pos(a), msg));
                    None
                }
            }
        });

        let mut temporary = Vec::new();
        for t in &p.temporary {
            let t_pos = Pos::from_location(&t.referenced);
            let g = &t.value;
            let level_name = match &g.access {
                Some(a) => {
                    let name = a.value.trim().to_string();
                    match config.levels.get(&name) {
                        Some(level) => {
                            let lacking: Vec<&str> = level
                                .temporary_requires
                                .iter()
                                .filter(|r| !attestations.contains(*r))
                                .map(String::as_str)
                                .collect();
                            if !lacking.is_empty() {
                                diags.push(
                                    Diagnostic::error(source, pos(a), format!("{who} holds `{name}` temporarily without: {}", lacking.join(", ")))
                                        .help("temporary access still needs the level's `temporary_requires` attestations"),
                                );
                            }
                            check_reachable(
                                config,
                                &name,
                                github_username.as_deref(),
                                aws_user_arn.as_deref(),
                                source,
                                pos(a),
                                who,
                                &mut diags,
                            );
                            Some(name)
                        }
                        None => {
                            diags.push(
                                Diagnostic::error(
                                    source,
                                    pos(a),
                                    format!("unknown access level `{name}`"),
                                )
                                .help(format!("levels in the config: {}", known_levels())),
                            );
                            None
                        }
                    }
                }
                None => {
                    diags.push(
                        Diagnostic::error(source, t_pos, "this temporary grant has no `access`")
                            .help("name the level it grants"),
                    );
                    None
                }
            };
            let mut person_field = |field: &Option<SpannedString>, key: &str| -> Option<String> {
                match field {
                    Some(v) if is_email(v.value.trim()) => {
                        let v_email = v.value.trim().to_string();
                        if !email.is_empty() && v_email.eq_ignore_ascii_case(&email) {
                            diags.push(
                                Diagnostic::error(
                                    source,
                                    pos(v),
                                    format!("{who} cannot be their own `{key}`"),
                                )
                                .help(
                                    "temporary access is approved and supervised by someone else",
                                ),
                            );
                        }
                        Some(v_email)
                    }
                    Some(v) => {
                        diags.push(Diagnostic::error(
                            source,
                            pos(v),
                            format!("`{key}` must be an email address, not `{}`", v.value),
                        ));
                        None
                    }
                    None => {
                        diags.push(
                            Diagnostic::error(
                                source,
                                t_pos,
                                format!("this temporary grant has no `{key}`"),
                            )
                            .help("temporary access needs who approved it and who supervises it"),
                        );
                        None
                    }
                }
            };
            let approved_by = person_field(&g.approved_by, "approved_by");
            let supervised_by = person_field(&g.supervised_by, "supervised_by");
            let expires_at = match &g.expires {
                Some(e) => {
                    match when::parse_time(&e.value, DayEdge::End) {
                        Ok(at) => {
                            let limit =
                                now + Duration::days(config.policy.max_temporary_days as i64);
                            if at > limit {
                                diags.push(
                                Diagnostic::error(
                                    source,
                                    pos(e),
                                    format!(
                                        "temporary grant expires {}, more than {} days from now",
                                        when::show_expiry(at),
                                        config.policy.max_temporary_days
                                    ),
                                )
                                .help(format!("set `expires` no later than {}, or raise policy.max_temporary_days", when::show_expiry(limit))),
                            );
                            } else if at <= now {
                                diags.push(
                                Diagnostic::warning(source, pos(e), format!("temporary grant of `{}` expired {}; lapse will revoke it", level_name.as_deref().unwrap_or("?"), when::show_expiry(at)))
                                    .help("remove the entry once the access is gone"),
                            );
                            }
                            Some(at)
                        }
                        Err(msg) => {
                            diags.push(Diagnostic::error(source, pos(e), msg));
                            None
                        }
                    }
                }
                None => {
                    diags.push(
                        Diagnostic::error(source, t_pos, "this temporary grant has no `expires`")
                            .help(
                                "temporary access is for a fixed period: add expires: YYYY-MM-DD",
                            ),
                    );
                    None
                }
            };
            if let (Some(level), Some(expires_at), Some(approved_by), Some(supervised_by)) =
                (level_name, expires_at, approved_by, supervised_by)
            {
                temporary.push(TemporaryGrant {
                    level,
                    expires_at,
                    approved_by,
                    supervised_by,
                    reason: g.reason.clone(),
                });
            }
        }

        people.push(Person {
            name: p.name.map(|n| n.value),
            email,
            github_username,
            aws_user_arn,
            standing,
            attestations,
            absent_since,
            temporary,
        });
    }

    let diags = diags.sorted();
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Loaded {
            roster: Roster { people },
            warnings: diags,
        })
    }
}

/// A level that gives teams to someone with no GitHub username (or roles to
/// someone with no IAM user) cannot be granted: say so rather than let it
/// quietly mean nothing.
#[allow(clippy::too_many_arguments)]
fn check_reachable(
    config: &Config,
    level: &str,
    login: Option<&str>,
    arn: Option<&str>,
    source: &Source,
    at: Pos,
    who: &str,
    diags: &mut Diagnostics,
) {
    let Some(l) = config.levels.get(level) else {
        return;
    };
    if !l.github_teams.is_empty() && login.is_none() {
        diags.push(
            Diagnostic::warning(
                source,
                at,
                format!("`{level}` gives GitHub teams but {who} has no github_username"),
            )
            .help("add github_username so lapse can check their team membership"),
        );
    }
    if !l.aws_roles.is_empty() && arn.is_none() {
        diags.push(
            Diagnostic::warning(
                source,
                at,
                format!("`{level}` gives IAM roles but {who} has no IAM user"),
            )
            .help("add aws_user_arn, or set aws.user_arn_template"),
        );
    }
}
