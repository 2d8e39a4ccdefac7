//! Secrets never echo. Every output lapse writes (reports, logs,
//! diagnostics) passes through [`text`], which masks two things:
//!
//! - the values of the secrets this process can see: the standard
//!   credential variables, the variables a config names in `*_env`, and a
//!   GitHub App's private key, registered as they become known;
//! - anything shaped like a token, wherever it came from: GitHub token
//!   prefixes, Slack webhook URLs, PEM private keys. A config whose
//!   `roster:` points at a `.env` file must not print `GITHUB_TOKEN=ghp_…`
//!   in the diagnostic that quotes it.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a masked secret reads as.
pub const MASK: &str = "[redacted]";

/// Variables that hold a secret whatever the config says.
const STANDARD_SECRETS: [&str; 3] = ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// Shorter values are not masked by value: they would mask ordinary words.
/// Token-shaped strings are masked by shape whatever their length.
const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers the standard credential variables' values (at start).
pub fn register_standard_env() {
    for name in STANDARD_SECRETS {
        register_env(name);
    }
}

/// Registers the value of the variable `name`, if it is set.
pub fn register_env(name: &str) {
    if let Ok(value) = std::env::var(name) {
        register(&value);
    }
}

/// Registers one secret value (and each of its lines, for a key file).
pub fn register(value: &str) {
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    let candidates = std::iter::once(value.trim()).chain(value.lines().map(str::trim));
    for candidate in candidates {
        if candidate.len() >= MIN_SECRET_LEN && !secrets.iter().any(|s| s == candidate) {
            secrets.push(candidate.to_string());
        }
    }
    // Longest first, so a value that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `input` with every secret masked; borrowed when there is none.
pub fn text(input: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(input);
    {
        let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
    }
    match mask_shapes(&out) {
        Some(masked) => Cow::Owned(masked),
        None => out,
    }
}

/// GitHub's token prefixes (classic, OAuth, user-to-server, server-to-server,
/// refresh, fine-grained).
const TOKEN_PREFIXES: [&str; 6] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"];
const SLACK_HOOK: &str = "https://hooks.slack.com/";
const PEM_BEGIN: &str = "-----BEGIN ";
const PEM_END: &str = "-----END ";

/// Masks token-shaped strings; `None` when there are none.
fn mask_shapes(input: &str) -> Option<String> {
    let first = find_shape(input, 0)?;
    let mut out = String::with_capacity(input.len());
    let mut at = 0;
    let mut next = Some(first);
    while let Some((start, end)) = next {
        out.push_str(&input[at..start]);
        out.push_str(MASK);
        at = end;
        next = find_shape(input, at);
    }
    out.push_str(&input[at..]);
    Some(out)
}

/// The next token-shaped span at or after `from`, as byte offsets.
fn find_shape(input: &str, from: usize) -> Option<(usize, usize)> {
    let rest = &input[from..];
    let mut best: Option<(usize, usize)> = None;
    let mut consider = |span: Option<(usize, usize)>| {
        if let Some((s, e)) = span
            && best.is_none_or(|(b, _)| s < b)
        {
            best = Some((s, e));
        }
    };
    for prefix in TOKEN_PREFIXES {
        consider(find_token(rest, prefix));
    }
    consider(rest.find(SLACK_HOOK).map(|s| {
        let len = rest[s..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(rest.len() - s);
        (s, s + len)
    }));
    consider(find_pem(rest));
    best.map(|(s, e)| (from + s, from + e))
}

/// A GitHub token: the prefix at a word start, then at least 20 token characters.
fn find_token(rest: &str, prefix: &str) -> Option<(usize, usize)> {
    let mut search = 0;
    while let Some(found) = rest[search..].find(prefix) {
        let start = search + found;
        let body_start = start + prefix.len();
        let body = rest[body_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - body_start);
        let at_word_start = rest[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if at_word_start && body >= 20 {
            return Some((start, body_start + body));
        }
        search = body_start;
    }
    None
}

/// A PEM block naming a private key, through its END line (or the end of the text).
fn find_pem(rest: &str) -> Option<(usize, usize)> {
    let mut search = 0;
    while let Some(found) = rest[search..].find(PEM_BEGIN) {
        let start = search + found;
        let line_end = rest[start..].find('\n').map_or(rest.len(), |i| start + i);
        if rest[start..line_end].contains("PRIVATE KEY") {
            let end = rest[line_end..]
                .find(PEM_END)
                .map(|i| line_end + i)
                .map(|e| {
                    let tail = rest[e + PEM_END.len()..].find("-----").map_or(0, |t| t + 5);
                    e + PEM_END.len() + tail
                })
                .unwrap_or(rest.len());
            return Some((start, end));
        }
        search = line_end;
    }
    None
}

/// A writer that masks secrets in what passes through it, for the log
/// stream: each log event reaches it in one write.
pub struct Writer<W>(pub W);

impl<W: std::io::Write> std::io::Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let shown = String::from_utf8_lossy(buf);
        self.0.write_all(text(&shown).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes_are_masked_wherever_they_stand() {
        let classic = format!("ghp_{}", "a1B2".repeat(9));
        let cases = [
            (
                format!("GITHUB_TOKEN={classic}"),
                "GITHUB_TOKEN=[redacted]".to_string(),
            ),
            (format!("x {classic} y"), "x [redacted] y".to_string()),
            (
                format!("github_pat_{}", "Z_9".repeat(20)),
                "[redacted]".to_string(),
            ),
            // Too short to be a token, or inside a word: left as written.
            ("ghp_short".to_string(), "ghp_short".to_string()),
            (
                format!("aghp_{}", "a".repeat(30)),
                format!("aghp_{}", "a".repeat(30)),
            ),
            (
                "SLACK=https://hooks.slack.com/services/T0/B0/xyz rest".to_string(),
                "SLACK=[redacted] rest".to_string(),
            ),
            (
                "k: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- done"
                    .to_string(),
                "k: [redacted] done".to_string(),
            ),
            (
                "-----BEGIN CERTIFICATE-----".to_string(),
                "-----BEGIN CERTIFICATE-----".to_string(),
            ),
            ("plain words".to_string(), "plain words".to_string()),
        ];
        for (input, want) in cases {
            assert_eq!(text(&input), want, "{input:?}");
        }
    }

    #[test]
    fn registered_values_are_masked_and_short_ones_are_not() {
        register("s3cr3t-value-one");
        register("abc");
        assert_eq!(text("token=s3cr3t-value-one;"), "token=[redacted];");
        assert_eq!(text("abc stays"), "abc stays");
    }

    #[test]
    fn the_log_writer_masks_each_write() {
        let mut out = Vec::new();
        let token = format!("ghs_{}", "x".repeat(36));
        std::io::Write::write_all(&mut Writer(&mut out), format!("auth {token}\n").as_bytes())
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "auth [redacted]\n");
    }
}
