//! Standing access: each level a person holds is one the config defines,
//! and the person has shown every attestation it `requires`.

use std::collections::BTreeSet;

use serde_saphyr::Spanned;

use crate::config::{Config, Level};
use crate::diag::{Diagnostic, Pos};
use crate::hygiene::quote;

use super::reachable::check_reachable;
use super::{Check, Grantee, LevelNames, Names, pos};

/// The levels named in `access:`, those the config knows.
pub(super) fn standing(
    check: &mut Check,
    access: Option<&Spanned<LevelNames>>,
    grantee: &Grantee,
) -> Names {
    let Some(access) = access else {
        return Names::default();
    };
    let mut standing = Vec::new();
    let names: Vec<(&str, Pos)> = match &access.value {
        LevelNames::One(s) => vec![(s.as_str(), Pos::from_location(&access.referenced))],
        LevelNames::Many(v) => v.iter().map(|s| (s.value.as_str(), pos(s))).collect(),
    };
    for (name, at) in names {
        let name = name.trim();
        let Some(level) = known(check, name, at) else {
            continue;
        };
        requires(check, name, level, at, grantee);
        check_reachable(check, name, level, at, grantee);
        standing.push(name);
    }
    check.names.names(standing)
}

/// The level called `name` (trimmed); reported, with the levels there are,
/// when the config has none by that name.
pub(super) fn known<'c>(check: &mut Check<'c>, name: &str, at: Pos) -> Option<&'c Level> {
    let config: &'c Config = check.config;
    let level = config.levels.get(name);
    if level.is_none() {
        let known_levels = config.levels.keys().cloned().collect::<Vec<_>>().join(", ");
        check.diags.push(
            Diagnostic::error(
                check.source,
                at,
                format!("unknown access level `{}`", quote(name)),
            )
            .help(format!("levels in the config: {known_levels}")),
        );
    }
    level
}

/// Standing access to `level` needs every attestation in its `requires`.
fn requires(check: &mut Check, name: &str, level: &Level, at: Pos, grantee: &Grantee) {
    let lacking = lacking(&level.requires, grantee.attestations);
    if !lacking.is_empty() {
        check.diags.push(
            Diagnostic::error(check.source, at, format!("{} holds `{name}` without the attestations it requires: {}", grantee.who, lacking.join(", ")))
                .help(format!("add them to `attestations` once shown, or grant `{name}` temporarily under supervision")),
        );
    }
}

/// The attestations in `needed` that are not in `shown`, in order.
pub(super) fn lacking<'l>(needed: &'l BTreeSet<String>, shown: &Names) -> Vec<&'l str> {
    needed
        .iter()
        .filter(|r| !shown.contains(r))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::Fixture;
    use super::*;

    fn access(yaml: &str) -> Spanned<LevelNames> {
        serde_saphyr::from_str(yaml).expect("access parses")
    }

    #[test]
    fn known_table() {
        let fx = Fixture::new();
        for (name, found, said) in [
            ("deploy", true, vec![]),
            ("admin", true, vec![]),
            (
                "Deploy",
                false,
                vec!["error: unknown access level `Deploy`"],
            ),
            ("", false, vec!["error: unknown access level ``"]),
        ] {
            let mut check = fx.check();
            let got = known(&mut check, name, Pos::default()).is_some();
            assert_eq!(got, found, "{name:?}");
            assert_eq!(fx.said(check), said, "{name:?}");
        }
    }

    #[test]
    fn known_names_the_levels_there_are() {
        let fx = Fixture::new();
        let mut check = fx.check();
        known(&mut check, "nope", Pos::default());
        assert_eq!(
            check.diags.0[0].help.as_deref(),
            Some("levels in the config: admin, deploy, reader")
        );
    }

    #[test]
    fn requires_table() {
        let fx = Fixture::new();
        let admin = &fx.config.levels["admin"];
        for (shown, said) in [
            (&["bpss", "probation"][..], vec![]),
            (&["bpss", "probation", "extra"][..], vec![]),
            (
                &["bpss"][..],
                vec![
                    "error: jane@example.gov.uk holds `admin` without the attestations it requires: probation",
                ],
            ),
            (
                &[][..],
                vec![
                    "error: jane@example.gov.uk holds `admin` without the attestations it requires: bpss, probation",
                ],
            ),
        ] {
            let attestations = fx.attestations(shown);
            let mut check = fx.check();
            requires(
                &mut check,
                "admin",
                admin,
                Pos::default(),
                &fx.grantee(&attestations),
            );
            assert_eq!(fx.said(check), said, "{shown:?}");
        }
    }

    #[test]
    fn standing_table() {
        let fx = Fixture::new();
        for (yaml, held, said) in [
            ("deploy", &["deploy"][..], vec![]),
            ("' deploy '", &["deploy"][..], vec![]),
            ("[deploy, reader]", &["deploy", "reader"][..], vec![]),
            ("[]", &[][..], vec![]),
            (
                "[deploy, nope, admin]",
                &["admin", "deploy"][..],
                vec![
                    "error: unknown access level `nope`",
                    "error: jane@example.gov.uk holds `admin` without the attestations it requires: probation",
                ],
            ),
        ] {
            let attestations = fx.attestations(&["bpss"]);
            let mut check = fx.check();
            let got = standing(&mut check, Some(&access(yaml)), &fx.grantee(&attestations));
            assert_eq!(got.iter().collect::<Vec<_>>(), held.to_vec(), "{yaml:?}");
            assert_eq!(fx.said(check), said, "{yaml:?}");
        }
        let mut check = fx.check();
        let attestations = fx.attestations(&[]);
        assert!(standing(&mut check, None, &fx.grantee(&attestations)).is_empty());
        assert!(check.diags.0.is_empty());
    }
}
