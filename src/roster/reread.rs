//! A roster refused as written (an unknown key, most often) is read again
//! with unknown keys skipped, so that a typo in one entry does not hide a
//! duplicate in another: every problem is reported in one run.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Source};
use crate::yaml;

use super::raw::lenient;
use super::validate;

/// `refused` (what the strict reading said) and what the rules say of the
/// roster read without its unknown keys. When even that reading fails, the
/// first reading's problems are the ones to fix.
pub(super) fn with_the_other_problems(
    refused: Diagnostics,
    source: &Source,
    config: &Config,
    now: DateTime<Utc>,
) -> Diagnostics {
    let Ok(roster) = yaml::parse::<lenient::RawRoster>(source) else {
        return refused;
    };
    let others = match validate(roster.into(), source, config, now) {
        Ok(loaded) => loaded.warnings,
        Err(diags) => diags,
    };
    let unknown_keys: Vec<&Diagnostic> = refused
        .0
        .iter()
        .filter(|d| d.message.starts_with("unknown key `"))
        .collect();
    let others: Vec<Diagnostic> = others
        .0
        .into_iter()
        .filter(|d| !misspelt(&unknown_keys, d, &source.text))
        .collect();
    let mut all = refused;
    all.extend(Diagnostics(others));
    all.sorted()
}

/// The key a diagnostic says is missing, as in "this person has no
/// `email`" or "this temporary grant has no `expires`" (reported where the
/// mapping that lacks it begins).
fn missing_key(d: &Diagnostic) -> Option<&str> {
    if !(d.message.starts_with("this person ") || d.message.starts_with("this temporary grant ")) {
        return None;
    }
    let (_, key) = d.message.split_once(" has no `")?;
    key.strip_suffix('`')
}

/// Whether `missing` reports a key that is there, misspelt: an unknown key
/// in the same mapping was taken for it ("did you mean `expires`?"), and
/// saying it is missing too would only put the symptom above the cause.
fn misspelt(unknown_keys: &[&Diagnostic], missing: &Diagnostic, text: &str) -> bool {
    let Some(key) = missing_key(missing) else {
        return false;
    };
    let guess = format!("`{key}`");
    let start = missing.pos;
    unknown_keys.iter().any(|unknown| {
        unknown.help.as_deref().is_some_and(|h| h.contains(&guess))
            && unknown.pos.column == start.column
            && unknown.pos.line >= start.line
            && same_block(text, start.line, unknown.pos.line, start.column)
    })
}

/// Whether every line after `from` up to `to` (1-based) belongs to the
/// block mapping whose keys stand at `column`: indented at least that far,
/// or blank, or a comment.
fn same_block(text: &str, from: u32, to: u32, column: u32) -> bool {
    text.lines()
        .skip(from as usize)
        .take(to.saturating_sub(from) as usize)
        .all(|line| {
            let body = line.trim_start_matches(' ');
            let indent = (line.len() - body.len()) as u32;
            body.is_empty() || body.starts_with('#') || indent + 1 >= column
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Pos;

    fn at(line: u32, column: u32, message: &str, help: Option<&str>) -> Diagnostic {
        let source = Source {
            name: "users.yaml".into(),
            text: String::new(),
        };
        let pos = Pos {
            line,
            column,
            width: 1,
            offset: None,
        };
        let d = Diagnostic::error(&source, pos, message);
        match help {
            Some(help) => d.help(help),
            None => d,
        }
    }

    #[test]
    fn missing_key_table() {
        for (message, key) in [
            ("this person has no `email`", Some("email")),
            ("this temporary grant has no `expires`", Some("expires")),
            ("jane@example.gov.uk has no `email`", None),
            ("unknown key `emial`", None),
        ] {
            assert_eq!(missing_key(&at(1, 1, message, None)), key, "{message}");
        }
    }

    #[test]
    fn misspelt_table() {
        let text = "- email: a@example.gov.uk\n  temporary:\n    - access: x\n      expiers: y\n    - acess: z\n- emial: b\n";
        let typo = |line, column, guess: &str| {
            at(
                line,
                column,
                "unknown key",
                Some(&format!("did you mean `{guess}`? Unknown keys are refused")),
            )
        };
        let unknown = [
            typo(4, 7, "expires"),
            typo(5, 7, "access"),
            typo(6, 3, "email"),
        ];
        let unknown: Vec<&Diagnostic> = unknown.iter().collect();
        for (line, column, message, said) in [
            (3, 7, "this temporary grant has no `expires`", true),
            (3, 7, "this temporary grant has no `approved_by`", false),
            (5, 7, "this temporary grant has no `expires`", false),
            (5, 7, "this temporary grant has no `access`", true),
            (6, 3, "this person has no `email`", true),
            (1, 3, "this person has no `email`", false),
        ] {
            let missing = at(line, column, message, None);
            assert_eq!(
                misspelt(&unknown, &missing, text),
                said,
                "{line}:{column} {message}"
            );
        }
    }

    #[test]
    fn same_block_table() {
        let text = "- email: a@example.gov.uk\n  temporary:\n    - acces: x\n\n      # note\n      expiers: y\n    - access: z\n- emial: b\n";
        for (from, to, column, same) in [
            (3, 3, 7, true),
            (3, 6, 7, true),
            (3, 7, 7, false),
            (1, 2, 3, true),
            (1, 8, 3, false),
            (8, 8, 3, true),
        ] {
            assert_eq!(
                same_block(text, from, to, column),
                same,
                "{from}..{to} at {column}"
            );
        }
    }
}
