//! `roster:`: a path relative to the config, or a file in a GitHub
//! repository, which then needs the `github` section to reach it.

use std::path::Path;

use crate::diag::Diagnostic;

use super::{Check, RosterSource, SpannedString, pos};

/// Where the roster comes from; reported when `written` names nowhere
/// lapse can read.
pub(super) fn roster(
    check: &mut Check,
    written: &SpannedString,
    dir: &Path,
    has_github: bool,
) -> Option<RosterSource> {
    let roster = match parse_roster_source(&written.value, dir) {
        Ok(r) => Some(r),
        Err(msg) => {
            check.diags.push(
                Diagnostic::error(check.source, pos(written), msg)
                    .help("write a path relative to this file, or github:OWNER/REPO/PATH[@REF]"),
            );
            None
        }
    };
    if matches!(roster, Some(RosterSource::Github { .. })) && !has_github {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(written),
                "the roster is read from GitHub, but this config has no `github` section",
            )
            .help("add a `github` section with `org` and credentials (`token_env` or `app`), or point `roster` at a file"),
        );
    }
    roster
}

fn parse_roster_source(text: &str, dir: &Path) -> Result<RosterSource, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("`roster` is empty".into());
    }
    if let Some(rest) = text.strip_prefix("github:") {
        let (spec, reference) = match rest.rsplit_once('@') {
            Some((s, r)) if !r.is_empty() => (s, Some(r.to_string())),
            _ => (rest, None),
        };
        let mut parts = spec.splitn(3, '/');
        let (Some(owner), Some(repo), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("`{text}` is not github:OWNER/REPO/PATH[@REF]"));
        };
        if owner.is_empty() || repo.is_empty() || path.is_empty() {
            return Err(format!("`{text}` is not github:OWNER/REPO/PATH[@REF]"));
        }
        return Ok(RosterSource::Github {
            owner: owner.into(),
            repo: repo.into(),
            path: path.into(),
            reference,
        });
    }
    Ok(RosterSource::File(dir.join(text)))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::tests::{check, said, source, spanned};
    use super::*;

    fn github(owner: &str, repo: &str, path: &str, reference: Option<&str>) -> RosterSource {
        RosterSource::Github {
            owner: owner.into(),
            repo: repo.into(),
            path: path.into(),
            reference: reference.map(Into::into),
        }
    }

    #[test]
    fn parse_roster_source_table() {
        let dir = Path::new("/etc/lapse");
        let not_github = |text: &str| Err(format!("`{text}` is not github:OWNER/REPO/PATH[@REF]"));
        for (text, parsed) in [
            (
                " users.yaml ",
                Ok(RosterSource::File(PathBuf::from("/etc/lapse/users.yaml"))),
            ),
            ("", Err("`roster` is empty".to_string())),
            ("  ", Err("`roster` is empty".to_string())),
            (
                "github:acme/access/users.yaml",
                Ok(github("acme", "access", "users.yaml", None)),
            ),
            (
                "github:acme/access/people/users.yaml@main",
                Ok(github("acme", "access", "people/users.yaml", Some("main"))),
            ),
            // A trailing `@` names no reference, so it stays part of the path.
            (
                "github:acme/access/users.yaml@",
                Ok(github("acme", "access", "users.yaml@", None)),
            ),
            ("github:acme/access", not_github("github:acme/access")),
            (
                "github:acme//users.yaml",
                not_github("github:acme//users.yaml"),
            ),
            ("github:acme/access/", not_github("github:acme/access/")),
        ] {
            assert_eq!(parse_roster_source(text, dir), parsed, "{text:?}");
        }
    }

    #[test]
    fn roster_table() {
        let dir = Path::new("");
        for (written, has_github, found, told) in [
            ("users.yaml", false, true, vec![]),
            ("github:acme/access/users.yaml", true, true, vec![]),
            (
                "github:acme/access/users.yaml",
                false,
                true,
                vec![
                    "error: the roster is read from GitHub, but this config has no `github` section",
                ],
            ),
            (
                "github:acme",
                true,
                false,
                vec!["error: `github:acme` is not github:OWNER/REPO/PATH[@REF]"],
            ),
            ("", false, false, vec!["error: `roster` is empty"]),
        ] {
            let source = source("");
            let mut run = check(&source);
            let got = roster(&mut run, &spanned(written), dir, has_github);
            assert_eq!(got.is_some(), found, "{written:?} {has_github}");
            assert_eq!(said(run), told, "{written:?} {has_github}");
        }
    }
}
