//! neuride-npz reads and writes numpy's `.npy` and `.npz` files: every numeric
//! dtype and unicode strings, in both byte orders, C and Fortran order, format
//! versions 1.0-3.0, stored and deflated zip entries, zip64. It is the one
//! NPY/NPZ codec of the workspace: every command reads and writes through it. Listing reads only the zip
//! directory and each `.npy` header; stored arrays are borrowed views of the
//! caller's bytes (a memory map), so nothing is copied until asked.
//!
//! It does no IO of its own (the caller hands in bytes or a reader; for a
//! memory-mapped archive, [`list_mapped`] reads the headers from the
//! caller's file with positioned reads, so listing faults in no page of the
//! map), never prints, never panics on bad input, never unpickles (object
//! arrays are reported, not read), and never allocates what a header merely
//! claims: every size is checked against the bytes that are really there.

pub mod archive;
pub mod array;
pub mod diagnostic;
pub mod dtype;
pub mod error;
pub mod inflate;
pub mod npy;
mod pyliteral;
mod source;
pub mod stats;
pub mod strings;
pub mod summary;
pub mod text;
pub mod writer;
mod zipdir;

pub use archive::{Archive, Compression, Entry, list, list_mapped, list_npy};
pub use array::{Array, Element};
pub use diagnostic::{Diagnostic, Severity};
pub use dtype::{ByteOrder, DType, ElementType};
pub use error::NpzError;
pub use npy::{NpyHeader, read_npy, read_npy_from, write_npy};
pub use source::ReadAt;
pub use stats::{Stats, stats};
pub use strings::{StringArray, read_npy_strings, write_npy_strings};
pub use summary::{ArchiveSummary, ArraySummary, SummaryOptions, summarize};
pub use text::{TextView, render};
pub use writer::{NpzWriter, WriteOptions, write_npz};
