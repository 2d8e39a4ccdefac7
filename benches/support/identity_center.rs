//! An IAM Identity Center at organisation scale for the org_scale bench:
//! users, groups with members, permission sets assigned in many accounts to
//! users and groups, seeded into moto; a roster and config that manage all
//! of it; the fewest requests any reader needs to plan it; and the
//! measurement of `lapse plan` against that bound (the bench's own helpers
//! are its parent's).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_identitystore::types::MemberId;
use aws_sdk_ssoadmin::types::{PrincipalType, TargetType};
use lapse_test_support::moto::{DEFAULT_ACCOUNT_ID, Moto};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{
    NOW, Options, Verdicts, calls, lapse_binary, measure, mib, revocations_planned, secs,
    wall_bound,
};

/// What the listings return per page (lapse asks for the most).
const PAGE: usize = 100;
/// Seeding requests in flight at once.
const SEEDERS: usize = 16;
/// moto checks a new user's name against every user without a lock: users
/// created at once can make it fail (a 500 the SDK retries), so one at a time.
const USER_SEEDERS: usize = 1;

#[derive(Debug, Clone)]
pub struct SsoShape {
    pub users: usize,
    pub permission_sets: usize,
    pub accounts: usize,
    pub groups: usize,
    /// Users assigned each permission set directly in each account.
    pub users_per_assignment: usize,
}

impl SsoShape {
    pub fn large() -> SsoShape {
        SsoShape {
            users: 2_000,
            permission_sets: 50,
            accounts: 8,
            groups: 100,
            users_per_assignment: 3,
        }
    }

    pub fn small() -> SsoShape {
        SsoShape {
            users: 200,
            permission_sets: 5,
            accounts: 2,
            groups: 10,
            users_per_assignment: 3,
        }
    }

    /// The fewest requests that read it all: the permission sets listed and
    /// each described (only a description names it), each one's
    /// assignments in each account, every user's name (a listing: fewer
    /// requests than describing the users one by one), the groups listed,
    /// and each group's members. Every listing here fits in one page per
    /// item except the users and, when bigger, the groups.
    pub fn lower_bound(&self) -> usize {
        let pairs = self.permission_sets * self.accounts;
        self.permission_sets.div_ceil(PAGE)
            + self.permission_sets
            + pairs * (self.users_per_assignment + 2).div_ceil(PAGE)
            + self.users.div_ceil(PAGE)
            + self.groups.div_ceil(PAGE)
            + self.groups * self.members_per_group().div_ceil(PAGE).max(1)
    }

    fn members_per_group(&self) -> usize {
        self.users.div_ceil(self.groups)
    }

    /// The two groups of each level: the ones its permission sets are assigned to.
    fn level_groups(&self, p: usize) -> [usize; 2] {
        [(2 * p) % self.groups, (2 * p + 1) % self.groups]
    }
}

/// The roster person `i`: one level each, round the permission sets.
fn email(i: usize) -> String {
    format!("user{i}@example.org")
}

fn account_id(a: usize) -> String {
    format!("{:012}", 100_000_000_000 + a)
}

