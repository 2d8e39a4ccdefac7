//! The holders of the managed Identity Center permission sets and groups,
//! read as the planner reads them: each user assigned a permission set
//! directly, each member of a group assigned it (through that group), and
//! each member of a managed group; people matched by their user name.

use std::collections::HashMap;

use crate::model::{System, sso_group_target};
use crate::report::review::HeldAs;
use crate::state::{SsoState, SsoUser};

use super::{Builder, Grant, Level, Share, levels_giving};

impl Builder<'_> {
    /// Every holder of every managed permission set and group.
    pub(in crate::engine::review) fn sso(&mut self, state: &SsoState) {
        let by_name: HashMap<String, usize> = self
            .people
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let name = self
                    .config
                    .sso_user_name(&p.email, p.github_username.as_deref())?;
                Some((name.to_lowercase(), i))
            })
            .collect();
        for set in self.config.managed_permission_sets() {
            let Some(actual) = state.permission_set(&set.account_id, &set.name) else {
                continue;
            };
            let target = set.target();
            let levels = levels_giving(self.config, |l| l.aws_permission_sets.contains(&set));
            for user in &actual.users {
                self.push_sso(&target, user, HeldAs::Assignment, None, &levels, &by_name);
            }
            for group in actual.groups.iter().filter_map(|id| state.group(id)) {
                let via = Some(sso_group_target(&group.name));
                for member in &group.members {
                    self.push_sso(
                        &target,
                        member,
                        HeldAs::Member,
                        via.clone(),
                        &levels,
                        &by_name,
                    );
                }
            }
        }
        for name in self.config.managed_sso_groups() {
            let Some(group) = state.group_named(&name) else {
                continue;
            };
            let target = sso_group_target(&name);
            let levels = levels_giving(self.config, |l| l.identity_center_groups.contains(&name));
            for member in &group.members {
                self.push_sso(&target, member, HeldAs::Member, None, &levels, &by_name);
            }
        }
    }

    fn push_sso(
        &mut self,
        target: &str,
        user: &SsoUser,
        held_as: HeldAs,
        via: Option<String>,
        levels: &[&Level],
        by_name: &HashMap<String, usize>,
    ) {
        let principal = user.user_name.clone().unwrap_or_else(|| user.id.clone());
        let who = by_name.get(&principal.to_lowercase()).copied();
        let protected = self
            .config
            .safety
            .protected
            .iter()
            .any(|p| p.protects_sso_user(&principal));
        let grant = Grant {
            system: System::Sso,
            target,
            principal,
            held_as,
            via,
            principal_type: None,
            who,
            protected,
            iam_user: None,
            share: Share::All,
        };
        self.push(grant, levels);
    }
}
