//! Writing `.npz` archives (stored or deflated, zip64 when sizes or counts
//! need it) to any `Write`, one array at a time. Entries are written like
//! numpy's `savez`: `<name>.npy`, dated 1980-01-01.

use crate::Array;
use crate::StringArray;
use crate::archive::Compression;
use crate::npy::header_bytes;
use std::collections::HashSet;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    pub compression: Compression,
    /// Write zip64 records even when nothing needs them (tests the reader's
    /// zip64 path without writing 4 GB).
    pub force_zip64: bool,
}

impl WriteOptions {
    pub fn stored() -> Self {
        WriteOptions {
            compression: Compression::Stored,
            force_zip64: false,
        }
    }
    pub fn deflated() -> Self {
        WriteOptions {
            compression: Compression::Deflated,
            force_zip64: false,
        }
    }
}

const U32_LIMIT: u64 = u32::MAX as u64;
/// MS-DOS date of 1980-01-01, as numpy's archives carry.
const DOS_DATE: u16 = (1 << 5) | 1;

struct Record {
    name: String,
    method: u16,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
    offset: u64,
}

/// Writes an archive entry by entry; call [`NpzWriter::finish`] to write the
/// central directory.
pub struct NpzWriter<W: Write> {
    out: W,
    options: WriteOptions,
    offset: u64,
    records: Vec<Record>,
    names: HashSet<String>,
}

