//! `.nir` bytes: NIR's HDF5 layout read (`neuride-nir`, its HDF5 decoder
//! under `catch_unwind`), the graph lowered for the simulator, written back
//! and read again, and the analysis the server publishes (the ONNX view,
//! its diagnostics and text). Problems are fine; panics, aborts and
//! runaway allocations are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let read = neuride_nir::read(data);
    if let Some(document) = &read.document {
        let _ = neuride_nir::lower(document, &neuride_nir::LowerOptions::default());
        if let Ok(bytes) = neuride_nir::write(document) {
            let _ = neuride_nir::read(&bytes);
        }
    }
    let analysis = neuride_ide::analyze_file(Path::new("fuzz.nir"), bytes::Bytes::copy_from_slice(data));
    let _ = analysis.report();
});
