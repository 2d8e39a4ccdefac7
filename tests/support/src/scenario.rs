//! Generated organisations of any size, seeded into the fake GitHub and moto,
//! with the config and roster that manage them, the revocations a plan must
//! find, and the fewest API requests any reader needs to find them.
//!
//! Everything is derived from a [`Shape`] without randomness, so a scenario
//! and its request counts are the same on every run.
//!
//! Levels are of two kinds, one per managed team (`team_NN`) and one per
//! few managed roles (`role_NNN`, as few as fit lapse's 128 levels), so a team may have thousands of members while a
//! role's trust policy keeps to a few dozen principals. People hold levels;
//! the people holding a level are exactly its team's members (a few through a
//! child team, one through a pending invitation, two as maintainers) or its
//! role's principals, so nothing entitled is missing. Drift: `drift_rate` of
//! the people hold exactly one grant that must be revoked, one fifth of them
//! on GitHub (an unexpected member, a pending invitation, an observed
//! inactive member, an expired temporary grant) and four fifths in IAM (an
//! unexpected principal, a declared absence, a leaver absent from the roster,
//! an observed inactive principal).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::github::{FakeGithub, Role};
use crate::moto::{DEFAULT_ACCOUNT_ID, Moto, SeedRole, SeedUser, TEST_REGION};

/// The organisation every scenario lives in.
pub const ORG: &str = "acme";
/// The time every scenario is planned at (`lapse --now`).
pub const NOW: &str = "2026-11-22";
/// Where the people's IAM users live: moto's default account, reached with
/// the base credentials.
pub const USERS_ACCOUNT: &str = DEFAULT_ACCOUNT_ID;
/// GitHub's largest page, which lapse asks for.
pub const GITHUB_PAGE: usize = 100;
/// IAM's largest ListRoles page.
pub const LIST_ROLES_PAGE: usize = 1000;
/// The most access levels lapse accepts in a config.
pub const MAX_LEVELS: usize = 128;
/// Read requests in flight per system, written into the config.
pub const CONCURRENCY: usize = 8;

/// The size and drift of a generated organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub name: &'static str,
    /// Everyone with a GitHub login and an IAM user, leavers included.
    pub people: usize,
    pub managed_teams: usize,
    /// Teams lapse does not manage and must not read.
    pub unmanaged_teams: usize,
    /// The largest managed team; team `t` has about `max / (t + 1)` members.
    pub max_team_members: usize,
    pub min_team_members: usize,
    /// The first this many managed teams have a child team.
    pub child_teams: usize,
    pub child_team_members: usize,
    /// Role accounts (the users account comes on top).
    pub accounts: usize,
    pub managed_roles: usize,
    /// Roles lapse does not manage, spread over the role accounts.
    pub unmanaged_roles: usize,
    /// The most principals in one managed role's trust policy, drift included.
    pub max_role_principals: usize,
    /// The share of people holding one grant that must be revoked.
    pub drift_rate: f64,
}

impl Shape {
    /// A few seconds through the binary: every kind of drift, a team of more
    /// than one page, a child team, ListRoles over two accounts.
    pub fn small() -> Shape {
        Shape {
            name: "small",
            people: 200,
            managed_teams: 3,
            unmanaged_teams: 2,
            max_team_members: 150,
            min_team_members: 20,
            child_teams: 1,
            child_team_members: 5,
            accounts: 2,
            managed_roles: 6,
            unmanaged_roles: 20,
            max_role_principals: 14,
            drift_rate: 0.1,
        }
    }

    /// The organisation the benchmark holds lapse to: 5,000 people, 40
    /// managed teams of up to 2,000 members, 4 accounts, 200 managed roles of
    /// up to 50 principals, 2,000 unmanaged roles, 500 revocations.
    pub fn large() -> Shape {
        Shape {
            name: "large",
            people: 5000,
            managed_teams: 40,
            unmanaged_teams: 20,
            max_team_members: 2000,
            min_team_members: 50,
            child_teams: 10,
            child_team_members: 10,
            accounts: 4,
            managed_roles: 200,
            unmanaged_roles: 2000,
            max_role_principals: 50,
            drift_rate: 0.1,
        }
    }

