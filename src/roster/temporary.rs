//! Temporary, supervised grants: a level the person may hold temporarily,
//! approved and supervised by someone else, ending within policy. Whether
//! the supervisor can supervise needs the whole roster: see `supervision`.

use chrono::{DateTime, Utc};
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Pos};
use crate::hygiene::quote;
use crate::when;

use super::identity::{check_address, trimmed, who};
use super::levels::{known, lacking};
use super::reachable::check_reachable;
use super::supervision::Supervised;
use super::text::free_text;
use super::{Check, Grantee, RawTemporary, SpannedString, TemporaryGrant, dates, pos};

/// The grants that hold together; the rest are reported. Each one kept is
/// noted for the supervision pass, with where its supervisor is named.
pub(super) fn grants(
    check: &mut Check,
    raw: &[Spanned<RawTemporary>],
    grantee: &Grantee,
) -> Vec<TemporaryGrant> {
    let mut temporary = Vec::new();
    for t in raw {
        if let Some(grant) = grant(check, t, grantee) {
            if let Some(supervisor) = &t.value.supervised_by {
                check.supervised.push(Supervised {
                    grantee: grantee.index,
                    grant: temporary.len(),
                    at: pos(supervisor),
                });
            }
            temporary.push(grant);
        }
    }
    temporary
}

/// One grant, every field checked (in this order) before any is given up on.
fn grant(
    check: &mut Check,
    raw: &Spanned<RawTemporary>,
    grantee: &Grantee,
) -> Option<TemporaryGrant> {
    let at = Pos::from_location(&raw.referenced);
    let g = &raw.value;
    let level_name = level(check, g.access.as_ref(), at, grantee);
    let approved_by = someone_else(check, g.approved_by.as_ref(), "approved_by", at, grantee);
    if let (Some(approver), Some(written)) = (&approved_by, &g.approved_by) {
        listed_approver(check, approver, pos(written));
    }
    let supervised_by = someone_else(
        check,
        g.supervised_by.as_ref(),
        "supervised_by",
        at,
        grantee,
    );
    let expires_at = expiry(check, g.expires.as_ref(), at, level_name.as_deref());
    if let Some(reason) = &g.reason {
        free_text(check, "reason", reason);
    }
    let (Some(level), Some(expires_at), Some(approved_by), Some(supervised_by)) =
        (level_name, expires_at, approved_by, supervised_by)
    else {
        return None;
    };
    Some(TemporaryGrant {
        level,
        expires_at,
        approved_by,
        supervised_by,
        reason: g.reason.as_ref().map(|r| r.value.clone()),
    })
}

/// The level granted (trimmed): one the config defines, whose
/// `temporary_requires` the person has shown.
fn level(
    check: &mut Check,
    access: Option<&SpannedString>,
    grant: Pos,
    grantee: &Grantee,
) -> Option<String> {
    let Some(a) = access else {
        check.diags.push(
            Diagnostic::error(check.source, grant, "this temporary grant has no `access`")
                .help("name the level it grants"),
        );
        return None;
    };
    let name = a.value.trim();
    let level = known(check, name, pos(a))?;
    let lacking = lacking(&level.temporary_requires, grantee.attestations);
    if !lacking.is_empty() {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(a),
                format!(
                    "{} holds `{name}` temporarily without: {}",
                    grantee.who,
                    lacking.join(", ")
                ),
            )
            .help("temporary access still needs the level's `temporary_requires` attestations"),
        );
    }
    check_reachable(check, name, level, pos(a), grantee);
    Some(name.to_string())
}

/// `approved_by` or `supervised_by` (the `key`): the email (trimmed) of
/// someone other than the grantee, written as plainly as any email.
fn someone_else(
    check: &mut Check,
    field: Option<&SpannedString>,
    key: &str,
    grant: Pos,
    grantee: &Grantee,
) -> Option<String> {
    let Some(v) = field else {
        check.diags.push(
            Diagnostic::error(
                check.source,
                grant,
                format!("this temporary grant has no `{key}`"),
            )
            .help("temporary access needs who approved it and who supervises it"),
        );
        return None;
    };
    let v_email = trimmed(&v.value);
    if !check_address(check, key, v_email, pos(v)) {
        return None;
    }
    if !grantee.email.is_empty() && v_email.eq_ignore_ascii_case(grantee.email) {
        check.diags.push(
            Diagnostic::error(
                check.source,
                pos(v),
                format!("{} cannot be their own `{key}`", grantee.who),
            )
            .help("temporary access is approved and supervised by someone else"),
        );
    }
    Some(v_email.to_string())
}

