//! `review`: the periodic user-access review (see the README: Access review). Loads, observes
//! (live or a snapshot) and plans exactly as `plan` does, then lists every
//! holder of every managed team and role with the roster's grounds for it
//! and the plan's finding on it. It never acts: the plan's revocations are
//! only read, as findings.

mod holders;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::Instrument;

use crate::config::RosterSource;
use crate::exit::Exit;
use crate::model::{FindingKind, System};
use crate::report::review::{
    ConfigOrigin, Counts, GitVersion, Header, HeldAs, Holder, LevelCount, LevelGround, Missing,
    Observed, Review, ReviewFormat, RosterOrigin, SystemCount,
};

use super::{Kept, Planned, load_and_plan, new_run_id};
use holders::{Builder, observed_role};

/// Where a review goes: its format, and a file instead of stdout.
#[derive(Debug, Clone)]
pub struct ReviewOutput {
    pub format: ReviewFormat,
    pub path: Option<PathBuf>,
}

/// `review`: observe (live, or the snapshot at `state`), plan, and write
/// the review. Exit 0 once it is written; 1 on any problem.
pub async fn review(
    config_path: &Path,
    now: DateTime<Utc>,
    state: Option<&Path>,
    output: &ReviewOutput,
) -> Exit {
    let run_id = new_run_id(Utc::now());
    let span = tracing::info_span!("run", run_id = %run_id, command = "review");
    review_in_span(config_path, now, state, output, run_id)
        .instrument(span)
        .await
}

async fn review_in_span(
    config_path: &Path,
    now: DateTime<Utc>,
    state: Option<&Path>,
    output: &ReviewOutput,
    run_id: String,
) -> Exit {
    let planned = match load_and_plan(config_path, now, state, &Kept::default()).await {
        Ok((planned, _)) => planned,
        Err(exit) => return exit,
    };
    let observed = match state {
        Some(path) => Observed::Snapshot {
            path: path.display().to_string(),
        },
        None => Observed::Live,
    };
    let made = Made {
        run_id,
        generated_at: Utc::now(),
        config_path,
        observed,
    };
    let review = build(&planned, made);
    let text = review.render(output.format);
    if let Some(path) = &output.path {
        if let Err(e) = std::fs::write(path, text) {
            tracing::error!("cannot write the review to {}: {e}", path.display());
            return Exit::Error;
        }
    } else {
        print!("{text}");
    }
    let drift = review.holders.iter().filter(|h| h.is_drift()).count();
    tracing::info!(
        holders = review.holders.len(),
        drift,
        missing = review.missing.len(),
        github_requests = planned.api_calls.github,
        aws_requests = planned.api_calls.aws,
        sso_requests = planned.api_calls.sso,
        "review written"
    );
    Exit::Success
}

/// What identifies one review beyond the plan it was made from.
pub struct Made<'a> {
    pub run_id: String,
    pub generated_at: DateTime<Utc>,
    /// The config as named on the command line.
    pub config_path: &'a Path,
    pub observed: Observed,
}

/// The review of a plan: every holder of every managed team and role.
pub fn build(planned: &Planned, made: Made) -> Review {
    let mut builder = Builder::new(planned);
    if let (Some(github), Some(state)) = (&planned.config.github, &planned.actual.github) {
        builder.teams(&github.org, state);
    }
    if let Some(state) = &planned.actual.aws {
        builder.roles(state);
    }
    if let Some(state) = &planned.actual.sso {
        builder.sso(state);
    }
    let mut holders = builder.holders;
    holders.sort_by(|a, b| {
        (a.system, &a.target, &a.principal, a.held_as).cmp(&(
            b.system,
            &b.target,
            &b.principal,
            b.held_as,
        ))
    });
    let missing: Vec<Missing> = planned
        .plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Missing)
        .map(|f| Missing {
            system: f.system,
            target: f.target.clone(),
            principal: f.principal.clone(),
            person: f.person.clone().unwrap_or_default(),
            reason: f.reason.clone(),
        })
        .collect();
    let counts = Counts {
        levels: level_counts(planned, &holders),
        systems: system_counts(planned, &holders, &missing),
    };
    Review {
        header: header(planned, made, counts),
        holders,
        missing,
        notes: planned.plan.notes.clone(),
    }
}

