//! Where listing reads header bytes from. Normally straight from the bytes
//! the caller holds; when those are a memory map, from the file behind it
//! with positioned reads ([`ReadAt`], `pread(2)`). Reading a header through
//! the map makes the kernel map the pages around it into the process
//! (fault-around: 64 KiB, or a whole large folio, per touch), so listing
//! 1,000 entries of a 1 GB archive showed 65 MB resident; a `pread` copies
//! just the bytes asked for into a small buffer and maps nothing. Array data
//! is still handed out as slices of the map: taking a slice touches nothing.

use crate::NpzError;
use std::borrow::Cow;

/// Positioned reads, like `pread(2)`: no shared cursor, so `&self` suffices.
/// Implemented for [`std::fs::File`] (Unix and Windows) and for `[u8]`.
pub trait ReadAt {
    /// Reads into `buf` starting at byte `offset`; returns how many bytes
    /// were read, 0 only at (or past) the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

#[cfg(windows)]
impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        // Moves the file cursor, which listing never relies on.
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        (**self).read_at(buf, offset)
    }
}

/// The archive's bytes (a memory map, or memory) and, optionally, a reader
/// over the same contents to take header bytes from instead. Offsets and
/// lengths are always those of `bytes`, so a reader that disagrees (a file
/// changed underneath) yields wrong headers or errors, never bad slices.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a, 'r> {
    bytes: &'a [u8],
    reader: Option<&'r dyn ReadAt>,
}

impl<'a, 'r> Source<'a, 'r> {
    pub(crate) fn memory(bytes: &'a [u8]) -> Self {
        Source {
            bytes,
            reader: None,
        }
    }

    pub(crate) fn mapped(bytes: &'a [u8], reader: &'r dyn ReadAt) -> Self {
        Source {
            bytes,
            reader: Some(reader),
        }
    }

    /// Whether header bytes are read (copied) from a reader, not borrowed.
    pub(crate) fn is_mapped(&self) -> bool {
        self.reader.is_some()
    }

    /// All the bytes, for handing out slices (which touches nothing).
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The bytes `at..at + len`, cut at the end of the archive (empty when
    /// `at` is past it): borrowed from memory, or read into a buffer.
    pub(crate) fn read(&self, at: usize, len: usize) -> Result<Cow<'a, [u8]>, NpzError> {
        let start = at.min(self.bytes.len());
        let end = start.saturating_add(len).min(self.bytes.len());
        let Some(reader) = self.reader else {
            return Ok(Cow::Borrowed(&self.bytes[start..end]));
        };
        let mut buffer = vec![0u8; end - start];
        let mut filled = 0;
        while filled < buffer.len() {
            let offset = (start + filled) as u64;
            match reader.read_at(&mut buffer[filled..], offset) {
                Ok(0) => {
                    // The file is shorter than its map: it shrank underneath us.
                    return Err(NpzError::Truncated {
                        what: format!("file (read of bytes {start}..{end})"),
                        expected: end as u64,
                        found: (start + filled) as u64,
                    });
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(NpzError::BadZip(format!(
                        "cannot read bytes {start}..{end}: {e}"
                    )));
                }
            }
        }
        Ok(Cow::Owned(buffer))
    }
}
