//! Statistics of a deflated entry streamed piece by piece equal those of
//! the entry read whole, and a streamed entry is checked as a read one is.

use neuride_npz::stats::{stats, stats_streamed};
use neuride_npz::{Array, Compression, NpzError, WriteOptions, list, write_npz};

fn archive(values: &[f64]) -> Vec<u8> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let array = Array::new(
        neuride_npz::DType::Float64,
        vec![values.len() as u64],
        bytes,
    )
    .unwrap();
    write_npz(&[("x", &array)], WriteOptions::deflated()).unwrap()
}

#[test]
fn streamed_statistics_equal_whole_ones() {
    // 3 MiB of doubles: several 1 MiB pieces, an element cut by a piece end
    // (the header is 128 bytes), NaN and Inf among them.
    let mut values: Vec<f64> = (0..400_000i64)
        .map(|i| ((i * 7919) % 1000) as f64 - 250.5)
        .collect();
    values[17] = f64::NAN;
    values[300_001] = f64::INFINITY;
    let bytes = archive(&values);
    let listed = list(&bytes).unwrap();
    let entry = &listed.entries[0];
    assert_eq!(entry.compression, Compression::Deflated);
    let whole = stats(&entry.read().unwrap());
    let streamed = stats_streamed(
        neuride_npz::DType::Float64,
        neuride_npz::ByteOrder::Little,
        |visit| entry.for_each_data_piece(visit),
    )
    .unwrap();
    assert_eq!(streamed.nan, 1);
    assert_eq!(streamed.inf, 1);
    assert_eq!(streamed.min, whole.min);
    assert_eq!(streamed.max, whole.max);
    assert_eq!(streamed.mean, whole.mean);
    assert_eq!(streamed.std, whole.std);
}

#[test]
fn a_streamed_entry_with_a_bad_crc_is_refused_like_a_read_one() {
    let values: Vec<f64> = (0..1000).map(f64::from).collect();
    let mut bytes = archive(&values);
    // The CRC-32 of the local header and of the directory entry.
    let listed = list(&bytes).unwrap();
    let crc = listed.entries[0].crc32.unwrap().to_le_bytes();
    drop(listed);
    for index in 0..bytes.len() - 4 {
        if bytes[index..index + 4] == crc {
            bytes[index] ^= 0xff;
        }
    }
    let listed = list(&bytes).unwrap();
    let entry = &listed.entries[0];
    let read = entry.read().unwrap_err();
    let streamed = entry.for_each_data_piece(|_| {}).unwrap_err();
    assert!(matches!(read, NpzError::CrcMismatch { .. }), "{read}");
    assert!(
        matches!(streamed, NpzError::CrcMismatch { .. }),
        "{streamed}"
    );
}
