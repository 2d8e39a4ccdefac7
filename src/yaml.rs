//! Strict YAML loading for the config and the roster.
//!
//! What a person reads must be exactly what lapse reads, so the loader refuses
//! the YAML features that make those differ: duplicate keys (the last silently
//! wins elsewhere), merge keys (`<<`), and tags (`!!str`, `!custom`). Size,
//! nesting depth and alias expansion are bounded before they cost anything, so
//! no file can make lapse hang, exhaust memory or panic.

use std::io::Read;
use std::path::Path;

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde_saphyr::granit_parser::{Event, Parser};
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{Budget, DuplicateKeyPolicy, MergeKeyPolicy, Options};

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics, Pos, Source};

/// Deeper than any honest roster or config nests.
const MAX_DEPTH: usize = 32;

/// Reads a file of at most `max_bytes`, refusing anything larger before reading it all.
pub fn read_source(path: &Path, name: &str, max_bytes: u64) -> Result<Source, Diagnostics> {
    let file = std::fs::File::open(path).map_err(|e| {
        Diagnostics(vec![Diagnostic::file_error(
            name,
            format!("cannot open {name}: {e}"),
        )])
    })?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Diagnostics(vec![Diagnostic::file_error(
                name,
                format!("cannot read {name}: {e}"),
            )])
        })?;
    source_from_bytes(name, bytes, max_bytes)
}

/// Checks size and encoding of text that came from elsewhere (a file, or the GitHub contents API).
pub fn source_from_bytes(
    name: &str,
    bytes: Vec<u8>,
    max_bytes: u64,
) -> Result<Source, Diagnostics> {
    check_bytes(name, bytes, max_bytes).map_err(|d| Diagnostics(vec![*d]))
}

fn check_bytes(name: &str, bytes: Vec<u8>, max_bytes: u64) -> Result<Source, Box<Diagnostic>> {
    if bytes.len() as u64 > max_bytes {
        return Err(Box::new(
            Diagnostic::file_error(name, format!("{name} is larger than {max_bytes} bytes; lapse refuses to read it"))
                .help("check that this is the right file; a roster of 50,000 people fits well within the limit"),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| Box::new(not_utf8(name, e.as_bytes(), e.utf8_error())))?;
    Ok(Source {
        name: name.to_string(),
        text,
    })
}

/// Names the line and column of the first byte that is not UTF-8, and quotes
/// the valid part of that line.
fn not_utf8(name: &str, bytes: &[u8], error: std::str::Utf8Error) -> Diagnostic {
    let valid = error.valid_up_to();
    // Everything before `valid` is UTF-8, so this cannot fail.
    let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() as u32 + 1;
    let column = before[line_start..].chars().count() as u32 + 1;
    let source = Source {
        name: name.to_string(),
        text: before[line_start..].to_string(),
    };
    let pos = Pos {
        line,
        column,
        width: 1,
        offset: Some(valid - line_start),
    };
    let mut d = Diagnostic::error(
        &source,
        pos,
        format!(
            "{name} is not UTF-8 text (byte 0x{:02x} at offset {valid})",
            bytes[valid]
        ),
    )
    .help("save the file as UTF-8");
    d.line_text = Some(before[line_start..].to_string());
    d
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
                offset: None,
            };
        }
    }
    Pos {
        line: 1,
        column: 1,
        width: 1,
        offset: None,
    }
}

/// Parses `source` into `T`. Tags and unknown keys are found in a first pass
/// over the whole file and reported together; anything else stops at the
/// first problem, with file, line and column.
pub fn parse<T: DeserializeOwned + schemars::JsonSchema>(
    source: &Source,
) -> Result<T, Diagnostics> {
    let schema = || serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
    // A tag needs a `!`; most files have none, and then one pass is enough.
    if source.text.contains('!') {
        let found = scan(source, &schema());
        if found.has_errors() {
            return Err(found);
        }
    }
    serde_saphyr::from_str_with_options::<T>(&source.text, strict_options())
        .map_err(|err| refusal(source, &schema(), &err))
}

/// Parses `source` as a `T` through `seed`, which takes the document as it
/// is read: a roster at the size limit is validated entry by entry instead
/// of first being held whole as spanned serde values (several times the
/// file's size). Problems are found and reported as [`parse`] does.
pub fn parse_with_seed<'de, T, S>(source: &'de Source, seed: S) -> Result<S::Value, Diagnostics>
where
    T: schemars::JsonSchema,
    S: DeserializeSeed<'de>,
{
    let schema = || serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
    if source.text.contains('!') {
        let found = scan(source, &schema());
        if found.has_errors() {
            return Err(found);
        }
    }
    serde_saphyr::with_deserializer_from_str_with_options(&source.text, strict_options(), |de| {
        seed.deserialize(de)
    })
    .map_err(|err| refusal(source, &schema(), &err))
}

/// Every unknown key at once when that is what refused the document,
/// rather than only the first; otherwise the parser's one problem.
fn refusal(source: &Source, schema: &Value, err: &serde_saphyr::Error) -> Diagnostics {
    let found = scan(source, schema);
    if found.has_errors() {
        found
    } else {
        Diagnostics(vec![to_diagnostic(source, err)])
    }
}

/// Where a scan is inside the document.
enum Frame<'s> {
    Map {
        schema: Option<&'s Value>,
        next_is_key: bool,
        value: Option<&'s Value>,
    },
    Seq {
        item: Option<&'s Value>,
    },
}

fn pos_of(span: &serde_saphyr::granit_parser::Span, width: usize) -> Pos {
    // granit's markers count characters; without a byte offset the line is found by counting lines.
    Pos {
        line: span.start.line() as u32,
        column: span.start.col() as u32 + 1,
        width: width.max(1) as u32,
        offset: None,
    }
}

