//! The periodic user-access review (see the README: Access review): every holder of every managed
//! team and role, with the grounds on which they hold it. It is the evidence
//! an auditor asks for (SOC 2 CC6.2/CC6.3, ISO 27001 A.5.18), so it says
//! where it came from (digests of the config and roster, the run id) as well
//! as what it found. Markdown is for people, CSV for auditors' spreadsheets,
//! JSON for scripts; all three are made from this one model.

mod csv;
mod json;
mod markdown;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::model::{Action, FindingKind, System};
use crate::when::show;

/// Output formats of `lapse review --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormat {
    Markdown,
    Csv,
    Json,
}

/// One access review.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    #[serde(flatten)]
    pub header: Header,
    /// Every principal on every managed team and role, sorted by system,
    /// target, principal.
    pub holders: Vec<Holder>,
    /// Grants the roster gives that are not in place, in the same order.
    pub missing: Vec<Missing>,
    /// Remarks that are not about one grant (the plan's notes).
    pub notes: Vec<String>,
}

/// Where the review came from, and its totals.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    #[serde(serialize_with = "rfc3339")]
    pub generated_at: DateTime<Utc>,
    /// The time the roster was evaluated as of.
    #[serde(serialize_with = "rfc3339")]
    pub now: DateTime<Utc>,
    pub run_id: String,
    pub lapse_version: String,
    pub roster: RosterOrigin,
    pub config: ConfigOrigin,
    pub observed: Observed,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct RosterOrigin {
    /// A path, or `github:OWNER/REPO/PATH[@REF]`.
    pub source: String,
    pub sha256: String,
    /// For a roster read from a repository: which version of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitVersion>,
}

/// A file in a repository, as git names its contents.
#[derive(Debug, Clone, Serialize)]
pub struct GitVersion {
    /// The SHA-1 git names these bytes by (`git hash-object`).
    pub blob_sha: String,
    /// The ref the file was read at; null for the default branch.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigOrigin {
    pub path: String,
    pub sha256: String,
}

/// Whether the grants were read from the systems or from a snapshot file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "lowercase")]
pub enum Observed {
    Live,
    Snapshot { path: String },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub levels: Vec<LevelCount>,
    pub systems: Vec<SystemCount>,
}

/// One access level: whom the roster gives it to, and the grants held through it.
#[derive(Debug, Clone, Serialize)]
pub struct LevelCount {
    pub level: String,
    /// People given it as standing access.
    pub standing: usize,
    /// People holding an unexpired temporary grant of it.
    pub temporary: usize,
    /// Holders whose grounds include it.
    pub grants_held: usize,
}

/// One system's managed teams or roles, their holders and their drift.
#[derive(Debug, Clone, Serialize)]
pub struct SystemCount {
    pub system: System,
    pub targets: usize,
    /// Principals holding a target (pending invitations not included).
    pub holders: usize,
    pub invitations: usize,
    /// Holders and invitations with a drift finding.
    pub drift: usize,
    pub missing: usize,
}

/// How a principal holds a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldAs {
    /// A team member (directly, or through `via`).
    Member,
    /// A team maintainer (directly, or through `via`).
    Maintainer,
    /// A pending invitation to the team: not yet access, but on its way.
    Invitation,
    /// A principal the role's trust policy allows to assume it.
    TrustPolicy,
    /// A user assigned an Identity Center permission set directly.
    Assignment,
}

/// One principal on one team or role, and the grounds on which it is there.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    pub system: System,
    /// `github:ORG/TEAM_SLUG` or a role ARN.
    pub target: String,
    /// A lower-case GitHub login, or an AWS principal as the policy writes it.
    pub principal: String,
    pub held_as: HeldAs,
    /// The child team a membership comes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// For a trust-policy principal, its key in the `Principal` block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<&'static str>,
    /// The roster person, when the principal is somebody in it.
    pub person: Option<PersonGrounds>,
    /// Listed in `safety.protected`: kept whatever the roster says.
    pub protected: bool,
    /// The last activity of the IAM user behind the principal, when observed.
    pub activity: Option<Activity>,
    /// The plan's findings on this grant: drift, or a lapse coming soon.
    pub findings: Vec<HolderFinding>,
}

impl Holder {
    /// Whether any finding on this grant is drift.
    pub fn is_drift(&self) -> bool {
        self.findings.iter().any(|f| f.kind.is_drift())
    }
}

