//! Planning IAM Identity Center: each managed permission set in each
//! account (users assigned directly, and the members of every group
//! assigned it), then each managed group's members, then the entitled
//! people who hold neither. People are Identity Store users by the user
//! name `aws.identity_center.user_name` makes of them.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::config::{Config, PermissionSetRef};
use crate::model::{Action, Finding, FindingKind, Revocation, System, sso_group_target};
use crate::state::{PermissionSetState, SsoGroup, SsoState, SsoUser};

use super::Planner;
use super::levels::Levels;

/// Managed permission sets and groups that nothing observed matches: the
/// run must stop rather than skip them, or nobody on them would be reported.
pub fn unmatched_sso(config: &Config, state: &SsoState) -> Vec<String> {
    let sets = config
        .managed_permission_sets()
        .into_iter()
        .filter(|p| state.permission_set(&p.account_id, &p.name).is_none())
        .map(|p| p.target());
    let groups = config
        .managed_sso_groups()
        .into_iter()
        .filter(|g| state.group_named(g).is_none())
        .map(|g| sso_group_target(&g));
    sets.chain(groups).collect()
}

/// The target being planned, and what every finding about it shares.
struct SsoTarget {
    target: String,
    levels: Levels,
    /// Roster people who hold it by any route, by place in the roster.
    held: Vec<bool>,
    /// Principals counted as holders (lower-case user names or user IDs).
    holders: HashSet<String>,
}

