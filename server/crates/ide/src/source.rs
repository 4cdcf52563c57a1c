//! Reading a file's bytes for analysis, through `neuride-mapped`: small
//! files are read into memory; large ones are memory-mapped so a 350 MB
//! model is decoded without reading its weights (prost keeps `raw_data` as
//! views into the map), and a map whose file is truncated under it reads
//! zeros and says so ([`Contents::was_truncated`]) instead of killing the
//! process.

use bytes::Bytes;
use std::path::Path;

pub use neuride_mapped::Contents;

/// Files at least this big are memory-mapped.
pub const MMAP_THRESHOLD: u64 = neuride_mapped::MAP_FROM;

pub fn read_file(path: &Path) -> std::io::Result<Bytes> {
    read_contents(path).map(|contents| contents.bytes)
}

/// [`read_file`], keeping the map and its file: archives read their headers
/// from the file with positioned reads (`neuride_npz::list_mapped`), so
/// listing a large `.npz` faults in no page of the map.
pub fn read_contents(path: &Path) -> std::io::Result<Contents> {
    neuride_mapped::read(path)
}
