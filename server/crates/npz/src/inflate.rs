//! Raw-deflate decoding with bounded output: a prefix (just the `.npy`
//! header of a compressed entry) or a whole entry whose size the directory
//! states. Memory never exceeds what the stream really produces, and never
//! exceeds the stated size.

use flate2::{Decompress, FlushDecompress, Status};

/// Deflate cannot expand data more than about 1032:1; a stated size beyond
/// that is a lie and is not pre-allocated.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Inflates up to `want` bytes from the start of `compressed` (fewer if the
/// stream ends first).
pub fn inflate_prefix(compressed: &[u8], want: usize) -> Result<Vec<u8>, String> {
    inflate_prefix_with(&mut Decompress::new(false), compressed, want)
}

/// [`inflate_prefix`] reusing an inflater: its state (tens of kilobytes) is
/// what dominates listing many small deflated headers, so one is reset and
/// reused per archive.
pub fn inflate_prefix_with(
    inflater: &mut Decompress,
    compressed: &[u8],
    want: usize,
) -> Result<Vec<u8>, String> {
    inflater.reset(false);
    let mut out = Vec::with_capacity(want);
    while out.len() < want {
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let input = &compressed[(before_in as usize).min(compressed.len())..];
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        if status == Status::StreamEnd
            || (inflater.total_in() == before_in && inflater.total_out() == before_out)
        {
            break;
        }
    }
    Ok(out)
}

/// Inflates a whole entry that should hold exactly `expected` bytes.
pub fn inflate_all(compressed: &[u8], expected: u64) -> Result<Vec<u8>, String> {
    let bound = (compressed.len() as u64)
        .saturating_mul(MAX_DEFLATE_RATIO)
        .saturating_add(64);
    let mut out = Vec::with_capacity(expected.min(bound) as usize);
    let mut inflater = Decompress::new(false);
    loop {
        if out.len() == out.capacity() {
            if out.len() as u64 >= expected {
                // Full: check whether the stream really ends here.
                let mut probe = Vec::with_capacity(1);
                let input = &compressed[(inflater.total_in() as usize).min(compressed.len())..];
                inflater
                    .decompress_vec(input, &mut probe, FlushDecompress::Finish)
                    .map_err(|e| e.to_string())?;
                if !probe.is_empty() {
                    return Err(format!(
                        "inflates to more than the {expected} bytes the zip directory states"
                    ));
                }
                return Ok(out);
            }
            let grow = (out.len() as u64)
                .max(1 << 16)
                .min(expected - out.len() as u64);
            out.reserve_exact(grow as usize);
        }
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let input = &compressed[(before_in as usize).min(compressed.len())..];
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        if status == Status::StreamEnd {
            break;
        }
        if inflater.total_in() == before_in && inflater.total_out() == before_out {
            return Err(format!(
                "the deflate stream ends after {} of {expected} bytes",
                out.len()
            ));
        }
    }
    if out.len() as u64 != expected {
        return Err(format!(
            "inflates to {} bytes, the zip directory states {expected}",
            out.len()
        ));
    }
    Ok(out)
}

/// Output pieces of [`inflate_each`]: memory for a whole entry of any size.
const PIECE: usize = 1 << 20;

/// Inflates a whole entry that should hold exactly `expected` bytes, handing
/// the output to `visit` in pieces of at most 1 MiB and never holding more:
/// a 1 MB archive that inflates to 1 GiB is read in 1 MiB of memory.
pub fn inflate_each(
    compressed: &[u8],
    expected: u64,
    mut visit: impl FnMut(&[u8]),
) -> Result<(), String> {
    let mut inflater = Decompress::new(false);
    let mut piece = vec![0u8; PIECE];
    let mut total = 0u64;
    loop {
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let input = &compressed[(before_in as usize).min(compressed.len())..];
        let status = inflater
            .decompress(input, &mut piece, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        let produced = (inflater.total_out() - before_out) as usize;
        total += produced as u64;
        if total > expected {
            return Err(format!(
                "inflates to more than the {expected} bytes the zip directory states"
            ));
        }
        visit(&piece[..produced]);
        if status == Status::StreamEnd {
            break;
        }
        if inflater.total_in() == before_in && produced == 0 {
            return Err(format!(
                "the deflate stream ends after {total} of {expected} bytes"
            ));
        }
    }
    if total != expected {
        return Err(format!(
            "inflates to {total} bytes, the zip directory states {expected}"
        ));
    }
    Ok(())
}