/// With `policy.approvers` set, only those people may approve temporary
/// access (GOV.UK: a Lead Developer or the Head of Technology).
fn listed_approver(check: &mut Check, approver: &str, at: Pos) {
    let approvers = &check.config.policy.approvers;
    if approvers.is_empty() || approvers.iter().any(|a| a.eq_ignore_ascii_case(approver)) {
        return;
    }
    check.diags.push(
        Diagnostic::error(
            check.source,
            at,
            format!(
                "approved_by {} is not one of policy.approvers",
                who(approver)
            ),
        )
        .help(format!(
            "temporary access is approved by one of: {}",
            quote(&approvers.join(", "))
        )),
    );
}

/// When the grant ends: required, a time, and within policy.
fn expiry(
    check: &mut Check,
    expires: Option<&SpannedString>,
    grant: Pos,
    level: Option<&str>,
) -> Option<DateTime<Utc>> {
    let Some(e) = expires else {
        check.diags.push(
            Diagnostic::error(check.source, grant, "this temporary grant has no `expires`")
                .help("temporary access is for a fixed period: add expires: YYYY-MM-DD"),
        );
        return None;
    };
    let end = dates::expires(check, e)?;
    end_within_policy(check, end, pos(e), level);
    Some(end)
}

/// An end further off than policy.max_temporary_days is refused; one
/// already past is a warning, since lapse revokes the grant anyway.
fn end_within_policy(check: &mut Check, end: DateTime<Utc>, at: Pos, level: Option<&str>) {
    let max_days = check.config.policy.max_temporary_days;
    let limit = when::add_days(check.now, max_days);
    if end > limit {
        check.diags.push(
            Diagnostic::error(
                check.source,
                at,
                format!(
                    "temporary grant expires {}, more than {max_days} days from now",
                    when::show_expiry(end),
                ),
            )
            .help(format!(
                "set `expires` no later than {}, or raise policy.max_temporary_days",
                when::show_expiry(limit)
            )),
        );
    } else if end <= check.now {
        check.diags.push(
            Diagnostic::warning(
                check.source,
                at,
                format!(
                    "temporary grant of `{}` expired {}; lapse will revoke it",
                    level.unwrap_or("?"),
                    when::show_expiry(end)
                ),
            )
            .help("remove the entry once the access is gone"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, spanned};
    use super::*;

    fn raw_grant(yaml: &str) -> Spanned<RawTemporary> {
        serde_saphyr::from_str(yaml).expect("grant parses")
    }

    #[test]
    fn level_table() {
        let fx = Fixture::new();
        for (access, shown, granted, said) in [
            (Some("admin"), &["bpss"][..], Some("admin"), vec![]),
            (
                Some("admin"),
                &[][..],
                Some("admin"),
                vec!["error: jane@example.gov.uk holds `admin` temporarily without: bpss"],
            ),
            // With no temporary_requires, a level needs its `requires`.
            (
                Some("deploy"),
                &[][..],
                Some("deploy"),
                vec!["error: jane@example.gov.uk holds `deploy` temporarily without: bpss"],
            ),
            (Some("reader"), &[][..], Some("reader"), vec![]),
            (
                Some("nope"),
                &["bpss"][..],
                None,
                vec!["error: unknown access level `nope`"],
            ),
            (
                None,
                &["bpss"][..],
                None,
                vec!["error: this temporary grant has no `access`"],
            ),
        ] {
            let attestations = fx.attestations(shown);
            let mut check = fx.check();
            let access = access.map(|a| spanned(&format!(" {a} ")));
            let got = level(
                &mut check,
                access.as_ref(),
                Pos::default(),
                &fx.grantee(&attestations),
            );
            assert_eq!(got.as_deref(), granted, "{access:?}");
            assert_eq!(fx.said(check), said, "{access:?}");
        }
    }

    #[test]
    fn someone_else_table() {
        let fx = Fixture::new();
        let attestations = fx.attestations(&[]);
        for (written, person, said) in [
            (
                Some(" lead@example.gov.uk "),
                Some("lead@example.gov.uk"),
                vec![],
            ),
            (
                Some("Jane@Example.gov.uk"),
                Some("Jane@Example.gov.uk"),
                vec!["error: jane@example.gov.uk cannot be their own `approved_by`"],
            ),
            (
                Some("senior"),
                None,
                vec!["error: `approved_by` must be an email address, not `senior`"],
            ),
            (
                None,
                None,
                vec!["error: this temporary grant has no `approved_by`"],
            ),
        ] {
            let mut check = fx.check();
            let field = written.map(spanned);
            let got = someone_else(
                &mut check,
                field.as_ref(),
                "approved_by",
                Pos::default(),
                &fx.grantee(&attestations),
            );
            assert_eq!(got.as_deref(), person, "{written:?}");
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn someone_else_is_anyone_when_the_grantee_has_no_email() {
        let fx = Fixture::new();
        let attestations = fx.attestations(&[]);
        let grantee = Grantee {
            who: "this person",
            email: "",
            ..fx.grantee(&attestations)
        };
        let mut check = fx.check();
        let field = spanned("lead@example.gov.uk");
        let got = someone_else(
            &mut check,
            Some(&field),
            "supervised_by",
            Pos::default(),
            &grantee,
        );
        assert_eq!(
            (got.as_deref(), fx.said(check)),
            (Some("lead@example.gov.uk"), vec![])
        );
    }

    #[test]
    fn expiry_table() {
        // The fixture's now is 2026-11-22 and its policy allows 30 days.
        let fx = Fixture::new();
        for (written, said) in [
            (Some("2026-12-01"), vec![]),
            // The end of 21 December is the first instant past the limit.
            (Some("2026-12-21"), vec![]),
            (Some("2026-12-22T00:00:00Z"), vec![]),
            (
                Some("2026-12-22"),
                vec!["error: temporary grant expires 2026-12-22, more than 30 days from now"],
            ),
            (
                Some("2026-11-21"),
                vec![
                    "warning: temporary grant of `admin` expired 2026-11-21; lapse will revoke it",
                ],
            ),
            (
                Some("2026-11-22T00:00:00Z"),
                vec![
                    "warning: temporary grant of `admin` expired 2026-11-21; lapse will revoke it",
                ],
            ),
            (Some("2026-11-22T00:00:01Z"), vec![]),
            (
                Some("soon"),
                vec![
                    "error: `soon` is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-01T17:00:00Z)",
                ],
            ),
            (None, vec!["error: this temporary grant has no `expires`"]),
        ] {
            let mut check = fx.check();
            let field = written.map(spanned);
            let got = expiry(&mut check, field.as_ref(), Pos::default(), Some("admin"));
            assert_eq!(
                got.is_some(),
                written.is_some_and(|w| w != "soon"),
                "{written:?}"
            );
            assert_eq!(fx.said(check), said, "{written:?}");
        }
    }

    #[test]
    fn an_expired_grant_of_an_unknown_level_says_so() {
        let fx = Fixture::new();
        let mut check = fx.check();
        end_within_policy(&mut check, fx.now, Pos::default(), None);
        assert_eq!(
            fx.said(check),
            vec!["warning: temporary grant of `?` expired 2026-11-21; lapse will revoke it"]
        );
    }

    #[test]
    fn grant_table() {
        let fx = Fixture::new();
        let attestations = fx.attestations(&["bpss"]);
        for (yaml, held, said) in [
            (
                "{access: admin, expires: 2026-12-01, approved_by: lead@example.gov.uk, supervised_by: senior@example.gov.uk, reason: incident}",
                true,
                vec![],
            ),
            // An expired grant still holds until lapse revokes it.
            (
                "{access: admin, expires: 2026-11-01, approved_by: lead@example.gov.uk, supervised_by: senior@example.gov.uk}",
                true,
                vec![
                    "warning: temporary grant of `admin` expired 2026-11-01; lapse will revoke it",
                ],
            ),
            (
                "{reason: incident}",
                false,
                vec![
                    "error: this temporary grant has no `access`",
                    "error: this temporary grant has no `approved_by`",
                    "error: this temporary grant has no `supervised_by`",
                    "error: this temporary grant has no `expires`",
                ],
            ),
            (
                "{access: nope, expires: 2026-11-01, approved_by: lead@example.gov.uk, supervised_by: senior@example.gov.uk}",
                false,
                vec![
                    "error: unknown access level `nope`",
                    "warning: temporary grant of `?` expired 2026-11-01; lapse will revoke it",
                ],
            ),
        ] {
            let mut check = fx.check();
            let got = grant(&mut check, &raw_grant(yaml), &fx.grantee(&attestations));
            assert_eq!(got.is_some(), held, "{yaml}");
            assert_eq!(fx.said(check), said, "{yaml}");
        }
    }
}
