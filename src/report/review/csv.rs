//! The review for auditors' spreadsheets: one row per grant, held or owed.
//! The header goes first as `#` comment lines (a spreadsheet shows them
//! above the table; a CSV reader told `#` starts a comment skips them).
//! Every cell is made safe to open: control characters escaped, and a
//! leading `=`, `+`, `-` or `@` (which a spreadsheet would run as a
//! formula) quoted away.

use std::borrow::Cow;

use super::{
    Holder, Missing, Observed, Review, activity_words, held_as_words, level_words, not_a_person,
    requirement_words, time_words,
};
use crate::hygiene::escape_control;
use crate::when::show;

const COLUMNS: [&str; 20] = [
    "system",
    "target",
    "principal",
    "held_as",
    "person",
    "name",
    "levels",
    "requires",
    "attestations",
    "approved_by",
    "supervised_by",
    "expires",
    "temporary_reason",
    "absent_since",
    "last_iam_activity",
    "protected",
    "grounds",
    "finding_kind",
    "finding_action",
    "finding_reason",
];

pub fn render(review: &Review) -> String {
    let mut out = comments(review);
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let rows = review
        .holders
        .iter()
        .map(holder_row)
        .chain(review.missing.iter().map(missing_row));
    for record in std::iter::once(COLUMNS.map(String::from)).chain(rows) {
        writer
            .write_record(record.iter().map(|c| safe(c).into_owned()))
            .expect("writing to memory cannot fail");
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    out.push_str(&String::from_utf8(bytes).expect("the cells are UTF-8"));
    out
}

/// The header as `# key: value` lines.
fn comments(review: &Review) -> String {
    let h = &review.header;
    let mut lines = vec![
        "lapse access review".to_string(),
        format!("generated_at: {}", time_words(h.generated_at)),
        format!("now: {}", time_words(h.now)),
        format!("run_id: {}", h.run_id),
        format!("lapse_version: {}", h.lapse_version),
        format!("roster: {}", h.roster.source),
        format!("roster_sha256: {}", h.roster.sha256),
    ];
    if let Some(git) = &h.roster.git {
        lines.push(format!("roster_git_blob_sha: {}", git.blob_sha));
        lines.push(format!(
            "roster_git_ref: {}",
            git.reference.as_deref().unwrap_or("(default branch)")
        ));
    }
    lines.push(format!("config: {}", h.config.path));
    lines.push(format!("config_sha256: {}", h.config.sha256));
    lines.push(match &h.observed {
        Observed::Live => "observed: live".into(),
        Observed::Snapshot { path } => format!("observed: snapshot {path}"),
    });
    for l in &h.counts.levels {
        lines.push(format!(
            "level {}: standing {}, temporary {}, grants held {}",
            l.level, l.standing, l.temporary, l.grants_held
        ));
    }
    for s in &h.counts.systems {
        lines.push(format!(
            "system {}: targets {}, holders {}, invitations {}, drift {}, missing {}",
            s.system, s.targets, s.holders, s.invitations, s.drift, s.missing
        ));
    }
    lines
        .iter()
        .map(|l| format!("# {}\n", escape_control(l)))
        .collect()
}

fn holder_row(h: &Holder) -> [String; 20] {
    let joined = |parts: Vec<String>| parts.join("; ");
    let p = h.person.as_ref();
    let levels = p.map_or(&[][..], |p| &p.levels[..]);
    let temporary: Vec<_> = levels.iter().filter_map(|g| g.temporary.as_ref()).collect();
    let grounds = match p {
        Some(p) if p.levels.is_empty() => "the roster gives them no level that grants this",
        Some(_) => "",
        None => not_a_person(h),
    };
    [
        h.system.to_string(),
        h.target.clone(),
        h.principal.clone(),
        held_as_words(h),
        p.map(|p| p.email.clone()).unwrap_or_default(),
        p.and_then(|p| p.name.clone()).unwrap_or_default(),
        joined(levels.iter().map(level_words).collect()),
        joined(
            levels
                .iter()
                .map(|g| format!("{}: {}", g.level, requirement_words(g)))
                .collect(),
        ),
        p.map(|p| p.attestations.join(", ")).unwrap_or_default(),
        joined(temporary.iter().map(|t| t.approved_by.clone()).collect()),
        joined(temporary.iter().map(|t| t.supervised_by.clone()).collect()),
        joined(temporary.iter().map(|t| t.expires.clone()).collect()),
        joined(
            temporary
                .iter()
                .map(|t| t.reason.clone().unwrap_or_default())
                .collect(),
        ),
        p.and_then(|p| p.absent_since).map(show).unwrap_or_default(),
        activity_words(h.activity.as_ref()),
        if h.protected { "yes" } else { "" }.into(),
        grounds.into(),
        joined(h.findings.iter().map(|f| f.kind.to_string()).collect()),
        joined(
            h.findings
                .iter()
                .map(|f| action_word(f.action).to_string())
                .collect(),
        ),
        joined(h.findings.iter().map(|f| f.reason.clone()).collect()),
    ]
}

fn missing_row(m: &Missing) -> [String; 20] {
    let mut row: [String; 20] = Default::default();
    row[0] = m.system.to_string();
    row[1] = m.target.clone();
    row[2] = m.principal.clone();
    row[3] = "not held".into();
    row[4] = m.person.clone();
    row[17] = "missing".into();
    row[18] = "none".into();
    row[19] = m.reason.clone();
    row
}

fn action_word(action: crate::model::Action) -> &'static str {
    match action {
        crate::model::Action::Revoke => "revoke",
        crate::model::Action::None => "none",
    }
}

/// A cell a spreadsheet shows as text: escaped control characters, and a
/// quote before anything it would read as a formula.
fn safe(cell: &str) -> Cow<'_, str> {
    let escaped = escape_control(cell);
    if escaped.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{escaped}"))
    } else {
        escaped
    }
}
