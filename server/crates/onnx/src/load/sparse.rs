//! Decoding a mapped model without touching its weight pages.
//!
//! prost decodes `raw_data` as views into the map, but it still has to read
//! each tensor's header, which sits right before the payload; every such read
//! makes the kernel map the pages around it, and on a recent Linux with the
//! file cached in large folios (as an exporter's one big write leaves it)
//! that is up to 2 MB per tensor. A ViT-B/16-sized model checked that way had
//! 154 MB of its map resident; decoded this way, 8 MB (README, checker table).
//!
//! So the protobuf structure is read with positioned reads (`pread`, which
//! does not map anything) into a compact copy in which every large `raw_data`
//! payload is replaced by a 16-byte marker; prost decodes the copy, and each
//! marked tensor then gets its payload back as a slice of the map. Slicing
//! touches no page. Anything unexpected (bad wire data, groups, a marker
//! clash) makes the caller fall back to decoding the map directly, which
//! reports the real error.

use crate::proto::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use bytes::Bytes;

/// Payloads below this size are copied; above it they stay in the map.
const MIN_PAYLOAD: u64 = 4096;
/// Bytes fetched by a positioned read after a jump over a payload (the
/// header of the next tensor is usually all that is needed there) ...
const FIRST_CHUNK: usize = 4 * 1024;
/// ... doubled on each read that continues the previous one, up to this.
const MAX_CHUNK: usize = 64 * 1024;
/// Message nesting the walker follows (prost's own limit is 100).
const MAX_DEPTH: usize = 100;

/// The message kinds whose fields the walker must follow to reach tensors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    Sparse,
    Function,
    Training,
}

/// For a length-delimited field of a message of `kind`: the kind of the
/// sub-message it holds, when that may contain tensors.
fn child(kind: Kind, field: u32) -> Option<Kind> {
    use Kind::*;
    Some(match (kind, field) {
        (Model, 7) => Graph,
        (Model, 20) => Training,
        (Model, 25) => Function,
        (Graph, 1) => Node,
        (Graph, 5) => Tensor,
        (Graph, 15) => Sparse,
        (Node, 5) => Attribute,
        (Attribute, 5 | 10) => Tensor,
        (Attribute, 6 | 11) => Graph,
        (Attribute, 22 | 23) => Sparse,
        (Sparse, 1 | 2) => Tensor,
        (Function, 7) => Node,
        (Function, 11) => Attribute,
        (Training, 1 | 2) => Graph,
        _ => return None,
    })
}

/// Reads ranges of the file by positioned reads, through one chunk buffer.
struct Reader<'a> {
    read_at: &'a dyn Fn(u64, &mut [u8]) -> std::io::Result<usize>,
    len: u64,
    chunk: Vec<u8>,
    chunk_start: u64,
}

impl Reader<'_> {
    fn byte(&mut self, at: u64) -> Option<u8> {
        if at >= self.len {
            return None;
        }
        let offset = at.checked_sub(self.chunk_start);
        match offset {
            Some(o) if (o as usize) < self.chunk.len() => Some(self.chunk[o as usize]),
            _ => {
                self.fill(at).ok()?;
                self.chunk.first().copied()
            }
        }
    }

    fn fill(&mut self, at: u64) -> std::io::Result<()> {
        let continues = at == self.chunk_start + self.chunk.len() as u64;
        let size = if continues {
            (self.chunk.len() * 2).clamp(FIRST_CHUNK, MAX_CHUNK)
        } else {
            FIRST_CHUNK
        };
        let want = size.min((self.len - at) as usize);
        self.chunk.resize(want, 0);
        let mut done = 0;
        while done < want {
            let n = (self.read_at)(at + done as u64, &mut self.chunk[done..])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        self.chunk_start = at;
        Ok(())
    }

    fn copy(&mut self, at: u64, len: u64, out: &mut Vec<u8>) -> Option<()> {
        let end = at.checked_add(len).filter(|&e| e <= self.len)?;
        let mut at = at;
        while at < end {
            self.byte(at)?;
            let offset = (at - self.chunk_start) as usize;
            let take = ((end - at) as usize).min(self.chunk.len() - offset);
            out.extend_from_slice(&self.chunk[offset..offset + take]);
            at += take as u64;
        }
        Some(())
    }

    fn varint(&mut self, at: &mut u64) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.byte(*at)?;
            *at += 1;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
}

fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Writes `value` as a varint of exactly `out.len()` bytes (continuation
/// bits on the padding bytes, as protobuf parsers accept); `None` when it
/// does not fit.
fn put_padded_varint(mut value: u64, out: &mut [u8]) -> Option<()> {
    let (last, first) = out.split_last_mut()?;
    for byte in first {
        *byte = (value as u8 & 0x7f) | 0x80;
        value >>= 7;
    }
    *last = u8::try_from(value).ok().filter(|&b| b < 0x80)?;
    Some(())
}

struct Walk<'a> {
    reader: Reader<'a>,
    nonce: [u8; 8],
    /// (offset, length) in the file of each payload left out.
    payloads: Vec<(u64, u64)>,
    /// Nodes and initializers of the main graph, `None` without one.
    main_graph: Option<(usize, usize)>,
}

impl Walk<'_> {
    /// Copies the message in `[start, end)` of kind `kind` into `out`,
    /// following tensor-bearing fields and marking large payloads.
    fn message(
        &mut self,
        kind: Kind,
        start: u64,
        end: u64,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut at = start;
        while at < end {
            let field_start = at;
            let tag = self.reader.varint(&mut at)?;
            let field = u32::try_from(tag >> 3).ok()?;
            match tag & 7 {
                0 => {
                    self.reader.varint(&mut at)?;
                    self.reader.copy(field_start, at - field_start, out)?;
                }
                1 => {
                    at += 8;
                    self.reader.copy(field_start, at - field_start, out)?;
                }
                5 => {
                    at += 4;
                    self.reader.copy(field_start, at - field_start, out)?;
                }
                2 => {
                    let len = self.reader.varint(&mut at)?;
                    let body = at;
                    at = body.checked_add(len).filter(|&e| e <= end)?;
                    self.count(kind, depth, field);
                    if kind == Kind::Tensor && field == 9 && len >= MIN_PAYLOAD {
                        put_varint(tag, out);
                        put_varint(16, out);
                        out.extend_from_slice(&self.nonce);
                        out.extend_from_slice(&(self.payloads.len() as u64).to_le_bytes());
                        self.payloads.push((body, len));
                    } else if let Some(sub) = child(kind, field) {
                        // The copy is never longer than the original (only
                        // payloads are replaced, by shorter markers), so its
                        // length fits in as many varint bytes as the
                        // original's: written padded to that width once the
                        // copy is done, with no buffer per message.
                        put_varint(tag, out);
                        let width = (body - field_start) as usize - varint_len(tag);
                        let len_at = out.len();
                        out.resize(len_at + width, 0);
                        self.message(sub, body, at, depth + 1, out)?;
                        let copied = (out.len() - len_at - width) as u64;
                        put_padded_varint(copied, &mut out[len_at..len_at + width])?;
                    } else {
                        self.reader.copy(field_start, at - field_start, out)?;
                    }
                }
                // Groups (3, 4) are not in ONNX; 6 and 7 are invalid.
                _ => return None,
            }
        }
        (at == end).then_some(())
    }

    /// Counts the main graph's nodes and initializers.
    fn count(&mut self, kind: Kind, depth: usize, field: u32) {
        match (kind, depth, field) {
            (Kind::Model, 0, 7) => {
                self.main_graph.get_or_insert((0, 0));
            }
            (Kind::Graph, 1, 1) => self.main_graph.get_or_insert((0, 0)).0 += 1,
            (Kind::Graph, 1, 5) => self.main_graph.get_or_insert((0, 0)).1 += 1,
            _ => {}
        }
    }
}

