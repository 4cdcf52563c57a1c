//! TODO: see issue 2.
