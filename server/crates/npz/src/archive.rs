//! Listing an `.npz`: the zip directory plus each entry's `.npy` header,
//! nothing more. Arrays are read on request; stored ones as borrowed views.

use crate::diagnostic::{Diagnostic, Severity};
use crate::dtype::ElementType;
use crate::inflate::{inflate_all, inflate_each, inflate_prefix_with};
use crate::npy::{self, NpyHeader};
use crate::source::{ReadAt, Source};
use crate::strings::{self, StringArray};
use crate::zipdir::{self, Method, ZipEntry};
use crate::{Array, NpzError};
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Stored,
    Deflated,
}

/// One entry of an archive.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// The name in the zip (`fc1.weight.npy`).
    pub zip_name: String,
    /// The array name numpy uses: the zip name without `.npy`.
    pub name: String,
    pub compression: Compression,
    /// The entry's bytes as stored (the whole `.npy` when stored).
    pub stored: &'a [u8],
    /// The `.npy`'s size uncompressed, as the zip directory states it.
    pub size: u64,
    /// The directory's CRC-32; `None` for a bare `.npy`, which has none.
    pub crc32: Option<u32>,
    /// The parsed `.npy` header, or why there is none.
    pub header: Result<NpyHeader, NpzError>,
}

/// A listed archive: entries in directory order, and what was wrong.
#[derive(Clone, Debug)]
pub struct Archive<'a> {
    pub entries: Vec<Entry<'a>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lists an `.npz` held in memory, reading only the zip directory and each
/// entry's `.npy` header. Fails only when the bytes are not a readable zip;
/// problems with single entries become diagnostics.
pub fn list(bytes: &[u8]) -> Result<Archive<'_>, NpzError> {
    list_source(&Source::memory(bytes))
}

/// [`list`] for `bytes` that are a memory map of `file`: the same archive,
/// but every header byte (zip directory, local headers, `.npy` headers) is
/// read from `file` with positioned reads (`pread`) instead of through the
/// map. Entries' `stored` slices still point into `bytes`, so arrays are
/// read zero-copy as before; listing itself faults in no page of the map.
/// Reading headers through a map makes the kernel map the pages around each
/// one (64 KiB or more per header): 65.4 MB peak RSS listing 1,000 arrays,
/// against 2.6 MB this way (docs/npz.md). `file` must hold what `bytes` do.
pub fn list_mapped<'a>(bytes: &'a [u8], file: &dyn ReadAt) -> Result<Archive<'a>, NpzError> {
    list_source(&Source::mapped(bytes, file))
}

fn list_source<'a>(source: &Source<'a, '_>) -> Result<Archive<'a>, NpzError> {
    if source.read(0, npy::MAGIC.len())?.as_ref() == npy::MAGIC {
        return Err(NpzError::NotZip(
            "this is a .npy file, not an .npz archive".to_owned(),
        ));
    }
    let zip_entries = zipdir::read_directory(source)?;
    let mut diagnostics = Vec::new();
    let mut entries = Vec::with_capacity(zip_entries.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut inflater = flate2::Decompress::new(false);
    for zip_entry in zip_entries {
        let entry = list_entry(source, zip_entry, &mut inflater, &mut diagnostics);
        *seen.entry(entry.name.clone()).or_default() += 1;
        entries.push(entry);
    }
    let mut duplicates: Vec<_> = seen.into_iter().filter(|(_, count)| *count > 1).collect();
    duplicates.sort();
    for (name, count) in duplicates {
        diagnostics.push(Diagnostic::new(
            Severity::Warning,
            "npz/duplicate-name",
            Some(&name),
            format!(
                "array '{name}' appears {count} times in the archive; numpy reads only the last one"
            ),
        ));
    }
    Ok(Archive {
        entries,
        diagnostics,
    })
}

/// Wraps a single `.npy` file as a one-entry archive named `name`, so it
/// gets the same summary, rendering and diagnostics.
pub fn list_npy<'a>(bytes: &'a [u8], name: &str) -> Archive<'a> {
    let mut diagnostics = Vec::new();
    let zip_entry = ZipEntry {
        name: format!("{name}.npy"),
        method: Method::Stored,
        encrypted: false,
        crc32: 0,
        uncompressed_size: bytes.len() as u64,
        data: bytes,
        offset: 0,
        truncated: None,
    };
    let mut entry = list_entry(
        &Source::memory(bytes),
        zip_entry,
        &mut flate2::Decompress::new(false),
        &mut diagnostics,
    );
    entry.crc32 = None;
    Archive {
        entries: vec![entry],
        diagnostics,
    }
}

