//! The live systems of a run: the GitHub and IAM clients a config asks for.
//! Each client both observes and acts, so one set of credentials and one
//! request counter serve the whole run.

use std::sync::Arc;

use crate::config::Config;
use crate::github::ResponseCache;
use crate::system::{Act, ObserveAws, ObserveGithub, ObserveSso};

/// The clients of one run. A system the config does not manage is `None`.
#[derive(Default)]
pub struct Systems {
    pub github: Option<Arc<dyn GithubSystem>>,
    pub aws: Option<Arc<dyn AwsSystem>>,
    pub sso: Option<Arc<dyn SsoSystem>>,
}

/// GitHub as a live system: observation and revocation through one client.
pub trait GithubSystem: ObserveGithub + Act {}
impl<T: ObserveGithub + Act> GithubSystem for T {}

/// IAM as a live system: observation and revocation through one set of account clients.
pub trait AwsSystem: ObserveAws + Act {}
impl<T: ObserveAws + Act> AwsSystem for T {}

/// IAM Identity Center as a live system: observation and revocation through one set of clients.
pub trait SsoSystem: ObserveSso + Act {}
impl<T: ObserveSso + Act> SsoSystem for T {}

/// What outlives one cycle of a long-running process.
#[derive(Clone, Default)]
pub struct Kept {
    /// GitHub answers with their ETags, so the next cycle's reads are
    /// conditional. `None` for one-shot commands.
    pub github_responses: Option<Arc<ResponseCache>>,
}

/// Connects to every system the config manages. Fails fast (missing
/// credentials, unreadable key) before any request that could change anything.
pub async fn connect(config: &Config, kept: &Kept) -> Result<Systems, String> {
    let mut systems = Systems::default();
    if config.github.is_some() && !config.managed_teams().is_empty() {
        systems.github = Some(connect_github(config, kept).await?);
    }
    if config.aws.is_some() && !config.managed_roles().is_empty() {
        systems.aws = Some(connect_aws(config).await?);
    }
    if config.manages_identity_center() {
        systems.sso = Some(connect_sso(config).await?);
    }
    Ok(systems)
}

async fn connect_github(config: &Config, kept: &Kept) -> Result<Arc<dyn GithubSystem>, String> {
    let github = config
        .github
        .as_ref()
        .ok_or("the config manages GitHub teams but has no github section")?;
    let mut live = crate::github::GithubLive::connect(github)?;
    if let Some(cache) = &kept.github_responses {
        live = live.with_response_cache(github, cache.clone());
    }
    Ok(Arc::new(live))
}

async fn connect_aws(config: &Config) -> Result<Arc<dyn AwsSystem>, String> {
    let aws = config
        .aws
        .as_ref()
        .ok_or("the config has no `aws` section")?;
    let system = crate::aws::IamSystem::connect(aws).await?;
    Ok(Arc::new(system))
}

async fn connect_sso(config: &Config) -> Result<Arc<dyn SsoSystem>, String> {
    let aws = config
        .aws
        .as_ref()
        .ok_or("the config has no `aws` section")?;
    let system = crate::aws::IdentityCenterSystem::connect(aws).await?;
    Ok(Arc::new(system))
}
