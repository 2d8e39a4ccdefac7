//! `safety.protected` entries, read once into one type. The planner (which
//! leaves protected grants alone) and the apply gates (which refuse a
//! revocation that names one) both match with it, so the two can never read
//! an entry differently.

use std::borrow::Cow;
use std::fmt;

use crate::hygiene::quote;

/// A principal lapse never revokes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtectedPrincipal {
    /// `github:LOGIN` (the prefix in any case): the login in lower case.
    GithubLogin(String),
    /// An IAM ARN (user, role or account root), in lower case: IAM names
    /// are unique regardless of case, and the rest of an ARN is lower case.
    AwsArn(String),
    /// `sso:USER_NAME` (the prefix in any case): an Identity Store user
    /// name, in lower case.
    SsoUser(String),
}

impl ProtectedPrincipal {
    /// How a login or an AWS principal is compared with an entry: in lower
    /// case, borrowed when it already is. Everything matched against an
    /// entry goes through this, so the planner (which has lower-cased
    /// already) and the gates (which have not) agree.
    pub fn comparable(text: &str) -> Cow<'_, str> {
        if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(text.to_lowercase())
        }
    }

    /// Reads one entry as written; the error is a message and its help.
    pub fn parse(written: &str) -> Result<Self, (String, String)> {
        let text = written.trim();
        if text.is_empty() {
            return Err(empty());
        }
        if text.contains(['*', '?']) {
            return Err((
                format!(
                    "protected principal `{}` is a wildcard; lapse protects named principals only",
                    quote(text)
                ),
                "list each principal to keep: github:LOGIN, or an IAM ARN".into(),
            ));
        }
        match text.split_once(':') {
            Some((prefix, login)) if prefix.eq_ignore_ascii_case("github") => github_login(login),
            Some((prefix, name)) if prefix.eq_ignore_ascii_case("sso") => sso_user(name),
            Some((prefix, _)) if prefix.eq_ignore_ascii_case("arn") => iam_arn(text),
            _ => Err(unprefixed(text)),
        }
    }

    /// Whether this entry protects `login` (in any case).
    pub fn protects_login(&self, login: &str) -> bool {
        matches!(self, ProtectedPrincipal::GithubLogin(l) if *l == Self::comparable(login))
    }

    /// Whether this entry protects an Identity Store user name (in any case).
    pub fn protects_sso_user(&self, user_name: &str) -> bool {
        matches!(self, ProtectedPrincipal::SsoUser(u) if *u == Self::comparable(user_name))
    }

    /// Whether this entry protects `principal`, as a trust policy names it (in any case).
    pub fn protects_aws(&self, principal: &str) -> bool {
        matches!(self, ProtectedPrincipal::AwsArn(a) if *a == Self::comparable(principal))
    }
}

impl fmt::Display for ProtectedPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtectedPrincipal::GithubLogin(login) => write!(f, "github:{login}"),
            ProtectedPrincipal::AwsArn(arn) => f.write_str(arn),
            ProtectedPrincipal::SsoUser(name) => write!(f, "sso:{name}"),
        }
    }
}

fn empty() -> (String, String) {
    (
        "an empty protected principal protects nobody".into(),
        "write github:LOGIN, or an IAM ARN".into(),
    )
}

/// GitHub's login grammar: 1–39 letters, digits or single hyphens, with no
/// hyphen at either end.
pub(super) fn is_github_login(s: &str) -> bool {
    (1..=39).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn github_login(login: &str) -> Result<ProtectedPrincipal, (String, String)> {
    let login = login.trim();
    if login.is_empty() {
        return Err(empty());
    }
    if !is_github_login(login) {
        return Err((
            format!("`{}` is not a GitHub login", quote(login)),
            "a login is 1–39 letters, digits or single hyphens, with no hyphen at either end"
                .into(),
        ));
    }
    Ok(ProtectedPrincipal::GithubLogin(login.to_ascii_lowercase()))
}

/// An Identity Store user name: 1 to 128 characters, no whitespace or
/// control characters.
fn sso_user(name: &str) -> Result<ProtectedPrincipal, (String, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(empty());
    }
    if name.chars().count() > 128 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err((
            format!("`{}` is not an Identity Store user name", quote(name)),
            "write sso:USER_NAME, as Identity Center shows the user name".into(),
        ));
    }
    Ok(ProtectedPrincipal::SsoUser(name.to_lowercase()))
}

