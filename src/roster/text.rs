//! Text as people write it: free-text fields hold no control characters,
//! and a character that does not belong is named by its code point, since
//! a look-alike (`а`, U+0430) or an invisible one (U+200B) cannot be seen.

use crate::diag::Diagnostic;
use crate::hygiene::{self, quote};

use super::{Check, SpannedString, pos};

/// The names of the characters most often used to pass one string off as
/// another: Cyrillic and Greek look-alikes of Latin letters, invisible
/// spaces and joiners, direction overrides, and the common controls.
const NAMES: &[(char, &str)] = &[
    ('\u{0}', "NULL"),
    ('\u{7}', "BELL"),
    ('\u{8}', "BACKSPACE"),
    ('\t', "CHARACTER TABULATION"),
    ('\n', "LINE FEED"),
    ('\u{b}', "LINE TABULATION"),
    ('\u{c}', "FORM FEED"),
    ('\r', "CARRIAGE RETURN"),
    ('\u{1b}', "ESCAPE"),
    (' ', "SPACE"),
    ('\u{7f}', "DELETE"),
    ('\u{85}', "NEXT LINE"),
    ('\u{9b}', "CONTROL SEQUENCE INTRODUCER"),
    ('\u{a0}', "NO-BREAK SPACE"),
    ('\u{ad}', "SOFT HYPHEN"),
    ('\u{391}', "GREEK CAPITAL LETTER ALPHA"),
    ('\u{395}', "GREEK CAPITAL LETTER EPSILON"),
    ('\u{39f}', "GREEK CAPITAL LETTER OMICRON"),
    ('\u{3b1}', "GREEK SMALL LETTER ALPHA"),
    ('\u{3b5}', "GREEK SMALL LETTER EPSILON"),
    ('\u{3b9}', "GREEK SMALL LETTER IOTA"),
    ('\u{3bd}', "GREEK SMALL LETTER NU"),
    ('\u{3bf}', "GREEK SMALL LETTER OMICRON"),
    ('\u{3c1}', "GREEK SMALL LETTER RHO"),
    ('\u{405}', "CYRILLIC CAPITAL LETTER DZE"),
    (
        '\u{406}',
        "CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I",
    ),
    ('\u{408}', "CYRILLIC CAPITAL LETTER JE"),
    ('\u{410}', "CYRILLIC CAPITAL LETTER A"),
    ('\u{412}', "CYRILLIC CAPITAL LETTER VE"),
    ('\u{415}', "CYRILLIC CAPITAL LETTER IE"),
    ('\u{41a}', "CYRILLIC CAPITAL LETTER KA"),
    ('\u{41c}', "CYRILLIC CAPITAL LETTER EM"),
    ('\u{41d}', "CYRILLIC CAPITAL LETTER EN"),
    ('\u{41e}', "CYRILLIC CAPITAL LETTER O"),
    ('\u{420}', "CYRILLIC CAPITAL LETTER ER"),
    ('\u{421}', "CYRILLIC CAPITAL LETTER ES"),
    ('\u{422}', "CYRILLIC CAPITAL LETTER TE"),
    ('\u{425}', "CYRILLIC CAPITAL LETTER HA"),
    ('\u{430}', "CYRILLIC SMALL LETTER A"),
    ('\u{435}', "CYRILLIC SMALL LETTER IE"),
    ('\u{43e}', "CYRILLIC SMALL LETTER O"),
    ('\u{440}', "CYRILLIC SMALL LETTER ER"),
    ('\u{441}', "CYRILLIC SMALL LETTER ES"),
    ('\u{443}', "CYRILLIC SMALL LETTER U"),
    ('\u{445}', "CYRILLIC SMALL LETTER HA"),
    ('\u{455}', "CYRILLIC SMALL LETTER DZE"),
    ('\u{456}', "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I"),
    ('\u{458}', "CYRILLIC SMALL LETTER JE"),
    ('\u{501}', "CYRILLIC SMALL LETTER KOMI DE"),
    ('\u{2000}', "EN QUAD"),
    ('\u{2002}', "EN SPACE"),
    ('\u{2003}', "EM SPACE"),
    ('\u{2009}', "THIN SPACE"),
    ('\u{200b}', "ZERO WIDTH SPACE"),
    ('\u{200c}', "ZERO WIDTH NON-JOINER"),
    ('\u{200d}', "ZERO WIDTH JOINER"),
    ('\u{200e}', "LEFT-TO-RIGHT MARK"),
    ('\u{200f}', "RIGHT-TO-LEFT MARK"),
    ('\u{2010}', "HYPHEN"),
    ('\u{2011}', "NON-BREAKING HYPHEN"),
    ('\u{2013}', "EN DASH"),
    ('\u{2024}', "ONE DOT LEADER"),
    ('\u{2028}', "LINE SEPARATOR"),
    ('\u{2029}', "PARAGRAPH SEPARATOR"),
    ('\u{202a}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202b}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202c}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202d}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202e}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{202f}', "NARROW NO-BREAK SPACE"),
    ('\u{2060}', "WORD JOINER"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
    ('\u{3000}', "IDEOGRAPHIC SPACE"),
    ('\u{fe0f}', "VARIATION SELECTOR-16"),
    ('\u{feff}', "ZERO WIDTH NO-BREAK SPACE"),
    ('\u{ff20}', "FULLWIDTH COMMERCIAL AT"),
    ('\u{ff0e}', "FULLWIDTH FULL STOP"),
];

/// What kind of character an unnamed one is, from its Unicode block.
fn kind(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => "a control character",
        '\u{80}'..='\u{24f}' => "a Latin letter with a mark, or a Latin-1 symbol",
        '\u{370}'..='\u{3ff}' => "a Greek character",
        '\u{400}'..='\u{52f}' => "a Cyrillic character",
        '\u{2000}'..='\u{206f}' => "a punctuation or formatting character",
        '\u{ff00}'..='\u{ffef}' => "a fullwidth form",
        _ => return None,
    })
}

