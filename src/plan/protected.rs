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
    sso: BTreeMap<String, bool>,
}

impl Protected {
    pub(super) fn new(config: &Config) -> Self {
        let mut github = BTreeMap::new();
        let mut aws = BTreeMap::new();
        let mut sso = BTreeMap::new();
        for p in &config.safety.protected {
            match p {
                ProtectedPrincipal::GithubLogin(login) => github.insert(login.clone(), false),
                ProtectedPrincipal::AwsArn(arn) => aws.insert(arn.clone(), false),
                ProtectedPrincipal::SsoUser(name) => sso.insert(name.clone(), false),
            };
        }
        Protected { github, aws, sso }
    }

    /// Whether `login` is protected; marks it matched if so.
    pub(super) fn claims_login(&mut self, login: &str) -> bool {
        claim(&mut self.github, &ProtectedPrincipal::comparable(login))
    }

    /// Whether `principal` is protected; marks it matched if so.
    pub(super) fn claims_aws(&mut self, principal: &str) -> bool {
        claim(&mut self.aws, &ProtectedPrincipal::comparable(principal))
    }

    /// Whether the Identity Store user `user_name` is protected; marks it matched if so.
    pub(super) fn claims_sso_user(&mut self, user_name: &str) -> bool {
        claim(&mut self.sso, &ProtectedPrincipal::comparable(user_name))
    }

    /// A note for each protected principal that matched no grant.
    pub(super) fn unused_notes(&self) -> impl Iterator<Item = String> + '_ {
        self.github
            .iter()
            .map(|(p, u)| (format!("github:{p}"), *u))
            .chain(self.aws.iter().map(|(p, u)| (p.clone(), *u)))
            .chain(self.sso.iter().map(|(p, u)| (format!("sso:{p}"), *u)))
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
