//! Principals the config protects: never revoked, and each remembered once
//! it matches a grant, so one that matched nothing (a typo?) can be noted.

use std::collections::BTreeMap;

use crate::config::Config;

/// Protected principals in lower case, each with whether it matched a grant.
pub(super) struct Protected {
    github: BTreeMap<String, bool>,
    aws: BTreeMap<String, bool>,
}

impl Protected {
    /// `github:LOGIN` entries are logins; any other entry is an AWS principal.
    pub(super) fn new(config: &Config) -> Self {
        let mut github = BTreeMap::new();
        let mut aws = BTreeMap::new();
        for p in &config.safety.protected {
            match p.strip_prefix("github:") {
                Some(login) => github.insert(login.to_ascii_lowercase(), false),
                None => aws.insert(p.to_lowercase(), false),
            };
        }
        Protected { github, aws }
    }

    /// Whether `login` (in lower case) is protected; marks it matched if so.
    pub(super) fn claims_login(&mut self, login: &str) -> bool {
        claim(&mut self.github, login)
    }

    /// Whether `principal` (in lower case) is protected; marks it matched if so.
    pub(super) fn claims_aws(&mut self, principal: &str) -> bool {
        claim(&mut self.aws, principal)
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