fn header(planned: &Planned, made: Made, counts: Counts) -> Header {
    let digests = &planned.digests;
    let (source, git) = match &planned.config.roster {
        RosterSource::File(path) => (path.display().to_string(), None),
        RosterSource::Github {
            owner,
            repo,
            path,
            reference,
        } => {
            let mut source = format!("github:{owner}/{repo}/{path}");
            if let Some(r) = reference {
                source.push_str(&format!("@{r}"));
            }
            let git = digests.roster_git_blob.clone().map(|blob_sha| GitVersion {
                blob_sha,
                reference: reference.clone(),
            });
            (source, git)
        }
    };
    Header {
        generated_at: made.generated_at,
        now: planned.now,
        run_id: made.run_id,
        lapse_version: env!("CARGO_PKG_VERSION").into(),
        roster: RosterOrigin {
            source,
            sha256: digests.roster_sha256.clone(),
            git,
        },
        config: ConfigOrigin {
            path: made.config_path.display().to_string(),
            sha256: digests.config_sha256.clone(),
        },
        observed: made.observed,
        counts,
    }
}

/// For each level: whom the roster gives it, and the holders it grounds.
fn level_counts(planned: &Planned, holders: &[Holder]) -> Vec<LevelCount> {
    let people = &planned.loaded.roster.people;
    let now = planned.now;
    planned
        .config
        .levels
        .keys()
        .map(|name| {
            let in_force = |g: &LevelGround| {
                g.level == *name && g.temporary.as_ref().is_none_or(|t| !t.expired)
            };
            LevelCount {
                level: name.clone(),
                standing: people.iter().filter(|p| p.standing.contains(name)).count(),
                temporary: people
                    .iter()
                    .filter(|p| {
                        p.temporary
                            .iter()
                            .any(|t| t.level == *name && t.expires_at > now)
                    })
                    .count(),
                grants_held: holders
                    .iter()
                    .filter(|h| {
                        h.held_as != HeldAs::Invitation
                            && h.person
                                .as_ref()
                                .is_some_and(|p| p.levels.iter().any(in_force))
                    })
                    .count(),
            }
        })
        .collect()
}

/// For each system observed: its targets, holders, drift and missing grants.
fn system_counts(planned: &Planned, holders: &[Holder], missing: &[Missing]) -> Vec<SystemCount> {
    let mut systems = Vec::new();
    if planned.actual.github.is_some() {
        systems.push((System::Github, planned.config.managed_teams().len()));
    }
    if let Some(state) = &planned.actual.aws {
        let roles: BTreeSet<&str> = planned
            .config
            .managed_roles()
            .iter()
            .filter_map(|r| observed_role(state, r))
            .map(|r| r.arn.as_str())
            .collect();
        systems.push((System::Aws, roles.len()));
    }
    if let Some(state) = &planned.actual.sso {
        let sets = planned
            .config
            .managed_permission_sets()
            .iter()
            .filter(|p| state.permission_set(&p.account_id, &p.name).is_some())
            .count();
        let groups = planned
            .config
            .managed_sso_groups()
            .iter()
            .filter(|g| state.group_named(g).is_some())
            .count();
        systems.push((System::Sso, sets + groups));
    }
    systems
        .into_iter()
        .map(|(system, targets)| {
            let of_system = || holders.iter().filter(move |h| h.system == system);
            SystemCount {
                system,
                targets,
                holders: of_system()
                    .filter(|h| h.held_as != HeldAs::Invitation)
                    .count(),
                invitations: of_system()
                    .filter(|h| h.held_as == HeldAs::Invitation)
                    .count(),
                drift: of_system().filter(|h| h.is_drift()).count(),
                missing: missing.iter().filter(|m| m.system == system).count(),
            }
        })
        .collect()
}
