//! Reading a file's bytes for analysis. Small files are read into memory;
//! large ones are memory-mapped so a 350 MB model is decoded without reading
//! its weights (prost keeps `raw_data` as views into the map).

use bytes::Bytes;
use std::path::Path;

/// Files at least this big are memory-mapped. Below it a plain read is as
/// fast and cannot fault if another process truncates the file while we
/// hold it (a map of a truncated file raises SIGBUS on access).
pub const MMAP_THRESHOLD: u64 = 16 * 1024 * 1024;

pub fn read_file(path: &Path) -> std::io::Result<Bytes> {
    read_contents(path).map(|contents| contents.bytes)
}

/// A file's contents as [`read_file`] gives them, with the open file when
/// they are a memory map of it.
pub struct Contents {
    pub bytes: Bytes,
    /// The file behind `bytes` when they are a map (files from
    /// [`MMAP_THRESHOLD`] up): archives read their headers from it with
    /// positioned reads (`neuride_npz::list_mapped`), so listing a large
    /// `.npz` faults in no page of the map.
    pub mapped_from: Option<std::fs::File>,
}

/// [`read_file`], keeping the file of a map.
pub fn read_contents(path: &Path) -> std::io::Result<Contents> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len < MMAP_THRESHOLD {
        let mut buffer = Vec::with_capacity(len as usize);
        std::io::Read::read_to_end(&mut &file, &mut buffer)?;
        return Ok(Contents {
            bytes: Bytes::from(buffer),
            mapped_from: None,
        });
    }
    // SAFETY: the map is read-only. A file truncated underneath us is the
    // accepted risk of every mmap-based reader (rustc, ripgrep do the same);
    // editors and exporters replace big models by rename, which is safe.
    let map = unsafe { memmap2::Mmap::map(&file) }?;
    Ok(Contents {
        bytes: Bytes::from_owner(map),
        mapped_from: Some(file),
    })
}
