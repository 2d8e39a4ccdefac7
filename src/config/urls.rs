//! URLs lapse sends requests (and credentials) to: `https`, or plain `http`
//! only to this machine, where a test server or an emulator listens.

use url::{Host, Url};

use crate::diag::Diagnostic;
use crate::hygiene::quote;

use super::{Check, SpannedString, pos};

/// The URL at `key` (e.g. `github.api_url`), reported where it is written
/// when lapse should not send requests to it.
pub(super) fn endpoint_url(check: &mut Check, key: &str, written: &SpannedString) {
    if let Err((msg, help)) = check_url(key, written.value.trim()) {
        check
            .diags
            .push(Diagnostic::error(check.source, pos(written), msg).help(help));
    }
}

/// Why `text` is refused, as a message and its help.
fn check_url(key: &str, text: &str) -> Result<(), (String, String)> {
    const HELP: &str =
        "use https, or http only to 127.0.0.1, ::1 or localhost (a local test server or emulator)";
    let url = Url::parse(text).map_err(|e| {
        (
            format!("{key} `{}` is not a URL ({e})", quote(text)),
            "write the full URL, e.g. https://api.github.com".to_string(),
        )
    })?;
    let shown = shown(&url);
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if url.host().is_some_and(|h| is_loopback(&h)) => Ok(()),
        "http" => Err((
            format!("{key} `{shown}` sends requests unencrypted to another machine"),
            HELP.into(),
        )),
        _ => Err((format!("{key} `{shown}` is not an https URL"), HELP.into())),
    }
}

/// This machine: 127.0.0.0/8, ::1 or `localhost`.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

/// The URL as a diagnostic quotes it: without a password, should one be in it.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    quote(url.as_str())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, said, source, spanned};
    use super::*;

    #[test]
    fn check_url_table() {
        let plain = |u: &str| {
            Err(format!(
                "github.api_url `{u}` sends requests unencrypted to another machine"
            ))
        };
        let not_https = |u: &str| Err(format!("github.api_url `{u}` is not an https URL"));
        for (text, verdict) in [
            ("https://api.github.com", Ok(())),
            ("https://ghe.example/api/v3/", Ok(())),
            ("https://10.0.0.5:8443", Ok(())),
            ("http://127.0.0.1:8080", Ok(())),
            ("http://127.255.255.254", Ok(())),
            ("http://[::1]:9091", Ok(())),
            ("http://localhost:4566", Ok(())),
            ("http://LocalHost", Ok(())),
            ("http://api.github.com", plain("http://api.github.com/")),
            ("http://128.0.0.1", plain("http://128.0.0.1/")),
            ("http://10.0.0.5:8080", plain("http://10.0.0.5:8080/")),
            (
                "http://localhost.example.com",
                plain("http://localhost.example.com/"),
            ),
            (
                "http://[::ffff:127.0.0.1]",
                plain("http://[::ffff:7f00:1]/"),
            ),
            (
                "http://user:pw@pgw.example:9091",
                plain("http://user@pgw.example:9091/"),
            ),
            ("ftp://ghe.example", not_https("ftp://ghe.example/")),
            ("file:///etc/passwd", not_https("file:///etc/passwd")),
            (
                "ghe.example",
                Err(
                    "github.api_url `ghe.example` is not a URL (relative URL without a base)"
                        .into(),
                ),
            ),
        ] {
            assert_eq!(
                check_url("github.api_url", text).map_err(|(msg, _)| msg),
                verdict,
                "{text}"
            );
        }
    }

    #[test]
    fn a_refused_url_is_reported_where_it_is_written() {
        let source = source("");
        let mut run = check(&source);
        endpoint_url(
            &mut run,
            "aws.endpoint_url",
            &spanned("http://moto.internal:5000"),
        );
        assert_eq!(
            said(run),
            vec![
                "error: aws.endpoint_url `http://moto.internal:5000/` sends requests unencrypted to another machine"
            ]
        );
    }
}
