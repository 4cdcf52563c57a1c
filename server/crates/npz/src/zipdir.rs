//! A zip central-directory reader over `&[u8]`: finds the end record (and the
//! zip64 one), walks the directory and each local header, and hands back the
//! entries as borrowed slices. It reads nothing else, so listing a 1 GB
//! archive touches a few kilobytes. Those header bytes come through a
//! [`Source`]: the slice itself, or positioned reads of the file behind a
//! memory map (see `source.rs`); entries are slices of the bytes either way.
//! Hand-written rather than the `zip` crate because that crate copies names
//! and metadata into owned structures and wants a `Read + Seek`; the
//! measurement is in docs/npz.md.

use crate::NpzError;
use crate::source::Source;

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// How an entry's bytes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
    Other(u16),
}

/// One entry of the central directory, with its data located.
#[derive(Clone, Debug)]
pub struct ZipEntry<'a> {
    /// The name as stored (UTF-8, or lossily decoded when not flagged UTF-8).
    pub name: String,
    pub method: Method,
    pub encrypted: bool,
    pub crc32: u32,
    pub uncompressed_size: u64,
    /// The entry's bytes as stored in the archive (compressed if deflated).
    /// Shorter than the directory says only when the archive is cut short,
    /// which `truncated` then records.
    pub data: &'a [u8],
    /// Where `data` starts in the archive.
    pub offset: usize,
    /// The directory's compressed size when `data` could not hold all of it.
    pub truncated: Option<u64>,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn bad(message: impl Into<String>) -> NpzError {
    NpzError::BadZip(message.into())
}

/// Where the central directory is and how many entries it has.
struct Directory {
    offset: u64,
    size: u64,
    entries: u64,
}

/// Finds the end-of-central-directory record, scanning back over the comment
/// (at most 65,535 bytes), and follows the zip64 locator when present.
fn find_directory(source: &Source<'_, '_>) -> Result<Directory, NpzError> {
    let len = source.len();
    if len < EOCD_LEN {
        return Err(NpzError::NotZip(format!(
            "{len} bytes is shorter than a zip end record (22)"
        )));
    }
    // The tail that can hold the end record: one read.
    let lowest = len.saturating_sub(EOCD_LEN + u16::MAX as usize);
    let tail = source.read(lowest, len - lowest)?;
    let mut eocd = None;
    for at in (0..=tail.len() - EOCD_LEN).rev() {
        if u32_at(&tail, at) == Some(EOCD_SIGNATURE) {
            let comment_len = u16_at(&tail, at + 20).unwrap_or(0) as usize;
            // Prefer a record whose comment reaches exactly the end; accept the
            // last one found otherwise (some writers get the length wrong).
            if at + EOCD_LEN + comment_len == tail.len() {
                eocd = Some(at);
                break;
            }
            eocd.get_or_insert(at);
        }
    }
    let Some(eocd) = eocd else {
        let what = if source.read(0, 2)?.as_ref() == b"PK" {
            "no end-of-central-directory record (cut short?)"
        } else {
            "no zip signature found"
        };
        return Err(NpzError::NotZip(what.to_owned()));
    };
    let mut directory = Directory {
        entries: u16_at(&tail, eocd + 10).unwrap_or(0) as u64,
        size: u32_at(&tail, eocd + 12).unwrap_or(0) as u64,
        offset: u32_at(&tail, eocd + 16).unwrap_or(0) as u64,
    };
    // The zip64 locator sits right before the end record.
    let eocd = lowest + eocd;
    if eocd >= 20 && u32_at(&source.read(eocd - 20, 4)?, 0) == Some(ZIP64_LOCATOR_SIGNATURE) {
        let at = u64_at(&source.read(eocd - 20 + 8, 8)?, 0).unwrap_or(u64::MAX);
        let at = usize::try_from(at).map_err(|_| bad("zip64 end record offset is past the end"))?;
        let record = source.read(at, 56)?;
        if u32_at(&record, 0) != Some(ZIP64_EOCD_SIGNATURE) {
            return Err(bad(format!(
                "zip64 locator points at byte {at}, where there is no zip64 end record"
            )));
        }
        let read = |offset: usize| {
            u64_at(&record, offset).ok_or_else(|| bad("zip64 end record is cut short"))
        };
        directory = Directory {
            entries: read(32)?,
            size: read(40)?,
            offset: read(48)?,
        };
    }
    Ok(directory)
}

