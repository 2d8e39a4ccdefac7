//! `github:`: the organisation, the API lapse talks to, and one way to
//! authenticate. Diagnostics point at the value they are about, or at `org`
//! for the section as a whole.

use std::path::Path;

use crate::diag::Diagnostic;

use super::env_names::env_name;
use super::urls::endpoint_url;
use super::{Check, GithubAuth, GithubConfig, RawGithub, SpannedString, pos};

/// The section, checked field by field.
pub(super) fn github(check: &mut Check, g: &RawGithub, dir: &Path) -> GithubConfig {
    let org = org(check, &g.org);
    endpoint_url(check, "github.api_url", &g.api_url);
    let auth = auth(check, g, dir);
    GithubConfig {
        org,
        api_url: g.api_url.value.trim().trim_end_matches('/').to_string(),
        auth,
        concurrency: g.concurrency.unwrap_or(8).clamp(1, 64),
    }
}

/// The organisation name, trimmed and in lower case.
fn org(check: &mut Check, written: &SpannedString) -> String {
    let org = written.value.trim().to_ascii_lowercase();
    if org.is_empty()
        || !org
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        check.diags.push(Diagnostic::error(
            check.source,
            pos(written),
            format!("`{}` is not a GitHub organisation name", written.value),
        ));
    }
    org
}

/// A token from `token_env` (`GITHUB_TOKEN` unless named), or an App: not both.
fn auth(check: &mut Check, g: &RawGithub, dir: &Path) -> GithubAuth {
    match (&g.app, &g.token_env) {
        (Some(_), Some(_)) => {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(&g.org),
                    "github: both `token_env` and `app` are set",
                )
                .help("choose one way to authenticate"),
            );
            GithubAuth::Token { env: String::new() }
        }
        (Some(app), None) => GithubAuth::App {
            id: app.id,
            installation_id: app.installation_id,
            private_key_path: dir.join(&app.private_key_path),
        },
        (None, Some(env)) => GithubAuth::Token {
            env: env_name(check, "github.token_env", env),
        },
        (None, None) => GithubAuth::Token {
            env: "GITHUB_TOKEN".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::tests::{check, said, section, source};
    use super::*;

    #[test]
    fn org_table() {
        for (yaml, kept, told) in [
            ("org: alphagov", "alphagov", vec![]),
            ("org: ' Acme_Corp-2 '", "acme_corp-2", vec![]),
            (
                "org: ''",
                "",
                vec!["error: `` is not a GitHub organisation name"],
            ),
            (
                "org: acme/ops",
                "acme/ops",
                vec!["error: `acme/ops` is not a GitHub organisation name"],
            ),
            (
                "org: acme.gov",
                "acme.gov",
                vec!["error: `acme.gov` is not a GitHub organisation name"],
            ),
        ] {
            let source = source(yaml);
            let g: RawGithub = section(&source);
            let mut run = check(&source);
            let got = org(&mut run, &g.org);
            assert_eq!(got.as_str(), kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn api_url_table() {
        for (yaml, kept, told) in [
            ("org: acme", "https://api.github.com", vec![]),
            (
                "{org: acme, api_url: 'https://ghe.example/api/v3/'}",
                "https://ghe.example/api/v3",
                vec![],
            ),
            (
                "{org: acme, api_url: 'http://127.0.0.1:8080'}",
                "http://127.0.0.1:8080",
                vec![],
            ),
            (
                "{org: acme, api_url: 'ftp://ghe.example'}",
                "ftp://ghe.example",
                vec!["error: github.api_url `ftp://ghe.example/` is not an https URL"],
            ),
            (
                "{org: acme, api_url: 'http://ghe.example'}",
                "http://ghe.example",
                vec![
                    "error: github.api_url `http://ghe.example/` sends requests unencrypted to another machine",
                ],
            ),
            (
                "{org: acme, api_url: 'ghe.example'}",
                "ghe.example",
                vec![
                    "error: github.api_url `ghe.example` is not a URL (relative URL without a base)",
                ],
            ),
        ] {
            let source = source(yaml);
            let g: RawGithub = section(&source);
            let mut run = check(&source);
            let got = github(&mut run, &g, Path::new(""));
            assert_eq!(got.api_url.as_str(), kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn auth_table() {
        let token = |env: &str| GithubAuth::Token { env: env.into() };
        let app = GithubAuth::App {
            id: 1,
            installation_id: 2,
            private_key_path: PathBuf::from("/etc/lapse/app.pem"),
        };
        for (yaml, kept, told) in [
            ("org: acme", token("GITHUB_TOKEN"), vec![]),
            (
                "{org: acme, token_env: LAPSE_TOKEN}",
                token("LAPSE_TOKEN"),
                vec![],
            ),
            (
                "{org: acme, app: {id: 1, installation_id: 2, private_key_path: app.pem}}",
                app,
                vec![],
            ),
            (
                "{org: acme, token_env: T, app: {id: 1, installation_id: 2, private_key_path: app.pem}}",
                token(""),
                vec!["error: github: both `token_env` and `app` are set"],
            ),
            (
                "{org: acme, token_env: 'not a name'}",
                token("not a name"),
                vec![
                    "error: `github.token_env` must name an environment variable, not hold a value",
                ],
            ),
        ] {
            let source = source(yaml);
            let g: RawGithub = section(&source);
            let mut run = check(&source);
            let got = auth(&mut run, &g, Path::new("/etc/lapse"));
            assert_eq!(got, kept, "{yaml}");
            assert_eq!(said(run), told, "{yaml}");
        }
    }

    #[test]
    fn concurrency_is_kept_within_bounds() {
        for (yaml, kept) in [
            ("org: acme", 8),
            ("{org: acme, concurrency: 0}", 1),
            ("{org: acme, concurrency: 64}", 64),
            ("{org: acme, concurrency: 65}", 64),
        ] {
            let source = source(yaml);
            let g: RawGithub = section(&source);
            assert_eq!(
                github(&mut check(&source), &g, Path::new("")).concurrency,
                kept,
                "{yaml}"
            );
        }
    }
}
