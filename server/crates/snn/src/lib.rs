//! neuride-snn: see DESIGN.md.