/// Seeds moto and writes `lapse.yaml` and `users.yaml` into `dir`.
pub async fn seed(moto: &Moto, shape: &SsoShape, dir: &Path) {
    let sdk = moto.sdk_config_in(DEFAULT_ACCOUNT_ID).await;
    let admin = aws_sdk_ssoadmin::Client::new(&sdk);
    let store = aws_sdk_identitystore::Client::new(&sdk);
    let instances = admin.list_instances().send().await.expect("ListInstances");
    let instance = &instances.instances()[0];
    let instance_arn = instance.instance_arn().expect("an ARN").to_string();
    let store_id = instance.identity_store_id().expect("a store").to_string();

    let sets = each(shape.permission_sets, SEEDERS, |p| {
        let (admin, instance_arn) = (admin.clone(), instance_arn.clone());
        async move {
            let out = admin
                .create_permission_set()
                .instance_arn(instance_arn)
                .name(format!("ps{p}"))
                .session_duration("PT1H")
                .send()
                .await
                .expect("CreatePermissionSet");
            out.permission_set()
                .and_then(|s| s.permission_set_arn())
                .expect("an ARN")
                .to_string()
        }
    })
    .await;
    let users = each(shape.users, USER_SEEDERS, |i| {
        let (store, store_id) = (store.clone(), store_id.clone());
        async move {
            let name = aws_sdk_identitystore::types::Name::builder()
                .given_name("User")
                .family_name(i.to_string())
                .build();
            let out = store
                .create_user()
                .identity_store_id(store_id)
                .user_name(email(i))
                .display_name(email(i))
                .name(name)
                .send()
                .await
                .expect("CreateUser");
            out.user_id().to_string()
        }
    })
    .await;
    let groups = each(shape.groups, SEEDERS, |g| {
        let (store, store_id) = (store.clone(), store_id.clone());
        async move {
            let out = store
                .create_group()
                .identity_store_id(store_id)
                .display_name(format!("group{g}"))
                .send()
                .await
                .expect("CreateGroup");
            out.group_id().to_string()
        }
    })
    .await;
    let (users, groups) = (Arc::new(users), Arc::new(groups));
    each(shape.users, SEEDERS, |i| {
        let (store, store_id) = (store.clone(), store_id.clone());
        let (users, groups, shape) = (users.clone(), groups.clone(), shape.clone());
        async move {
            store
                .create_group_membership()
                .identity_store_id(store_id)
                .group_id(&groups[i % shape.groups])
                .member_id(MemberId::UserId(users[i].clone()))
                .send()
                .await
                .expect("CreateGroupMembership");
        }
    })
    .await;
    assign(&admin, &instance_arn, shape, &sets, &users, &groups).await;
    write_files(dir, moto, shape, &instance_arn, &store_id);
}

/// Each permission set in each account: to its level's two groups, and
/// to a few users (some of whom it is not theirs).
async fn assign(
    admin: &aws_sdk_ssoadmin::Client,
    instance_arn: &str,
    shape: &SsoShape,
    sets: &[String],
    users: &Arc<Vec<String>>,
    groups: &Arc<Vec<String>>,
) {
    let mut assignments = Vec::new();
    for (p, set) in sets.iter().enumerate() {
        for a in 0..shape.accounts {
            for g in shape.level_groups(p) {
                assignments.push((set.clone(), a, PrincipalType::Group, groups[g].clone()));
            }
            for k in 0..shape.users_per_assignment {
                let u = (p + k * shape.permission_sets + a * 7) % shape.users;
                assignments.push((set.clone(), a, PrincipalType::User, users[u].clone()));
            }
        }
    }
    let assignments = Arc::new(assignments);
    each(assignments.len(), SEEDERS, |i| {
        let (admin, instance_arn) = (admin.clone(), instance_arn.to_string());
        let assignments = assignments.clone();
        async move {
            let (set, a, kind, id) = &assignments[i];
            admin
                .create_account_assignment()
                .instance_arn(instance_arn)
                .target_id(account_id(*a))
                .target_type(TargetType::AwsAccount)
                .permission_set_arn(set)
                .principal_type(kind.clone())
                .principal_id(id)
                .send()
                .await
                .expect("CreateAccountAssignment");
        }
    })
    .await;
}

/// Runs `task` for `0..n`, `at_once` at a time, answers in order.
async fn each<T, F, Fut>(n: usize, at_once: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let permits = Arc::new(Semaphore::new(at_once));
    let mut running = JoinSet::new();
    for i in 0..n {
        let permits = permits.clone();
        let work = task(i);
        running.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, work.await)
        });
    }
    let mut done = Vec::with_capacity(n);
    while let Some(joined) = running.join_next().await {
        done.push(joined.expect("a seeding task"));
    }
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, value)| value).collect()
}