/// Decodes the model in `map` (the file's memory map) reading its structure
/// through `read_at` (a positioned read of the same file). `None` when the
/// walk meets anything unusual: decode `map` directly then. An empty file is
/// one (the direct decode reports it as such; the walk would read it as a
/// model with nothing in it).
pub(crate) fn decode(
    map: &Bytes,
    read_at: &dyn Fn(u64, &mut [u8]) -> std::io::Result<usize>,
) -> Option<ModelProto> {
    if map.is_empty() {
        return None;
    }
    let nonce = nonce();
    let mut walk = Walk {
        reader: Reader {
            read_at,
            len: map.len() as u64,
            chunk: Vec::new(),
            chunk_start: 0,
        },
        nonce,
        payloads: Vec::new(),
        main_graph: None,
    };
    let mut compact = Vec::new();
    walk.message(Kind::Model, 0, map.len() as u64, 0, &mut compact)?;
    // prost grows a repeated field by doubling, copying a thousand nodes
    // ten times over; the walk counted them, so they are decoded into
    // vectors of the right size (merging keeps what is already there).
    let mut model = ModelProto {
        graph: walk.main_graph.map(|(nodes, initializers)| GraphProto {
            node: Vec::with_capacity(nodes),
            initializer: Vec::with_capacity(initializers),
            ..GraphProto::default()
        }),
        ..ModelProto::default()
    };
    prost::Message::merge(&mut model, Bytes::from(compact)).ok()?;
    let payloads = walk.payloads;
    let mut restored = 0usize;
    let mut failed = false;
    let mut restore = |tensor: &mut TensorProto| {
        let Some(raw) = tensor.raw_data.as_ref() else {
            return;
        };
        if raw.len() == 16 && raw[..8] == nonce {
            let index = u64::from_le_bytes(raw[8..16].try_into().unwrap_or_default());
            match payloads.get(index as usize) {
                Some(&(offset, len)) => {
                    tensor.raw_data = Some(map.slice(offset as usize..(offset + len) as usize));
                    restored += 1;
                }
                None => failed = true,
            }
        }
    };
    for_each_tensor(&mut model, &mut restore);
    (!failed && restored == payloads.len()).then_some(model)
}

/// A per-load marker prefix no real payload of exactly 16 bytes will start with.
fn nonce() -> [u8; 8] {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    hasher.finish().to_le_bytes()
}

/// Calls `f` on every tensor of the model, subgraphs and functions included.
fn for_each_tensor(model: &mut ModelProto, f: &mut dyn FnMut(&mut TensorProto)) {
    if let Some(graph) = model.graph.as_mut() {
        graph_tensors(graph, f);
    }
    for function in &mut model.functions {
        for node in &mut function.node {
            node_tensors(node, f);
        }
        for attribute in &mut function.attribute_proto {
            attribute_tensors(attribute, f);
        }
    }
    for info in &mut model.training_info {
        for graph in info
            .initialization
            .iter_mut()
            .chain(info.algorithm.iter_mut())
        {
            graph_tensors(graph, f);
        }
    }
}

fn graph_tensors(graph: &mut GraphProto, f: &mut dyn FnMut(&mut TensorProto)) {
    graph.initializer.iter_mut().for_each(&mut *f);
    for sparse in &mut graph.sparse_initializer {
        sparse
            .values
            .iter_mut()
            .chain(sparse.indices.iter_mut())
            .for_each(&mut *f);
    }
    for node in &mut graph.node {
        node_tensors(node, f);
    }
}

fn node_tensors(node: &mut NodeProto, f: &mut dyn FnMut(&mut TensorProto)) {
    for attribute in &mut node.attribute {
        attribute_tensors(attribute, f);
    }
}