    pub fn by_name(name: &str) -> Option<Shape> {
        match name {
            "small" => Some(Shape::small()),
            "large" => Some(Shape::large()),
            _ => None,
        }
    }
}

/// A grant the plan must revoke.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedRevocation {
    /// `github` or `aws`, as in the report.
    pub system: &'static str,
    /// As in the report: `github:ORG/TEAM` or a role ARN.
    pub target: String,
    /// A GitHub login or a user ARN.
    pub principal: String,
}

/// What kind of drift a drifting person carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drift {
    UnexpectedMember,
    PendingInvitation,
    InactiveMember,
    ExpiredMember,
    UnexpectedPrincipal,
    AbsentPrincipal,
    Leaver,
    InactivePrincipal,
}

const GITHUB_DRIFTS: [Drift; 4] = [
    Drift::UnexpectedMember,
    Drift::PendingInvitation,
    Drift::InactiveMember,
    Drift::ExpiredMember,
];
const AWS_DRIFTS: [Drift; 4] = [
    Drift::UnexpectedPrincipal,
    Drift::AbsentPrincipal,
    Drift::Leaver,
    Drift::InactivePrincipal,
];

#[derive(Debug, Clone)]
struct Person {
    login: String,
    levels: Vec<String>,
    in_roster: bool,
    absent_since: Option<&'static str>,
    expired_level: Option<String>,
    /// When the person's access key was last used.
    last_active: DateTime<Utc>,
}

/// A team as seeded: direct members with roles, and its parent.
#[derive(Debug, Clone)]
pub struct TeamSpec {
    pub slug: String,
    pub parent: Option<String>,
    pub managed: bool,
    pub members: BTreeMap<String, Role>,
}

/// A role as seeded.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub account: usize,
    pub name: String,
    pub managed: bool,
    pub principals: Vec<String>,
}

/// The fewest requests a reader needs for `plan`, per system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowerBound {
    /// For every managed team and every team below one: every page of its
    /// child teams, then, without children, every page of its `role=member`
    /// and `role=maintainer` members (REST lists only direct members then),
    /// or, with children, every 100-member GraphQL page of its direct
    /// members (REST would list the children's members too, and cannot tell
    /// them apart; one GraphQL listing gives both roles, so it is also
    /// cheaper). Then every page of every managed team's invitations, the
    /// teams of each invitation covering more than one team, and the account
    /// of each invited login (an invitation names the login, not the
    /// account's id).
    pub github: usize,
    /// Per role account the cheaper of one GetRole per managed role and the
    /// ListRoles pages of all its roles, plus the credential report of the
    /// users account (GenerateCredentialReport until it is complete, then
    /// GetCredentialReport).
    pub aws: usize,
    /// AssumeRole into each role account, which a plan may add on top.
    pub assume_role: usize,
}

/// A generated organisation.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub shape: Shape,
    /// Managed roles per role level: lapse allows [`MAX_LEVELS`] levels.
    roles_per_level: usize,
    people: Vec<Person>,
    pub teams: Vec<TeamSpec>,
    pub roles: Vec<RoleSpec>,
    /// Pending invitations: login and the teams each covers.
    pub invitations: Vec<(String, Vec<String>)>,
    pub expected: Vec<ExpectedRevocation>,
}

fn at(date: (i32, u32, u32)) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(date.0, date.1, date.2, 9, 0, 0)
        .single()
        .expect("a valid date")
}

fn login(i: usize) -> String {
    format!("u{i:04}")
}

fn team_slug(t: usize) -> String {
    format!("team-{t:02}")
}

fn team_level(t: usize) -> String {
    format!("team_{t:02}")
}

