//! Credentials and clients per account: the base credentials from the
//! standard AWS chain, checked up front, and for each account that names an
//! `assume_role_arn` an STS AssumeRole on top of them. Every client shares
//! one HTTP client that counts what it sends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{ConfigLoader, Region, SdkConfig};
use aws_sdk_iam::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use crate::config::{Account, AwsConfig};

/// The session name lapse's AssumeRole calls carry, so CloudTrail shows who acted.
pub const SESSION_NAME: &str = "lapse";

/// IAM is global; its endpoint signs in us-east-1 when nothing else is configured.
const FALLBACK_REGION: &str = "us-east-1";

/// Looking for credentials must not turn into a long wait on an instance
/// metadata service that is not there.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(5);

/// Loading the region and profile may also consult the metadata service.
const LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts per request. IAM throttles bursts; five attempts with the
/// standard exponential backoff ride out a throttled second or two.
const MAX_ATTEMPTS: u32 = 5;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// One account lapse reads or writes in, with its clients: one that reads,
/// and one that writes (the write role, assumed only when a write is sent).
#[derive(Clone, Debug)]
pub struct AccountClient {
    pub account: Account,
    pub iam: aws_sdk_iam::Client,
    pub write: aws_sdk_iam::Client,
    /// Asks who the write credentials are, for the audit trail.
    pub write_sts: aws_sdk_sts::Client,
}

/// The configured accounts' clients and the request counter they share.
#[derive(Debug)]
pub struct Accounts {
    /// By alias, as `aws.accounts` names them.
    pub by_alias: HashMap<String, AccountClient>,
    pub users: Option<AccountClient>,
    pub requests: Arc<AtomicU64>,
}

impl Accounts {
    /// The client of the account a role ARN is in.
    pub fn for_account_id(&self, account_id: &str) -> Option<&AccountClient> {
        let mut matching: Vec<&AccountClient> = self
            .by_alias
            .values()
            .filter(|c| c.account.id == account_id)
            .collect();
        matching.sort_by(|a, b| a.account.alias.cmp(&b.account.alias));
        matching.first().copied()
    }
}

/// Builds every account's client from `loader` (the standard chain, or a
/// test's), after checking the base credentials resolve.
pub async fn connect(aws: &AwsConfig, loader: ConfigLoader) -> Result<Accounts, String> {
    let requests = Arc::new(AtomicU64::new(0));
    let base = base_config(aws, loader, requests.clone(), aws.region.clone()).await?;
    accounts_on(aws, &base, requests).await
}

/// The base config every client builds on: `loader` with lapse's endpoint,
/// region, retry and timeout settings and a counter of what it sends,
/// loaded, and its credentials checked.
pub async fn base_config(
    aws: &AwsConfig,
    loader: ConfigLoader,
    requests: Arc<AtomicU64>,
    region: Option<String>,
) -> Result<SdkConfig, String> {
    let mut loader = loader
        .http_client(CountingHttpClient::new(requests.clone()))
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .region(
            RegionProviderChain::first_try(region.map(Region::new))
                .or_default_provider()
                .or_else(Region::from_static(FALLBACK_REGION)),
        );
    if let Some(url) = &aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let base = tokio::time::timeout(LOAD_TIMEOUT, loader.load())
        .await
        .map_err(|_| {
            format!(
                "loading the AWS configuration took more than {} s",
                LOAD_TIMEOUT.as_secs()
            )
        })?;
    check_credentials(&base).await?;
    Ok(base)
}

/// The accounts' clients on `base`.
async fn accounts_on(
    aws: &AwsConfig,
    base: &SdkConfig,
    requests: Arc<AtomicU64>,
) -> Result<Accounts, String> {
    // Accounts reached the same way share a config, and so one AssumeRole.
    // Nothing is assumed until a request needs it: a plan never assumes a
    // write role.
    let mut configs: HashMap<Option<String>, SdkConfig> = HashMap::new();
    let mut config_for = async |role: &Option<String>| -> SdkConfig {
        if let Some(config) = configs.get(role) {
            return config.clone();
        }
        let config = role_config(base, role.as_deref()).await;
        configs.insert(role.clone(), config.clone());
        config
    };
    let mut client_for = async |account: &Account| -> AccountClient {
        let read = config_for(&account.assume_role_arn).await;
        let write_role = account
            .write_role_arn
            .clone()
            .or_else(|| account.assume_role_arn.clone());
        let write = config_for(&write_role).await;
        AccountClient {
            account: account.clone(),
            iam: aws_sdk_iam::Client::new(&read),
            write: aws_sdk_iam::Client::new(&write),
            write_sts: aws_sdk_sts::Client::new(&write),
        }
    };
    let mut by_alias = HashMap::new();
    for (alias, account) in &aws.accounts {
        by_alias.insert(alias.clone(), client_for(account).await);
    }
    let users = match &aws.users_account {
        Some(account) => Some(client_for(account).await),
        None => None,
    };
    Ok(Accounts {
        by_alias,
        users,
        requests,
    })
}

/// Fails fast, with a message an operator can act on, when the chain finds
/// no credentials: the SDK itself would only fail at the first request.
async fn check_credentials(base: &SdkConfig) -> Result<(), String> {
    const WHERE: &str = "the environment (AWS_ACCESS_KEY_ID, ...), the shared config and credentials files, web identity (IRSA), the container and instance metadata services";
    let Some(provider) = base.credentials_provider() else {
        return Err("no AWS credentials provider is configured".into());
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!(
            "no AWS credentials found (looked in {WHERE}): {}",
            super::causes(&error)
        )),
        Err(_) => Err(format!(
            "no AWS credentials within {} s (looked in {WHERE})",
            CREDENTIALS_TIMEOUT.as_secs()
        )),
    }
}

/// The base config, or one whose credentials come from assuming `role_arn`
/// with the base credentials. Nothing is sent until the first request.
pub async fn role_config(base: &SdkConfig, role_arn: Option<&str>) -> SdkConfig {
    let Some(role_arn) = role_arn else {
        return base.clone();
    };
    let provider = AssumeRoleProvider::builder(role_arn)
        .session_name(SESSION_NAME)
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

/// Connectors by their (connect, read) timeouts.
type ConnectorsBySettings = HashMap<(Option<Duration>, Option<Duration>), SharedHttpConnector>;

/// The SDK's default HTTPS client (rustls with aws-lc, proxy from the
/// environment) with a counter in front: every attempt the SDK sends, to IAM
/// or STS, first or retried, passes through [`CountingConnector::call`].
#[derive(Debug)]
struct CountingHttpClient {
    sent: Arc<AtomicU64>,
    /// One connector, and so one connection pool, per distinct timeout
    /// settings, as the SDK's own client keeps them.
    connectors: Mutex<ConnectorsBySettings>,
}

impl CountingHttpClient {
    fn new(sent: Arc<AtomicU64>) -> Self {
        CountingHttpClient {
            sent,
            connectors: Mutex::new(HashMap::new()),
        }
    }
}

impl HttpClient for CountingHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self
            .connectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        connectors
            .entry(key)
            .or_insert_with(|| {
                let mut builder = Connector::builder()
                    .connector_settings(settings.clone())
                    .proxy_config(ProxyConfig::from_env());
                builder.set_sleep_impl(components.sleep_impl());
                let inner = builder
                    .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                    .build();
                SharedHttpConnector::new(CountingConnector {
                    inner,
                    sent: self.sent.clone(),
                })
            })
            .clone()
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: Connector,
    sent: Arc<AtomicU64>,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}
