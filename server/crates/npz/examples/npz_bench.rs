//! Command-line driver for bench/npz_bench.py (the binary crate pulls in the
//! whole IDE, so the bench times the reader through this small program).
//!
//!   npz_bench list FILE REPEAT [pread|map]
//!                                     memory-map FILE, list it REPEAT times:
//!                                     headers by pread (list_mapped, the
//!                                     default) or through the map (list)
//!   npz_bench read FILE NAME REPEAT   copy array NAME into a Vec REPEAT times
//!   npz_bench write OUT KIND          write a sample archive (stored|deflated|zip64)
//!
//! Each prints one JSON line with times (ms), and peak RSS (VmHWM, kB).

use neuride_npz::{
    Archive, Array, Compression, NpzError, WriteOptions, list, list_mapped, write_npz,
};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["list", file, repeat] => {
            list_command(file, repeat.parse().expect("REPEAT is a number"), "pread")
        }
        ["list", file, repeat, how @ ("pread" | "map")] => {
            list_command(file, repeat.parse().expect("REPEAT is a number"), how)
        }
        ["read", file, name, repeat] => {
            read_command(file, name, repeat.parse().expect("REPEAT is a number"))
        }
        ["write", out, kind] => write_command(out, kind),
        _ => {
            eprintln!(
                "usage: npz_bench list FILE REPEAT [pread|map] | read FILE NAME REPEAT | write OUT stored|deflated|zip64"
            );
            std::process::exit(2);
        }
    }
}

fn map(file: &str) -> neuride_mapped::Map {
    map_with_file(file).0
}

fn map_with_file(file: &str) -> (neuride_mapped::Map, std::fs::File) {
    let handle = std::fs::File::open(file).expect("open");
    let map = neuride_mapped::Map::new(&handle).expect("mmap");
    (map, handle)
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn list_command(file: &str, repeat: usize, how: &str) {
    // File pages resident before listing: the program's own code.
    let rss_file_start = status_kb("RssFile:");
    let start = Instant::now();
    let (bytes, handle) = map_with_file(file);
    let list_it = |bytes| -> Result<Archive<'_>, NpzError> {
        if how == "map" {
            list(bytes)
        } else {
            list_mapped(bytes, &handle)
        }
    };
    if how == "map" {
        // Listing jumps from header to header: tell the kernel not to read
        // ahead (it still maps the pages around each touch: fault-around).
        bytes.advise_random();
    }
    let archive = list_it(&bytes).expect("list");
    let first_ms = start.elapsed().as_secs_f64() * 1e3;
    let arrays = archive.entries.len();
    let header_bytes: usize = archive
        .entries
        .iter()
        .filter_map(|e| e.header.as_ref().ok())
        .map(|h| h.data_offset)
        .sum();
    drop(archive);
    let rss_after_first = peak_rss_kb();
    // Resident memory split: private (heap) versus file pages of the map.
    let (rss_anon, rss_file) = (status_kb("RssAnon:"), status_kb("RssFile:"));
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        let archive = list_it(&bytes).expect("list");
        std::hint::black_box(&archive);
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "{{\"arrays\": {arrays}, \"header_bytes\": {header_bytes}, \"first_ms\": {first_ms:.3}, \"median_ms\": {:.3}, \"peak_rss_kb\": {rss_after_first}, \"rss_anon_kb\": {rss_anon}, \"rss_file_kb\": {rss_file}, \"rss_file_start_kb\": {rss_file_start}}}",
        median(times)
    );
}

fn read_command(file: &str, name: &str, repeat: usize) {
    let bytes = map(file);
    let archive = list(&bytes).expect("list");
    let array = archive.array(name).expect("array");
    let mut read_times = Vec::new();
    let mut memcpy_times = Vec::new();
    for _ in 0..repeat {
        // The reader's path: a little-endian C-order copy the caller owns.
        let start = Instant::now();
        let copy = array.to_c_order_le().into_owned();
        std::hint::black_box(&copy);
        read_times.push(start.elapsed().as_secs_f64() * 1e3);
        drop(copy);
        // The floor: a plain memcpy of the same bytes.
        let start = Instant::now();
        let copy = array.data.to_vec();
        std::hint::black_box(&copy);
        memcpy_times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let gb = array.data.len() as f64 / 1e9;
    let (read_ms, memcpy_ms) = (median(read_times), median(memcpy_times));
    println!(
        "{{\"nbytes\": {}, \"read_ms\": {read_ms:.3}, \"read_gb_s\": {:.2}, \"memcpy_ms\": {memcpy_ms:.3}, \"memcpy_gb_s\": {:.2}, \"peak_rss_kb\": {}}}",
        array.data.len(),
        gb / (read_ms / 1e3),
        gb / (memcpy_ms / 1e3),
        peak_rss_kb()
    );
}

fn write_command(out: &str, kind: &str) {
    let options = match kind {
        "stored" => WriteOptions::stored(),
        "deflated" => WriteOptions::deflated(),
        "zip64" => WriteOptions {
            compression: Compression::Deflated,
            force_zip64: true,
        },
        other => panic!("unknown kind {other}"),
    };
    let weight = Array::from_f32(vec![3, 2], &[1.0, -2.0, 3.5, 4.0, 5.0, f32::NAN]).expect("array");
    let counts = Array::new(
        neuride_npz::DType::Int64,
        vec![4],
        (0i64..4).flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    )
    .expect("array");
    let bytes = write_npz(&[("fc.weight", &weight), ("counts", &counts)], options).expect("write");
    std::fs::write(out, bytes).expect("write file");
}
