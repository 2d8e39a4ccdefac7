//! A private moto server (AWS IAM and STS emulator) per test.
//!
//! Each [`Moto`] runs `tests/support/moto/launcher.py` in the workspace's
//! `.venv` (made by `scripts/setup-venv.sh`) on a free port of 127.0.0.1, so
//! tests never share state and can run in parallel. Besides the AWS APIs,
//! the launcher offers test-only endpoints under `/_lapse/`: setting when a
//! password or access key was last used (real IAM has no API for that),
//! counting requests, and injecting latency and AWS-style errors.
//!
//! What moto does differently from real IAM, as measured on the pinned
//! version:
//! - it keeps IAM state per account; credentials from STS AssumeRole into
//!   `arn:aws:iam::ACCOUNT:role/NAME` act in ACCOUNT, and the role need not
//!   exist nor trust the caller;
//! - GetRole returns `AssumeRolePolicyDocument` percent-encoded, ListRoles as
//!   raw JSON (real IAM encodes both);
//! - it accepts trust policies real IAM rejects and keeps a deleted user's ARN
//!   in trust policies (real IAM rewrites it to the user's unique ID).
//! - Identity Center (sso-admin, identitystore) answers over the JSON
//!   protocol; the launcher counts and fails those requests by their
//!   `X-Amz-Target` operation, with JSON error documents. A permission set
//!   created without a session duration reads back with the integer 3600
//!   where the API has an ISO 8601 duration, which the SDK refuses: give one.
//!
//! The launcher patches two gaps: ListUsers pages like real IAM (100 per page
//! by default; moto returns everything at once), and the credential report
//! carries each access key's last-used region and service (moto writes
//! `not_supported`) and `N/A` as a password-less user's `password_last_used`.
//!
//! The API is blocking so it serves plain `#[test]`s as well as async ones.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{fs, thread};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

/// The account moto acts in when the signing key is not one it issued.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// Credentials for talking to moto: AWS's documented example key. moto did not
/// issue it, so requests signed with it act in [`DEFAULT_ACCOUNT_ID`].
pub const TEST_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const TEST_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// IAM is global; moto answers in any region. us-east-1 is where IAM signs.
pub const TEST_REGION: &str = "us-east-1";

/// How long a cold start may take: the first run compiles moto's bytecode.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto server, stopped when dropped (also when a test panics).
///
/// Should the test process die without unwinding, the launcher still exits:
/// it watches its stdin, which the kernel closes along with this process.
#[derive(Debug)]
pub struct Moto {
    /// Also holds the launcher's stdin open: its closing tells it to exit.
    child: Child,
    addr: SocketAddr,
    /// Holds the neutral `HOME` of [`Moto::hermetic_env`]; removed on drop.
    scratch_dir: PathBuf,
}

/// Requests moto received through its AWS endpoint since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RequestCounts {
    pub total: u64,
    /// Per Query-protocol `Action`, e.g. `ListRoles`, `AssumeRole`.
    pub by_action: BTreeMap<String, u64>,
    /// Per account the request acted in, then per `Action`.
    pub by_account: BTreeMap<String, BTreeMap<String, u64>>,
    /// AssumeRole calls per role ARN.
    #[serde(default)]
    pub assumed_roles: BTreeMap<String, u64>,
}

/// An error moto answers instead of the real response, for fault tests.
///
/// Faults are consumed in the order they were added; a request takes the
/// first one whose action and account match and that has uses left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    status: u16,
    code: String,
    message: Option<String>,
    action: Option<String>,
    account_id: Option<String>,
    count: u32,
}

impl Fault {
    /// An error with this HTTP status and AWS error code, once, on any action.
    pub fn new(status: u16, code: &str) -> Self {
        Fault {
            status,
            code: code.to_owned(),
            message: None,
            action: None,
            account_id: None,
            count: 1,
        }
    }

    /// A success answer for a request that is never applied: a write lost
    /// on the way, which only a read afterwards can tell.
    pub fn swallowed() -> Self {
        Fault::new(200, "Swallowed")
    }

    /// IAM's rate limiting; the SDK retries it.
    pub fn throttling() -> Self {
        Fault::new(400, "Throttling").message("Rate exceeded")
    }

    /// A missing permission; the SDK does not retry it.
    pub fn access_denied() -> Self {
        Fault::new(403, "AccessDenied").message("User is not authorized to perform this action")
    }