/// The config (every permission set in every account, every group, one
/// level per permission set) and the roster (one level per person).
fn write_files(dir: &Path, moto: &Moto, shape: &SsoShape, instance_arn: &str, store_id: &str) {
    let mut levels = String::new();
    for p in 0..shape.permission_sets {
        let sets: Vec<String> = (0..shape.accounts)
            .map(|a| format!("acct{a}/ps{p}"))
            .collect();
        let groups: Vec<String> = shape
            .level_groups(p)
            .iter()
            .map(|g| format!("group{g}"))
            .collect();
        levels += &format!(
            "  l{p}:\n    aws_permission_sets: [{}]\n    identity_center_groups: [{}]\n",
            sets.join(", "),
            groups.join(", ")
        );
    }
    let accounts: String = (0..shape.accounts)
        .map(|a| format!("    acct{a}: {{id: \"{}\"}}\n", account_id(a)))
        .collect();
    let config = format!(
        "roster: users.yaml\npolicy: {{inactivity_limit_days: null}}\naccess_levels:\n{levels}aws:\n  region: us-east-1\n  endpoint_url: \"{}\"\n  accounts:\n{accounts}  identity_center:\n    instance_arn: {instance_arn}\n    identity_store_id: {store_id}\n",
        moto.endpoint_url()
    );
    let roster: String = (0..shape.users)
        .map(|i| {
            format!(
                "- email: {}\n  access: l{}\n",
                email(i),
                i % shape.permission_sets
            )
        })
        .collect();
    std::fs::write(dir.join("lapse.yaml"), config).expect("write the config");
    std::fs::write(dir.join("users.yaml"), roster).expect("write the roster");
}

/// `lapse plan` of the seeded Identity Center, as the bench measures it.
pub fn plan_command(binary: &Path, moto: &Moto, dir: &Path, now: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["plan", "--config"])
        .arg(dir.join("lapse.yaml"))
        .args(["--now", now, "--format", "json"])
        .env("LAPSE_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    moto.configure_command(&mut command);
    command
}

/// `plan` of an Identity Center seeded into a moto of its own, held to the
/// fewest requests any reader needs.
pub(super) fn plan(verdicts: &mut Verdicts, options: &Options) {
    let shape = match options.shape.name {
        "large" => SsoShape::large(),
        _ => SsoShape::small(),
    };
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let seeding = Instant::now();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(seed(&moto, &shape, dir.path()));
    println!(
        "Identity Center: {} users, {} permission sets in each of {} accounts, {} groups; seeded in {}",
        shape.users,
        shape.permission_sets,
        shape.accounts,
        shape.groups,
        secs(seeding.elapsed())
    );
    moto.reset_counts();
    moto.set_latency(None, options.latency);
    let plan = measure(plan_command(&lapse_binary(), &moto, dir.path(), NOW));
    let seen = moto.request_counts();
    let sso = calls(&plan.report, "sso");
    let bound = shape.lower_bound();
    println!(
        "  exit {:?}, {} findings, {} revocations planned; calls {sso} (lower bound {bound}): {}",
        plan.code,
        plan.report["summary"]["findings"],
        revocations_planned(&plan.report),
        seen.by_action
            .iter()
            .map(|(action, n)| format!("{action} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    verdicts.check(
        "Identity Center plan reads it all",
        plan.code == Some(2) && sso as u64 == seen.total,
        format!(
            "exit {:?}, api_calls sso {sso}, moto saw {}",
            plan.code, seen.total
        ),
    );
    verdicts.check(
        "Identity Center plan calls <= lower bound",
        sso <= bound,
        format!("{sso} <= {bound}"),
    );
    let wall = wall_bound(bound, options.latency);
    let ratio = plan.wall.as_secs_f64() / wall.as_secs_f64();
    println!(
        "  wall: {} (bound {}: {ratio:.2}x), peak memory {}",
        secs(plan.wall),
        secs(wall),
        mib(plan.peak_rss)
    );
    // Reported, not held: the reads come in three rounds (permission sets
    // and users, then assignments, then memberships), each waiting for the
    // last, where the bound assumes one stream.
    println!("  INFO Identity Center plan wall: {ratio:.2}x the bound");
}
