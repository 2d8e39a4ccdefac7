//! lapse keeps production access honest: it compares a YAML roster of who may
//! hold production access with what GitHub teams and IAM role trust policies
//! actually grant, reports the drift, and revokes what has lapsed.
//!
//! The core is pure ([`plan::plan`]); reading and revoking sit behind the
//! seams in [`system`], so the same plan runs live, from a snapshot, or in tests.

pub mod apply;
pub mod audit;
pub mod aws;
pub mod cli;
pub mod config;
pub mod console;
pub mod daemon;
pub mod diag;
pub mod engine;
pub mod exit;
pub mod github;
pub mod hygiene;
pub mod model;
pub mod notify;
pub mod plan;
pub mod progress;
pub mod redact;
pub mod report;
pub mod roster;
pub mod safety;
pub mod schema;
pub mod snapshot;
pub mod state;
pub mod system;
pub mod trust_policy;
pub mod when;
mod yaml;