/// What the roster says of the person holding a grant.
#[derive(Debug, Clone, Serialize)]
pub struct PersonGrounds {
    pub email: String,
    pub name: Option<String>,
    /// What the person has shown, sorted.
    pub attestations: Vec<String>,
    #[serde(serialize_with = "rfc3339_option")]
    pub absent_since: Option<DateTime<Utc>>,
    /// The roster's grants of levels that give this target, standing and
    /// temporary (lapsed ones included). Empty: the roster gives none.
    pub levels: Vec<LevelGround>,
}

/// One level the roster gives a person that gives the target.
#[derive(Debug, Clone, Serialize)]
pub struct LevelGround {
    pub level: String,
    pub basis: Basis,
    /// The attestations this kind of grant of the level requires.
    pub requires: Vec<String>,
    /// Those of them the person has not shown (validation refuses a roster
    /// with any, so this is empty unless the config changed since).
    pub lacking: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary: Option<TemporaryGround>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    Standing,
    Temporary,
}

/// A temporary (supervised, time-limited) grant as the roster records it.
#[derive(Debug, Clone, Serialize)]
pub struct TemporaryGround {
    pub approved_by: String,
    pub supervised_by: String,
    /// As the roster reads: a date is the last day the grant holds.
    pub expires: String,
    /// Whether it had expired at `now`.
    pub expired: bool,
    pub reason: Option<String>,
}

/// What IAM says of the user behind a principal.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    pub iam_user: String,
    /// The last console or access-key use; null when never used.
    #[serde(serialize_with = "rfc3339_option")]
    pub last_used: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339")]
    pub user_created: DateTime<Utc>,
}

/// One of the plan's findings, on the grant it is about.
#[derive(Debug, Clone, Serialize)]
pub struct HolderFinding {
    pub kind: FindingKind,
    pub action: Action,
    pub reason: String,
}

/// A grant the roster gives that is not in place.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    pub system: System,
    pub target: String,
    pub principal: String,
    pub person: String,
    pub reason: String,
}

impl Review {
    /// Renders the review, through the redaction layer.
    pub fn render(&self, format: ReviewFormat) -> String {
        let rendered = match format {
            ReviewFormat::Markdown => markdown::render(self),
            ReviewFormat::Csv => csv::render(self),
            ReviewFormat::Json => json::render(self),
        };
        match crate::redact::text(&rendered) {
            std::borrow::Cow::Borrowed(_) => rendered,
            std::borrow::Cow::Owned(masked) => masked,
        }
    }

    /// The holders grouped by system then target, in review order.
    fn by_target(&self) -> Vec<((System, &str), Vec<&Holder>)> {
        let mut groups: Vec<((System, &str), Vec<&Holder>)> = Vec::new();
        for h in &self.holders {
            match groups.last_mut() {
                Some((key, items)) if *key == (h.system, h.target.as_str()) => items.push(h),
                _ => groups.push(((h.system, h.target.as_str()), vec![h])),
            }
        }
        groups
    }
}

// ---------------------------------------------------------------------------
// Wording shared by the markdown and CSV forms.

/// How a holder holds the target, in words.
fn held_as_words(h: &Holder) -> String {
    let how = match h.held_as {
        HeldAs::Member => "member",
        HeldAs::Maintainer => "maintainer",
        HeldAs::Invitation => "invited (pending)",
        HeldAs::TrustPolicy => "trust policy",
        HeldAs::Assignment => "assignment",
    };
    match (&h.via, h.principal_type) {
        (Some(via), _) => format!("{how} through {via}"),
        (None, Some(kind)) => format!("{how} ({kind})"),
        (None, None) => how.to_string(),
    }
}

/// Who the holder is when no roster person answers for it.
fn not_a_person(h: &Holder) -> &'static str {
    match (h.protected, h.principal_type) {
        (true, _) => "not in the roster; protected (safety.protected)",
        (false, Some("Service")) => "an AWS service, not a person",
        _ => "not in the roster",
    }
}

/// One level ground in words: the level and how it is given.
fn level_words(g: &LevelGround) -> String {
    match (&g.basis, &g.temporary) {
        (Basis::Temporary, Some(t)) if t.expired => format!("{} (temporary, expired)", g.level),
        (Basis::Temporary, _) => format!("{} (temporary)", g.level),
        (Basis::Standing, _) => format!("{} (standing)", g.level),
    }
}