fn role_level(r: usize) -> String {
    format!("role_{r:03}")
}

pub fn account_id(account: usize) -> String {
    format!("2100000000{account:02}")
}

pub fn account_alias(account: usize) -> String {
    format!("acct{account}")
}

pub fn user_arn(login: &str) -> String {
    format!("arn:aws:iam::{USERS_ACCOUNT}:user/{login}")
}

pub fn role_arn(account: usize, name: &str) -> String {
    format!("arn:aws:iam::{}:role/{name}", account_id(account))
}

fn trust_policy(principals: &[String]) -> Value {
    let arns: Vec<String> = principals.iter().map(|l| user_arn(l)).collect();
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arns}, "Action": "sts:AssumeRole"}
    ]})
}

impl Scenario {
    pub fn generate(shape: Shape) -> Scenario {
        let drifting = ((shape.people as f64) * shape.drift_rate).round() as usize;
        let steady = shape.people - drifting;
        let recent = at((2026, 11, 19));
        let long_ago = at((2026, 7, 1));
        let mut people: Vec<Person> = (0..shape.people)
            .map(|i| Person {
                login: login(i),
                levels: Vec::new(),
                in_roster: true,
                absent_since: None,
                expired_level: None,
                last_active: recent,
            })
            .collect();

        // Managed teams: the level's holders, two maintainers first, the
        // last few only in a child team, one invited rather than a member.
        let mut teams: Vec<TeamSpec> = Vec::new();
        let mut invitations: Vec<(String, Vec<String>)> = Vec::new();
        for t in 0..shape.managed_teams {
            let size = (shape.max_team_members / (t + 1))
                .max(shape.min_team_members)
                .min(steady);
            let slug = team_slug(t);
            let has_child = t < shape.child_teams;
            let in_child = if has_child {
                shape.child_team_members
            } else {
                0
            };
            let mut team = TeamSpec {
                slug: slug.clone(),
                parent: None,
                managed: true,
                members: BTreeMap::new(),
            };
            let mut child = TeamSpec {
                slug: format!("{slug}-oncall"),
                parent: Some(slug.clone()),
                managed: false,
                members: BTreeMap::new(),
            };
            for k in 0..size {
                let person = (t * 131 + k) % steady;
                people[person].levels.push(team_level(t));
                let who = people[person].login.clone();
                if k < 2 {
                    team.members.insert(who, Role::Maintainer);
                } else if k >= size - in_child {
                    child.members.insert(who, Role::Member);
                } else if k == size - in_child - 1 {
                    invitations.push((who, vec![slug.clone()]));
                } else {
                    team.members.insert(who, Role::Member);
                }
            }
            teams.push(team);
            if has_child {
                teams.push(child);
            }
        }
        for u in 0..shape.unmanaged_teams {
            let members = (0..10)
                .map(|k| (login((u * 17 + k) % shape.people), Role::Member))
                .collect();
            teams.push(TeamSpec {
                slug: format!("other-{u:02}"),
                parent: None,
                managed: false,
                members,
            });
        }

        // Managed roles: the level's holders, leaving room for drift.
        let aws_drifters = drifting - drifting.div_ceil(5);
        let drift_per_role = aws_drifters.div_ceil(shape.managed_roles.max(1));
        let entitled_most = shape.max_role_principals - drift_per_role;
        let roles_per_level = shape
            .managed_roles
            .div_ceil(MAX_LEVELS - shape.managed_teams)
            .max(1);
        let mut roles: Vec<RoleSpec> = Vec::new();
        for r in 0..shape.managed_roles {
            // Every role of a level trusts the level's holders.
            let level = r / roles_per_level;
            let size = (entitled_most - level % (entitled_most / 2).max(1)).max(1);
            let principals = (0..size)
                .map(|k| {
                    let person = (level * 37 + k * 7) % steady;
                    if r % roles_per_level == 0 {
                        people[person].levels.push(role_level(level));
                    }
                    people[person].login.clone()
                })
                .collect();
            roles.push(RoleSpec {
                account: r % shape.accounts,
                name: format!("role-{r:03}"),
                managed: true,
                principals,
            });
        }
        for u in 0..shape.unmanaged_roles {
            roles.push(RoleSpec {
                account: u % shape.accounts,
                name: format!("other-{u:04}"),
                managed: false,
                principals: vec![login(u % steady)],
            });
        }

        // Drift: each drifting person holds exactly one grant to revoke.
        let mut expected = Vec::new();
        let (mut on_github, mut in_iam) = (0, 0);
        for (j, person) in people[steady..].iter_mut().enumerate() {
            let who = person.login.clone();
            if j % 5 == 0 {
                let t = on_github % shape.managed_teams;
                let drift = GITHUB_DRIFTS[on_github % GITHUB_DRIFTS.len()];
                on_github += 1;
                let slug = team_slug(t);
                match drift {
                    Drift::PendingInvitation => invitations.push((who.clone(), vec![slug.clone()])),
                    _ => {
                        teams
                            .iter_mut()
                            .find(|team| team.slug == slug)
                            .expect("a managed team")
                            .members
                            .insert(who.clone(), Role::Member);
                    }
                }
                match drift {
                    Drift::InactiveMember => {
                        person.levels.push(team_level(t));
                        person.last_active = long_ago;
                    }
                    Drift::ExpiredMember => person.expired_level = Some(team_level(t)),
                    _ => {}
                }
                expected.push(ExpectedRevocation {
                    system: "github",
                    target: format!("github:{ORG}/{slug}"),
                    principal: who,
                });
            } else {
                let r = in_iam % shape.managed_roles;
                let drift = AWS_DRIFTS[in_iam % AWS_DRIFTS.len()];
                in_iam += 1;
                roles[r].principals.push(who.clone());
                match drift {
                    Drift::AbsentPrincipal => {
                        person.levels.push(role_level(r / roles_per_level));
                        person.absent_since = Some("2026-06-01");
                    }
                    Drift::Leaver => person.in_roster = false,
                    Drift::InactivePrincipal => {
                        person.levels.push(role_level(r / roles_per_level));
                        person.last_active = long_ago;
                    }
                    _ => {}
                }
                expected.push(ExpectedRevocation {
                    system: "aws",
                    target: role_arn(roles[r].account, &roles[r].name),
                    principal: user_arn(&who),
                });
            }
        }
        expected.sort();
        Scenario {
            shape,
            roles_per_level,
            people,
            teams,
            roles,
            invitations,
            expected,
        }
    }