/// Bytes inflated at first to reach a deflated entry's `.npy` header, and
/// read at first to reach a stored one's.
const FIRST_INFLATE: usize = 1024;
const FIRST_READ: usize = 1024;
/// Compressed bytes read at first (through a file) to inflate a header:
/// enough for 1,024 bytes out unless the data barely compresses.
const FIRST_COMPRESSED: usize = 4096;

/// The start of a stored `.npy` that holds its whole header (or all of the
/// entry when it is shorter), so `npy::parse_header` on it gives what it
/// gives on the whole entry.
fn stored_head<'a>(
    source: &Source<'a, '_>,
    offset: usize,
    len: usize,
) -> Result<Cow<'a, [u8]>, NpzError> {
    let first = source.read(offset, len.min(FIRST_READ))?;
    match npy::header_len(&first) {
        Ok(total) if total > first.len() => source.read(offset, total.min(len)),
        _ => Ok(first),
    }
}

/// Inflates up to `want` bytes from the start of a deflated entry. From
/// memory the whole entry is the input (the inflater stops when it has
/// `want`); through a file, a prefix, grown only if it ran out first.
fn inflate_head(
    source: &Source<'_, '_>,
    (offset, len, name): (usize, usize, &str),
    inflater: &mut flate2::Decompress,
    want: usize,
) -> Result<Vec<u8>, NpzError> {
    let mut chunk = if source.is_mapped() {
        FIRST_COMPRESSED.max(want.saturating_add(want / 2))
    } else {
        len
    };
    loop {
        let take = chunk.min(len);
        let compressed = source.read(offset, take)?;
        let head = inflate_prefix_with(inflater, &compressed, want).map_err(|message| {
            NpzError::Inflate {
                name: name.to_owned(),
                message,
            }
        })?;
        if head.len() >= want || take == len {
            return Ok(head);
        }
        chunk = chunk.saturating_mul(4);
    }
}

