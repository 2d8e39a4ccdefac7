//! `audit:` — where the audit trail is kept durably: a file (`audit.file`,
//! or its older name `audit_log`) and/or S3 (`audit.s3: {bucket, prefix}`).

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::hygiene::quote;

use super::raw::RawAudit;
use super::{Check, SpannedString, pos};

/// Where a run's audit records are kept durably.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSettings {
    pub file: Option<PathBuf>,
    pub s3: Option<S3Location>,
}

impl AuditSettings {
    /// Whether a record would outlive the process's logs.
    pub fn is_durable(&self) -> bool {
        self.file.is_some() || self.s3.is_some()
    }
}

/// An S3 bucket and the key prefix audit objects go under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without slashes at either end; may be empty.
    pub prefix: String,
}

pub(super) fn audit(
    check: &mut Check,
    audit_log: Option<&SpannedString>,
    raw: &RawAudit,
    dir: &Path,
) -> AuditSettings {
    let file = match (audit_log, &raw.file) {
        (Some(old), Some(_)) => {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(old),
                    "both `audit_log` and `audit.file` are set",
                )
                .help("`audit_log` is the older name of `audit.file`: keep one"),
            );
            None
        }
        (Some(path), None) | (None, Some(path)) => Some(dir.join(path.value.trim())),
        (None, None) => None,
    };
    let s3 = raw.s3.as_ref().and_then(|s3| {
        let bucket = s3.bucket.value.trim();
        if let Err(problem) = bucket_name(bucket) {
            check.diags.push(
                Diagnostic::error(
                    check.source,
                    pos(&s3.bucket),
                    format!("`audit.s3.bucket` `{}` {problem}", quote(bucket)),
                )
                .help("an S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens"),
            );
            return None;
        }
        Some(S3Location {
            bucket: bucket.to_string(),
            prefix: s3
                .prefix
                .as_deref()
                .unwrap_or("")
                .trim_matches('/')
                .to_string(),
        })
    });
    AuditSettings { file, s3 }
}

/// S3's bucket naming rules, the part that a typo breaks.
fn bucket_name(name: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&name.len()) {
        return Err("is not 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err("may hold only lower-case letters, digits, dots and hyphens");
    }
    let ends = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !name.starts_with(ends) || !name.ends_with(ends) {
        return Err("must begin and end with a letter or digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_name_table() {
        for (name, ok) in [
            ("lapse-audit", true),
            ("abc", true),
            ("ab", false),
            (&*"a".repeat(63), true),
            (&*"a".repeat(64), false),
            ("Lapse-Audit", false),
            ("lapse_audit", false),
            ("-lapse", false),
            ("lapse.", false),
            ("my.audit.bucket", true),
        ] {
            assert_eq!(bucket_name(name).is_ok(), ok, "{name}");
        }
    }
}