    /// Starts both fakes, seeds them, and writes `lapse.yaml` (GitHub token
    /// from `token_env`, which answers to `token`) and `users.yaml` in `dir`.
    pub fn deploy(&self, token: &str, token_env: &str, dir: &Path) -> (FakeGithub, Moto) {
        let github = FakeGithub::start();
        github.personal_token(token);
        self.seed_github(&github);
        let moto = Moto::start();
        self.seed_iam(&moto);
        let config = self.config_yaml(github.base_url(), token_env, &moto.endpoint_url());
        std::fs::write(dir.join("lapse.yaml"), config).expect("write lapse.yaml");
        std::fs::write(dir.join("users.yaml"), self.roster_yaml()).expect("write users.yaml");
        (github, moto)
    }

    /// `BINARY ARGS --config DIR/lapse.yaml --now NOW --format json` against
    /// the deployed fakes (see [`Scenario::deploy`]): JSON logs, the GitHub
    /// token in `token_env`, no terminal, nothing from the real environment.
    pub fn lapse_command(
        binary: &Path,
        moto: &Moto,
        dir: &Path,
        (token_env, token): (&str, &str),
        args: &[&str],
    ) -> Command {
        let mut command = Command::new(binary);
        command
            .args(args)
            .arg("--config")
            .arg(dir.join("lapse.yaml"))
            .args(["--now", NOW, "--format", "json"])
            .env("LAPSE_LOG_FORMAT", "json")
            .env(token_env, token)
            .stdin(Stdio::null());
        moto.configure_command(&mut command);
        command
    }

