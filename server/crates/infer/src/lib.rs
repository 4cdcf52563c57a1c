//! neuride-infer: see DESIGN.md.
