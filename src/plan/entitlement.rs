//! Whether a person is entitled to a grant, and if not, why not: the one
//! verdict every kind of grant (team member, invitation, trust principal) shares.

use crate::model::FindingKind;
use crate::when::show_expiry;

use super::Planner;
use super::levels::Levels;
use super::status::Status;

impl<'a> Planner<'a> {
    /// Whether the person at `who` holds one of `levels` now.
    #[inline]
    pub(super) fn entitled(&self, who: Option<usize>, levels: Levels) -> bool {
        who.is_some_and(|i| self.active[i] & levels != 0)
    }

    /// Why a principal holding a grant (given by `levels`) should not: the kind and the reason.
    pub(super) fn why_not(&self, who: Option<usize>, levels: Levels) -> (FindingKind, String) {
        let Some(i) = who else {
            return (FindingKind::Unexpected, "not in the roster".into());
        };
        let s = &self.people[i];
        if let Some(absence) = &s.absence
            && s.if_present_mask & levels != 0
        {
            return (FindingKind::Absent, absence.reason.clone());
        }
        if let Some((level, ended)) = s
            .expired
            .iter()
            .filter(|(l, _)| self.level_bits.has(levels, l))
            .max_by_key(|(_, e)| *e)
        {
            return (
                FindingKind::Expired,
                format!("temporary {level} grant expired {}", show_expiry(*ended)),
            );
        }
        let held = if s.active().is_empty() {
            "the roster gives them no level".to_string()
        } else {
            format!(
                "the roster gives them {}, which does not include this",
                s.active().join(", ")
            )
        };
        (FindingKind::Unexpected, held)
    }

    /// The levels a person holds now that are among `levels`: what a
    /// grant they lack is owed through.
    pub(super) fn entitled_through(&self, s: &Status<'a>, levels: Levels) -> Vec<&'a str> {
        s.active()
            .iter()
            .copied()
            .filter(|l| self.level_bits.has(levels, l))
            .collect()
    }
}
