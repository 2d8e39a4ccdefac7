//! Sets of access levels as bit masks. Entitlement is checked for every grant
//! and every person on every target, so each check is one AND, not a search.

use foldhash::HashMap;

use crate::config::Config;

/// A set of access levels: bit `i` is the config's `i`-th level by name
/// (the config allows at most 128).
pub(super) type Levels = u128;

/// Each level's bit in a [`Levels`] mask.
pub(super) struct LevelBits<'a> {
    bit: HashMap<&'a str, Levels>,
}

impl<'a> LevelBits<'a> {
    pub(super) fn new(config: &'a Config) -> Self {
        let bit = config
            .levels
            .keys()
            .take(128)
            .enumerate()
            .map(|(i, name)| (name.as_str(), 1u128 << i))
            .collect();
        LevelBits { bit }
    }

    /// The set of these levels, as a mask over the config's levels.
    pub(super) fn mask<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Levels {
        names
            .into_iter()
            .map(|n| self.bit.get(n).copied().unwrap_or(0))
            .fold(0, |a, b| a | b)
    }

    /// Whether `levels` includes the level called `name`.
    pub(super) fn has(&self, levels: Levels, name: &str) -> bool {
        self.bit.get(name).is_some_and(|bit| levels & bit != 0)
    }
}