/// One pass over the YAML events: every tag, and every key the schema does
/// not allow. Syntax errors end the pass quietly: the real parse reports them.
fn scan(source: &Source, root: &Value) -> Diagnostics {
    let mut found = Diagnostics::default();
    let mut stack: Vec<Frame> = Vec::new();
    for item in Parser::new_from_str(&source.text) {
        let Ok((event, span)) = item else { break };
        if let Event::Scalar(_, _, _, Some(tag))
        | Event::SequenceStart(_, _, Some(tag))
        | Event::MappingStart(_, _, Some(tag)) = &event
        {
            found.push(
                Diagnostic::error(source, pos_of(&span, 1), format!("YAML tags are not allowed (found `{}`)", tag_text(tag)))
                    .help("remove the tag and write the value plainly; quote it if it must be read as text"),
            );
        }
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(..)
        );
        if !starts_node {
            if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                stack.pop();
            }
            continue;
        }
        // The schema of the node this event starts, from where it stands.
        let schema: Option<&Value> = match stack.last_mut() {
            None => Some(root),
            Some(Frame::Seq { item }) => *item,
            Some(Frame::Map {
                schema,
                next_is_key,
                value,
            }) if *next_is_key => {
                *next_is_key = false;
                *value = None;
                if let Event::Scalar(key, ..) = &event {
                    *value = key_schema(*schema, key, source, &span, &mut found);
                }
                if matches!(event, Event::Scalar(..) | Event::Alias(..)) {
                    continue;
                }
                None
            }
            Some(Frame::Map {
                next_is_key, value, ..
            }) => {
                *next_is_key = true;
                *value
            }
        };
        if stack.len() > MAX_DEPTH {
            break;
        }
        match event {
            Event::MappingStart(..) => stack.push(Frame::Map {
                schema: schema.and_then(|s| object_like(root, s)),
                next_is_key: true,
                value: None,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq {
                item: schema.and_then(|s| array_item(root, s)),
            }),
            _ => {}
        }
    }
    found
}

/// Follows `$ref`s into the schema's definitions.
fn resolve<'s>(root: &'s Value, mut node: &'s Value) -> &'s Value {
    for _ in 0..16 {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let name = reference.rsplit('/').next().unwrap_or_default();
        match root
            .get("definitions")
            .or_else(|| root.get("$defs"))
            .and_then(|d| d.get(name))
        {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// The variant of a schema that describes a mapping, looking through `anyOf`/`oneOf`.
fn object_like<'s>(root: &'s Value, node: &'s Value) -> Option<&'s Value> {
    let node = resolve(root, node);
    if node.get("properties").is_some() || node.get("additionalProperties").is_some() {
        return Some(node);
    }
    let variants = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))?
        .as_array()?;
    variants.iter().find_map(|v| object_like(root, v))
}

/// The item schema of the variant that describes a sequence.
fn array_item<'s>(root: &'s Value, node: &'s Value) -> Option<&'s Value> {
    let node = resolve(root, node);
    if let Some(items) = node.get("items") {
        return Some(items);
    }
    let variants = node
        .get("anyOf")
        .or_else(|| node.get("oneOf"))?
        .as_array()?;
    variants.iter().find_map(|v| array_item(root, v))
}

/// The schema of a key's value; reports the key when the mapping refuses it.
fn key_schema<'s>(
    mapping: Option<&'s Value>,
    key: &str,
    source: &Source,
    span: &serde_saphyr::granit_parser::Span,
    found: &mut Diagnostics,
) -> Option<&'s Value> {
    let mapping = mapping?;
    let properties = mapping.get("properties").and_then(Value::as_object);
    if let Some(value) = properties.and_then(|p| p.get(key)) {
        return Some(value);
    }
    match mapping.get("additionalProperties") {
        Some(Value::Bool(false)) => {
            let known: Vec<&str> = properties
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let help = match closest(key, &known) {
                Some(guess) => format!(
                    "did you mean `{guess}`? Unknown keys are refused so that a typo can never grant or keep access"
                ),
                None => format!("the keys allowed here are: {}", known.join(", ")),
            };
            let (message, help) = if key == "<<" {
                (
                    "YAML merge keys (`<<`) are not allowed".to_string(),
                    "write the keys out in full".to_string(),
                )
            } else {
                (format!("unknown key `{key}`"), help)
            };
            found.push(
                Diagnostic::error(source, pos_of(span, key.chars().count()), message).help(help),
            );
            None
        }
        Some(Value::Bool(true)) | None => None,
        Some(schema) => Some(schema),
    }
}

/// The known key nearest a misspelt one, if it is near enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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
                offset: None,
            },
            message,
        ),
    };
    let pos = if message.contains("tab") {
        first_tab_from(source, pos).unwrap_or(pos)
    } else {
        pos
    };
    let help = help_for(&message);
    let mut d = Diagnostic::error(source, pos, message);
    if let Some(help) = help {
        d = d.help(help);
    }
    d
}

/// Where the tab a scanner complained of stands: the scanner reports the
/// end of what it was reading (the line before), not the tab itself.
fn first_tab_from(source: &Source, pos: Pos) -> Option<Pos> {
    let lines = source
        .text
        .lines()
        .enumerate()
        .skip(pos.line.saturating_sub(1) as usize);
    for (i, line) in lines {
        if let Some(byte) = line.find('\t') {
            return Some(Pos {
                line: i as u32 + 1,
                column: line[..byte].chars().count() as u32 + 1,
                width: 1,
                offset: None,
            });
        }
    }
    None
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
