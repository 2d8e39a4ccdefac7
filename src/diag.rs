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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        if self.pos.line == 0 {
            writeln!(f, "  --> {}", self.file)?;
        } else {
            writeln!(
                f,
                "  --> {}:{}:{}",
                self.file, self.pos.line, self.pos.column
            )?;
        }
        let gutter = self.pos.line.to_string().len().max(2);
        if let Some(text) = &self.line_text {
            let pad = " ".repeat(gutter);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{:>gutter$} | {text}", self.pos.line)?;
            let mut marker = String::new();
            for c in text
                .chars()
                .take(self.pos.column.saturating_sub(1) as usize)
            {
                marker.push(if c == '\t' { '\t' } else { ' ' });
            }
            let _ = write!(marker, "{}", "^".repeat(self.pos.width.max(1) as usize));
            writeln!(f, "{pad} | {marker}")?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{} = help: {help}", " ".repeat(gutter))?;
        }
        Ok(())
    }
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

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}