/// `c` by code point, with its name or kind when lapse knows it:
/// "U+0430 CYRILLIC SMALL LETTER A", "U+0434 (a Cyrillic character)".
pub(super) fn code_point(c: char) -> String {
    let named = NAMES.iter().find(|(known, _)| *known == c);
    match (named, kind(c)) {
        (Some((_, name)), _) => format!("U+{:04X} {name}", c as u32),
        (None, Some(kind)) => format!("U+{:04X} ({kind})", c as u32),
        (None, None) => format!("U+{:04X}", c as u32),
    }
}

/// The first character in `s` that must not be in free text, with its
/// 1-based place: a control character (tab included) or an invisible one
/// that changes how the text around it reads.
pub(super) fn first_control(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || hygiene::is_unsafe(*c))
        .map(|(i, c)| (i + 1, c))
}

/// A free-text field (`name`, `reason`) holds no control characters: it is
/// shown in reports and terminals, where they could hide or rewrite text.
pub(super) fn free_text(check: &mut Check, key: &str, written: &SpannedString) {
    if let Some((at, c)) = first_control(&written.value) {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                format!(
                    "`{key}` `{}` contains {} at character {at}",
                    quote(&written.value),
                    code_point(c)
                ),
            )
            .help(format!(
                "remove it: `{key}` is shown in reports and terminals, where a control character can hide or rewrite text"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, spanned};
    use super::*;

    #[test]
    fn code_point_table() {
        for (c, said) in [
            ('\u{430}', "U+0430 CYRILLIC SMALL LETTER A"),
            ('\u{200b}', "U+200B ZERO WIDTH SPACE"),
            ('\u{0}', "U+0000 NULL"),
            ('\u{1b}', "U+001B ESCAPE"),
            ('\u{434}', "U+0434 (a Cyrillic character)"),
            (
                '\u{e9}',
                "U+00E9 (a Latin letter with a mark, or a Latin-1 symbol)",
            ),
            ('\u{1}', "U+0001 (a control character)"),
            ('\u{1f600}', "U+1F600"),
        ] {
            assert_eq!(code_point(c), said, "{c:?}");
        }
    }

    #[test]
    fn names_are_listed_once() {
        for (i, (c, _)) in NAMES.iter().enumerate() {
            assert!(!NAMES[i + 1..].iter().any(|(d, _)| d == c), "{c:?}");
        }
    }

    #[test]
    fn first_control_table() {
        for (text, found) in [
            ("Jane Doe", None),
            ("Zoë Ångström", None),
            ("", None),
            ("Jane\u{1b}[2J", Some((5, '\u{1b}'))),
            ("\0", Some((1, '\0'))),
            ("tab\there", Some((4, '\t'))),
            ("new\nline", Some((4, '\n'))),
            ("rtl\u{202e}gpj.exe", Some((4, '\u{202e}'))),
            ("zero\u{200b}width", Some((5, '\u{200b}'))),
            ("c1\u{9b}", Some((3, '\u{9b}'))),
        ] {
            assert_eq!(first_control(text), found, "{text:?}");
        }
    }

    #[test]
    fn free_text_table() {
        let fx = Fixture::new();
        for (written, said) in [
            ("Jane Doe", vec![]),
            ("Zoë", vec![]),
            (
                "Jane\u{1b}[2J",
                vec!["error: `name` `Jane\\u{1b}[2J` contains U+001B ESCAPE at character 5"],
            ),
            (
                "\u{0}",
                vec!["error: `name` `\\u{0}` contains U+0000 NULL at character 1"],
            ),
        ] {
            let mut check = fx.check();
            free_text(&mut check, "name", &spanned(written));
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }
}
