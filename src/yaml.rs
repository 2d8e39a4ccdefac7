//! Strict YAML loading for the config and the roster.
//!
//! What a person reads must be exactly what lapse reads, so the loader refuses
//! the YAML features that make those differ: duplicate keys (the last silently
//! wins elsewhere), merge keys (`<<`), and tags (`!!str`, `!custom`). Size,
//! nesting depth and alias expansion are bounded before they cost anything, so
//! no file can make lapse hang, exhaust memory or panic.

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_saphyr::granit_parser::{Event, Parser};
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, Options};

use crate::diag::{Diagnostic, Pos, Source};

/// Deeper than any honest roster or config nests.
const MAX_DEPTH: usize = 32;

/// Reads a file of at most `max_bytes`, refusing anything larger before reading it all.
pub fn read_source(path: &Path, name: &str, max_bytes: u64) -> Result<Source, Diagnostic> {
    let file = std::fs::File::open(path)
        .map_err(|e| Diagnostic::file_error(name, format!("cannot open {name}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Diagnostic::file_error(name, format!("cannot read {name}: {e}")))?;
    source_from_bytes(name, bytes, max_bytes)
}

/// Checks size and encoding of text that came from elsewhere (a file, or the GitHub contents API).
pub fn source_from_bytes(name: &str, bytes: Vec<u8>, max_bytes: u64) -> Result<Source, Diagnostic> {
    if bytes.len() as u64 > max_bytes {
        return Err(Diagnostic::file_error(
            name,
            format!("{name} is larger than {max_bytes} bytes; lapse refuses to read it"),
        )
        .help("check that this is the right file; a roster of 50,000 people fits well within the limit"));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::file_error(
            name,
            format!(
                "{name} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(Source {
        name: name.to_string(),
        text,
    })
}

/// The parser options that make YAML strict and bounded.
fn strict_options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    budget.max_anchors = 1_000;
    budget.max_aliases = 1_000;
    budget.max_merge_keys = 0;
    budget.max_events = 20_000_000;
    budget.max_nodes = 10_000_000;
    let mut alias_limits = AliasLimits::default();
    alias_limits.max_total_replayed_events = 100_000;
    alias_limits.max_replay_stack_depth = 8;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.alias_limits = alias_limits;
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.merge_keys = MergeKeyPolicy::Error;
    options.reject_unsupported_tags = true;
    options.reject_tagged_field_names = true;
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// Where `key:` is first written in `source`, for values read without a
/// position of their own (numbers with defaults). Falls back to the top.
pub fn key_pos(source: &Source, key: &str) -> Pos {
    for (i, line) in source.text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
        {
            return Pos {
                line: i as u32 + 1,
                column: (line.len() - trimmed.len()) as u32 + 1,
                width: key.len() as u32,
            };
        }
    }
    Pos {
        line: 1,
        column: 1,
        width: 1,
    }
}

/// Parses `source` into `T`, or explains the first problem with file, line and column.
pub fn parse<T: DeserializeOwned>(source: &Source) -> Result<T, Diagnostic> {
    reject_tags(source)?;
    serde_saphyr::from_str_with_options::<T>(&source.text, strict_options())
        .map_err(|err| to_diagnostic(source, &err))
}

/// Tags change how a value is read without showing it plainly; refuse them all,
/// standard ones included.
fn reject_tags(source: &Source) -> Result<(), Diagnostic> {
    for (depth_guard, item) in Parser::new_from_str(&source.text).enumerate() {
        let Ok((event, span)) = item else {
            // Syntax errors are reported, with context, by the real parse.
            return Ok(());
        };
        let tag = match &event {
            Event::Scalar(_, _, _, tag)
            | Event::SequenceStart(_, _, tag)
            | Event::MappingStart(_, _, tag) => tag,
            _ => &None,
        };
        if let Some(tag) = tag {
            let pos = Pos {
                line: span.start.line() as u32,
                column: span.start.col() as u32 + 1,
                width: 1,
            };
            return Err(Diagnostic::error(
                source,
                pos,
                format!("YAML tags are not allowed (found `{}`)", tag_text(tag)),
            )
            .help(
                "remove the tag and write the value plainly; quote it if it must be read as text",
            ));
        }
        if depth_guard > 50_000_000 {
            return Ok(());
        }
    }
    Ok(())
}

fn tag_text(tag: &serde_saphyr::granit_parser::Tag) -> String {
    if tag.handle() == "tag:yaml.org,2002:" {
        format!("!!{}", tag.suffix())
    } else {
        format!("{}{}", tag.handle(), tag.suffix())
    }
}

fn to_diagnostic(source: &Source, err: &serde_saphyr::Error) -> Diagnostic {
    let message = plain_message(err);
    let (pos, message) = match err.location() {
        Some(loc) if loc.line() > 0 => (Pos::from_location(&loc), message),
        _ => (
            Pos {
                line: 1,
                column: 1,
                width: 1,
            },
            message,
        ),
    };
    let help = help_for(&message);
    let mut d = Diagnostic::error(source, pos, message);
    if let Some(help) = help {
        d = d.help(help);
    }
    d
}

/// The parser's message without its own location suffix (we print ours).
fn plain_message(err: &serde_saphyr::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    let first = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let first = first.trim_start_matches("error: ");
    // The parser's advice about its own options means nothing to a user.
    match first.find(", set DuplicateKeyPolicy") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

fn help_for(message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    if m.contains("unknown field") {
        Some("check the spelling: unknown keys are refused so that a typo can never grant or keep access".into())
    } else if m.contains("duplicate") {
        Some("remove one of the two entries; YAML keys must be unique".into())
    } else if m.contains("expected sequence") {
        Some("the roster is a YAML list: each person starts with `- email: ...`".into())
    } else if m.contains("merge") {
        Some("write the keys out in full; merge keys (`<<`) are not allowed".into())
    } else if m.contains("budget") || m.contains("alias") || m.contains("depth") {
        Some("simplify the file: deep nesting and alias expansion are limited".into())
    } else {
        None
    }
}