    /// IAM's internal error; the SDK retries it.
    pub fn service_failure() -> Self {
        Fault::new(500, "ServiceFailure")
    }

    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(message.to_owned());
        self
    }

    /// Only requests with this `Action` (e.g. `UpdateAssumeRolePolicy`).
    pub fn on_action(mut self, action: &str) -> Self {
        self.action = Some(action.to_owned());
        self
    }

    /// Only requests acting in this account.
    pub fn in_account(mut self, account_id: &str) -> Self {
        self.account_id = Some(account_id.to_owned());
        self
    }

    /// Fail this many matching requests (default 1).
    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }
}

/// An IAM user for [`Moto::seed_iam`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub name: String,
    /// `None`: now.
    pub created: Option<DateTime<Utc>>,
    /// `Some`: the user has a console password, last used then.
    pub password_last_used: Option<DateTime<Utc>>,
    /// One access key per entry, with when it was last used (`None`: never).
    pub access_keys_last_used: Vec<Option<DateTime<Utc>>>,
}

/// An IAM role for [`Moto::seed_iam`].
#[derive(Debug, Clone, PartialEq)]
pub struct SeedRole {
    pub name: String,
    pub trust_policy: Value,
}

impl Moto {
    /// Starts moto with the workspace's venv, or the python in `LAPSE_MOTO_PYTHON`.
    pub fn start() -> Moto {
        Moto::start_with_python(&python_path())
    }