fn attribute_tensors(attribute: &mut AttributeProto, f: &mut dyn FnMut(&mut TensorProto)) {
    attribute
        .t
        .as_deref_mut()
        .into_iter()
        .chain(attribute.tensors.iter_mut())
        .for_each(&mut *f);
    for sparse in attribute
        .sparse_tensor
        .as_deref_mut()
        .into_iter()
        .chain(attribute.sparse_tensors.iter_mut())
    {
        sparse
            .values
            .iter_mut()
            .chain(sparse.indices.iter_mut())
            .for_each(&mut *f);
    }
    for graph in attribute
        .g
        .as_deref_mut()
        .into_iter()
        .chain(attribute.graphs.iter_mut())
    {
        graph_tensors(graph, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    fn onnx_files(folder: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                onnx_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "onnx") {
                out.push(path);
            }
        }
    }

    fn sparse_decode(bytes: &Bytes) -> Option<ModelProto> {
        let read_at = |offset: u64, buffer: &mut [u8]| -> std::io::Result<usize> {
            let start = (offset as usize).min(bytes.len());
            // Short reads, as a positioned read may return.
            let n = buffer.len().min(bytes.len() - start).min(3000);
            buffer[..n].copy_from_slice(&bytes[start..start + n]);
            Ok(n)
        };
        decode(bytes, &read_at)
    }

    #[test]
    fn a_graph_of_many_nodes_decodes_as_prost_does() {
        // A thousand nodes, some carrying a tensor attribute whose payload
        // stays in the map, and big initializers.
        use crate::build::{attr_int, float_initializer, model};
        use crate::proto::AttributeProto;
        use prost::Message;
        let big = |name: &str, seed: usize| {
            let data: Vec<f32> = (0..2048).map(|i| (i * seed) as f32).collect();
            float_initializer(name, &[2048], &data)
        };
        let mut graph = GraphProto::default();
        let mut last = "x".to_owned();
        for i in 0..1027 {
            let out = format!("v{i}");
            let mut node = NodeProto {
                op_type: Some("Add".into()),
                name: Some(format!("add{i}")),
                input: vec![last.clone(), format!("w{}", i % 4)],
                output: vec![out.clone()],
                ..Default::default()
            };
            if i % 100 == 0 {
                node.op_type = Some("Constant".into());
                node.input.clear();
                node.attribute.push(AttributeProto {
                    name: Some("value".into()),
                    t: Some(Box::new(big(&format!("c{i}"), i + 1))),
                    r#type: Some(4),
                    ..Default::default()
                });
            } else if i % 7 == 0 {
                node.attribute.push(attr_int("axis", i as i64));
            }
            graph.node.push(node);
            last = out;
        }
        graph.initializer = (0..4).map(|i| big(&format!("w{i}"), i + 2)).collect();
        // Long stretches of fields copied as they are, read in several
        // reads: 100 kB of value infos, a doc string longer than a read.
        graph.value_info = (0..3000)
            .map(|i| crate::build::value_info(&format!("v{i}"), &[Some(1), None, Some(3)]))
            .collect();
        graph.doc_string = Some("d".repeat(20_000));
        let bytes = Bytes::from(model(graph).encode_to_vec());
        let plain = super::super::decode(bytes.clone()).unwrap();
        let sparse = sparse_decode(&bytes).expect("decodes");
        assert!(sparse == plain);
        // The Constant nodes' payloads are views into the bytes, not copies.
        let base = bytes.as_ptr() as usize;
        let node = &sparse.graph.as_ref().unwrap().node[100];
        let raw = node.attribute[0]
            .t
            .as_ref()
            .unwrap()
            .raw_data
            .as_ref()
            .unwrap();
        assert!(raw.as_ptr() as usize >= base && (raw.as_ptr() as usize) < base + bytes.len());
    }

    #[test]
    fn every_fixture_decodes_as_prost_does_with_payloads_in_the_map() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures");
        let mut files = Vec::new();
        onnx_files(&root, &mut files);
        assert!(
            files.len() >= 8,
            "fixtures missing under {}",
            root.display()
        );
        let mut payloads = 0;
        for file in files {
            let bytes = Bytes::from(std::fs::read(&file).unwrap());
            let plain = super::super::decode(bytes.clone()).unwrap();
            let sparse = sparse_decode(&bytes).unwrap_or_else(|| panic!("{}", file.display()));
            assert!(sparse == plain, "{} decodes differently", file.display());
            for tensor in &sparse.graph.as_ref().unwrap().initializer {
                if let Some(raw) = &tensor.raw_data {
                    if raw.len() as u64 >= MIN_PAYLOAD {
                        // A view into the file's bytes, not a copy.
                        let base = bytes.as_ptr() as usize;
                        let at = raw.as_ptr() as usize;
                        assert!(at >= base && at < base + bytes.len());
                        payloads += 1;
                    }
                }
            }
        }
        assert!(
            payloads > 0,
            "no fixture has a payload above {MIN_PAYLOAD} bytes"
        );
    }

    /// Found by the property below (a flip, then a cut to nothing): the walk
    /// read an empty file as an empty model where the direct decode reports
    /// `Empty`.
    #[test]
    fn an_empty_file_is_left_to_the_direct_decode() {
        let empty = Bytes::new();
        assert!(sparse_decode(&empty).is_none());
        assert!(matches!(
            super::super::decode(empty),
            Err(super::super::LoadError::Empty)
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Corrupted models: the walk either gives up (the caller then
        /// decodes the map and reports the error) or agrees with prost.
        #[test]
        fn corrupt_models_never_disagree_with_prost(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/dl/digits_cnn.onnx");
            let mut data = std::fs::read(root).unwrap();
            for (index, value) in flips {
                let i = index.index(data.len());
                data[i] = value;
            }
            if cut.index(4) == 0 {
                let keep = cut.index(data.len());
                data.truncate(keep);
            }
            let bytes = Bytes::from(data);
            if let Some(sparse) = sparse_decode(&bytes) {
                let plain = super::super::decode(bytes.clone());
                prop_assert!(plain.as_ref().is_ok_and(|p| *p == sparse));
            }
        }
    }
}
