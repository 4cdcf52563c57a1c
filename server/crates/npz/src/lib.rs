//! neuride-npz: see DESIGN.md.
