//! Reading Identity Center: the managed permission sets found by name, their
//! assignments in each managed account, the groups among the assignees and
//! the managed groups with their members, and every user's name. Every
//! listing is read to its last page; any failure fails the whole read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_ssoadmin::types::PrincipalType;

use super::Clients;
use crate::aws::{bounded, describe};
use crate::config::{IdentityCenterConfig, PermissionSetRef};
use crate::state::{PermissionSetState, SsoGroup, SsoState, SsoUser};
use crate::system::SsoScope;

/// The most any of these listings returns per page.
const PAGE: i32 = 100;

/// Reads everything the scope needs.
pub(super) async fn read(
    clients: &Clients,
    config: &IdentityCenterConfig,
    scope: &SsoScope,
    concurrency: usize,
) -> Result<SsoState, String> {
    let wanted: BTreeSet<&str> = scope
        .permission_sets
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let (arns, users, groups) = tokio::try_join!(
        permission_set_arns(clients, config, &wanted, concurrency),
        user_names(clients, config),
        group_names(clients, config),
    )?;
    let permission_sets = assignments(clients, config, scope, &arns, concurrency).await?;
    let mut relevant: BTreeSet<String> = permission_sets
        .iter()
        .flat_map(|p| p.groups.iter().cloned())
        .collect();
    for name in &scope.groups {
        relevant.extend(
            groups
                .iter()
                .filter(|(_, n)| *n == name)
                .map(|(id, _)| id.clone()),
        );
    }
    let members = memberships(clients, config, relevant, concurrency).await?;
    let named = |id: String| SsoUser {
        user_name: users.get(&id).cloned(),
        id,
    };
    let groups = members
        .into_iter()
        .map(|(id, member_ids)| SsoGroup {
            name: groups.get(&id).cloned().unwrap_or_else(|| id.clone()),
            members: member_ids.into_iter().map(named).collect(),
            id,
        })
        .collect();
    let permission_sets = permission_sets
        .into_iter()
        .map(|mut p| {
            p.users = p.users.into_iter().map(|u| named(u.id)).collect();
            p
        })
        .collect();
    Ok(SsoState {
        instance_arn: config.instance_arn.clone(),
        permission_sets,
        groups,
    })
}

/// The ARN of each wanted permission set, by name. Permission sets are
/// listed by ARN only, so each is described until every wanted name is
/// found; one not found is left out (the run then stops, naming it).
async fn permission_set_arns(
    clients: &Clients,
    config: &IdentityCenterConfig,
    wanted: &BTreeSet<&str>,
    concurrency: usize,
) -> Result<HashMap<String, String>, String> {
    let mut listed = Vec::new();
    let mut pages = clients
        .admin
        .list_permission_sets()
        .instance_arn(&config.instance_arn)
        .max_results(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListPermissionSets failed: {}", describe(&e)))?;
        listed.extend(page.permission_sets().iter().cloned());
    }
    let mut found = HashMap::new();
    for chunk in listed.chunks(concurrency.max(1)) {
        if wanted.iter().all(|w| found.contains_key(*w)) {
            break;
        }
        let admin = clients.admin.clone();
        let instance = config.instance_arn.clone();
        let named = bounded(chunk.to_vec(), concurrency, |arn: String| {
            let admin = admin.clone();
            let instance = instance.clone();
            async move {
                let out = admin
                    .describe_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| format!("DescribePermissionSet {arn} failed: {}", describe(&e)))?;
                let name = out
                    .permission_set()
                    .and_then(|p| p.name())
                    .map(str::to_string);
                Ok((arn, name))
            }
        })
        .await?;
        for (arn, name) in named {
            if let Some(name) = name.filter(|n| wanted.contains(n.as_str())) {
                found.insert(name, arn);
            }
        }
    }
    Ok(found)
}

/// The assignments of each managed permission set in its account: users
/// (named later) and group IDs.
async fn assignments(
    clients: &Clients,
    config: &IdentityCenterConfig,
    scope: &SsoScope,
    arns: &HashMap<String, String>,
    concurrency: usize,
) -> Result<Vec<PermissionSetState>, String> {
    let found: Vec<(PermissionSetRef, String)> = scope
        .permission_sets
        .iter()
        .filter_map(|p| Some((p.clone(), arns.get(&p.name)?.clone())))
        .collect();
    let admin = clients.admin.clone();
    let instance = config.instance_arn.clone();
    bounded(found, concurrency, move |(set, arn)| {
        let admin = admin.clone();
        let instance = instance.clone();
        async move {
            let mut state = PermissionSetState {
                account: set.account_alias.clone(),
                account_id: set.account_id.clone(),
                name: set.name.clone(),
                arn: arn.clone(),
                users: Vec::new(),
                groups: Vec::new(),
            };
            let mut pages = admin
                .list_account_assignments()
                .instance_arn(instance)
                .account_id(&set.account_id)
                .permission_set_arn(&arn)
                .max_results(PAGE)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    format!(
                        "ListAccountAssignments for {} failed: {}",
                        set.target(),
                        describe(&e)
                    )
                })?;
                for a in page.account_assignments() {
                    let Some(id) = a.principal_id().map(str::to_string) else {
                        continue;
                    };
                    match a.principal_type() {
                        Some(PrincipalType::User) => state.users.push(SsoUser {
                            id,
                            user_name: None,
                        }),
                        Some(PrincipalType::Group) => state.groups.push(id),
                        _ => {}
                    }
                }
            }
            Ok(state)
        }
    })
    .await
}

/// Every user's name, by user ID.
async fn user_names(
    clients: &Clients,
    config: &IdentityCenterConfig,
) -> Result<HashMap<String, String>, String> {
    let mut names = HashMap::new();
    let mut pages = clients
        .store
        .list_users()
        .identity_store_id(&config.identity_store_id)
        .max_results(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListUsers failed: {}", describe(&e)))?;
        for user in page.users() {
            if let Some(name) = user.user_name() {
                names.insert(user.user_id().to_string(), name.to_string());
            }
        }
    }
    Ok(names)
}

/// Every group's display name, by group ID.
async fn group_names(
    clients: &Clients,
    config: &IdentityCenterConfig,
) -> Result<HashMap<String, String>, String> {
    let mut names = HashMap::new();
    let mut pages = clients
        .store
        .list_groups()
        .identity_store_id(&config.identity_store_id)
        .max_results(PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListGroups failed: {}", describe(&e)))?;
        for group in page.groups() {
            if let Some(name) = group.display_name() {
                names.insert(group.group_id().to_string(), name.to_string());
            }
        }
    }
    Ok(names)
}

/// Each group's member user IDs, by group ID.
async fn memberships(
    clients: &Clients,
    config: &IdentityCenterConfig,
    groups: BTreeSet<String>,
    concurrency: usize,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let store = clients.store.clone();
    let store_id = config.identity_store_id.clone();
    let read = bounded(
        groups.into_iter().collect(),
        concurrency,
        move |group: String| {
            let store = store.clone();
            let store_id = store_id.clone();
            async move {
                let mut members = Vec::new();
                let mut pages = store
                    .list_group_memberships()
                    .identity_store_id(store_id)
                    .group_id(&group)
                    .max_results(PAGE)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        format!(
                            "ListGroupMemberships of group {group} failed: {}",
                            describe(&e)
                        )
                    })?;
                    for m in page.group_memberships() {
                        if let Some(Ok(user)) = m.member_id().map(|id| id.as_user_id()) {
                            members.push(user.clone());
                        }
                    }
                }
                Ok((group, members))
            }
        },
    )
    .await?;
    Ok(read.into_iter().collect())
}