/// Reads the central directory. Errors only when no directory can be found;
/// a broken entry makes the directory unreadable from that point on, which
/// is reported as an error too since nothing after it can be trusted.
pub(crate) fn read_directory<'a>(source: &Source<'a, '_>) -> Result<Vec<ZipEntry<'a>>, NpzError> {
    let directory = find_directory(source)?;
    let start = usize::try_from(directory.offset).unwrap_or(usize::MAX);
    let end = start.checked_add(usize::try_from(directory.size).unwrap_or(usize::MAX));
    if end.is_none_or(|end| end > source.len()) {
        return Err(NpzError::Truncated {
            what: "zip central directory".to_owned(),
            expected: directory.offset.saturating_add(directory.size),
            found: source.len() as u64,
        });
    }
    // The directory is one contiguous block: one read.
    let central = source.read(start, end.unwrap_or(start) - start)?;
    // Each record takes at least 46 bytes: that bounds the allocation even
    // when the end record lies about the count.
    let capacity = (directory.entries as usize).min(central.len() / CENTRAL_LEN);
    let mut entries = Vec::with_capacity(capacity);
    let mut at = 0usize;
    for index in 0..directory.entries {
        let (entry, next) = read_central_entry(source, &central, at).map_err(|e| match e {
            NpzError::BadZip(message) => bad(format!("central directory entry {index}: {message}")),
            other => other,
        })?;
        entries.push(entry);
        at = next;
    }
    Ok(entries)
}

fn read_central_entry<'a>(
    source: &Source<'a, '_>,
    central: &[u8],
    at: usize,
) -> Result<(ZipEntry<'a>, usize), NpzError> {
    if u32_at(central, at) != Some(CENTRAL_SIGNATURE) {
        return Err(bad(format!(
            "expected a central header signature at directory byte {at}"
        )));
    }
    let field16 = |offset| u16_at(central, at + offset).ok_or_else(|| bad("header cut short"));
    let field32 = |offset| u32_at(central, at + offset).ok_or_else(|| bad("header cut short"));
    let flags = field16(8)?;
    let method = match field16(10)? {
        0 => Method::Stored,
        8 => Method::Deflated,
        other => Method::Other(other),
    };
    let crc32 = field32(16)?;
    let mut compressed_size = field32(20)? as u64;
    let mut uncompressed_size = field32(24)? as u64;
    let name_len = field16(28)? as usize;
    let extra_len = field16(30)? as usize;
    let comment_len = field16(32)? as usize;
    let mut local_offset = field32(42)? as u64;
    let name_start = at + CENTRAL_LEN;
    let name_bytes = central
        .get(name_start..name_start + name_len)
        .ok_or_else(|| bad("name cut short"))?;
    let extra = central
        .get(name_start + name_len..name_start + name_len + extra_len)
        .ok_or_else(|| bad("extra field cut short"))?;
    // Only the fields whose 32-bit value is saturated appear in the zip64 extra, in this order.
    if let Some(mut zip64) = find_extra(extra, ZIP64_EXTRA_ID) {
        let mut take = |value: &mut u64| {
            if *value == u32::MAX as u64
                && let Some(v) = zip64.get(..8)
            {
                *value = u64::from_le_bytes(v.try_into().expect("8 bytes"));
                zip64 = &zip64[8..];
            }
        };
        take(&mut uncompressed_size);
        take(&mut compressed_size);
        take(&mut local_offset);
    }
    let name = if flags & 0x0800 != 0 {
        String::from_utf8(name_bytes.to_vec())
            .map_err(|_| bad("name flagged UTF-8 is not UTF-8"))?
    } else {
        String::from_utf8_lossy(name_bytes).into_owned()
    };
    let data_start = local_data_start(source, local_offset, &name)?;
    let bytes = source.bytes();
    let available = bytes.len() - data_start;
    let (data, truncated) = match usize::try_from(compressed_size) {
        Ok(len) if len <= available => (&bytes[data_start..data_start + len], None),
        _ => (&bytes[data_start..], Some(compressed_size)),
    };
    let entry = ZipEntry {
        name,
        method,
        encrypted: flags & 1 != 0,
        crc32,
        uncompressed_size,
        data,
        offset: data_start,
        truncated,
    };
    Ok((entry, name_start + name_len + extra_len + comment_len))
}

/// The offset where an entry's data starts, after its local header (whose
/// name and extra lengths can differ from the central directory's).
fn local_data_start(
    source: &Source<'_, '_>,
    local_offset: u64,
    name: &str,
) -> Result<usize, NpzError> {
    let at = usize::try_from(local_offset).unwrap_or(usize::MAX);
    let header = source.read(at, LOCAL_LEN)?;
    if u32_at(&header, 0) != Some(LOCAL_SIGNATURE) {
        if at >= source.len() {
            return Err(NpzError::Truncated {
                what: format!("local header of '{name}'"),
                expected: local_offset.saturating_add(LOCAL_LEN as u64),
                found: source.len() as u64,
            });
        }
        return Err(bad(format!("entry '{name}': no local header at byte {at}")));
    }
    let name_len = u16_at(&header, 26).ok_or_else(|| bad("local header cut short"))? as usize;
    let extra_len = u16_at(&header, 28).ok_or_else(|| bad("local header cut short"))? as usize;
    let start = at + LOCAL_LEN + name_len + extra_len;
    if start > source.len() {
        return Err(NpzError::Truncated {
            what: format!("local header of '{name}'"),
            expected: start as u64,
            found: source.len() as u64,
        });
    }
    Ok(start)
}

/// The payload of the extra-field block with `id`, if any.
fn find_extra(mut extra: &[u8], id: u16) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let block_id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
        let payload = extra.get(4..4 + len)?;
        if block_id == id {
            return Some(payload);
        }
        extra = &extra[4 + len..];
    }
    None
}
