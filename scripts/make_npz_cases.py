#!/usr/bin/env python3
"""Writes the .npy/.npz test cases of neuride-npz into server/crates/npz/tests/data/.

Every file is made by numpy (np.save, np.savez, np.savez_compressed,
np.lib.format.write_array) or by Python's zipfile around numpy-made .npy bytes,
so the reader is tested against what the real tools emit; broken files are
real files broken the way they break in practice (cut short, lying headers,
pickles, odd entry names). `expected.json` records what numpy itself says
about every good array (values, stats) and which diagnostic code each broken
file must produce. Run from the repository root:

    python3 scripts/make_npz_cases.py
"""

import io
import json
import pathlib
import zipfile

import numpy as np

OUT = pathlib.Path("server/crates/npz/tests/data")
KINDS = ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]


def values_for(kind, shape):
    """Distinct, sign-carrying values that each dtype can hold exactly."""
    n = int(np.prod(shape))
    base = np.arange(n, dtype=np.float64) - n // 3
    if kind == "b1":
        return (np.arange(n) % 3 == 0).reshape(shape)
    if kind.startswith("u"):
        base = np.arange(n, dtype=np.float64) * 7 + 250  # crosses 255 where it may
        if kind == "u1":
            base = np.arange(n, dtype=np.float64) * 40
    if kind.startswith("c"):
        return (base + 1j * (base / 2 - 1)).reshape(shape)
    return (base * (1.5 if kind.startswith("f") else 1)).reshape(shape)


def dtype_arrays():
    """name -> array for every dtype x byte order x memory order, plus 0-d and empty."""
    arrays = {}
    for kind in KINDS:
        orders = ["|"] if kind in ("b1", "i1", "u1") else ["<", ">"]
        for byte_order in orders:
            dtype = np.dtype(byte_order + kind)
            for memory in ("C", "F"):
                name = f"{kind}_{'le' if byte_order == '<' else 'be' if byte_order == '>' else 'na'}_{memory}"
                arrays[name] = np.array(values_for(kind, (2, 3, 4)), dtype=dtype, order=memory)
        arrays[f"{kind}_scalar"] = np.array(values_for(kind, ())).astype(kind)
        arrays[f"{kind}_empty"] = np.zeros((0, 3), dtype=kind)
    return arrays


def expected_for(array):
    flat = np.ascontiguousarray(array).reshape(-1)
    entry = {
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "fortran_order": bool(array.flags.f_contiguous and not array.flags.c_contiguous),
        "byte_order": array.dtype.byteorder if array.dtype.byteorder != "=" else "<",
    }
    if array.dtype.kind == "c":
        entry["values"] = [[float(v.real), float(v.imag)] for v in flat]
    else:
        entry["values"] = [float(v) for v in flat.astype(np.float64)]
        if flat.size:
            as_float = flat.astype(np.float64)
            entry["stats"] = {
                "min": float(as_float.min()),
                "max": float(as_float.max()),
                "mean": float(as_float.mean()),
                "std": float(as_float.std()),
            }
    return entry


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def zip_of(path, entries, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=method)


