//! The `npz/` rules: archives and arrays (`neuride_npz`'s errors and
//! listing diagnostics). Examples are the Python that makes such a file.

use super::Rule;

pub(super) const RULES: &[Rule] = &[
    rule!(
        "npz/not-zip",
        "Not a zip archive",
        Error,
        false,
        "no zip end record: not a zip, or cut short",
        r#"
An `.npz` is a zip file of `.npy` arrays; this file has no zip directory
at its end (another format, or a download cut short).

**Example**: `open("w.npz", "wb").write(b"not a zip at all")`

**Fix**: write it with `np.savez` / `np.savez_compressed`, or copy it again.
"#
    ),
    rule!(
        "npz/bad-zip",
        "Corrupt zip directory",
        Error,
        false,
        "directory entries or local headers do not parse",
        r#"
**Example**: an archive whose central directory was overwritten
(`dd if=/dev/zero of=w.npz bs=1 seek=$((size-60)) count=30 conv=notrunc`).

**Fix**: write the archive again.
"#
    ),
    rule!(
        "npz/truncated",
        "Truncated data",
        Error,
        false,
        "a header (zip or `.npy`) claims more bytes than are there",
        r#"
A header promises more bytes than the file holds; neuride never allocates
what a header claims, it reports it.

**Example**: `np.save("a.npy", np.zeros(1000)); os.truncate("a.npy", 200)`

**Fix**: write the file again (the copy or the save was interrupted).
"#
    ),
    rule!(
        "npz/not-npy",
        "Entry is not an array",
        Error,
        false,
        "an entry is not a `.npy` array (a warning for entries not named `*.npy`)",
        r#"
Every entry of an `.npz` should be a `.npy` array. An entry not named
`*.npy` is a warning (numpy hands it back as raw bytes); a `.npy` without
the magic `\x93NUMPY` is an error.

**Example**: `zipfile.ZipFile("w.npz", "a").writestr("notes.txt", "hi")`

**Fix**: keep only arrays in the archive.
"#
    ),
    rule!(
        "npz/bad-header",
        "Bad .npy header",
        Error,
        false,
        "the `.npy` header dict does not parse or misses a key",
        r#"
The header must be a Python dict literal with `descr`, `fortran_order` and
`shape`.

**Example**: a `.npy` whose header reads `{'descr': '<f4', 'shape': (2,)}`
(no `fortran_order`).

**Fix**: write the array with `np.save`.
"#
    ),
    rule!(
        "npz/unsupported-version",
        "Unknown .npy format version",
        Error,
        false,
        "`.npy` format other than 1.0, 2.0 or 3.0",
        r#"
**Example**: a `.npy` whose version bytes read 9.0.

**Fix**: write the array with `np.save` (it picks 1.0 unless it needs more).
"#
    ),
    rule!(
        "npz/unsupported-compression",
        "Unsupported compression",
        Error,
        false,
        "an entry is compressed with bzip2, lzma or another method than deflate",
        r#"
numpy writes stored or deflated entries; other methods come from other
zip tools.

**Example**: `zipfile.ZipFile("w.npz", "w", zipfile.ZIP_BZIP2)` with a
`.npy` inside.

**Fix**: use `np.savez_compressed` (deflate).
"#
    ),
    rule!(
        "npz/encrypted",
        "Encrypted entry",
        Error,
        false,
        "an entry is encrypted",
        r#"
**Example**: `zip -e w.npz a.npy`

**Fix**: store arrays unencrypted (encrypt the file as a whole if needed).
"#
    ),
    rule!(
        "npz/bad-deflate",
        "Corrupt compressed data",
        Error,
        false,
        "a deflated entry does not inflate",
        r#"
Checked when the entry's data is read (statistics, inference inputs).

**Example**: bytes in the middle of a `np.savez_compressed` archive overwritten.

**Fix**: write the archive again.
"#
    ),
    rule!(
        "npz/crc-mismatch",
        "CRC mismatch",
        Error,
        false,
        "an entry's data does not match its CRC-32",
        r#"
**Example**: one byte of a stored array flipped after `np.savez`.

**Fix**: write the archive again; the data is corrupt.
"#
    ),
    rule!(
        "npz/object-array",
        "Object array",
        Warning,
        false,
        "an array of Python objects (pickled): never unpickled, not readable here",
        r#"
Object arrays are pickles; loading them runs code, so neuride reports them
and never unpickles them (numpy itself needs `allow_pickle=True`).

**Example**: `np.savez("w.npz", names=np.array(["a", 1], dtype=object))`

**Fix**: store numbers or fixed-width strings (`dtype="U8"`).
"#
    ),
    rule!(
        "npz/unsupported-dtype",
        "Unsupported element type",
        Warning,
        false,
        "an array's dtype is one neuride does not read (structured, unicode strings for statistics, ...)",
        r#"
The archive is fine for numpy; neuride just will not compute statistics
for, or feed, this array.

**Example**: `np.savez("w.npz", rec=np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))`

**Fix**: store plain numeric arrays (one per field).
"#
    ),
    rule!(
        "npz/no-such-array",
        "No such array",
        Error,
        false,
        "an array asked for by name is not in the archive",
        r#"
Reported when a command or a `.neuro` file asks for an array by name.

**Example**: `neuride infer m.onnx --input w.npz` where the model's input
is `x` and the archive holds only `images`.

**Fix**: name an array the archive has (`neuride info w.npz` lists them).
"#
    ),
    rule!(
        "npz/data-length",
        "Array data length",
        Error,
        false,
        "an entry's data length differs from its header's shape and dtype",
        r#"
**Example**: an entry whose header says `(1000,)` float32 (4,000 bytes)
holding 400 bytes.

**Fix**: write the array again with `np.save`.
"#
    ),
    rule!(
        "npz/not-text",
        "Not a text array",
        Error,
        false,
        "a string array was expected and the array is numeric",
        r#"
Reported where text is needed (labels, string model inputs).

**Example**: feeding `np.array([1, 2])` to a model input of type string.

**Fix**: pass an array of strings (`dtype="U"`).
"#
    ),
    rule!(
        "npz/bad-character",
        "Invalid character",
        Error,
        false,
        "a unicode string array holds an invalid code point",
        r#"
**Example**: a `<U1` array whose UTF-32 data holds 0x110000.

**Fix**: write the strings again from valid text.
"#
    ),
    rule!(
        "npz/element-count",
        "Element count mismatch",
        Error,
        false,
        "an array has a different number of elements than where it is used needs",
        r#"
**Example**: an input array of 10 values for a model input of shape [1, 4].

**Fix**: pass an array of the shape the model (or command) expects.
"#
    ),
    rule!(
        "npz/wrong-dtype",
        "Wrong element type",
        Error,
        false,
        "an array has another dtype than where it is used needs",
        r#"
**Example**: an `int64` array fed to a float32 model input.

**Fix**: convert it (`x.astype(np.float32)`) before saving.
"#
    ),
    rule!(
        "npz/duplicate-name",
        "Duplicate array name",
        Warning,
        false,
        "two entries with one name (numpy reads the last one; so does neuride)",
        r#"
**Example**: `zipfile.ZipFile("w.npz", "a").writestr("x.npy", ...)` on an
archive that already holds `x.npy`.

**Fix**: write the archive once with `np.savez`, one array per name.
"#
    ),
    rule!(
        "npz/path-separator",
        "Path separator in an entry name",
        Warning,
        false,
        "`/` or `\\` in an entry name",
        r#"
numpy writes flat names; a name with a path separator could write outside
the target folder when the archive is unpacked.

**Example**: `np.savez("w.npz", **{"layer/weight": w})`

**Fix**: use flat names (`layer.weight`).
"#
    ),
    rule!(
        "npz/nan",
        "NaN values",
        Warning,
        false,
        "an array holds NaN values (the message names the count)",
        r#"
NaN weights or inputs make every result they touch NaN: usually a training
run that diverged.

**Example**: `np.savez("w.npz", w=np.array([1.0, np.nan], np.float32))`

**Fix**: find where the NaNs come from (a diverged run, a division by zero).
"#
    ),
    rule!(
        "npz/inf",
        "Infinite values",
        Warning,
        false,
        "an array holds infinite values (the message names the count)",
        r#"
**Example**: `np.savez("w.npz", w=np.array([1.0, np.inf], np.float32))`

**Fix**: clip or recompute the values.
"#
    ),
    rule!(
        "npz/trailing-data",
        "Bytes after the array data",
        Info,
        false,
        "an entry holds bytes after the array data, which numpy ignores",
        r#"
**Example**: a `.npy` written with `np.save` and then appended to.

**Fix**: write the array again; the extra bytes are dropped by numpy anyway.
"#
    ),
];
