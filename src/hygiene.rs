//! What input may look like when lapse shows it again. Roster and config
//! values are written by people (or by an attacker with commit rights), so
//! no value reaches a terminal or a rendered page as it was written:
//! control characters are shown escaped (an `ESC[2J` in an email must not
//! clear the screen above a `yes` prompt), quotes are capped (a 10 MB
//! scalar must not become 20 MB of output), and markdown gets its syntax
//! and HTML escaped (a `<!--` must not hide the rest of a report).

use std::borrow::Cow;
use std::fmt::Write as _;

/// The most characters of one line or value a diagnostic quotes.
pub const MAX_QUOTE_CHARS: usize = 200;

/// `c` shown as `\u{1b}` instead of itself. Tabs pass: they only move the cursor.
pub fn is_unsafe(c: char) -> bool {
    c != '\t' && (c.is_control() || is_invisible_format(c))
}

/// Characters that change how the text around them reads without showing
/// themselves: bidirectional overrides and isolates (which can reorder a
/// line on screen), zero-width spaces and joiners, the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `text` with every unsafe character written as `\u{…}`; borrowed when nothing needs it.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends `c`, escaped when unsafe.
pub fn push_escaped(out: &mut String, c: char) {
    if is_unsafe(c) {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// A value as a diagnostic quotes it: escaped, and at most
/// [`MAX_QUOTE_CHARS`] characters, with how much was left out.
pub fn quote(value: &str) -> String {
    let total = value.chars().count();
    let mut out = String::new();
    for c in value.chars().take(MAX_QUOTE_CHARS) {
        push_escaped(&mut out, c);
    }
    if total > MAX_QUOTE_CHARS {
        let _ = write!(out, "… ({} more characters)", total - MAX_QUOTE_CHARS);
    }
    out
}

/// A roster-derived value made safe for a markdown table cell: escaped
/// control characters, HTML entities for `<`, `>` and `&`, a backslash
/// before markdown syntax, and one line. An underscore inside a word is
/// left alone: it emphasises nothing there, and level names are full of them.
pub fn markdown_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '_' => {
                let inside = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                if inside(i.checked_sub(1)) && inside(Some(i + 1)) {
                    out.push('_');
                } else {
                    out.push_str("\\_");
                }
            }
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// A value for a markdown code span inside a table: backticks cannot be
/// escaped there, so they become quotes; `|` would end the cell.
pub fn markdown_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '`' => out.push('\''),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => push_escaped(&mut out, c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        let cases = [
            ("jane.doe@example.gov.uk", "jane.doe@example.gov.uk"),
            ("a\u{1b}[2Jb", "a\\u{1b}[2Jb"),
            ("nul\0", "nul\\u{0}"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("rtl\u{202e}txt", "rtl\\u{202e}txt"),
            ("tab\tstays", "tab\tstays"),
            ("line\nbreak", "line\\u{a}break"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_control(input), want, "{input:?}");
        }
        assert!(matches!(escape_control("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn quotes_stop_at_200_characters() {
        assert_eq!(quote(&"a".repeat(200)), "a".repeat(200));
        let long = quote(&"é".repeat(10_000_000));
        assert!(long.starts_with(&"é".repeat(200)));
        assert!(long.ends_with("… (9999800 more characters)"), "{long}");
        assert!(long.chars().count() < 240);
        assert_eq!(quote("x\u{7}"), "x\\u{7}");
    }

    #[test]
    fn markdown_escapes_html_and_syntax_but_not_intraword_underscores() {
        let cases = [
            ("production_admin", "production_admin"),
            ("<!-- hide", "&lt;!-- hide"),
            ("[click](https://x)", "\\[click\\](https://x)"),
            ("(82 days; the limit is 42)", "(82 days; the limit is 42)"),
            ("_emph_", "\\_emph\\_"),
            ("a|b", "a\\|b"),
            ("**bold**", "\\*\\*bold\\*\\*"),
            ("<img src=x>", "&lt;img src=x&gt;"),
            ("a\u{1b}b", "a\\u{1b}b"),
        ];
        for (input, want) in cases {
            assert_eq!(markdown_text(input), want, "{input:?}");
        }
        assert_eq!(markdown_code("a`b|c"), "a'b\\|c");
    }
}