/// What a level requires and what of it the person lacks.
fn requirement_words(g: &LevelGround) -> String {
    let mut out = list_or_nothing(&g.requires);
    if !g.lacking.is_empty() {
        out.push_str(&format!(" (lacking {})", g.lacking.join(", ")));
    }
    out
}

/// A temporary grant's approval, supervision, end and reason in words.
fn temporary_words(t: &TemporaryGround) -> String {
    let ends = if t.expired { "expired" } else { "expires" };
    let mut out = format!(
        "approved by {}, supervised by {}, {ends} {}",
        t.approved_by, t.supervised_by, t.expires
    );
    if let Some(reason) = &t.reason {
        out.push_str(&format!(", reason: {reason}"));
    }
    out
}

/// The last activity in words, or "" when it was not observed.
fn activity_words(a: Option<&Activity>) -> String {
    match a {
        Some(Activity {
            last_used: Some(t), ..
        }) => show(*t),
        Some(Activity {
            last_used: None,
            user_created,
            ..
        }) => format!("never (IAM user created {})", show(*user_created)),
        None => String::new(),
    }
}

fn list_or_nothing(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

fn time_words(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time_words(*t))
}

fn rfc3339_option<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&time_words(*t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> DateTime<Utc> {
        crate::when::parse_time(text, crate::when::DayEdge::Start).unwrap()
    }

    /// One person on one team, whose roster entry was written to attack the
    /// page or the spreadsheet it is shown in.
    fn hostile() -> Review {
        let person = PersonGrounds {
            email: "eve@example.org".into(),
            name: Some("=HYPERLINK(\"http://x\") <!-- | **Eve**\u{1b}[2J".into()),
            attestations: vec!["bpss".into()],
            absent_since: None,
            levels: vec![LevelGround {
                level: "deploy".into(),
                basis: Basis::Temporary,
                requires: vec!["bpss".into()],
                lacking: vec![],
                temporary: Some(TemporaryGround {
                    approved_by: "lead@example.org".into(),
                    supervised_by: "sam@example.org".into(),
                    expires: "2026-12-01".into(),
                    expired: false,
                    reason: Some("@SUM(A1) | `x`".into()),
                }),
            }],
        };
        Review {
            header: Header {
                generated_at: time("2026-11-22T07:00:00Z"),
                now: time("2026-11-22"),
                run_id: "run".into(),
                lapse_version: "0.0.0".into(),
                roster: RosterOrigin {
                    source: "users.yaml".into(),
                    sha256: "00".into(),
                    git: None,
                },
                config: ConfigOrigin {
                    path: "lapse.yaml".into(),
                    sha256: "11".into(),
                },
                observed: Observed::Live,
                counts: Counts::default(),
            },
            holders: vec![Holder {
                system: System::Github,
                target: "github:acme/deploy".into(),
                principal: "eve".into(),
                held_as: HeldAs::Member,
                via: None,
                principal_type: None,
                person: Some(person),
                protected: false,
                activity: None,
                findings: vec![],
            }],
            missing: vec![],
            notes: vec![],
        }
    }

    #[test]
    fn markdown_escapes_what_the_roster_wrote() {
        let md = hostile().render(ReviewFormat::Markdown);
        let row = md.lines().find(|l| l.starts_with("| `eve`")).unwrap();
        assert!(!row.contains("<!--"), "{row}");
        assert!(row.contains("&lt;!--"), "{row}");
        assert!(row.contains(r"\*\*Eve\*\*"), "{row}");
        assert!(row.contains(r"\u{1b}"), "{row}");
        // Every `|` the roster wrote is escaped: the row keeps its 8 cells.
        let bars = row
            .char_indices()
            .filter(|&(i, c)| c == '|' && !row[..i].ends_with('\\'))
            .count();
        assert_eq!(bars, 9, "{row}");
    }

    #[test]
    fn csv_cells_never_read_as_formulas() {
        let csv = hostile().render(ReviewFormat::Csv);
        let mut reader = ::csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(csv.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| &row[headers.iter().position(|h| h == name).unwrap()];
        assert!(cell("name").starts_with("'=HYPERLINK"), "{}", cell("name"));
        assert!(cell("name").contains(r"\u{1b}"));
        assert_eq!(cell("temporary_reason"), "'@SUM(A1) | `x`");
        assert_eq!(cell("expires"), "2026-12-01");
    }
}