impl<W: Write> NpzWriter<W> {
    pub fn new(out: W, options: WriteOptions) -> Self {
        NpzWriter {
            out,
            options,
            offset: 0,
            records: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// Adds `array` as `<name>.npy`. Duplicate names and names with path
    /// separators are refused: they would make an archive neuride warns about.
    pub fn add(&mut self, name: &str, array: &Array<'_>) -> io::Result<()> {
        self.claim(name)?;
        let header = header_bytes(&array.descr(), array.fortran_order, &array.shape);
        self.add_parts(&format!("{name}.npy"), &[&header, &array.data])
    }

    /// Adds a unicode string array as `<name>.npy`, named as [`NpzWriter::add`] requires.
    pub fn add_strings(&mut self, name: &str, array: &StringArray) -> io::Result<()> {
        self.claim(name)?;
        let header = header_bytes(&array.descr(), false, &array.shape);
        self.add_parts(&format!("{name}.npy"), &[&header, &array.data_bytes()])
    }

    /// Checks an array name and remembers it, so a second use is refused.
    fn claim(&mut self, name: &str) -> io::Result<()> {
        if name.contains('/') || name.contains('\\') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("array name '{name}' contains a path separator"),
            ));
        }
        if !self.names.insert(name.to_owned()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("array name '{name}' is already in the archive"),
            ));
        }
        Ok(())
    }

    /// Adds an entry with any name and content, unchecked (for non-array
    /// files, and for tests that need malformed archives).
    pub fn add_raw(&mut self, zip_name: &str, bytes: &[u8]) -> io::Result<()> {
        self.add_parts(zip_name, &[bytes])
    }

    fn add_parts(&mut self, zip_name: &str, parts: &[&[u8]]) -> io::Result<()> {
        let uncompressed: u64 = parts.iter().map(|p| p.len() as u64).sum();
        let mut hasher = crc32fast::Hasher::new();
        parts.iter().for_each(|p| hasher.update(p));
        let crc32 = hasher.finalize();
        let deflated = match self.options.compression {
            Compression::Stored => None,
            Compression::Deflated => {
                let mut encoder =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                for part in parts {
                    encoder.write_all(part)?;
                }
                Some(encoder.finish()?)
            }
        };
        let (method, compressed) = match &deflated {
            None => (0u16, uncompressed),
            Some(bytes) => (8u16, bytes.len() as u64),
        };
        let zip64 =
            self.options.force_zip64 || uncompressed >= U32_LIMIT || compressed >= U32_LIMIT;
        let mut local = Vec::with_capacity(30 + zip_name.len() + 20);
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&(if zip64 { 45u16 } else { 20u16 }).to_le_bytes());
        local.extend_from_slice(&name_flags(zip_name).to_le_bytes());
        local.extend_from_slice(&method.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(&DOS_DATE.to_le_bytes());
        local.extend_from_slice(&crc32.to_le_bytes());
        if zip64 {
            local.extend_from_slice(&u32::MAX.to_le_bytes());
            local.extend_from_slice(&u32::MAX.to_le_bytes());
        } else {
            local.extend_from_slice(&(compressed as u32).to_le_bytes());
            local.extend_from_slice(&(uncompressed as u32).to_le_bytes());
        }
        local.extend_from_slice(&(zip_name.len() as u16).to_le_bytes());
        local.extend_from_slice(&(if zip64 { 20u16 } else { 0 }).to_le_bytes());
        local.extend_from_slice(zip_name.as_bytes());
        if zip64 {
            local.extend_from_slice(&1u16.to_le_bytes());
            local.extend_from_slice(&16u16.to_le_bytes());
            local.extend_from_slice(&uncompressed.to_le_bytes());
            local.extend_from_slice(&compressed.to_le_bytes());
        }
        self.out.write_all(&local)?;
        match &deflated {
            None => parts.iter().try_for_each(|p| self.out.write_all(p))?,
            Some(bytes) => self.out.write_all(bytes)?,
        }
        self.records.push(Record {
            name: zip_name.to_owned(),
            method,
            crc32,
            compressed,
            uncompressed,
            offset: self.offset,
        });
        self.offset += local.len() as u64 + compressed;
        Ok(())
    }

    /// Writes the central directory and end records; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let directory_offset = self.offset;
        let mut directory = Vec::new();
        for record in &self.records {
            let force = self.options.force_zip64;
            // Only saturated fields go into the zip64 extra, in this order.
            let mut zip64 = Vec::new();
            let mut field32 = |value: u64| {
                if force || value >= U32_LIMIT {
                    zip64.extend_from_slice(&value.to_le_bytes());
                    u32::MAX
                } else {
                    value as u32
                }
            };
            let uncompressed = field32(record.uncompressed);
            let compressed = field32(record.compressed);
            let offset = field32(record.offset);
            directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            let version: u16 = if zip64.is_empty() { 20 } else { 45 };
            directory.extend_from_slice(&version.to_le_bytes()); // made by
            directory.extend_from_slice(&version.to_le_bytes()); // needed
            directory.extend_from_slice(&name_flags(&record.name).to_le_bytes());
            directory.extend_from_slice(&record.method.to_le_bytes());
            directory.extend_from_slice(&0u16.to_le_bytes());
            directory.extend_from_slice(&DOS_DATE.to_le_bytes());
            directory.extend_from_slice(&record.crc32.to_le_bytes());
            directory.extend_from_slice(&compressed.to_le_bytes());
            directory.extend_from_slice(&uncompressed.to_le_bytes());
            directory.extend_from_slice(&(record.name.len() as u16).to_le_bytes());
            let extra_len = if zip64.is_empty() {
                0
            } else {
                zip64.len() as u16 + 4
            };
            directory.extend_from_slice(&extra_len.to_le_bytes());
            directory.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
            directory.extend_from_slice(&0o100644u32.wrapping_shl(16).to_le_bytes()); // external attributes: a regular file
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(record.name.as_bytes());
            if !zip64.is_empty() {
                directory.extend_from_slice(&1u16.to_le_bytes());
                directory.extend_from_slice(&(zip64.len() as u16).to_le_bytes());
                directory.extend_from_slice(&zip64);
            }
        }
        let count = self.records.len() as u64;
        let size = directory.len() as u64;
        let needs_zip64 = self.options.force_zip64
            || count >= 0xFFFF
            || size >= U32_LIMIT
            || directory_offset >= U32_LIMIT;
        if needs_zip64 {
            let record_offset = directory_offset + size;
            directory.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            directory.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of this record
            directory.extend_from_slice(&45u16.to_le_bytes());
            directory.extend_from_slice(&45u16.to_le_bytes());
            directory.extend_from_slice(&[0; 8]); // this disk, directory disk
            directory.extend_from_slice(&count.to_le_bytes());
            directory.extend_from_slice(&count.to_le_bytes());
            directory.extend_from_slice(&size.to_le_bytes());
            directory.extend_from_slice(&directory_offset.to_le_bytes());
            directory.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            directory.extend_from_slice(&0u32.to_le_bytes());
            directory.extend_from_slice(&record_offset.to_le_bytes());
            directory.extend_from_slice(&1u32.to_le_bytes());
        }
        let saturate16 = |v: u64| {
            if needs_zip64 && v >= 0xFFFF {
                0xFFFF
            } else {
                v.min(0xFFFF) as u16
            }
        };
        let saturate32 = |v: u64| {
            if needs_zip64 && (self.options.force_zip64 || v >= U32_LIMIT) {
                u32::MAX
            } else {
                v as u32
            }
        };
        directory.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        directory.extend_from_slice(&[0; 4]);
        directory.extend_from_slice(&saturate16(count).to_le_bytes());
        directory.extend_from_slice(&saturate16(count).to_le_bytes());
        directory.extend_from_slice(&saturate32(size).to_le_bytes());
        directory.extend_from_slice(&saturate32(directory_offset).to_le_bytes());
        directory.extend_from_slice(&0u16.to_le_bytes());
        self.out.write_all(&directory)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Bit 11 marks a UTF-8 name; plain ASCII names leave it clear, as numpy does.
fn name_flags(name: &str) -> u16 {
    if name.is_ascii() { 0 } else { 0x0800 }
}

/// Writes a whole archive to memory.
pub fn write_npz(arrays: &[(&str, &Array<'_>)], options: WriteOptions) -> io::Result<Vec<u8>> {
    let mut writer = NpzWriter::new(Vec::new(), options);
    for (name, array) in arrays {
        writer.add(name, array)?;
    }
    writer.finish()
}