    /// Seeds the organisation's teams and invitations into the fake GitHub.
    pub fn seed_github(&self, github: &FakeGithub) {
        let org = github.org(ORG);
        for team in &self.teams {
            let mut seed = org.team(&team.slug);
            if let Some(parent) = &team.parent {
                seed = seed.parent(parent);
            }
            for (login, role) in &team.members {
                seed = seed.member(login, *role);
            }
        }
        for (login, teams) in &self.invitations {
            let teams: Vec<&str> = teams.iter().map(String::as_str).collect();
            org.invite_login(login, &teams);
        }
    }

    /// Seeds every person's IAM user (one access key each, last used at
    /// their last activity) and every role, in bulk.
    pub fn seed_iam(&self, moto: &Moto) {
        let created = at((2025, 1, 6));
        let users: Vec<SeedUser> = self
            .people
            .iter()
            .map(|person| SeedUser {
                name: person.login.clone(),
                created: Some(created),
                password_last_used: None,
                access_keys_last_used: vec![Some(person.last_active)],
            })
            .collect();
        moto.seed_iam(USERS_ACCOUNT, &users, &[]);
        for account in 0..self.shape.accounts {
            let roles: Vec<SeedRole> = self
                .roles
                .iter()
                .filter(|role| role.account == account)
                .map(|role| SeedRole {
                    name: role.name.clone(),
                    trust_policy: trust_policy(&role.principals),
                })
                .collect();
            moto.seed_iam(&account_id(account), &[], &roles);
        }
    }

    /// `lapse.yaml` for this organisation. Gates are open: the benchmark and
    /// tests apply every planned revocation.
    pub fn config_yaml(&self, github_api: &str, token_env: &str, aws_endpoint: &str) -> String {
        let mut text = String::from("roster: users.yaml\naccess_levels:\n");
        for t in 0..self.shape.managed_teams {
            let _ = writeln!(
                text,
                "  {}:\n    requires: [bpss]\n    github_teams: [{}]",
                team_level(t),
                team_slug(t)
            );
        }
        let managed: Vec<&RoleSpec> = self.roles.iter().filter(|r| r.managed).collect();
        for (level, roles) in managed.chunks(self.roles_per_level).enumerate() {
            let names: Vec<String> = roles
                .iter()
                .map(|role| format!("{}/{}", account_alias(role.account), role.name))
                .collect();
            let _ = writeln!(
                text,
                "  {}:\n    requires: [bpss]\n    aws_roles: [{}]",
                role_level(level),
                names.join(", ")
            );
        }
        let _ = write!(
            text,
            "github:\n  org: {ORG}\n  api_url: {github_api}\n  token_env: {token_env}\n  concurrency: {CONCURRENCY}\n\
             aws:\n  region: {TEST_REGION}\n  endpoint_url: \"{aws_endpoint}\"\n  concurrency: {CONCURRENCY}\n  \
             user_arn_template: \"arn:aws:iam::{USERS_ACCOUNT}:user/{{github_username}}\"\n  \
             users_account: {{id: \"{USERS_ACCOUNT}\", assume_role_arn: null}}\n  accounts:\n"
        );
        for a in 0..self.shape.accounts {
            let id = account_id(a);
            let _ = writeln!(
                text,
                "    {}: {{id: \"{id}\", assume_role_arn: \"arn:aws:iam::{id}:role/lapse\"}}",
                account_alias(a)
            );
        }
        text.push_str("safety:\n  max_revocations: 100000\n  max_revocation_ratio: 1.0\n");
        // lapse acts only with a durable audit trail.
        text.push_str("audit_log: audit.jsonl\n");
        text
    }