/// How a user holds a permission set.
enum Route<'s> {
    /// Assigned directly, in this account and permission set.
    Direct(&'s PermissionSetState),
    /// A member of this group.
    Group { group: &'s SsoGroup, managed: bool },
}

impl Planner<'_> {
    /// Plans every managed permission set and group, when Identity Center was observed.
    pub(super) fn plan_sso(&mut self) {
        let Some(state) = &self.actual.sso else {
            return;
        };
        let by_name = self.people_by_sso_name();
        for set in self.config.managed_permission_sets() {
            if let Some(actual) = state.permission_set(&set.account_id, &set.name) {
                let start = self.findings.len();
                self.plan_permission_set(&set, actual, state, &by_name);
                self.sort_one_target(start);
            }
        }
        for name in self.config.managed_sso_groups() {
            if let Some(group) = state.group_named(&name) {
                let start = self.findings.len();
                self.plan_group(group, &by_name);
                self.sort_one_target(start);
            }
        }
    }

    /// Roster places by lower-case Identity Store user name.
    fn people_by_sso_name(&self) -> HashMap<String, usize> {
        let mut by_name = HashMap::with_capacity(self.people.len());
        for (i, s) in self.people.iter().enumerate() {
            if let Some(name) = &s.sso_user_name {
                by_name.insert(name.to_lowercase(), i);
            }
        }
        by_name
    }

    fn levels_with_permission_set(&self, set: &PermissionSetRef) -> Levels {
        self.level_bits.mask(
            self.config
                .levels
                .values()
                .filter(|l| l.aws_permission_sets.contains(set))
                .map(|l| l.name.as_str()),
        )
    }

    fn levels_with_group(&self, group: &str) -> Levels {
        self.level_bits.mask(
            self.config
                .levels
                .values()
                .filter(|l| l.identity_center_groups.iter().any(|g| g == group))
                .map(|l| l.name.as_str()),
        )
    }

    fn plan_permission_set(
        &mut self,
        set: &PermissionSetRef,
        actual: &PermissionSetState,
        state: &SsoState,
        by_name: &HashMap<String, usize>,
    ) {
        let mut scope = self.sso_target(set.target(), self.levels_with_permission_set(set));
        for user in &actual.users {
            self.plan_holder(&mut scope, user, &Route::Direct(actual), by_name);
        }
        let managed = self.config.managed_sso_groups();
        for group in actual.groups.iter().filter_map(|id| state.group(id)) {
            let route = Route::Group {
                group,
                managed: managed.contains(&group.name),
            };
            for member in &group.members {
                self.plan_holder(&mut scope, member, &route, by_name);
            }
        }
        self.plan_missing_sso(&scope, "but not assigned the permission set");
    }

    fn plan_group(&mut self, group: &SsoGroup, by_name: &HashMap<String, usize>) {
        let target = sso_group_target(&group.name);
        let mut scope = self.sso_target(target, self.levels_with_group(&group.name));
        for member in &group.members {
            self.plan_member_of_group(&mut scope, member, group, by_name);
        }
        self.plan_missing_sso(&scope, "but not a member of the group");
    }

    fn sso_target(&self, target: String, levels: Levels) -> SsoTarget {
        SsoTarget {
            target,
            levels,
            held: vec![false; self.people.len()],
            holders: HashSet::new(),
        }
    }

    /// Counts a holder once per target, and says who they are.
    fn sso_holder(
        &mut self,
        scope: &mut SsoTarget,
        user: &SsoUser,
        by_name: &HashMap<String, usize>,
    ) -> Option<usize> {
        let key = match &user.user_name {
            Some(name) => name.to_lowercase(),
            None => user.id.clone(),
        };
        let who = by_name.get(&key).copied();
        if scope.holders.insert(key) {
            self.grants.sso += 1;
        }
        if let Some(i) = who {
            scope.held[i] = true;
        }
        who
    }

    /// One user holding a permission set by one route.
    fn plan_holder(
        &mut self,
        scope: &mut SsoTarget,
        user: &SsoUser,
        route: &Route,
        by_name: &HashMap<String, usize>,
    ) {
        let who = self.sso_holder(scope, user, by_name);
        let Some(name) = &user.user_name else {
            if let Route::Direct(set) = route {
                self.push_orphaned(scope, user, set);
            }
            return;
        };
        if self.protected.claims_sso_user(name) || self.entitled(who, scope.levels) {
            return;
        }
        let (kind, mut reason) = self.why_not(who, scope.levels);
        let revocation = match route {
            Route::Direct(set) => Some(Revocation::SsoAssignment {
                target: scope.target.clone(),
                account_id: set.account_id.clone(),
                permission_set_arn: set.arn.clone(),
                user_id: user.id.clone(),
                user_name: name.clone(),
            }),
            Route::Group { group, managed } => {
                let group_levels = self.levels_with_group(&group.name);
                let entitled_to_group = self.entitled(who, group_levels);
                reason.push_str(&through_group(&group.name, *managed, entitled_to_group));
                (*managed && !entitled_to_group).then(|| membership(group, user, name))
            }
        };
        self.push_sso(scope, kind, name, who, reason, revocation);
    }

    /// One member of a managed group.
    fn plan_member_of_group(
        &mut self,
        scope: &mut SsoTarget,
        member: &SsoUser,
        group: &SsoGroup,
        by_name: &HashMap<String, usize>,
    ) {
        let who = self.sso_holder(scope, member, by_name);
        let Some(name) = &member.user_name else {
            return;
        };
        if self.protected.claims_sso_user(name) || self.entitled(who, scope.levels) {
            return;
        }
        let (kind, reason) = self.why_not(who, scope.levels);
        let revocation = Some(membership(group, member, name));
        self.push_sso(scope, kind, name, who, reason, revocation);
    }

    /// An assignment to a user the identity store no longer has.
    fn push_orphaned(&mut self, scope: &SsoTarget, user: &SsoUser, set: &PermissionSetState) {
        let revocation = Revocation::SsoAssignment {
            target: scope.target.clone(),
            account_id: set.account_id.clone(),
            permission_set_arn: set.arn.clone(),
            user_id: user.id.clone(),
            user_name: user.id.clone(),
        };
        self.push_sso(
            scope,
            FindingKind::Orphaned,
            &user.id,
            None,
            "assigned to a user ID the identity store no longer has (a deleted user)".into(),
            Some(revocation),
        );
    }

    fn push_sso(
        &mut self,
        scope: &SsoTarget,
        kind: FindingKind,
        principal: &str,
        who: Option<usize>,
        reason: String,
        revocation: Option<Revocation>,
    ) {
        self.findings.push(Finding {
            kind,
            system: System::Sso,
            target: scope.target.clone(),
            principal: principal.to_string(),
            person: who.map(|i| self.people[i].person.email.clone()),
            action: if revocation.is_some() {
                Action::Revoke
            } else {
                Action::None
            },
            reason,
            result: None,
            error: None,
            revocation,
        });
    }

    /// Entitled people who hold the target by no route.
    fn plan_missing_sso(&mut self, scope: &SsoTarget, how: &str) {
        for i in 0..self.people.len() {
            if scope.held[i] || !self.entitled(Some(i), scope.levels) {
                continue;
            }
            let s = &self.people[i];
            let Some(name) = s.sso_user_name.clone() else {
                continue;
            };
            let through = self.entitled_through(s, scope.levels);
            let reason = format!("entitled through {}, {how}", through.join(", "));
            let email = s.person.email.clone();
            self.findings.push(Finding {
                kind: FindingKind::Missing,
                system: System::Sso,
                target: scope.target.clone(),
                principal: name,
                person: Some(email),
                action: Action::None,
                reason,
                result: None,
                error: None,
                revocation: None,
            });
        }
    }
}

/// Removing a user from a group.
fn membership(group: &SsoGroup, user: &SsoUser, name: &str) -> Revocation {
    Revocation::SsoGroupMembership {
        group_id: group.id.clone(),
        group: group.name.clone(),
        user_id: user.id.clone(),
        user_name: name.to_string(),
    }
}

/// What a reason adds for a permission set held through a group.
fn through_group(group: &str, managed: bool, entitled_to_group: bool) -> String {
    let target = sso_group_target(group);
    if !managed {
        format!(
            "; held through group {target}, which lapse does not manage, so remove them there by hand"
        )
    } else if entitled_to_group {
        format!(
            "; held through group {target}, which the roster gives them: lapse keeps the membership, so take this permission set from the group or give it to their levels"
        )
    } else {
        format!("; held through group {target}: lapse removes them from the group")
    }
}
