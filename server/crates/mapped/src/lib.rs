//! Read-only memory maps of files that cannot kill the process when the file
//! shrinks under them, and the one policy for reading a file's bytes: small
//! files are read into memory, big ones mapped ([`read`]).
//!
//! A map of a file that another process truncates in place (what
//! `onnx.save` or `open(path, "wb")` does on every re-export) raises SIGBUS
//! on the next read of a page past the new end. On Linux and Android every
//! [`Map`] is registered with a SIGBUS handler (`guard.rs`) that swaps the
//! lost pages for zero pages and marks the map [`Map::was_truncated`]; the
//! read then sees zeros, which every reader of untrusted bytes already turns
//! into diagnostics. Callers that care (the analysis host, jobs) check the
//! flag and discard what they computed. Elsewhere maps are plain
//! `memmap2` maps.
//!
//! This crate is the only place that calls `memmap2::Mmap::map`; it never
//! writes to a file and never maps one writable.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod guard;

use bytes::Bytes;
use std::fs::File;
use std::io::{Read, Seek};
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

/// Files at least this big are mapped by [`read`]; smaller ones are read:
/// as fast, and a copy cannot change or fault when the file does.
pub const MAP_FROM: u64 = 16 * 1024 * 1024;

/// A read-only map of a whole file (or, when it cannot be guarded, a copy
/// of it). Cloning is cheap and shares the map.
#[derive(Clone)]
pub struct Map(Arc<Region>);

struct Region {
    // Fields drop in order: the range is unregistered before it is unmapped.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    registration: Option<guard::Registration>,
    storage: Storage,
}

enum Storage {
    /// An empty file (mapping zero bytes is pointless, and an error on some systems).
    Empty,
    Mapped(memmap2::Mmap),
    /// The registry of guarded maps was full: the file was read instead.
    Copied(Box<[u8]>),
}

impl Map {
    /// Maps all of `file` read-only.
    pub fn new(file: &File) -> std::io::Result<Map> {
        if file.metadata()?.len() == 0 {
            return Ok(Map::of(Storage::Empty));
        }
        // SAFETY: the map is read-only and private to this process. A file
        // truncated under it no longer faults on Linux (see `guard.rs`);
        // bytes changed in place by a writer are read as they are, which
        // every reader of untrusted bytes copes with.
        let map = unsafe { memmap2::Mmap::map(file) }?;
        if map.is_empty() {
            return Ok(Map::of(Storage::Empty));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            match guard::register(map.as_ptr() as usize, map.len()) {
                Some(registration) => Ok(Map(Arc::new(Region {
                    registration: Some(registration),
                    storage: Storage::Mapped(map),
                }))),
                None => {
                    drop(map);
                    Ok(Map::of(Storage::Copied(read_all(file)?.into())))
                }
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Ok(Map::of(Storage::Mapped(map)))
    }

    fn of(storage: Storage) -> Map {
        Map(Arc::new(Region {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            registration: None,
            storage,
        }))
    }

    /// The map as `Bytes` (zero-copy: slices of it keep the map alive).
    pub fn bytes(&self) -> Bytes {
        Bytes::from_owner(self.clone())
    }

    /// Whether the file shrank under the map and a read met zero pages
    /// instead of its bytes: anything computed from the map may be wrong.
    pub fn was_truncated(&self) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(registration) = &self.0.registration {
            return registration.was_truncated();
        }
        false
    }

    /// Whether the bytes are a map of the file (not empty, not a copy).
    pub fn is_mapped(&self) -> bool {
        matches!(self.0.storage, Storage::Mapped(_))
    }

    /// Tells the kernel not to read ahead around the pages touched (for
    /// readers that jump from header to header). A failed hint only costs
    /// I/O, so its error is ignored.
    pub fn advise_random(&self) {
        #[cfg(unix)]
        if let Storage::Mapped(map) = &self.0.storage {
            let _ = map.advise(memmap2::Advice::Random);
        }
    }
}

impl Deref for Map {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0.storage {
            Storage::Empty => &[],
            Storage::Mapped(map) => map,
            Storage::Copied(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for Map {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// Maps found truncated since the process started (0 where maps are not guarded).
pub fn truncations() -> usize {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return guard::truncations();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    0
}

/// A file's bytes as [`read`] gives them, with the map and the open file
/// when they are a map.
pub struct Contents {
    pub bytes: Bytes,
    mapped: Option<(File, Map)>,
}

impl Contents {
    /// Bytes that come from no file (an editor's text).
    pub fn from_bytes(bytes: Bytes) -> Contents {
        Contents {
            bytes,
            mapped: None,
        }
    }

    /// The file behind a map (files from [`MAP_FROM`] up): readers take
    /// their headers from it with positioned reads so that listing or
    /// decoding a big file faults in no page of the map.
    pub fn file(&self) -> Option<&File> {
        self.mapped.as_ref().map(|(file, _)| file)
    }

    pub fn map(&self) -> Option<&Map> {
        self.mapped.as_ref().map(|(_, map)| map)
    }

    /// See [`Map::was_truncated`]; never for bytes that were read.
    pub fn was_truncated(&self) -> bool {
        self.map().is_some_and(Map::was_truncated)
    }
}

/// The bytes of the file at `path`: read into memory below [`MAP_FROM`],
/// a [`Map`] from there up.
pub fn read(path: &Path) -> std::io::Result<Contents> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len < MAP_FROM {
        return Ok(Contents::from_bytes(Bytes::from(read_opened(&file, len)?)));
    }
    let map = Map::new(&file)?;
    Ok(Contents {
        bytes: map.bytes(),
        mapped: Some((file, map)),
    })
}

/// All of `file` from its start, whatever its position.
fn read_all(mut file: &File) -> std::io::Result<Vec<u8>> {
    let len = file.metadata()?.len();
    file.seek(std::io::SeekFrom::Start(0))?;
    read_opened(file, len)
}

/// The rest of `file` (which its metadata said was `len` bytes long; all of
/// it, to its end, if it grew since). Two reads and no other system call:
/// `File`'s own `read_to_end` asks for the size and position again, which
/// for a folder of small models (`neuride check` on the ONNX node tests,
/// 1,884 files) was a third of the system calls.
fn read_opened(file: &File, len: u64) -> std::io::Result<Vec<u8>> {
    struct Plain<'a>(&'a File);
    impl Read for Plain<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut file = self.0;
            file.read(buf)
        }
    }
    let mut buffer = vec![0; len as usize];
    let mut filled = 0;
    while filled < buffer.len() {
        match Plain(file).read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buffer.truncate(filled);
    // Whatever was appended meanwhile (one probing read when nothing was).
    Plain(file).read_to_end(&mut buffer)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests;
