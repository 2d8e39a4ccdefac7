//! The roster as written: serde types that keep each value's source
//! position, and the shape the JSON Schema gives editors.

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

pub(super) type SpannedString = Spanned<String>;

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
