//! A generated organisation of any size, for the planner benchmark and the
//! scale figures: `levels` levels of two teams and two roles each, people
//! holding two or three levels, and about 5% drift of every kind.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use lapse::config::Config;
use lapse::diag::Source;
use lapse::roster::Roster;
use lapse::state::{
    AccessKey, Actual, AwsState, GithubState, IamUser, Member, RoleState, TeamRole, TeamState,
};

pub const LEVELS: usize = 10;

pub fn now() -> DateTime<Utc> {
    lapse::when::parse_time("2026-11-22", lapse::when::DayEdge::Start).unwrap()
}

pub fn config() -> Config {
    let source = Source {
        name: "lapse.yaml".into(),
        text: config_yaml(),
    };
    lapse::config::from_source(&source, Path::new("lapse.yaml")).unwrap()
}

/// The config as YAML text, its roster `users.yaml` beside it.
pub fn config_yaml() -> String {
    let mut text = String::from("roster: users.yaml\naccess_levels:\n");
    for l in 0..LEVELS {
        let _ = writeln!(
            text,
            "  level{l}:\n    requires: [bpss]\n    github_teams: [team{l}a, team{l}b]\n    aws_roles: [acct{}/role{l}a, acct{}/role{l}b]",
            l % 4,
            (l + 1) % 4
        );
    }
    text.push_str("github: {org: bigorg}\naws:\n  user_arn_template: \"arn:aws:iam::100000000000:user/{github_username}\"\n  users_account: {id: \"100000000000\"}\n  accounts:\n");
    for a in 0..4 {
        let _ = writeln!(text, "    acct{a}: {{id: \"20000000000{a}\"}}");
    }
    text
}

fn levels_of(i: usize) -> Vec<usize> {
    let n = 2 + i % 2;
    (0..n).map(|k| (i * 7 + k * 3) % LEVELS).collect()
}

/// The roster as YAML text: what `validate` reads.
pub fn roster_yaml(people: usize) -> String {
    roster_yaml_within(people, usize::MAX)
}

/// As many of the first `people` as fit in `max_bytes`.
pub fn roster_yaml_within(people: usize, max_bytes: usize) -> String {
    let mut text = String::with_capacity(people.saturating_mul(160).min(max_bytes));
    let mut entry = String::new();
    for i in 0..people {
        entry.clear();
        person_yaml(&mut entry, i);
        if text.len() + entry.len() > max_bytes {
            break;
        }
        text.push_str(&entry);
    }
    text
}

fn person_yaml(text: &mut String, i: usize) {
    let levels: Vec<String> = levels_of(i).iter().map(|l| format!("level{l}")).collect();
    let _ = write!(
        text,
        "- name: Person {i}\n  email: person{i}@example.gov.uk\n  github_username: user{i}\n  access: [{}]\n  attestations: [bpss]\n",
        levels.join(", ")
    );
    if i % 20 == 1 {
        text.push_str("  absent_since: 2026-08-01\n");
    }
    if i % 20 == 2 {
        let _ = write!(
            text,
            "  temporary:\n    - access: level{}\n      expires: 2026-11-{:02}\n      approved_by: lead@example.gov.uk\n      supervised_by: senior@example.gov.uk\n",
            (i + 5) % LEVELS,
            10 + i % 18
        );
    }
}

#[allow(dead_code)]
pub fn roster(config: &Config, people: usize) -> Roster {
    let source = Source {
        name: "users.yaml".into(),
        text: roster_yaml(people),
    };
    lapse::roster::load_source(&source, config, now())
        .unwrap()
        .roster
}

/// Actual state: every entitled grant held, plus the lapsed temporary ones,
/// plus strangers on every tenth team slot. About 10 grants per person.
pub fn actual(people: usize) -> Actual {
    let mut teams: Vec<Vec<Member>> = vec![Vec::new(); LEVELS * 2];
    let mut roles: Vec<Vec<String>> = vec![Vec::new(); LEVELS * 2];
    for i in 0..people {
        let mut held = levels_of(i);
        if i % 20 == 2 {
            held.push((i + 5) % LEVELS);
        }
        for l in held {
            for k in 0..2 {
                teams[l * 2 + k].push(Member {
                    login: format!("user{i}"),
                    role: TeamRole::Member,
                    id: None,
                });
                roles[l * 2 + k].push(format!("arn:aws:iam::100000000000:user/user{i}"));
            }
        }
        if i % 10 == 3 {
            teams[i % (LEVELS * 2)].push(Member {
                login: format!("stranger{i}"),
                role: TeamRole::Member,
                id: None,
            });
            roles[i % (LEVELS * 2)].push(format!("arn:aws:iam::100000000000:user/stranger{i}"));
        }
    }
    let teams = teams
        .into_iter()
        .enumerate()
        .map(|(t, members)| TeamState {
            slug: format!("team{}{}", t / 2, if t % 2 == 0 { "a" } else { "b" }),
            parent: None,
            members,
            invitations: vec![],
        })
        .collect();
    let roles = roles
        .into_iter()
        .enumerate()
        .map(|(r, principals)| {
            let level = r / 2;
            let account = if r % 2 == 0 { level % 4 } else { (level + 1) % 4 };
            RoleState {
                arn: format!("arn:aws:iam::20000000000{account}:role/role{level}{}", if r % 2 == 0 { "a" } else { "b" }),
                account: None,
                trust_policy: serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]}),
            }
        })
        .collect();
    let users = (0..people)
        .map(|i| IamUser {
            arn: format!("arn:aws:iam::100000000000:user/user{i}"),
            created: now() - Duration::days(400),
            password_last_used: Some(now() - Duration::days(if i % 50 == 7 { 90 } else { 3 })),
            access_keys: vec![AccessKey {
                id: None,
                last_used: None,
            }],
        })
        .collect();
    Actual {
        github: Some(GithubState {
            org: "bigorg".into(),
            teams,
        }),
        aws: Some(AwsState {
            roles,
            users: Some(users),
            activity_source: None,
        }),
        sso: None,
    }
}

/// How many grants the actual state holds (team memberships + trust principals).
pub fn grant_count(actual: &Actual) -> usize {
    actual
        .github
        .as_ref()
        .map_or(0, |g| g.teams.iter().map(|t| t.members.len()).sum())
        + actual.aws.as_ref().map_or(0, |a| {
            a.roles
                .iter()
                .map(|r| {
                    r.trust_policy["Statement"][0]["Principal"]["AWS"]
                        .as_array()
                        .map_or(0, Vec::len)
                })
                .sum()
        })
}
