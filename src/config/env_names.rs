//! `*_env` fields name the environment variables that hold secrets. A value
//! pasted there by mistake is very likely the secret itself, so the
//! diagnostic names the key and the position, never the value, and quotes
//! no line.

use crate::diag::Diagnostic;

use super::{Check, SpannedString, pos};

/// GitHub token prefixes: each makes a string that is a valid variable
/// name, yet a token. (The redaction layer masks the same shapes in output.)
const TOKEN_PREFIXES: [&str; 6] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"];

/// `[A-Za-z_][A-Za-z0-9_]*`, as POSIX shells write a variable's name.
fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn looks_like_token(s: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|p| s.starts_with(p))
}

/// The variable named at `key` (e.g. `github.token_env`), reported without
/// its value when it cannot be a variable's name.
pub(super) fn env_name(check: &mut Check, key: &str, written: &SpannedString) -> String {
    let name = written.value.trim();
    if !is_env_name(name) || looks_like_token(name) {
        let mut diag = Diagnostic::error(
            check.source,
            pos(written),
            format!("`{key}` must name an environment variable, not hold a value"),
        )
        .help(
            "write the variable's name (letters, digits and `_`, e.g. GITHUB_TOKEN) and put the secret in that variable; if a secret was written here, rotate it",
        );
        // The line would show the value.
        diag.line_text = None;
        check.diags.push(diag);
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source, spanned};
    use super::*;

    #[test]
    fn is_env_name_table() {
        for (text, ok) in [
            ("GITHUB_TOKEN", true),
            ("_X", true),
            ("a", true),
            ("LAPSE_TOKEN_2", true),
            ("", false),
            ("2FA", false),
            ("MY-TOKEN", false),
            ("MY TOKEN", false),
            ("$GITHUB_TOKEN", false),
            ("https://hooks.slack.com/services/T0/B0/x", false),
        ] {
            assert_eq!(is_env_name(text), ok, "{text:?}");
        }
    }

    #[test]
    fn env_name_table() {
        const TOLD: &str =
            "error: `github.token_env` must name an environment variable, not hold a value";
        let classic = format!("ghp_{}", "a1B2".repeat(9));
        for (written, kept, told) in [
            ("GITHUB_TOKEN", "GITHUB_TOKEN", vec![]),
            (" LAPSE_TOKEN ", "LAPSE_TOKEN", vec![]),
            ("s3cr3t-v4lue/x+y=", "s3cr3t-v4lue/x+y=", vec![TOLD]),
            (&classic, &classic, vec![TOLD]),
            (
                "github_pat_11AAAA_bbbb",
                "github_pat_11AAAA_bbbb",
                vec![TOLD],
            ),
            ("", "", vec![TOLD]),
        ] {
            let source = source(&format!("github: {{token_env: {written:?}}}\n"));
            let mut run = check(&source);
            let got = env_name(&mut run, "github.token_env", &spanned(written));
            assert_eq!(got, kept, "{written:?}");
            assert_eq!(said(run), told, "{written:?}");
        }
    }

    #[test]
    fn the_value_is_never_shown() {
        let secret = "hunter2-is-my-password";
        let source = source(&format!("github:\n  token_env: {secret}\n"));
        let mut run = check(&source);
        env_name(&mut run, "alerts.webhook_url_env", &spanned(secret));
        let shown = run.diags.to_string();
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("`alerts.webhook_url_env`"), "{shown}");
    }
}
