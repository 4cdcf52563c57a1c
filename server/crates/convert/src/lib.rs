//! neuride-convert: ONNX ReLU networks -> neuride-snn networks (see DESIGN.md).
