//! Reading the managed roles' trust policies, per account, with whichever
//! of GetRole and ListRoles costs fewer requests.

use std::collections::BTreeMap;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::Role;

use super::accounts::{AccountClient, Accounts};
use super::{bounded, describe};
use crate::config::RoleRef;
use crate::progress;
use crate::state::{RoleState, role_arn_key};
use crate::trust_policy::TrustPolicy;

/// Up to this many managed roles in an account, one GetRole each is
/// cheapest. ListRoles (pages of [`LIST_ROLES_PAGE`], stopping at the page
/// that completes the set) costs one request in an account of up to a
/// thousand roles, so from two managed roles on it costs no more than GetRole
/// unless the account holds over two thousand roles, which is rare.
pub const GET_ROLE_MAX: usize = 1;

/// The most roles IAM puts in one ListRoles page.
pub const LIST_ROLES_PAGE: i32 = 1000;

/// The trust policy of every managed role, sorted by ARN. A role that does
/// not exist, or any read that fails, fails the whole read.
pub async fn read_roles(
    accounts: &Accounts,
    roles: &[RoleRef],
    concurrency: usize,
) -> Result<Vec<RoleState>, String> {
    let mut by_account: BTreeMap<&str, Vec<RoleRef>> = BTreeMap::new();
    progress::roles_found(roles.len());
    for role in roles {
        by_account
            .entry(role.account_alias.as_str())
            .or_default()
            .push(role.clone());
    }
    let mut work = Vec::new();
    for (alias, roles) in by_account {
        let client = accounts
            .by_alias
            .get(alias)
            .ok_or_else(|| format!("account `{alias}` is not in aws.accounts"))?;
        work.push((client.clone(), roles));
    }
    // Accounts in parallel; within each, `concurrency` reads at once.
    let accounts_at_once = work.len();
    let per_account = bounded(work, accounts_at_once, |(client, roles)| {
        read_account(client, roles, concurrency)
    })
    .await?;
    let mut states: Vec<RoleState> = per_account.into_iter().flatten().collect();
    states.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok(states)
}

async fn read_account(
    client: AccountClient,
    roles: Vec<RoleRef>,
    concurrency: usize,
) -> Result<Vec<RoleState>, String> {
    if roles.len() <= GET_ROLE_MAX {
        bounded(roles, concurrency, |role| get_role(client.clone(), role)).await
    } else {
        list_roles(&client, &roles).await
    }
}

async fn get_role(client: AccountClient, role: RoleRef) -> Result<RoleState, String> {
    let answer = client.iam.get_role().role_name(&role.name).send().await;
    match answer {
        Ok(out) => {
            let found = out
                .role()
                .ok_or_else(|| format!("GetRole {} answered without a role", role.arn))?;
            progress::role_read();
            role_state(&client, found)
        }
        // IAM matches role names regardless of case; an emulator or proxy
        // that does not is asked through ListRoles, which is read that way.
        Err(e) if e.code() == Some("NoSuchEntity") => {
            let found = list_roles(&client, std::slice::from_ref(&role)).await?;
            found
                .into_iter()
                .next()
                .ok_or_else(|| not_found(&client, &role))
        }
        Err(e) => Err(format!(
            "cannot read role {} in account `{}`: {}",
            role.arn,
            client.account.alias,
            describe(&e)
        )),
    }
}

/// Pages through the account's roles until every managed one has been seen.
async fn list_roles(client: &AccountClient, roles: &[RoleRef]) -> Result<Vec<RoleState>, String> {
    let mut wanted: BTreeMap<String, &RoleRef> = roles
        .iter()
        .map(|r| (r.name.to_ascii_lowercase(), r))
        .collect();
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .iam
            .list_roles()
            .max_items(LIST_ROLES_PAGE)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot list the roles of account `{}`: {}",
                    client.account.alias,
                    describe(&e)
                )
            })?;
        for role in page.roles() {
            if wanted
                .remove(&role.role_name().to_ascii_lowercase())
                .is_some()
            {
                progress::role_read();
                found.push(role_state(client, role)?);
            }
        }
        if wanted.is_empty() || !page.is_truncated() {
            break;
        }
        marker = Some(page.marker().map(str::to_string).ok_or_else(|| {
            format!(
                "ListRoles in account `{}` said there is more but gave no marker",
                client.account.alias
            )
        })?);
    }
    match wanted.values().next() {
        Some(missing) => Err(not_found(client, missing)),
        None => Ok(found),
    }
}

fn not_found(client: &AccountClient, role: &RoleRef) -> String {
    format!(
        "managed role {} ({}/{}) does not exist in account {}: fix the config or create the role",
        role.arn, role.account_alias, role.name, client.account.id
    )
}

/// The role as lapse keeps it, after checking it came from the account the
/// config names (base credentials in the wrong account would otherwise read
/// a namesake role there).
fn role_state(client: &AccountClient, role: &Role) -> Result<RoleState, String> {
    let arn = role.arn();
    let account = role_arn_key(arn).map(|(account, _)| account);
    if account != Some(client.account.id.as_str()) {
        return Err(format!(
            "reading account `{}` ({}) gave role {arn}, which is in another account: check aws.accounts.{}.assume_role_arn and the base credentials",
            client.account.alias, client.account.id, client.account.alias
        ));
    }
    let document = role
        .assume_role_policy_document()
        .ok_or_else(|| format!("role {arn} came without its trust policy"))?;
    let policy = TrustPolicy::parse(document)
        .map_err(|e| format!("cannot read the trust policy of {arn}: {e}"))?;
    Ok(RoleState {
        arn: arn.to_string(),
        account: Some(client.account.alias.clone()),
        trust_policy: policy.document,
    })
}
