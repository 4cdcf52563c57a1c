//! The analysis host: documents and a cache of file summaries, and the
//! features as plain functions returning editor-level data (byte offsets,
//! line/character ranges, labels). It knows no LSP types and no tokio; the
//! `neuride` binary converts its results to the protocol.

/// ONNX <-> NPZ weight exchange and model/archive pairing.
pub mod weights;