fn list_entry<'a>(
    source: &Source<'a, '_>,
    zip_entry: ZipEntry<'a>,
    inflater: &mut flate2::Decompress,
    diagnostics: &mut Vec<Diagnostic>,
) -> Entry<'a> {
    let zip_name = zip_entry.name;
    let name = zip_name
        .strip_suffix(".npy")
        .unwrap_or(&zip_name)
        .to_owned();
    let mut report = |severity, code, message: String| {
        diagnostics.push(Diagnostic::new(severity, code, Some(&name), message))
    };
    if zip_name.contains('/') || zip_name.contains('\\') {
        report(
            Severity::Warning,
            "npz/path-separator",
            format!(
                "entry '{zip_name}' has a path separator in its name; numpy writes flat names, and unpacking it could write outside the target folder"
            ),
        );
    }
    let compression = match zip_entry.method {
        Method::Stored => Ok(Compression::Stored),
        Method::Deflated => Ok(Compression::Deflated),
        Method::Other(method) => Err(NpzError::UnsupportedCompression {
            name: zip_name.clone(),
            method,
        }),
    };
    let header = (|| {
        let compression = compression.clone()?;
        if zip_entry.encrypted {
            return Err(NpzError::Encrypted {
                name: zip_name.clone(),
            });
        }
        if let Some(expected) = zip_entry.truncated {
            return Err(NpzError::Truncated {
                what: format!("zip entry '{zip_name}'"),
                expected,
                found: zip_entry.data.len() as u64,
            });
        }
        if !zip_name.ends_with(".npy") {
            return Err(NpzError::NotNpy {
                found: format!("zip entry '{zip_name}' (numpy loads only *.npy entries as arrays)"),
            });
        }
        let header = match compression {
            Compression::Stored => npy::parse_header(&stored_head(
                source,
                zip_entry.offset,
                zip_entry.data.len(),
            )?)?,
            Compression::Deflated => {
                // One pass covers numpy's usual headers (128 bytes, rarely
                // more than a few hundred); a second only for longer ones.
                let at = (zip_entry.offset, zip_entry.data.len(), zip_name.as_str());
                let mut head = inflate_head(source, at, inflater, FIRST_INFLATE)?;
                let total = npy::header_len(&head)?;
                if total > head.len() {
                    head = inflate_head(source, at, inflater, total)?;
                }
                npy::parse_header(&head)?
            }
        };
        let needed = header
            .data_len()
            .map(|len| len.saturating_add(header.data_offset as u64));
        match needed {
            Some(needed) if needed > zip_entry.uncompressed_size => {
                return Err(NpzError::Truncated {
                    what: format!(
                        "array '{name}' ({} x {:?})",
                        header.element.name(),
                        header.shape
                    ),
                    expected: needed,
                    found: zip_entry.uncompressed_size,
                });
            }
            Some(needed) if needed < zip_entry.uncompressed_size => report(
                Severity::Info,
                "npz/trailing-data",
                format!(
                    "entry '{zip_name}' holds {} bytes after the array data, which numpy ignores",
                    zip_entry.uncompressed_size - needed
                ),
            ),
            _ => {}
        }
        Ok(header)
    })();
    match &header {
        Ok(header) => match &header.element {
            ElementType::Object => report(
                Severity::Warning,
                "npz/object-array",
                NpzError::ObjectArray { name: name.clone() }.to_string(),
            ),
            ElementType::Unsupported { descr } => report(
                Severity::Warning,
                "npz/unsupported-dtype",
                NpzError::UnsupportedDType {
                    name: name.clone(),
                    descr: descr.clone(),
                }
                .to_string(),
            ),
            ElementType::Unicode { .. } => report(
                Severity::Warning,
                "npz/unsupported-dtype",
                format!(
                    "array '{name}' holds unicode strings ({}): no statistics; only model inputs and outputs read them",
                    header.element.name()
                ),
            ),
            ElementType::Numeric { .. } => {}
        },
        // Non-.npy entries are a warning: numpy hands them back as raw bytes.
        Err(NpzError::NotNpy { found }) if !zip_name.ends_with(".npy") => report(
            Severity::Warning,
            "npz/not-npy",
            format!("{found} is not an array"),
        ),
        Err(error) => diagnostics.push(Diagnostic::from_error(error, Some(&name))),
    }
    Entry {
        zip_name,
        name,
        compression: compression.unwrap_or(Compression::Stored),
        stored: zip_entry.data,
        size: zip_entry.uncompressed_size,
        crc32: Some(zip_entry.crc32),
        header,
    }
}

impl<'a> Archive<'a> {
    /// The entry numpy would return for `name` (the last one of that name).
    pub fn entry(&self, name: &str) -> Option<&Entry<'a>> {
        self.entries.iter().rev().find(|entry| entry.name == name)
    }

    /// Reads the array `name`: borrowed when stored, inflated when deflated.
    pub fn array(&self, name: &str) -> Result<Array<'a>, NpzError> {
        self.entry(name)
            .ok_or_else(|| NpzError::NoSuchArray(name.to_owned()))?
            .read()
    }

    /// Names of the array entries, in archive order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.zip_name.ends_with(".npy"))
            .map(|e| e.name.as_str())
    }
}

