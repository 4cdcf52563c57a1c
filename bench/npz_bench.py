#!/usr/bin/env python3
"""neuride-npz versus numpy on the archives the issue names, side by side.

Creates (in a temp dir) a 1 GB stored .npz with 1,000 float32 arrays and a
100 MB float32 array, then times:
  * listing every array's name, dtype and shape: neuride (the `npz_bench`
    example of the neuride-npz crate: mmap + header-only listing with
    `list_mapped`, headers read by pread; and, as "before", `list` reading
    the headers through the map) versus
    numpy (`np.load(f).files` for names only; numpy's own header reader
    `np.lib.format.read_array_header_*` over zipfile for dtype/shape)
  * reading the 100 MB array into memory: neuride (a little-endian C-order
    copy out of the mmap) versus `np.load(f)["big"]`, with memcpy as floor.
Listing runs on the archive as numpy wrote it and on a `cp` copy of it (the
page cache of a copy can hold other folio sizes, which changes how much a
fault maps). Reports medians over separate processes, GB/s, ratios, peak RSS
and its split into private (RssAnon) and file pages (RssFile).

Run from the repository root after building the example:
    cargo build --release -p neuride-npz --example npz_bench
    python3 bench/npz_bench.py [--bin PATH/npz_bench] [--runs 5]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NUMPY_LIST = r"""
def vm_hwm_kb():
    # VmHWM, not ru_maxrss: the latter carries the parent's peak across fork+exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

import sys, time, zipfile, resource, json
import numpy as np
t0 = time.perf_counter()
z = np.load(sys.argv[1])
names = z.files
names_ms = (time.perf_counter() - t0) * 1e3
t0 = time.perf_counter()
out = []
with zipfile.ZipFile(sys.argv[1]) as archive:
    for info in archive.infolist():
        with archive.open(info) as f:
            major, minor = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            out.append((info.filename, dtype.name, shape))
headers_ms = (time.perf_counter() - t0) * 1e3
print(json.dumps({"arrays": len(out), "names_ms": names_ms, "headers_ms": headers_ms,
                  "peak_rss_kb": vm_hwm_kb()}))
"""

NUMPY_READ = r"""
def vm_hwm_kb():
    # VmHWM, not ru_maxrss: the latter carries the parent's peak across fork+exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

import sys, time, resource, json
import numpy as np
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    with np.load(sys.argv[1]) as z:
        a = z["big"]
    times.append((time.perf_counter() - t0) * 1e3)
    del a
