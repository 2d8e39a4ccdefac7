//! Diagnostics that read like a compiler's: where, what, and how to fix it.

use std::fmt::{self, Write as _};

/// How bad a diagnostic is. Errors stop the run; warnings are printed and the
/// run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A file lapse read, kept so a diagnostic can quote the offending line.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as the user gave it (or as resolved against the config file).
    pub name: String,
    pub text: String,
}

/// A position in a source: 1-based line and column, how many characters
/// to underline, and, when known, the byte offset (to find the line fast).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub width: u32,
    pub offset: Option<usize>,
}

impl Pos {
    pub fn from_location(loc: &serde_saphyr::Location) -> Pos {
        let width = loc.span().len().clamp(1, 200) as u32;
        Pos {
            line: loc.line().min(u32::MAX as u64) as u32,
            column: loc.column().min(u32::MAX as u64) as u32,
            width,
            offset: loc.span().byte_offset().map(|o| o as usize),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub pos: Pos,
    /// The offending line as written, quoted under the location.
    pub line_text: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, source: &Source, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            file: source.name.clone(),
            pos,
            line_text: line_text(&source.text, pos),
            message: message.into(),
            help: None,
        }
    }

    pub fn error(source: &Source, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, source, pos, message)
    }

    pub fn warning(source: &Source, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, source, pos, message)
    }

    /// A problem with a whole file rather than a place in it.
    pub fn file_error(file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            pos: Pos::default(),
            line_text: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The line a position is on. With a byte offset this costs the line's
/// length, not the file's: a large roster can have thousands of diagnostics.
fn line_text(text: &str, pos: Pos) -> Option<String> {
    if pos.line == 0 {
        return None;
    }
    let line = match pos
        .offset
        .filter(|o| *o <= text.len() && text.is_char_boundary(*o))
    {
        Some(offset) => {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
            &text[start..end]
        }
        None => text.lines().nth(pos.line as usize - 1)?,
    };
    Some(line.trim_end().to_string())
}

impl fmt::Display for Diagnostic {
    /// ```text
    /// error: unknown field `expiers`, expected one of …
    ///   --> users.yaml:14:7
    ///    |
    /// 14 |       expiers: 2026-12-01
    ///    |       ^^^^^^^
    ///    = help: …
    /// ```
    ///
    /// Written through the redaction layer, with control characters escaped
    /// and the quoted line cut to a window around the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.render(&mut out)?;
        f.write_str(&crate::redact::text(&out))
    }
}

/// At most this many characters of a message are shown.
const MAX_MESSAGE_CHARS: usize = 1_000;

impl Diagnostic {
    fn render(&self, f: &mut String) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", capped(&self.message, MAX_MESSAGE_CHARS))?;
        if self.pos.line == 0 {
            writeln!(f, "  --> {}", escape_control(&self.file))?;
        } else {
            writeln!(
                f,
                "  --> {}:{}:{}",
                escape_control(&self.file),
                self.pos.line,
                self.pos.column
            )?;
        }
        let gutter = self.pos.line.to_string().len().max(2);
        if let Some(text) = &self.line_text {
            let (quoted, marker) = quote_line(text, self.pos.column, self.pos.width);
            let pad = " ".repeat(gutter);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{:>gutter$} | {quoted}", self.pos.line)?;
            writeln!(f, "{pad} | {marker}")?;
        }
        if let Some(help) = &self.help {
            writeln!(
                f,
                "{} = help: {}",
                " ".repeat(gutter),
                capped(help, MAX_MESSAGE_CHARS)
            )?;
        }
        Ok(())
    }
}

/// `text` escaped and cut to `max` characters, saying how much was left out.
fn capped(text: &str, max: usize) -> String {
    let total = text.chars().count();
    let mut out = String::new();
    for c in text.chars().take(max) {
        crate::hygiene::push_escaped(&mut out, c);
    }
    if total > max {
        let _ = write!(out, "… ({} more characters)", total - max);
    }
    out
}