    /// `users.yaml`: everyone but the leavers.
    pub fn roster_yaml(&self) -> String {
        let mut text = String::with_capacity(self.people.len() * 120);
        for person in self.people.iter().filter(|p| p.in_roster) {
            let who = &person.login;
            let _ = write!(
                text,
                "- name: {}\n  email: {who}@example.org\n  github_username: {who}\n  attestations: [bpss]\n",
                who.to_uppercase()
            );
            if !person.levels.is_empty() {
                let _ = writeln!(text, "  access: [{}]", person.levels.join(", "));
            }
            if let Some(since) = person.absent_since {
                let _ = writeln!(text, "  absent_since: {since}");
            }
            if let Some(level) = &person.expired_level {
                let _ = write!(
                    text,
                    "  temporary:\n    - access: {level}\n      expires: 2026-11-01\n      \
                     approved_by: {}@example.org\n      supervised_by: {}@example.org\n",
                    login(0),
                    login(1)
                );
            }
        }
        text
    }

    /// Grants the plan must revoke, sorted.
    pub fn expected_revocations(&self) -> &[ExpectedRevocation] {
        &self.expected
    }

    /// Revocations per system: (GitHub, IAM).
    pub fn revocations_by_system(&self) -> (usize, usize) {
        let github = self
            .expected
            .iter()
            .filter(|e| e.system == "github")
            .count();
        (github, self.expected.len() - github)
    }

    /// Managed roles touched by the expected IAM revocations: one trust
    /// policy write each.
    pub fn roles_touched(&self) -> usize {
        let roles: BTreeSet<&str> = self
            .expected
            .iter()
            .filter(|e| e.system == "aws")
            .map(|e| e.target.as_str())
            .collect();
        roles.len()
    }

    /// The fewest requests any reader needs to plan this organisation.
    /// `report_ready`: IAM already holds a recent credential report, so one
    /// GenerateCredentialReport answers COMPLETE (the first in an account
    /// answers STARTED and must be asked again).
    pub fn lower_bound(&self, report_ready: bool) -> LowerBound {
        let pages = |items: usize| items.div_ceil(GITHUB_PAGE).max(1);
        let mut github = 0;
        let mut read: Vec<&TeamSpec> = self.teams.iter().filter(|t| t.managed).collect();
        let mut seen = 0;
        while seen < read.len() {
            let team = read[seen];
            seen += 1;
            let children: Vec<&TeamSpec> = self
                .teams
                .iter()
                .filter(|c| c.parent.as_deref() == Some(&team.slug))
                .collect();
            github += pages(children.len());
            if children.is_empty() {
                let maintainers = team
                    .members
                    .values()
                    .filter(|r| **r == Role::Maintainer)
                    .count();
                github += pages(team.members.len() - maintainers) + pages(maintainers);
            } else {
                github += pages(team.members.len());
            }
            read.extend(children);
        }
        for team in self.teams.iter().filter(|t| t.managed) {
            let invited = self
                .invitations
                .iter()
                .filter(|(_, teams)| teams.contains(&team.slug))
                .count();
            github += pages(invited);
        }
        github += self
            .invitations
            .iter()
            .filter(|(_, teams)| teams.len() > 1)
            .map(|(_, teams)| pages(teams.len()))
            .sum::<usize>();
        let invited: BTreeSet<&str> = self.invitations.iter().map(|(l, _)| l.as_str()).collect();
        github += invited.len();

        let mut aws = if report_ready { 2 } else { 3 };
        for account in 0..self.shape.accounts {
            let in_account = self.roles.iter().filter(|r| r.account == account);
            let all = in_account.clone().count();
            let managed = in_account.filter(|r| r.managed).count();
            if managed > 0 {
                aws += managed.min(all.div_ceil(LIST_ROLES_PAGE));
            }
        }
        LowerBound {
            github,
            aws,
            assume_role: self.shape.accounts,
        }
    }