times.sort()
print(json.dumps({"read_ms": times[len(times) // 2], "peak_rss_kb": vm_hwm_kb()}))
"""

NUMPY_BASELINE = r"""
def vm_hwm_kb():
    # VmHWM, not ru_maxrss: the latter carries the parent's peak across fork+exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

import resource, json
import numpy as np
print(json.dumps({"peak_rss_kb": vm_hwm_kb()}))
"""


def run_json(cmd):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall_ms = (time.perf_counter() - t0) * 1e3
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_ms"] = wall_ms
    return result


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("CARGO_TARGET_DIR", "target") + "/release/examples/npz_bench")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        big_archive = tmp / "thousand.npz"
        arrays = {f"layer{i:03d}.weight": np.full(262_144, i, dtype=np.float32) for i in range(1000)}
        np.savez(big_archive, **arrays)
        del arrays
        big_array = tmp / "big.npz"
        np.savez(big_array, big=np.random.default_rng(0).standard_normal(25_000_000, dtype=np.float32))
        copied_archive = tmp / "thousand-copy.npz"
        subprocess.run(["cp", str(big_archive), str(copied_archive)], check=True)
        size_gb = big_archive.stat().st_size / 1e9
        # Warm the page cache for both so every run reads from memory
        # (in chunks: holding 1 GB here would inflate the children's peak RSS).
        for path in (big_archive, copied_archive, big_array):
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass

        def ours(path, how):
            return [run_json([args.bin, "list", str(path), "20", how]) for _ in range(args.runs)]

        ours_list = ours(big_archive, "pread")
        ours_copy = ours(copied_archive, "pread")
        before_list = ours(big_archive, "map")
        before_copy = ours(copied_archive, "map")
        theirs_list = [run_json([sys.executable, "-c", NUMPY_LIST, str(big_archive)]) for _ in range(args.runs)]
        baseline = run_json([sys.executable, "-c", NUMPY_BASELINE])
        ours_read = [run_json([args.bin, "read", str(big_array), "big", "5"]) for _ in range(args.runs)]
        theirs_read = [run_json([sys.executable, "-c", NUMPY_READ, str(big_array), "5"]) for _ in range(args.runs)]

        list_first = median_of(ours_list, "first_ms")
        list_median = median_of(ours_list, "median_ms")
        numpy_names = median_of(theirs_list, "names_ms")
        numpy_headers = median_of(theirs_list, "headers_ms")
        read_ms = median_of(ours_read, "read_ms")
        memcpy_ms = median_of(ours_read, "memcpy_ms")
        numpy_read = median_of(theirs_read, "read_ms")
        gb = 100e6 / 1e9
        rows = [
            ("task", "neuride-npz", "numpy", "ratio (numpy / neuride)"),
            (f"list 1,000 arrays of a {size_gb:.2f} GB stored .npz, cold process (mmap + directory + headers)",
             f"{list_first:.2f} ms", f"{numpy_headers:.2f} ms (zipfile + read_array_header)", f"{numpy_headers / list_first:.1f}x"),
            ("same, warm (median of 20 in-process repeats)", f"{list_median:.2f} ms", f"{numpy_names:.2f} ms (np.load(f).files, names only)",
             f"{numpy_names / list_median:.1f}x"),
            ("whole listing process, wall clock", f"{median_of(ours_list, 'wall_ms'):.1f} ms",
             f"{median_of(theirs_list, 'wall_ms'):.1f} ms (incl. interpreter + numpy import)", "-"),
            ("peak RSS of the listing process", f"{median_of(ours_list, 'peak_rss_kb') / 1024:.1f} MB",
             f"{median_of(theirs_list, 'peak_rss_kb') / 1024:.1f} MB (numpy alone: {baseline['peak_rss_kb'] / 1024:.1f} MB)", "-"),
            ("  of which private (RssAnon) / file pages (RssFile; the program's own code before listing)",
             f"{median_of(ours_list, 'rss_anon_kb') / 1024:.1f} MB / {median_of(ours_list, 'rss_file_kb') / 1024:.1f} MB "
             f"({median_of(ours_list, 'rss_file_start_kb') / 1024:.1f} MB)", "-", "-"),
            ("list the `cp` copy of the archive, fresh process / warm / peak RSS (RssAnon / RssFile)",
             f"{median_of(ours_copy, 'first_ms'):.2f} ms / {median_of(ours_copy, 'median_ms'):.2f} ms / "
             f"{median_of(ours_copy, 'peak_rss_kb') / 1024:.1f} MB ({median_of(ours_copy, 'rss_anon_kb') / 1024:.1f} / "
             f"{median_of(ours_copy, 'rss_file_kb') / 1024:.1f} MB)", "-", "-"),
        ]
        for label, runs in (("as written", before_list), ("`cp` copy", before_copy)):
            rows.append((f"before: headers read through the map (`list`), {label}: fresh / warm / peak RSS (RssAnon / RssFile)",
                         f"{median_of(runs, 'first_ms'):.2f} ms / {median_of(runs, 'median_ms'):.2f} ms / "
                         f"{median_of(runs, 'peak_rss_kb') / 1024:.1f} MB ({median_of(runs, 'rss_anon_kb') / 1024:.1f} / "
                         f"{median_of(runs, 'rss_file_kb') / 1024:.1f} MB)", "-", "-"))
        rows += [
            ("read a 100 MB float32 array into memory", f"{read_ms:.1f} ms = {gb / (read_ms / 1e3):.1f} GB/s",
             f"{numpy_read:.1f} ms = {gb / (numpy_read / 1e3):.1f} GB/s (np.load(f)['big'])", f"{numpy_read / read_ms:.1f}x"),
            ("memcpy of the same 100 MB (the floor)", f"{memcpy_ms:.1f} ms = {gb / (memcpy_ms / 1e3):.1f} GB/s", "-", "-"),
        ]
        print(f"medians of {args.runs} processes each; machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")
        for i, row in enumerate(rows):
            print("| " + " | ".join(row) + " |")
            if i == 0:
                print("|" + "---|" * len(row))


if __name__ == "__main__":
    main()