/// The quoted line and the marker under it. At most
/// [`MAX_QUOTE_CHARS`](crate::hygiene::MAX_QUOTE_CHARS) characters are
/// quoted, in a window that keeps the column in sight; control characters
/// are escaped and the marker moves with what they became.
fn quote_line(text: &str, column: u32, width: u32) -> (String, String) {
    let max = crate::hygiene::MAX_QUOTE_CHARS;
    let chars: Vec<char> = text.chars().collect();
    let col = (column.saturating_sub(1) as usize).min(chars.len());
    let start = (col + 20).saturating_sub(max);
    let end = (start + max).min(chars.len());
    let mut quoted = String::new();
    let mut marker = String::new();
    if start > 0 {
        quoted.push('…');
        marker.push(' ');
    }
    for (i, &c) in chars[start..end].iter().enumerate() {
        let before = quoted.chars().count();
        crate::hygiene::push_escaped(&mut quoted, c);
        if start + i < col {
            if c == '\t' {
                marker.push('\t');
            } else {
                let shown = quoted.chars().count() - before;
                marker.push_str(&" ".repeat(shown));
            }
        }
    }
    if end < chars.len() {
        quoted.push('…');
    }
    let room = end.saturating_sub(col).max(1);
    marker.push_str(&"^".repeat((width.max(1) as usize).min(room)));
    (quoted, marker)
}

fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    crate::hygiene::escape_control(text)
}

/// Every problem found in one pass, in file order.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.0.len() - self.errors()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Sorted by file and position so output is stable and reads top to bottom.
    pub fn sorted(mut self) -> Self {
        self.0
            .sort_by(|a, b| (&a.file, a.pos, a.severity).cmp(&(&b.file, b.pos, b.severity)));
        self
    }
}

/// After this many diagnostics the rest are counted, not printed: a
/// roster with a problem on every line must not bury the first ones.
pub const MAX_SHOWN: usize = 100;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0.iter().take(MAX_SHOWN) {
            writeln!(f, "{d}")?;
        }
        if let Some(rest) = self.0.get(MAX_SHOWN..).filter(|r| !r.is_empty()) {
            let errors = rest.iter().filter(|d| d.is_error()).count();
            writeln!(
                f,
                "… and {} more ({errors} errors, {} warnings) not shown\n",
                rest.len(),
                rest.len() - errors
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, line: u32, column: u32, width: u32) -> String {
        let source = Source {
            name: "users.yaml".into(),
            text: text.into(),
        };
        let pos = Pos {
            line,
            column,
            width,
            offset: None,
        };
        Diagnostic::error(&source, pos, "bad").to_string()
    }

    #[test]
    fn control_characters_in_the_quoted_line_are_escaped_and_the_marker_follows() {
        let shown = at("- email: a\u{1b}[2Jb@x.uk", 1, 14, 1);
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.contains("1 | - email: a\\u{1b}[2Jb@x.uk"), "{shown}");
        // Column 14 is the `J`: after `a` (col 11) the escape took 6 places.
        assert!(
            shown.contains(&format!("   | {}^\n", " ".repeat(18))),
            "{shown}"
        );
    }

    #[test]
    fn a_long_line_is_quoted_in_a_window_around_the_column() {
        let line = format!("- name: {}X{}", "a".repeat(5_000), "b".repeat(5_000));
        let shown = at(&line, 1, 5_009, 1);
        let quoted = shown.lines().nth(3).unwrap();
        assert!(quoted.chars().count() < 220, "{}", quoted.len());
        assert!(quoted.contains("aX"), "{quoted}");
        let marker = shown.lines().nth(4).unwrap();
        let x = quoted.chars().position(|c| c == 'X').unwrap();
        assert_eq!(marker.chars().position(|c| c == '^'), Some(x));
    }

    #[test]
    fn a_tab_keeps_its_place_under_the_marker() {
        let shown = at("\tkey: value", 1, 2, 3);
        assert!(shown.contains("   | \t^^^\n"), "{shown:?}");
    }

    #[test]
    fn after_a_hundred_diagnostics_the_rest_are_counted() {
        let source = Source {
            name: "users.yaml".into(),
            text: String::new(),
        };
        let mut diags = Diagnostics::default();
        for i in 0..250 {
            let d = if i % 2 == 0 {
                Diagnostic::error(&source, Pos::default(), format!("problem {i}"))
            } else {
                Diagnostic::warning(&source, Pos::default(), format!("problem {i}"))
            };
            diags.push(d);
        }
        let shown = diags.to_string();
        assert!(shown.contains("problem 99\n") && !shown.contains("problem 100\n"));
        assert!(
            shown.contains("… and 150 more (75 errors, 75 warnings) not shown"),
            "{shown}"
        );
    }

    #[test]
    fn a_token_in_a_quoted_line_is_masked() {
        let token = format!("ghp_{}", "Ab1".repeat(12));
        let shown = at(&format!("GITHUB_TOKEN={token}"), 1, 1, 12);
        assert!(!shown.contains(&token), "{shown}");
        assert!(shown.contains("GITHUB_TOKEN=[redacted]"), "{shown}");
    }
}