def raw_npy(descr, shape, data, fortran=False, version=(1, 0), header=None):
    """A .npy whose header says what we tell it, whatever the data is."""
    if header is None:
        header = "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    length = len(header).to_bytes(2 if version[0] == 1 else 4, "little")
    return b"\x93NUMPY" + bytes(version) + length + header.encode("latin1") + data


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    arrays = dtype_arrays()
    np.savez(OUT / "dtypes_stored.npz", **arrays)
    np.savez_compressed(OUT / "dtypes_deflated.npz", **arrays)
    expected = {"arrays": {name: expected_for(a) for name, a in arrays.items()}, "cases": {}}

    # Format versions of standalone .npy files, and np.save's exact bytes.
    sample = np.arange(12, dtype="<f4").reshape(3, 4) / 4
    for version in [(1, 0), (2, 0), (3, 0)]:
        (OUT / f"version_{version[0]}_0.npy").write_bytes(npy_bytes(sample, version))
    np.save(OUT / "saved_f8_fortran.npy", np.asfortranarray(np.arange(6, dtype=">f8").reshape(2, 3)))
    np.save(OUT / "saved_u1_scalar.npy", np.array(7, dtype="u1"))

    cases = expected["cases"]

    def case(name, codes, note):
        cases[name] = {"codes": codes, "note": note}

    # NaN / Inf in weights.
    nan_inf = np.array([1.0, np.nan, np.inf, -np.inf, np.nan, 2.0], dtype="<f4")
    np.savez(OUT / "nan_inf.npz", w=nan_inf)
    case("nan_inf.npz", ["npz/nan", "npz/inf"], "2 NaN, 2 Inf in 'w'")

    # Pickles: an object array, and a structured dtype with an object field.
    np.savez(OUT / "object.npz", ok=np.arange(3), obj=np.array([{"a": 1}, None], dtype=object))
    case("object.npz", ["npz/object-array"], "'obj' is a pickle, 'ok' is fine")
    structured_object = np.zeros(2, dtype=[("a", "<f4"), ("b", "O")])
    np.savez(OUT / "structured_object.npz", rec=structured_object)
    case("structured_object.npz", ["npz/object-array"], "structured dtype with an object field")
    np.savez(OUT / "unsupported.npz", rec=np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), text=np.array(["ab", "c"]))
    case("unsupported.npz", ["npz/unsupported-dtype", "npz/unsupported-dtype"], "structured and unicode arrays")

    # Headers that claim more data than the entry holds (stored and deflated).
    lying = raw_npy("<f4", (1000, 1000), np.arange(4, dtype="<f4").tobytes())
    zip_of(OUT / "truncated_claim_stored.npz", [("big.npy", lying), ("ok.npy", npy_bytes(sample))])
    zip_of(OUT / "truncated_claim_deflated.npz", [("big.npy", lying)], zipfile.ZIP_DEFLATED)
    case("truncated_claim_stored.npz", ["npz/truncated"], "'big' claims 4 MB, holds 16 bytes")
    case("truncated_claim_deflated.npz", ["npz/truncated"], "same, deflated")
    huge = raw_npy("<f8", (2**40, 2**20), b"")
    zip_of(OUT / "truncated_claim_huge.npz", [("huge.npy", huge)])
    case("truncated_claim_huge.npz", ["npz/truncated"], "header claims 8 EiB")
    (OUT / "truncated.npy").write_bytes(npy_bytes(sample)[:-10])
    case("truncated.npy", ["npz/truncated"], "standalone .npy cut 10 bytes short")

    # Archives cut short: inside the data, and inside the central directory.
    whole = (OUT / "dtypes_stored.npz").read_bytes()
    (OUT / "cut_in_data.npz").write_bytes(whole[: len(whole) // 2])
    case("cut_in_data.npz", ["npz/not-zip"], "first half of an archive: no directory")
    small = io.BytesIO()
    np.savez(small, a=np.arange(4), b=np.ones(3))
    small = small.getvalue()
    eocd = small.rfind(b"PK\x05\x06")
    directory_offset = int.from_bytes(small[eocd + 16 : eocd + 20], "little")
    # Keep the end record, drop the first bytes of the directory it points at.
    (OUT / "cut_directory.npz").write_bytes(small[: directory_offset + 10] + small[eocd:])
    case("cut_directory.npz", ["npz/truncated"], "end record points past a shortened directory")

    # Names: duplicates, path separators, entries that are not .npy.
    zip_of(OUT / "duplicate.npz", [("a.npy", npy_bytes(np.zeros(2))), ("a.npy", npy_bytes(np.ones(3)))])
    case("duplicate.npz", ["npz/duplicate-name"], "'a.npy' twice; numpy reads the second")
    zip_of(OUT / "path_separator.npz", [("sub/x.npy", npy_bytes(np.zeros(2))), ("..\\evil.npy", npy_bytes(np.ones(1)))])
    case("path_separator.npz", ["npz/path-separator", "npz/path-separator"], "'sub/x' and '..\\evil'")
    zip_of(OUT / "not_npy.npz", [("readme.txt", b"hello"), ("w.npy", npy_bytes(np.ones(2)))])
    case("not_npy.npz", ["npz/not-npy"], "a text file beside an array")

    # Broken .npy entries.
    zip_of(OUT / "bad_magic.npz", [("x.npy", b"this is not numpy data at all")])
    case("bad_magic.npz", ["npz/not-npy"], "x.npy has no magic")
    zip_of(OUT / "bad_header.npz", [("x.npy", raw_npy(None, None, b"\0" * 8, header="{'descr': '<f4', 'shape': (2,), }"))])
    case("bad_header.npz", ["npz/bad-header"], "header without fortran_order")
    zip_of(OUT / "bad_version.npz", [("x.npy", b"\x93NUMPY\x04\x00" + npy_bytes(sample)[8:])])
    case("bad_version.npz", ["npz/unsupported-version"], "format 4.0")
    crc = bytearray(small)
    info = zipfile.ZipFile(io.BytesIO(small)).getinfo("a.npy")
    at = info.header_offset
    data_start = at + 30 + int.from_bytes(crc[at + 26 : at + 28], "little") + int.from_bytes(crc[at + 28 : at + 30], "little")
    crc[data_start + 128 + 3] ^= 0xFF  # a data byte of 'a' (its .npy header is 128 bytes)
    (OUT / "crc_mismatch.npz").write_bytes(bytes(crc))
    case("crc_mismatch.npz", ["npz/crc-mismatch"], "one data byte of 'a' flipped")
    zip_of(OUT / "bzip2.npz", [("x.npy", npy_bytes(sample))], zipfile.ZIP_BZIP2)
    case("bzip2.npz", ["npz/unsupported-compression"], "bzip2 entry")
    (OUT / "not_zip.npz").write_bytes(b"definitely not a zip file, just text\n" * 3)
    case("not_zip.npz", ["npz/not-zip"], "plain text")

    # zip64: Python writes zip64 extras and end records only past 4 GiB or
    # 65,535 entries; lowering its limits makes a small, real zip64 archive.
    saved = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 64, 1
    try:
        zip_of(OUT / "zip64_stored.npz", [("a.npy", npy_bytes(sample)), ("b.npy", npy_bytes(np.arange(5, dtype="<i8")))])
        zip_of(OUT / "zip64_deflated.npz", [("a.npy", npy_bytes(sample)), ("b.npy", npy_bytes(np.arange(5, dtype="<i8")))], zipfile.ZIP_DEFLATED)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
    expected["zip64_arrays"] = {"a": expected_for(sample), "b": expected_for(np.arange(5, dtype="<i8"))}

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