impl<'a> Entry<'a> {
    /// Reads the array. Stored entries are not copied and their CRC is not
    /// checked (that would read every byte; see [`Entry::verify_crc`]);
    /// deflated ones are inflated and checked.
    pub fn read(&self) -> Result<Array<'a>, NpzError> {
        let header = self.header.clone()?;
        match self.compression {
            Compression::Stored => {
                let data = self.stored.get(header.data_offset..).unwrap_or(&[]);
                npy::array_from_header(&header, data, &self.name, false)
            }
            Compression::Deflated => {
                let mut bytes = self.inflate()?;
                let array = npy::array_from_header(
                    &header,
                    bytes.get(header.data_offset..).unwrap_or(&[]),
                    &self.name,
                    true,
                )?;
                let (start, len) = (header.data_offset, array.data.len());
                let metadata = array.into_owned_metadata();
                // Reuse the inflated buffer instead of copying the data out of it.
                bytes.truncate(start + len);
                bytes.drain(..start);
                Ok(Array {
                    data: Cow::Owned(bytes),
                    ..metadata
                })
            }
        }
    }

    /// Hands a numeric array's data to `visit` in pieces whose lengths are
    /// whole elements, without holding a deflated entry inflated (memory:
    /// one piece of 1 MiB). Checks what [`Entry::read`] checks (the deflate
    /// stream, the CRC-32, the data's length); on an error the pieces seen
    /// were of a bad entry.
    pub fn for_each_data_piece(&self, mut visit: impl FnMut(&[u8])) -> Result<(), NpzError> {
        let header = self.header.clone()?;
        let (dtype, needed) = match &header.element {
            ElementType::Numeric { dtype, .. } => (*dtype, header.data_len().unwrap_or(u64::MAX)),
            _ => return npy::array_from_header(&header, &[], &self.name, false).map(drop),
        };
        if self.compression == Compression::Stored {
            let data = self.stored.get(header.data_offset..).unwrap_or(&[]);
            visit(&npy::array_from_header(&header, data, &self.name, false)?.data);
            return Ok(());
        }
        let size = dtype.size().max(1);
        let mut crc = crc32fast::Hasher::new();
        let (mut seen, mut taken) = (0u64, 0u64);
        let mut carry = Vec::with_capacity(size);
        inflate_each(self.stored, self.size, |piece| {
            crc.update(piece);
            let skip = (header.data_offset as u64)
                .saturating_sub(seen)
                .min(piece.len() as u64);
            seen += piece.len() as u64;
            let data = &piece[skip as usize..];
            let data = &data[..(needed - taken).min(data.len() as u64) as usize];
            taken += data.len() as u64;
            let mut data = data;
            if !carry.is_empty() {
                let fill = (size - carry.len()).min(data.len());
                carry.extend_from_slice(&data[..fill]);
                data = &data[fill..];
                if carry.len() == size {
                    visit(&carry);
                    carry.clear();
                }
            }
            let whole = data.len() / size * size;
            visit(&data[..whole]);
            carry.extend_from_slice(&data[whole..]);
        })
        .map_err(|message| NpzError::Inflate {
            name: self.zip_name.clone(),
            message,
        })?;
        if let Some(expected) = self.crc32 {
            let found = crc.finalize();
            if found != expected {
                return Err(NpzError::CrcMismatch {
                    name: self.zip_name.clone(),
                    expected,
                    found,
                });
            }
        }
        if taken < needed {
            return Err(npy::truncated(&header, dtype, &self.name, taken));
        }
        Ok(())
    }

    /// Reads a unicode string array (`<U..`); numeric arrays are refused
    /// with [`NpzError::NotText`]. Deflated entries are CRC-checked.
    pub fn read_strings(&self) -> Result<StringArray, NpzError> {
        let header = self.header.clone()?;
        let bytes = match self.compression {
            Compression::Stored => Cow::Borrowed(self.stored),
            Compression::Deflated => Cow::Owned(self.inflate()?),
        };
        let data = bytes.get(header.data_offset..).unwrap_or(&[]);
        strings::from_header(&header, data, &self.name)
    }

    /// The whole `.npy` of a deflated entry, checked against its CRC-32.
    fn inflate(&self) -> Result<Vec<u8>, NpzError> {
        let bytes = inflate_all(self.stored, self.size).map_err(|message| NpzError::Inflate {
            name: self.zip_name.clone(),
            message,
        })?;
        self.check_crc(&bytes)?;
        Ok(bytes)
    }

    /// Checks a stored entry's CRC-32 against the directory (reads every byte).
    pub fn verify_crc(&self) -> Result<(), NpzError> {
        match self.compression {
            Compression::Stored => self.check_crc(self.stored),
            // Deflated entries are checked whenever they are read.
            Compression::Deflated => Ok(()),
        }
    }

    fn check_crc(&self, bytes: &[u8]) -> Result<(), NpzError> {
        let Some(expected) = self.crc32 else {
            return Ok(());
        };
        let found = crc32fast::hash(bytes);
        if found != expected {
            return Err(NpzError::CrcMismatch {
                name: self.zip_name.clone(),
                expected,
                found,
            });
        }
        Ok(())
    }
}

impl Array<'_> {
    /// The metadata with empty data, to pair with a buffer owned elsewhere.
    fn into_owned_metadata(self) -> Array<'static> {
        Array {
            dtype: self.dtype,
            byte_order: self.byte_order,
            fortran_order: self.fortran_order,
            shape: self.shape,
            data: Cow::Owned(Vec::new()),
        }
    }
}
