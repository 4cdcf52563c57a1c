//! An op table: what an engine does for each op name, filled by one
//! `register` function per op family (tract's `register_all_ops` pattern),
//! so the ops an engine supports are the code that handles them.

use std::collections::HashMap;
use std::sync::OnceLock;

pub(crate) struct Registry<F>(HashMap<&'static str, F>);

/// A [`Registry`] in a `static`, filled by its families on first use.
pub(crate) struct Ops<F: 'static> {
    families: &'static [fn(&mut Registry<F>)],
    table: OnceLock<Registry<F>>,
}

impl<F: Copy> Ops<F> {
    pub(crate) const fn new(families: &'static [fn(&mut Registry<F>)]) -> Ops<F> {
        Ops {
            families,
            table: OnceLock::new(),
        }
    }

    pub(crate) fn table(&self) -> &Registry<F> {
        self.table.get_or_init(|| Registry::of(self.families))
    }
}

impl<F: Copy> Registry<F> {
    /// The table the `families` fill.
    fn of(families: &[fn(&mut Registry<F>)]) -> Registry<F> {
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
