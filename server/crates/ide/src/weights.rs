//! ONNX <-> NPZ weight exchange (not built yet).
