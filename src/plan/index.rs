//! The lookups the planner builds once and consults for every grant: roster
//! people by the keys grants name them by (GitHub account id, login, email,
//! IAM user ARN), each IAM user by its person, and each configured role by
//! the ARN IAM reports. How a key is folded before it is looked up is
//! decided here too.

use std::borrow::Cow;
use std::cell::OnceCell;

use foldhash::{HashMap, HashMapExt};

use crate::config::{Config, RoleRef};
use crate::roster::{Person, Roster};
use crate::state::{Actual, IamUser};

use super::aws::actual_role;

/// Roster people by place in the roster, under lower-case keys borrowed from
/// the roster where it is already lower case.
pub(super) struct PeopleIndex<'a> {
    roster: &'a Roster,
    by_login: HashMap<Cow<'a, str>, usize>,
    /// By the GitHub account's numeric id, for those the roster gives one.
    by_github_id: HashMap<u64, usize>,
    /// Built on first use: only invitations without a login need it.
    by_email: OnceCell<HashMap<Cow<'a, str>, usize>>,
    by_arn: HashMap<Cow<'a, str>, usize>,
}

impl<'a> PeopleIndex<'a> {
    pub(super) fn new(roster: &'a Roster) -> Self {
        let n = roster.people.len();
        let mut by_login = HashMap::with_capacity(n);
        let mut by_arn = HashMap::with_capacity(n);
        let mut by_github_id = HashMap::new();
        for (i, p) in roster.people.iter().enumerate() {
            if let Some(l) = &p.github_username {
                by_login.insert(ascii_lowercase(l), i);
            }
            if let Some(id) = p.github_id {
                by_github_id.insert(id, i);
            }
            if let Some(a) = &p.aws_user_arn {
                by_arn.insert(lowercase(a), i);
            }
        }
        PeopleIndex {
            roster,
            by_login,
            by_github_id,
            by_email: OnceCell::new(),
            by_arn,
        }
    }

    /// The person with this GitHub login, given in lower case.
    #[inline]
    pub(super) fn by_login(&self, login: &str) -> Option<usize> {
        self.by_login.get(login).copied()
    }

    /// Who a GitHub account is (`login` in lower case, `id` when observed):
    /// matched by id when a roster entry carries the account's id, whatever
    /// its login is now; else by login, unless the person with that login
    /// carries another account's id (the login changed hands).
    pub(super) fn account(&self, login: &str, id: Option<u64>) -> Account {
        // Most rosters give no ids: spare every member a lookup then.
        let by_id = id.filter(|_| !self.by_github_id.is_empty());
        if let Some(i) = by_id.and_then(|id| self.by_github_id.get(&id)) {
            return Account::Person(*i);
        }
        match self.by_login(login) {
            Some(i) if id.is_some() && self.roster.people[i].github_id.is_some() => {
                Account::LoginReused { person: i }
            }
            Some(i) => Account::Person(i),
            None => Account::Nobody,
        }
    }

    /// The person with this IAM user ARN, given in lower case.
    #[inline]
    pub(super) fn by_arn(&self, arn: &str) -> Option<usize> {
        self.by_arn.get(arn).copied()
    }

    /// The person with this email, given in lower case.
    pub(super) fn by_email(&self, email: &str) -> Option<usize> {
        self.by_email
            .get_or_init(|| {
                let mut by_email = HashMap::with_capacity(self.roster.people.len());
                for (i, p) in self.roster.people.iter().enumerate() {
                    by_email.insert(lowercase(&p.email), i);
                }
                by_email
            })
            .get(email)
            .copied()
    }

    /// Who `by_login` finds for this person's login when a team member with
    /// it would match it: a login not in lower case matches no member.
    /// Membership of a team is then one mark per person, not a lookup per login.
    pub(super) fn login_holder(&self, p: &Person) -> Option<usize> {
        p.github_username
            .as_deref()
            .filter(|l| !has_ascii_uppercase(l))
            .and_then(|l| self.by_login(l))
    }

    /// Who `by_arn` finds for this person's IAM user ARN, for the same reason.
    pub(super) fn arn_holder(&self, p: &Person) -> Option<usize> {
        p.aws_user_arn
            .as_deref()
            .and_then(|a| self.by_arn(lowercase(a).as_ref()))
    }

    /// Each IAM user at the place `by_arn` gives its ARN, so a person's
    /// user is found from their `arn_holder` without a map of its own.
    /// None when activity was not observed: then nobody is absent by inactivity.
    pub(super) fn users_by_holder<'s>(
        &self,
        actual: &'s Actual,
    ) -> Option<Vec<Option<&'s IamUser>>> {
        actual
            .aws
            .as_ref()
            .and_then(|a| a.users.as_ref())
            .map(|users| {
                let mut by_holder = vec![None; self.roster.people.len()];
                for u in users {
                    if let Some(i) = self.by_arn(lowercase(&u.arn).as_ref()) {
                        by_holder[i] = Some(u);
                    }
                }
                by_holder
            })
    }
}

/// Who a GitHub account is in the roster (see [`PeopleIndex::account`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Account {
    /// The person at this place in the roster.
    Person(usize),
    /// Nobody in the roster, though it holds the login of the person at
    /// `person`, whose `github_id` names another account.
    LoginReused {
        person: usize,
    },
    Nobody,
}

impl Account {
    /// The person it is, if anyone.
    pub(super) fn person(self) -> Option<usize> {
        match self {
            Account::Person(i) => Some(i),
            _ => None,
        }
    }
}

/// Each managed role IAM reported, to the ARN it reported for it.
pub(super) fn role_targets(config: &Config, actual: &Actual) -> HashMap<RoleRef, String> {
    config
        .managed_roles()
        .into_iter()
        .filter_map(|r| {
            let role = actual_role(actual.aws.as_ref()?, &r)?;
            Some((r, role.arn.clone()))
        })
        .collect()
}

/// `text` in lower case, borrowed when it already is (as it nearly always is).
#[inline]
pub(super) fn lowercase(text: &str) -> Cow<'_, str> {
    if text.is_ascii() && !has_ascii_uppercase(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// `text` in ASCII lower case, borrowed when it already is.
#[inline]
pub(super) fn ascii_lowercase(text: &str) -> Cow<'_, str> {
    if has_ascii_uppercase(text) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `text` has an ASCII capital. Looks at every byte rather than
/// stopping at the first capital, which lets the compiler vectorise it: it
/// runs for every grant, and the answer is nearly always no.
#[inline]
fn has_ascii_uppercase(text: &str) -> bool {
    text.bytes()
        .fold(false, |found, b| found | b.is_ascii_uppercase())
}
