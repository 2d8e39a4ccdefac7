//! Principals the config protects: never revoked, and each remembered once
//! it matches a grant, so one that matched nothing (a typo?) can be noted.
//! Entries are the config's [`ProtectedPrincipal`]s, compared as the apply
//! gates compare them ([`ProtectedPrincipal::comparable`]), so that plan and
//! gates always agree.

use std::collections::BTreeMap;

use crate::config::{Config, ProtectedPrincipal};

/// Protected principals, each with whether it matched a grant.
pub(super) struct Protected {
    github: BTreeMap<String, bool>,
    aws: BTreeMap<String, bool>,
}

impl Protected {
    pub(super) fn new(config: &Config) -> Self {
        let mut github = BTreeMap::new();
        let mut aws = BTreeMap::new();
        for p in &config.safety.protected {
            match p {
                ProtectedPrincipal::GithubLogin(login) => github.insert(login.clone(), false),
                ProtectedPrincipal::AwsArn(arn) => aws.insert(arn.clone(), false),
                // Identity Center is not planned yet: nothing to protect.
                ProtectedPrincipal::SsoUser(_) => None,
            };
        }
        Protected { github, aws }
    }

    /// Whether `login` is protected; marks it matched if so.
    pub(super) fn claims_login(&mut self, login: &str) -> bool {
        claim(&mut self.github, &ProtectedPrincipal::comparable(login))
    }

    /// Whether `principal` is protected; marks it matched if so.
    pub(super) fn claims_aws(&mut self, principal: &str) -> bool {
        claim(&mut self.aws, &ProtectedPrincipal::comparable(principal))
    }

    /// A note for each protected principal that matched no grant.
    pub(super) fn unused_notes(&self) -> impl Iterator<Item = String> + '_ {
        self.github
            .iter()
            .map(|(p, u)| (format!("github:{p}"), *u))
            .chain(self.aws.iter().map(|(p, u)| (p.clone(), *u)))
            .filter(|(_, used)| !used)
            .map(|(p, _)| {
                format!("protected principal `{p}` matched no grant in the managed scope (a typo?)")
            })
    }
}

fn claim(protected: &mut BTreeMap<String, bool>, principal: &str) -> bool {
    match protected.get_mut(principal) {
        Some(used) => {
            *used = true;
            true
        }
        None => false,
    }
}
