//! Compiles `proto/onnx.proto` with prost. `protox` parses the schema in pure
//! Rust, so no system `protoc` is needed. Every `bytes` field decodes to
//! `bytes::Bytes`, which lets `raw_data` stay a view into the memory map.

fn main() {
    let proto_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../proto");
    let proto_file = proto_dir.join("onnx.proto");
    println!("cargo:rerun-if-changed={}", proto_file.display());
    let descriptors =
        protox::compile([&proto_file], [&proto_dir]).expect("proto/onnx.proto must parse");
    prost_build::Config::new()
        .bytes(["."])
        // An attribute holds one value; its message-typed ones inline made
        // `AttributeProto` 1,672 bytes (a tensor, a graph, a sparse tensor and
        // a type side by side), most of the memory a decoded graph takes.
        .boxed(".onnx.AttributeProto.t")
        .boxed(".onnx.AttributeProto.g")
        .boxed(".onnx.AttributeProto.sparse_tensor")
        .boxed(".onnx.AttributeProto.tp")
        .compile_fds(descriptors)
        .expect("prost code generation for onnx.proto");
}