/// `arn:PARTITION:iam::ACCOUNT:root`, `…:user/[PATH/]NAME` or `…:role/[PATH/]NAME`.
fn iam_arn(text: &str) -> Result<ProtectedPrincipal, (String, String)> {
    let lower = text.to_ascii_lowercase();
    let parts: Vec<&str> = lower.splitn(6, ':').collect();
    let well_formed = match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            is_partition(partition) && is_account_id(account) && is_principal_resource(resource)
        }
        _ => false,
    };
    if !well_formed || !text.is_ascii() {
        return Err((
            format!(
                "protected principal `{}` is not an IAM user, role or account root ARN",
                quote(text)
            ),
            "e.g. arn:aws:iam::111111111111:user/break-glass, or arn:aws:iam::111111111111:root"
                .into(),
        ));
    }
    Ok(ProtectedPrincipal::AwsArn(lower))
}

fn is_partition(p: &str) -> bool {
    p == "aws"
        || p.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `root`, or `user/`/`role/` then a path and a name of IAM's characters.
fn is_principal_resource(resource: &str) -> bool {
    if resource == "root" {
        return true;
    }
    let Some(rest) = resource
        .strip_prefix("user/")
        .or_else(|| resource.strip_prefix("role/"))
    else {
        return false;
    };
    let iam_char = |b: u8| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b);
    !rest.is_empty()
        && !rest.ends_with('/')
        && rest.split('/').all(|segment| !segment.is_empty())
        && rest.bytes().all(|b| b == b'/' || iam_char(b))
}

