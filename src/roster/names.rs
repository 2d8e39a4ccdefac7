//! A person's levels and attestations: a few short names each, the same
//! few across the whole roster.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// A small set of names, sorted, each shared with every other person who
/// has it. A `BTreeSet<String>` allocates a 280-byte node for even one name;
/// two per person made a third of `validate`'s peak memory at 200,000 people.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Names(Box<[Arc<str>]>);

impl Names {
    pub fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|n| (**n).cmp(name)).is_ok()
    }

    /// In sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|n| &**n)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Names {
    /// Unshared names: for tests and callers outside validation.
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> Names {
        let mut interner = Interner::default();
        interner.names(names)
    }
}

/// Hands out one shared copy of each name it has seen.
#[derive(Default)]
pub struct Interner(HashSet<Arc<str>>);

impl Interner {
    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(name) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(name);
        self.0.insert(Arc::clone(&shared));
        shared
    }

    /// `names` as a set: sorted, without repeats.
    pub fn names<S: AsRef<str>>(&mut self, names: impl IntoIterator<Item = S>) -> Names {
        let mut shared: Vec<Arc<str>> = names.into_iter().map(|n| self.name(n.as_ref())).collect();
        shared.sort_unstable();
        shared.dedup();
        Names(shared.into_boxed_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_sorted_without_repeats_and_shares_its_names() {
        let mut interner = Interner::default();
        let a = interner.names(["probation", "bpss", "bpss"]);
        let b = interner.names(["bpss"]);
        assert_eq!(a.iter().collect::<Vec<_>>(), ["bpss", "probation"]);
        assert!(a.contains("bpss") && a.contains("probation") && !a.contains("admin"));
        assert!(Arc::ptr_eq(&a.0[0], &b.0[0]));
        assert_eq!((a.len(), b.len()), (2, 1));
        let none = Names::default();
        assert!(none.is_empty() && !none.contains(""));
    }
}