    /// Starts moto with this python, which must have the packages of
    /// `tests/support/moto/requirements.txt`.
    pub fn start_with_python(python: &Path) -> Moto {
        assert!(
            python.exists(),
            "no python for moto at {}: run scripts/setup-venv.sh (or set LAPSE_MOTO_PYTHON)",
            python.display()
        );
        let mut command = Command::new(python);
        command
            .arg(launcher_path())
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // MOTO_ACCOUNT_ID and friends would override the per-account behaviour tests rely on.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("MOTO_") {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot run {} for moto: {error}; run scripts/setup-venv.sh",
                python.display()
            )
        });

        let addr = match read_listening_addr(&mut child) {
            Ok(addr) => addr,
            Err(problem) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                panic!(
                    "moto did not start ({problem}; launcher {status}; its stderr is above). \
                     Is the venv complete? Run scripts/setup-venv.sh"
                );
            }
        };
        let scratch_dir =
            std::env::temp_dir().join(format!("lapse-moto-{}-{}", std::process::id(), addr.port()));
        fs::create_dir_all(scratch_dir.join("home")).expect("create moto scratch dir");
        let moto = Moto {
            child,
            addr,
            scratch_dir,
        };
        moto.wait_until_healthy();
        moto
    }

    /// The AWS endpoint for the SDK's `endpoint_url` (IAM and STS alike).
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An AWS SDK config loader that reaches this server: see [`sdk_loader`].
    pub fn sdk_loader(&self) -> aws_config::ConfigLoader {
        sdk_loader(&self.endpoint_url())
    }

    /// An SDK config acting in `account_id`: the default account with the
    /// test key, any other by assuming `role/lapse` there, as lapse reaches
    /// accounts (moto needs neither the role nor a trust for it).
    pub async fn sdk_config_in(&self, account_id: &str) -> aws_config::SdkConfig {
        let base = self.sdk_loader().load().await;
        if account_id == DEFAULT_ACCOUNT_ID {
            return base;
        }
        let provider = aws_config::sts::AssumeRoleProvider::builder(format!(
            "arn:aws:iam::{account_id}:role/lapse"
        ))
        .session_name("lapse-test")
        .configure(&base)
        .build()
        .await;
        base.into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build()
    }

    /// The launcher's process ID, so tests can check it is gone after drop.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sets or clears (`None`) an IAM user's `PasswordLastUsed`.
    ///
    /// moto reports it from GetUser, ListUsers and the credential report's
    /// `password_last_used` column; the report shows it only when the user
    /// has a password (a login profile), as real IAM does.
    pub fn set_password_last_used(
        &self,
        account_id: &str,
        user_name: &str,
        time: Option<DateTime<Utc>>,
    ) {
        self.control(
            "POST",
            "/_lapse/iam/password-last-used",
            Some(json!({
                "account_id": account_id,
                "user_name": user_name,
                "time": time.map(rfc3339),
            })),
        );
    }

    /// Sets or clears (`None`) when an access key was last used, and where.
    ///
    /// Read back by GetAccessKeyLastUsed and the credential report's
    /// `access_key_N_last_used_*` columns. moto overwrites it with the current
    /// time whenever a request is signed with that key.
    pub fn set_access_key_last_used(
        &self,
        account_id: &str,
        user_name: &str,
        access_key_id: &str,
        time: Option<DateTime<Utc>>,
        service: &str,
        region: &str,
    ) {
        self.control(
            "POST",
            "/_lapse/iam/access-key-last-used",
            Some(json!({
                "account_id": account_id,
                "user_name": user_name,
                "access_key_id": access_key_id,
                "time": time.map(rfc3339),
                "service": service,
                "region": region,
            })),
        );
    }

    /// Every AWS request since start or the last [`Moto::reset_counts`],
    /// including those answered with an injected fault (retries count).
    pub fn request_count(&self) -> u64 {
        self.request_counts().total
    }

    pub fn request_counts_by_action(&self) -> BTreeMap<String, u64> {
        self.request_counts().by_action
    }

    pub fn request_counts(&self) -> RequestCounts {
        let counts = self.control("GET", "/_lapse/requests", None);
        serde_json::from_value(counts).expect("moto's request counts")
    }

    pub fn reset_counts(&self) {
        self.control("DELETE", "/_lapse/requests", None);
    }

    /// Answers matching requests with an error instead of moto's response.
    pub fn inject_fault(&self, fault: Fault) {
        self.control(
            "POST",
            "/_lapse/faults",
            Some(json!({
                "status": fault.status,
                "code": fault.code,
                "message": fault.message,
                "action": fault.action,
                "account_id": fault.account_id,
                "count": fault.count,
            })),
        );
    }

    /// How many injected failures have not happened yet.
    pub fn pending_faults(&self) -> u64 {
        let faults = self.control("GET", "/_lapse/faults", None);
        faults["faults"]
            .as_array()
            .expect("moto's fault list")
            .iter()
            .map(|rule| rule["remaining"].as_u64().unwrap_or(0))
            .sum()
    }

    pub fn clear_faults(&self) {
        self.control("DELETE", "/_lapse/faults", None);
    }

    /// Delays every request with this `Action` (or every request, for `None`)
    /// before moto handles it. `Duration::ZERO` turns it off. A per-action
    /// delay takes precedence over the catch-all one.
    pub fn set_latency(&self, action: Option<&str>, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).expect("latency fits in u64 ms");
        self.control(
            "POST",
            "/_lapse/latency",
            Some(json!({ "ms": ms, "action": action })),
        );
    }

    /// Creates users and roles in `account_id` in one request, straight into
    /// moto's model: thousands of them cost seconds this way, where the IAM
    /// API would take several requests each. Not counted as AWS requests.
    pub fn seed_iam(&self, account_id: &str, users: &[SeedUser], roles: &[SeedRole]) {
        let users: Vec<Value> = users
            .iter()
            .map(|user| {
                json!({
                    "name": user.name,
                    "created": user.created.map(rfc3339),
                    "password_last_used": user.password_last_used.map(rfc3339),
                    "access_keys": user.access_keys_last_used.iter().map(|used| json!({
                        "last_used": used.map(rfc3339),
                        "service": "sts",
                        "region": "eu-west-2",
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let roles: Vec<Value> = roles
            .iter()
            .map(|role| json!({"name": role.name, "trust_policy": role.trust_policy}))
            .collect();
        self.control(
            "POST",
            "/_lapse/iam/seed",
            Some(json!({"account_id": account_id, "users": users, "roles": roles})),
        );
    }

    /// Forgets every account's IAM and STS state (moto's own reset).
    /// Request counts and faults stay.
    pub fn reset_state(&self) {
        self.request("POST", "/moto-api/reset", None)
            .unwrap_or_else(|error| panic!("moto reset: {error}"));
    }

    /// Environment for running the lapse binary against this moto and
    /// nothing else: test credentials, this endpoint, no instance metadata
    /// service, and no profile files (`HOME` and the AWS config and
    /// credentials files point into an empty scratch directory).
    ///
    /// Use [`Moto::configure_command`] to also drop the caller's own `AWS_*`
    /// variables (profiles, session tokens, web identity).
    pub fn hermetic_env(&self) -> Vec<(&'static str, String)> {
        let scratch = |name: &str| self.scratch_dir.join(name).display().to_string();
        vec![
            ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY.to_owned()),
            ("AWS_REGION", TEST_REGION.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_CONFIG_FILE", scratch("no-such-aws-config")),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                scratch("no-such-aws-credentials"),
            ),
            ("HOME", scratch("home")),
            ("AWS_ENDPOINT_URL", self.endpoint_url()),
        ]
    }

    /// Removes every `AWS_*` variable `command` would pass on (inherited or
    /// set on it before), then sets [`Moto::hermetic_env`].
    pub fn configure_command<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        let inherited = std::env::vars_os().map(|(name, _)| name);
        let set_before = command.get_envs().map(|(name, _)| name.to_owned());
        let aws_names: Vec<_> = inherited
            .chain(set_before)
            .filter(|name| name.to_string_lossy().starts_with("AWS_"))
            .collect();
        for name in aws_names {
            command.env_remove(name);
        }
        command.envs(self.hermetic_env())
    }

    fn wait_until_healthy(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.request("GET", "/_lapse/health", None) {
                Ok(_) => return,
                Err(error) if Instant::now() > deadline => {
                    panic!("moto at {} never became healthy: {error}", self.addr)
                }
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Calls a test endpoint; any failure is a broken harness, so it panics.
    fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let response = self
            .request(method, path, body)
            .unwrap_or_else(|error| panic!("moto test endpoint {method} {path}: {error}"));
        serde_json::from_str(&response).unwrap_or_else(|error| {
            panic!("moto {method} {path} answered non-JSON ({error}): {response}")
        })
    }

    /// One HTTP/1.1 exchange on a fresh connection; `Ok` holds a 2xx body.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<String, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect_timeout(&self.addr, CONTROL_TIMEOUT)
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(CONTROL_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .map_err(|e| format!("send: {e}"))?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| format!("receive: {e}"))?;
        let (head, body) = response
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("malformed response: {response:?}"))?;
        let status = head.split(' ').nth(1).unwrap_or_default();
        if status.starts_with('2') {
            Ok(body.to_owned())
        } else {
            Err(format!("HTTP {status}: {body}"))
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.scratch_dir);
    }
}

/// An AWS SDK config loader that reaches a moto `endpoint` with the test
/// key and nothing from the environment (no profile, no instance metadata).
pub fn sdk_loader(endpoint: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .region(aws_config::Region::new(TEST_REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            TEST_ACCESS_KEY_ID,
            TEST_SECRET_ACCESS_KEY,
            None,
            None,
            "moto-test",
        ))
        .endpoint_url(endpoint)
}

/// `LAPSE_MOTO_PYTHON`, else the venv `scripts/setup-venv.sh` makes at the
/// workspace root.
pub fn python_path() -> PathBuf {
    match std::env::var_os("LAPSE_MOTO_PYTHON") {
        Some(python) if !python.is_empty() => PathBuf::from(python),
        _ => workspace_root().join(".venv/bin/python"),
    }
}

/// The Python program [`Moto`] runs.
pub fn launcher_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("moto/launcher.py")
}

fn workspace_root() -> PathBuf {
    // This crate lives at <root>/tests/support.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/support has a workspace root")
        .to_path_buf()
}

/// Reads the launcher's `LISTENING 127.0.0.1:PORT` line, with a time limit.
///
/// Only stdout's first line is read; the launcher sends anything later to
/// stderr, so dropping the pipe here cannot block it.
fn read_listening_addr(child: &mut Child) -> Result<SocketAddr, String> {
    let stdout = child.stdout.take().expect("launcher stdout is piped");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(read.map(|_| line));
    });
    let line = match receiver.recv_timeout(START_TIMEOUT) {
        Ok(Ok(line)) => line,
        Ok(Err(error)) => return Err(format!("reading its stdout: {error}")),
        Err(_) => return Err(format!("no LISTENING line within {START_TIMEOUT:?}")),
    };
    line.trim()
        .strip_prefix("LISTENING ")
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| format!("expected `LISTENING ADDR`, got {line:?}"))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
