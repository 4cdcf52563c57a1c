//! The reference fixtures' `.npz` files, read through neuride-npz (the
//! workspace's one NPY/NPZ codec) as f64 values with their shape and descr.

use std::collections::HashMap;
use std::path::PathBuf;

pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
    /// numpy's descr (`<f8`), so a test can assert the reference's precision.
    pub dtype: String,
}

impl Array {
    pub fn f32(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
}

pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(relative)
}

pub fn read_npz(relative: &str) -> HashMap<String, Array> {
    let bytes = std::fs::read(fixture(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let archive = neuride_npz::list(&bytes).unwrap_or_else(|e| panic!("{relative}: {e}"));
    archive
        .entries
        .iter()
        .map(|entry| {
            let array = entry
                .read()
                .unwrap_or_else(|e| panic!("{relative}: {}: {e}", entry.name));
            let values = array.to_f64_vec().unwrap();
            let array = Array {
                shape: array.shape.iter().map(|&d| d as usize).collect(),
                values,
                dtype: array.descr(),
            };
            (entry.name.clone(), array)
        })
        .collect()
}