/// An entry that says neither what it is nor where: the help guesses which was meant.
fn unprefixed(text: &str) -> (String, String) {
    let help = if is_account_id(text) {
        format!("to protect the account root, write arn:aws:iam::{text}:root")
    } else if is_github_login(text) {
        format!("for a GitHub login, write github:{text}; for AWS, the principal's IAM ARN")
    } else {
        "write github:LOGIN, or an IAM ARN such as arn:aws:iam::111111111111:user/break-glass"
            .into()
    };
    (
        format!(
            "protected principal `{}` is neither github:LOGIN nor an IAM ARN",
            quote(text)
        ),
        help,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(l: &str) -> Result<ProtectedPrincipal, String> {
        Ok(ProtectedPrincipal::GithubLogin(l.into()))
    }

    fn arn(a: &str) -> Result<ProtectedPrincipal, String> {
        Ok(ProtectedPrincipal::AwsArn(a.into()))
    }

    fn refused(msg: &str) -> Result<ProtectedPrincipal, String> {
        Err(msg.into())
    }

    #[test]
    fn parse_table() {
        let not_arn = |t: &str| {
            refused(&format!(
                "protected principal `{t}` is not an IAM user, role or account root ARN"
            ))
        };
        let neither = |t: &str| {
            refused(&format!(
                "protected principal `{t}` is neither github:LOGIN nor an IAM ARN"
            ))
        };
        let wildcard = |t: &str| {
            refused(&format!(
                "protected principal `{t}` is a wildcard; lapse protects named principals only"
            ))
        };
        let empty = refused("an empty protected principal protects nobody");
        for (text, read) in [
            ("github:ci-bot", login("ci-bot")),
            ("GitHub:CI-Bot", login("ci-bot")),
            (
                "SSO:Break.Glass@Example.org",
                Ok(ProtectedPrincipal::SsoUser(
                    "break.glass@example.org".into(),
                )),
            ),
            (
                "sso:two words",
                refused("`two words` is not an Identity Store user name"),
            ),
            (" GITHUB: x ", login("x")),
            (
                &format!("github:{}", "a".repeat(39)),
                login(&"a".repeat(39)),
            ),
            (
                "arn:aws:iam::111111111111:user/Break-Glass",
                arn("arn:aws:iam::111111111111:user/break-glass"),
            ),
            (
                "arn:aws:iam::111111111111:user/ops/break-glass",
                arn("arn:aws:iam::111111111111:user/ops/break-glass"),
            ),
            (
                "arn:aws:iam::210987654321:role/ci",
                arn("arn:aws:iam::210987654321:role/ci"),
            ),
            (
                "arn:aws:iam::123456789012:root",
                arn("arn:aws:iam::123456789012:root"),
            ),
            (
                "arn:aws-us-gov:iam::123456789012:root",
                arn("arn:aws-us-gov:iam::123456789012:root"),
            ),
            ("", empty.clone()),
            ("github:", empty.clone()),
            (" github:  ", empty),
            ("*", wildcard("*")),
            ("github:*", wildcard("github:*")),
            (
                "arn:aws:iam::111111111111:user/*",
                wildcard("arn:aws:iam::111111111111:user/*"),
            ),
            ("ci-bot", neither("ci-bot")),
            ("123456789012", neither("123456789012")),
            ("gh:ci-bot", neither("gh:ci-bot")),
            ("github:ci_bot", refused("`ci_bot` is not a GitHub login")),
            ("github:-bot", refused("`-bot` is not a GitHub login")),
            ("github:ci--bot", refused("`ci--bot` is not a GitHub login")),
            (
                &format!("github:{}", "a".repeat(40)),
                refused(&format!("`{}` is not a GitHub login", "a".repeat(40))),
            ),
            (
                "arn:aws:iam::11111111111:user/x",
                not_arn("arn:aws:iam::11111111111:user/x"),
            ),
            ("arn:aws:s3:::bucket", not_arn("arn:aws:s3:::bucket")),
            (
                "arn:aws:iam::111111111111:group/admins",
                not_arn("arn:aws:iam::111111111111:group/admins"),
            ),
            (
                "arn:aws:iam::111111111111:user/",
                not_arn("arn:aws:iam::111111111111:user/"),
            ),
            (
                "arn:aws:sts::111111111111:assumed-role/ci/s",
                not_arn("arn:aws:sts::111111111111:assumed-role/ci/s"),
            ),
        ] {
            assert_eq!(
                ProtectedPrincipal::parse(text).map_err(|(msg, _)| msg),
                read,
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_unprefixed_entry_is_told_what_was_probably_meant() {
        for (text, help) in [
            (
                "ci-bot",
                "for a GitHub login, write github:ci-bot; for AWS, the principal's IAM ARN",
            ),
            (
                "123456789012",
                "to protect the account root, write arn:aws:iam::123456789012:root",
            ),
        ] {
            assert_eq!(ProtectedPrincipal::parse(text).unwrap_err().1, help);
        }
    }

    #[test]
    fn matching_ignores_case_and_system() {
        let bot = ProtectedPrincipal::parse("GitHub:CI-Bot").unwrap();
        assert!(bot.protects_login("ci-bot") && bot.protects_login("CI-BOT"));
        assert!(!bot.protects_aws("ci-bot") && !bot.protects_login("ci-bot2"));
        let glass =
            ProtectedPrincipal::parse("arn:aws:iam::111111111111:user/break-glass").unwrap();
        assert!(glass.protects_aws("arn:aws:iam::111111111111:user/Break-Glass"));
        assert!(!glass.protects_login("break-glass"));
        assert_eq!(bot.to_string(), "github:ci-bot");
    }
}
