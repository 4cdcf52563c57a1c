//! neuride-dsl: see DESIGN.md.
