//! An op table: what an engine does for each op name, filled by one
//! `register` function per op family (tract's `register_all_ops` pattern),
//! so the ops an engine supports are the code that handles them.

use std::collections::HashMap;

pub(crate) struct Registry<F>(HashMap<&'static str, F>);

impl<F: Copy> Registry<F> {
    /// The table the `families` fill.
    pub(crate) fn of(families: &[fn(&mut Registry<F>)]) -> Registry<F> {
        let mut registry = Registry(HashMap::new());
        for register in families {
            register(&mut registry);
        }
        registry
    }

    /// `handle` for each of `names`.
    pub(crate) fn add(&mut self, names: &[&'static str], handle: F) {
        for name in names {
            let previous = self.0.insert(name, handle);
            debug_assert!(previous.is_none(), "{name} registered twice");
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<F> {
        self.0.get(name).copied()
    }

    /// The registered op names, sorted.
    #[cfg(test)]
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.0.keys().copied().collect();
        names.sort_unstable();
        names
    }
}
