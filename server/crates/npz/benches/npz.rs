//! Criterion benches: listing a 1,000-array archive with our central-directory
//! reader versus the `zip` crate (the measurement behind hand-writing it),
//! copying an array out, and computing summary statistics.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use neuride_npz::{Array, SummaryOptions, WriteOptions, list, stats, summarize, write_npz};
use std::hint::black_box;
use std::io::Read;

fn archive_of(count: usize, elements: usize, options: WriteOptions) -> Vec<u8> {
    let arrays: Vec<(String, Array<'static>)> = (0..count)
        .map(|i| {
            let values: Vec<f32> = (0..elements).map(|k| (k * 31 + i) as f32 * 0.001).collect();
            (
                format!("layer{i}.weight"),
                Array::from_f32(vec![elements as u64], &values).unwrap(),
            )
        })
        .collect();
    let refs: Vec<(&str, &Array<'_>)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    write_npz(&refs, options).unwrap()
}

/// Listing with the zip crate: open the directory, then read each entry's
/// `.npy` header through its reader (what listing needs).
fn list_with_zip_crate(bytes: &[u8]) -> usize {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut total = 0;
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let mut preamble = [0u8; 10];
        file.read_exact(&mut preamble).unwrap();
        let len = neuride_npz::npy::header_len(&preamble).unwrap();
        let mut header = vec![0u8; len];
        header[..10].copy_from_slice(&preamble);
        file.read_exact(&mut header[10..]).unwrap();
        total += neuride_npz::npy::parse_header(&header).unwrap().shape[0] as usize;
    }
    total
}

fn listing(c: &mut Criterion) {
    for (label, options) in [
        ("stored", WriteOptions::stored()),
        ("deflated", WriteOptions::deflated()),
    ] {
        let bytes = archive_of(1000, 256, options);
        let mut group = c.benchmark_group(format!("list_1000_{label}"));
        group.bench_function("neuride_npz", |b| {
            b.iter(|| black_box(list(black_box(&bytes)).unwrap().entries.len()))
        });
        group.bench_function("zip_crate", |b| {
            b.iter(|| black_box(list_with_zip_crate(black_box(&bytes))))
        });
        group.finish();
    }
}

/// The array the reading benches read: 16 MB of float32.
const ELEMENTS: usize = 4 << 20;

/// A group of `samples` runs over the 16 MB array (throughput in its bytes).
fn array_group<'c>(
    c: &'c mut Criterion,
    name: &str,
    samples: usize,
) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(ELEMENTS as u64 * 4));
    group.sample_size(samples);
    group
}

fn reading(c: &mut Criterion) {
    let bytes = archive_of(1, ELEMENTS, WriteOptions::stored());
    let archive = list(&bytes).unwrap();
    let mut group = array_group(c, "read_16mb_f32", 20);
    group.bench_function("to_c_order_le_copy", |b| {
        b.iter(|| {
            black_box(
                archive
                    .array("layer0.weight")
                    .unwrap()
                    .to_c_order_le()
                    .into_owned(),
            )
        })
    });
    group.bench_function("memcpy_floor", |b| {
        b.iter(|| black_box(archive.entries[0].stored.to_vec()))
    });
    let array = archive.array("layer0.weight").unwrap();
    group.bench_function("stats", |b| b.iter(|| black_box(stats(&array))));
    group.bench_function("crc32", |b| {
        b.iter(|| black_box(archive.entries[0].verify_crc()))
    });
    group.finish();
    let deflated = archive_of(1, ELEMENTS, WriteOptions::deflated());
    let archive = list(&deflated).unwrap();
    let mut group = array_group(c, "read_16mb_f32_deflated", 10);
    group.bench_function("inflate_and_crc", |b| {
        b.iter(|| black_box(archive.array("layer0.weight").unwrap()))
    });
    group.bench_function("summary", |b| {
        b.iter(|| black_box(summarize(&archive, SummaryOptions::default())))
    });
    group.finish();
}

criterion_group!(benches, listing, reading);
criterion_main!(benches);
