//! The writer's archives read back identically, stored, deflated and zip64.

mod common;

use neuride_npz::{Array, Compression, DType, NpzWriter, WriteOptions, list, write_npz};

fn all_arrays(bytes: &[u8]) -> Vec<(String, Array<'_>)> {
    let archive = list(bytes).unwrap();
    archive
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.read().unwrap()))
        .collect()
}

#[test]
fn every_dtype_round_trips_through_every_layout() {
    let source = common::read("dtypes_stored.npz");
    let arrays = all_arrays(&source);
    let refs: Vec<(&str, &Array<'_>)> = arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
    for options in [
        WriteOptions::stored(),
        WriteOptions::deflated(),
        WriteOptions {
            compression: Compression::Stored,
            force_zip64: true,
        },
        WriteOptions {
            compression: Compression::Deflated,
            force_zip64: true,
        },
    ] {
        let written = write_npz(&refs, options).unwrap();
        if options.force_zip64 {
            assert!(written.windows(4).any(|w| w == b"PK\x06\x06"));
        }
        let archive = list(&written).unwrap();
        assert!(
            archive.diagnostics.is_empty(),
            "{options:?}: {:?}",
            archive.diagnostics
        );
        for (name, array) in &arrays {
            let entry = archive.entry(name).unwrap();
            assert_eq!(entry.compression, options.compression);
            entry.verify_crc().unwrap();
            assert_eq!(&entry.read().unwrap(), array, "{options:?} {name}");
        }
    }
}

#[test]
fn stored_entries_hold_np_save_bytes() {
    // A stored entry is exactly the .npy numpy's np.save would write.
    let npy = common::read("saved_f8_fortran.npy");
    let array = neuride_npz::read_npy(&npy, "x").unwrap();
    let written = write_npz(&[("x", &array)], WriteOptions::stored()).unwrap();
    let archive = list(&written).unwrap();
    assert_eq!(archive.entries[0].stored, &npy[..]);
    assert_eq!(archive.entries[0].zip_name, "x.npy");
}

#[test]
fn bad_names_are_refused() {
    let array = Array::from_f32(vec![2], &[1.0, 2.0]).unwrap();
    let mut writer = NpzWriter::new(Vec::new(), WriteOptions::stored());
    writer.add("a", &array).unwrap();
    assert!(writer.add("a", &array).is_err());
    assert!(writer.add("dir/b", &array).is_err());
    let bytes = writer.finish().unwrap();
    assert_eq!(list(&bytes).unwrap().entries.len(), 1);
}

#[test]
fn array_new_checks_the_length() {
    let error = Array::new(DType::Float32, vec![2, 2], vec![0u8; 12]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "array data is 12 bytes but dtype float32 x shape [2, 2] needs 16"
    );
}

#[test]
fn transpose_turns_a_keras_kernel_into_an_onnx_weight() {
    // [in=2, out=3] in C order -> [3, 2].
    let kernel = Array::from_f32(vec![2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let weight = kernel.to_standard(true).unwrap();
    assert_eq!(weight.shape, vec![3, 2]);
    assert_eq!(
        weight.to_f32_vec().unwrap(),
        vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );
}

#[test]
fn string_arrays_round_trip_stored_and_deflated() {
    use neuride_npz::StringArray;
    let labels = StringArray::new(
        vec![3],
        vec!["setosa".into(), "versicolor".into(), "".into()],
    )
    .unwrap();
    let numbers = Array::from_f32(vec![2], &[1.0, 2.0]).unwrap();
    for options in [WriteOptions::stored(), WriteOptions::deflated()] {
        let mut writer = NpzWriter::new(Vec::new(), options);
        writer.add_strings("label", &labels).unwrap();
        writer.add("x", &numbers).unwrap();
        // One name space for both kinds of array.
        assert!(writer.add_strings("x", &labels).is_err());
        let bytes = writer.finish().unwrap();
        let archive = list(&bytes).unwrap();
        let entry = archive.entry("label").unwrap();
        assert_eq!(entry.read_strings().unwrap(), labels, "{options:?}");
        // Strings are not numbers, and numbers are not strings.
        assert!(entry.read().is_err());
        assert_eq!(
            archive
                .entry("x")
                .unwrap()
                .read_strings()
                .unwrap_err()
                .code(),
            "npz/not-text"
        );
    }
}
