//! The names visible while checking a graph: its own definitions plus, for
//! subgraphs, what the enclosing graphs defined before the node holding it
//! (onnx's `LexicalScopeContext`; shadowing is not allowed).

use crate::hash::HashMap;

/// What defined a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Def {
    GraphInput,
    Initializer,
    FunctionInput,
    /// The output of the node at this index of the same graph.
    Node(usize),
}

impl Def {
    pub(crate) fn describe(self) -> String {
        match self {
            Def::GraphInput => "a graph input".to_owned(),
            Def::Initializer => "an initializer".to_owned(),
            Def::FunctionInput => "a function input".to_owned(),
            Def::Node(index) => format!("node {index}"),
        }
    }
}

pub(crate) struct Scope<'m, 'p> {
    pub(crate) names: HashMap<&'m str, Def>,
    parent: Option<&'p Scope<'m, 'p>>,
}

impl<'m, 'p> Scope<'m, 'p> {
    pub(crate) fn root() -> Self {
        Scope {
            names: HashMap::default(),
            parent: None,
        }
    }

    pub(crate) fn child(parent: &'p Scope<'m, 'p>) -> Self {
        Scope {
            names: HashMap::default(),
            parent: Some(parent),
        }
    }

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Scope {
            names: HashMap::with_capacity_and_hasher(capacity, Default::default()),
            parent: None,
        }
    }

    pub(crate) fn this_graph(&self, name: &str) -> Option<Def> {
        self.names.get(name).copied()
    }

    /// Where `name` is defined: `Some((def, true))` if in an enclosing graph.
    pub(crate) fn find(&self, name: &str) -> Option<(Def, bool)> {
        if let Some(def) = self.this_graph(name) {
            return Some((def, false));
        }
        let mut scope = self.parent;
        while let Some(outer) = scope {
            if let Some(def) = outer.this_graph(name) {
                return Some((def, true));
            }
            scope = outer.parent;
        }
        None
    }

    pub(crate) fn add(&mut self, name: &'m str, def: Def) {
        self.names.insert(name, def);
    }
}