    /// The organisation once every expected revocation is carried out:
    /// drifting members out of their teams, their invitations cancelled
    /// (whole, as GitHub cancels them), their principals out of the trust
    /// policies. What a plan after `apply` reads.
    pub fn after_apply(&self) -> Scenario {
        let mut after = self.clone();
        for revoked in &self.expected {
            match revoked.system {
                "github" => {
                    let slug = revoked.target.rsplit('/').next().unwrap_or_default();
                    for team in after.teams.iter_mut().filter(|t| t.slug == slug) {
                        team.members.remove(&revoked.principal);
                    }
                    after.invitations.retain(|(login, teams)| {
                        *login != revoked.principal || !teams.iter().any(|t| t == slug)
                    });
                }
                _ => {
                    for role in after
                        .roles
                        .iter_mut()
                        .filter(|r| role_arn(r.account, &r.name) == revoked.target)
                    {
                        role.principals.retain(|p| user_arn(p) != revoked.principal);
                    }
                }
            }
        }
        after
    }

    /// Everyone GitHub lists as a member of `slug` (child teams' members
    /// included, as `member`), with the role GitHub lists them under.
    fn effective_members(&self, slug: &str) -> BTreeMap<String, Role> {
        let mut listed = BTreeMap::new();
        let mut stack = vec![(slug.to_owned(), true)];
        while let Some((current, direct)) = stack.pop() {
            for team in &self.teams {
                if team.slug == current {
                    for (login, role) in &team.members {
                        let role = if direct { *role } else { Role::Member };
                        listed.entry(login.clone()).or_insert(role);
                    }
                }
                if team.parent.as_deref() == Some(&current) {
                    stack.push((team.slug.clone(), false));
                }
            }
        }
        listed
    }

    /// Managed grants held now: team members (direct or through a child
    /// team) and pending invitations, and role principals.
    pub fn grants(&self) -> (usize, usize) {
        let github = self
            .teams
            .iter()
            .filter(|t| t.managed)
            .map(|t| self.effective_members(&t.slug).len())
            .sum::<usize>()
            + self.invitations.len();
        let aws = self
            .roles
            .iter()
            .filter(|r| r.managed)
            .map(|r| r.principals.len())
            .sum();
        (github, aws)
    }

    /// The IAM users of the users account: one per person, leavers included.
    pub fn iam_users(&self) -> usize {
        self.people.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_large_scenario_has_the_size_the_benchmark_promises() {
        let scenario = Scenario::generate(Shape::large());
        assert_eq!(scenario.expected.len(), 500);
        assert_eq!(scenario.revocations_by_system(), (100, 400));
        let managed_teams = scenario
            .teams
            .iter()
            .filter(|t| t.managed && t.parent.is_none());
        assert_eq!(managed_teams.clone().count(), 40);
        let largest = managed_teams
            .map(|t| scenario.effective_members(&t.slug).len())
            .max();
        assert!(largest.is_some_and(|n| n <= 2000 + 10), "{largest:?}");
        let managed_roles: Vec<&RoleSpec> = scenario.roles.iter().filter(|r| r.managed).collect();
        assert_eq!(managed_roles.len(), 200);
        assert!(managed_roles.iter().all(|r| r.principals.len() <= 50));
        assert_eq!(scenario.roles.len() - managed_roles.len(), 2000);
        assert_eq!(scenario.roles_touched(), 200);
    }

    #[test]
    fn every_kind_of_drift_occurs_in_the_small_scenario() {
        let scenario = Scenario::generate(Shape::small());
        assert_eq!(scenario.expected.len(), 20);
        assert_eq!(scenario.revocations_by_system(), (4, 16));
        let roster = scenario.roster_yaml();
        assert!(roster.contains("absent_since:"));
        assert!(roster.contains("temporary:"));
        assert!(scenario.people.iter().any(|p| !p.in_roster));
    }
}
