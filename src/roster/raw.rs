//! The roster as written: serde types that keep each value's source
//! position, and the shape the JSON Schema gives editors.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

pub(super) type SpannedString = Spanned<String>;

/// The entry types, written once and declared twice: at the top of this
/// module with `deny_unknown_fields` (what lapse accepts, and what the
/// schema says), and in [`lenient`] without it, so that a roster refused for
/// an unknown key can still be checked for everything else in the same run.
macro_rules! entry_types {
    ($(#[$strict:meta])*) => {
        /// One person in the roster.
        #[derive(Debug, Deserialize, JsonSchema)]
        $(#[$strict])*
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
            /// The GitHub account's numeric id. When given, team members are matched
            /// by it: a renamed account is still this person, and someone who takes
            /// over their old login is not.
            #[serde(default)]
            #[schemars(with = "Option<u64>")]
            pub github_id: Option<Spanned<u64>>,
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
        $(#[$strict])*
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
            #[schemars(with = "Option<String>")]
            pub reason: Option<SpannedString>,
        }
    };
}

entry_types!(#[serde(deny_unknown_fields)]);

/// The same entries, unknown keys skipped: read only after the strict
/// reading has refused the roster, to find its other problems.
pub mod lenient {
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_saphyr::Spanned;

    use super::{LevelNames, OneOrMany, SpannedString};

    entry_types!();

    /// The whole roster, unknown keys skipped.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(transparent)]
    pub struct RawRoster(#[schemars(with = "Vec<RawPerson>")] pub Vec<Spanned<RawPerson>>);

    impl From<RawTemporary> for super::RawTemporary {
        fn from(t: RawTemporary) -> Self {
            super::RawTemporary {
                access: t.access,
                expires: t.expires,
                approved_by: t.approved_by,
                supervised_by: t.supervised_by,
                reason: t.reason,
            }
        }
    }

    impl From<RawPerson> for super::RawPerson {
        fn from(p: RawPerson) -> Self {
            super::RawPerson {
                name: p.name,
                email: p.email,
                github_username: p.github_username,
                github_id: p.github_id,
                aws_user_arn: p.aws_user_arn,
                access: p.access,
                attestations: p.attestations,
                absent_since: p.absent_since,
                temporary: p.temporary.into_iter().map(respan).collect(),
            }
        }
    }

    impl From<RawRoster> for super::RawRoster {
        fn from(roster: RawRoster) -> Self {
            super::RawRoster(roster.0.into_iter().map(respan).collect())
        }
    }

    /// A lenient value as its strict counterpart, where it was.
    fn respan<T, U: From<T>>(s: Spanned<T>) -> Spanned<U> {
        Spanned::new(s.value.into(), s.referenced, s.defined)
    }
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
