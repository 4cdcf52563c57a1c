//! A `Workspace` built from hand-written facts that match the real fixture
//! files (shapes from tests/fixtures/MANIFEST.json and the arrays themselves,
//! read once with numpy; see `facts.py` next to this file).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use neuride_dsl::{
    ArchiveFacts, ArrayFact, ArrayStats, Dim, DirEntry, FileFact, ModelFacts, ModelKind, OpFact,
    Shape, TensorFact, Workspace,
};

#[derive(Default, Clone)]
pub struct FactsWorkspace {
    pub models: HashMap<String, Arc<ModelFacts>>,
    pub archives: HashMap<String, Arc<ArchiveFacts>>,
    pub broken: HashMap<String, String>,
}

impl Workspace for FactsWorkspace {
    fn model(&self, path: &str) -> FileFact<ModelFacts> {
        if let Some(why) = self.broken.get(path) {
            return FileFact::WrongFormat(why.clone());
        }
        fact(
            path,
            &self.models,
            &self.archives,
            "an NPZ archive, not an ONNX model",
        )
    }
    fn archive(&self, path: &str) -> FileFact<ArchiveFacts> {
        fact(
            path,
            &self.archives,
            &self.models,
            "an ONNX model, not an NPZ archive",
        )
    }
    fn files(&self, dir: &str) -> Vec<DirEntry> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{}/", dir.trim_end_matches('/'))
        };
        let mut entries: Vec<DirEntry> = Vec::new();
        for path in self.models.keys().chain(self.archives.keys()) {
            let Some(rest) = path.strip_prefix(&prefix) else {
                continue;
            };
            let (name, is_dir) = match rest.split_once('/') {
                Some((dir, _)) => (dir.to_string(), true),
                None => (rest.to_string(), false),
            };
            if !entries.iter().any(|entry| entry.name == name) {
                entries.push(DirEntry { name, is_dir });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries
    }
}

/// The facts of `path` among the files of its kind (`own`); a file of the
/// other kind there is the wrong format (`why` says so).
fn fact<T, U>(
    path: &str,
    own: &HashMap<String, Arc<T>>,
    other: &HashMap<String, Arc<U>>,
    why: &str,
) -> FileFact<T> {
    match own.get(path) {
        Some(facts) => FileFact::Ok(facts.clone()),
        None if other.contains_key(path) => FileFact::WrongFormat(why.into()),
        None => FileFact::Missing,
    }
}

fn tensor(name: &str, elem_type: &str, dims: &[&str]) -> TensorFact {
    let shape = dims
        .iter()
        .map(|dim| match dim.parse::<u64>() {
            Ok(value) => Dim::Known(value),
            Err(_) => Dim::Symbolic(dim.to_string()),
        })
        .collect();
    TensorFact {
        name: name.into(),
        elem_type: elem_type.into(),
        shape: Some(Shape(shape)),
    }
}

fn op(node: &str, op_type: &str) -> OpFact {
    OpFact {
        node: node.into(),
        op_type: op_type.into(),
    }
}

fn array(name: &str, dtype: &str, shape: &[u64], stats: [f64; 4]) -> ArrayFact {
    ArrayFact {
        name: name.into(),
        dtype: dtype.into(),
        shape: shape.to_vec(),
        stats: Some(ArrayStats {
            min: stats[0],
            max: stats[1],
            mean: stats[2],
            std: stats[3],
        }),
    }
}

pub fn digits_cnn() -> ModelFacts {
    small_cnn(
        [
            "/conv1/Conv",
            "/Relu",
            "/pool1/AveragePool",
            "/conv2/Conv",
            "/Relu_1",
            "/pool2/AveragePool",
            "/Flatten",
            "/fc/MatMul",
        ],
        ["conv1.weight", "conv2.weight", "onnx::MatMul_13"],
        8,
        10,
    )
}

/// examples/tabular-snn/cnn.onnx (16x16 gene images, 4 classes).
pub fn genes_cnn() -> ModelFacts {
    small_cnn(
        [
            "/0/Conv",
            "/1/Relu",
            "/2/AveragePool",
            "/3/Conv",
            "/4/Relu",
            "/5/AveragePool",
            "/6/Flatten",
            "/7/MatMul",
        ],
        ["0.weight", "3.weight", "onnx::MatMul_13"],
        16,
        4,
    )
}

/// The conv(8)-relu-avgpool-conv(16)-relu-avgpool-linear CNN (no biases) as
/// PyTorch exports it, for `side` x `side` images and `classes` classes:
/// `nodes` names its eight nodes in order, `weights` its three weights.
fn small_cnn(nodes: [&str; 8], weights: [&str; 3], side: u64, classes: u64) -> ModelFacts {
    let ops = [
        "Conv",
        "Relu",
        "AveragePool",
        "Conv",
        "Relu",
        "AveragePool",
        "Flatten",
        "MatMul",
    ];
    // Two 2x2 pools: 16 channels of (side / 4)^2.
    let features = 16 * (side / 4) * (side / 4);
    let (side, features_dim, classes_dim) =
        (side.to_string(), features.to_string(), classes.to_string());
    ModelFacts {
        kind: ModelKind::Dl,
        evidence: vec![format!(
            "Conv ({}), Relu ({}), MatMul ({}): neural network ops",
            nodes[0], nodes[1], nodes[7]
        )],
        inputs: vec![tensor("x", "f32", &["batch", "1", &side, &side])],
        outputs: vec![tensor("logits", "f32", &["batch", &classes_dim])],
        ops: nodes
            .iter()
            .zip(ops)
            .map(|(node, op_type)| op(node, op_type))
            .collect(),
        unconvertible: vec![],
        initializers: vec![
            tensor(weights[0], "f32", &["8", "1", "3", "3"]),
            tensor(weights[1], "f32", &["16", "8", "3", "3"]),
            tensor(weights[2], "f32", &[&features_dim, &classes_dim]),
        ],
        parameter_count: 72 + 1152 + features * classes,
        producer: "pytorch".into(),
    }
}

/// examples/tabular-snn/genes_{train,test}.npz: 256 genes per row.
pub fn genes_npz(rows: u64) -> ArchiveFacts {
    ArchiveFacts {
        arrays: vec![
            array("x", "f32", &[rows, 256], [0.03, 2500.0, 18.0, 40.0]),
            array("y", "i64", &[rows], [0.0, 3.0, 1.5, 1.1]),
            array("module", "i64", &[256], [-1.0, 15.0, 5.4, 5.4]),
        ],
    }
}

pub fn iris_logreg() -> ModelFacts {
    ModelFacts {
        kind: ModelKind::Ml,
        evidence: vec!["LinearClassifier (ai.onnx.ml)".into()],
        inputs: vec![tensor("X", "f32", &["", "4"])],
        outputs: vec![
            tensor("label", "i64", &[""]),
            tensor("probabilities", "f32", &["", "3"]),
        ],
        ops: vec![
            op("LinearClassifier", "LinearClassifier"),
            op("Normalizer", "Normalizer"),
        ],
        unconvertible: vec![
            op("LinearClassifier", "LinearClassifier"),
            op("Normalizer", "Normalizer"),
        ],
        initializers: vec![],
        parameter_count: 15,
        producer: "skl2onnx".into(),
    }
}

pub fn digits_snntorch() -> ModelFacts {
    ModelFacts {
        kind: ModelKind::Snn,
        evidence: vec!["Greater -> Cast -> Mul/Sub membrane pattern over 25 steps".into()],
        inputs: vec![tensor("spikes", "f32", &["25", "batch", "64"])],
        outputs: vec![tensor("counts", "f32", &["batch", "10"])],
        ops: vec![op("/lif1/Greater", "Greater")],
        unconvertible: vec![],
        initializers: vec![],
        parameter_count: 4810,
        producer: "pytorch".into(),
    }
}

pub fn digits_cnn_npz() -> ArchiveFacts {
    ArchiveFacts {
        arrays: vec![
            array(
                "conv1.weight",
                "f32",
                &[8, 1, 3, 3],
                [-1.0669, 1.2596, 0.2924, 0.6103],
            ),
            array(
                "conv2.weight",
                "f32",
                &[16, 8, 3, 3],
                [-1.9220, 1.7179, 0.0428, 0.4174],
            ),
            array(
                "fc.weight",
                "f32",
                &[10, 64],
                [-1.1771, 0.7990, -0.0359, 0.2824],
            ),
        ],
    }
}

pub fn digits_mlp_npz() -> ArchiveFacts {
    ArchiveFacts {
        arrays: vec![
            array(
                "fc1.weight",
                "f32",
                &[64, 64],
                [-1.1117, 0.9482, 0.0248, 0.2629],
            ),
            array("fc1.bias", "f32", &[64], [-0.1474, 0.3019, 0.0614, 0.1088]),
            array(
                "fc2.weight",
                "f32",
                &[10, 64],
                [-1.2691, 0.7283, -0.0656, 0.3455],
            ),
            array("fc2.bias", "f32", &[10], [-0.1326, 0.1659, 0.0008, 0.0908]),
        ],
    }
}

pub fn digits_test_npz() -> ArchiveFacts {
    ArchiveFacts {
        arrays: vec![
            array("x", "f32", &[450, 1, 8, 8], [0.0, 1.0, 0.3054, 0.3762]),
            array("y", "i64", &[450], [0.0, 9.0, 4.48, 2.866]),
        ],
    }
}

pub fn digits_calib_npz() -> ArchiveFacts {
    ArchiveFacts {
        arrays: vec![array(
            "x",
            "f32",
            &[200, 1, 8, 8],
            [0.0, 1.0, 0.3083, 0.3778],
        )],
    }
}

pub fn iris_npz() -> ArchiveFacts {
    ArchiveFacts {
        arrays: vec![
            array("x", "f32", &[150, 4], [0.1, 7.9, 3.4645, 1.9738]),
            array("y", "i64", &[150], [0.0, 2.0, 1.0, 0.8165]),
        ],
    }
}

pub fn workspace(
    models: &[(&str, ModelFacts)],
    archives: &[(&str, ArchiveFacts)],
) -> FactsWorkspace {
    FactsWorkspace {
        models: models
            .iter()
            .map(|(path, facts)| (path.to_string(), Arc::new(facts.clone())))
            .collect(),
        archives: archives
            .iter()
            .map(|(path, facts)| (path.to_string(), Arc::new(facts.clone())))
            .collect(),
        broken: HashMap::new(),
    }
}

/// The workspace of each example folder, keyed by the paths its file uses.
pub fn example_workspace(example: &str) -> FactsWorkspace {
    match example {
        "digits-snn" => workspace(
            &[("models/digits_cnn.onnx", digits_cnn())],
            &[
                ("models/digits_cnn.npz", digits_cnn_npz()),
                ("data/digits_test.npz", digits_test_npz()),
                ("data/digits_calib.npz", digits_calib_npz()),
            ],
        ),
        "handwritten-snn" => workspace(
            &[],
            &[
                ("weights/digits_mlp.npz", digits_mlp_npz()),
                ("data/digits_test.npz", digits_test_npz()),
            ],
        ),
        "iot-app" => workspace(
            &[("models/iris_logreg_nozipmap.onnx", iris_logreg())],
            &[("data/iris.npz", iris_npz())],
        ),
        "tabular-snn" => workspace(
            &[("cnn.onnx", genes_cnn())],
            &[
                ("genes_train.npz", genes_npz(1500)),
                ("genes_test.npz", genes_npz(500)),
            ],
        ),
        other => panic!("no facts for example {other}"),
    }
}

/// A workspace with every fixture under short names, for feature tests.
pub fn all_facts() -> FactsWorkspace {
    let mut ws = workspace(
        &[
            ("cnn.onnx", digits_cnn()),
            ("iris.onnx", iris_logreg()),
            ("snn.onnx", digits_snntorch()),
        ],
        &[
            ("cnn.npz", digits_cnn_npz()),
            ("mlp.npz", digits_mlp_npz()),
            ("data/test.npz", digits_test_npz()),
            ("data/calib.npz", digits_calib_npz()),
            ("data/iris.npz", iris_npz()),
        ],
    );
    ws.broken.insert(
        "broken.onnx".into(),
        "bytes that are not a protobuf ModelProto (truncated at byte 3)".into(),
    );
    ws
}

/// `text` with the `$0` cursor marker removed, and the cursor's offset.
pub fn cursor(text: &str) -> (String, usize) {
    let offset = text.find("$0").expect("fixture has a $0 cursor");
    (text.replacen("$0", "", 1), offset)
}

pub fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../examples")
}

/// Formatting a file without syntax errors gives text that parses without
/// errors and formats to itself; a file with errors is left alone.
pub fn format_is_stable(parse: &neuride_dsl::Parse) {
    let Some(formatted) = neuride_dsl::format(parse) else {
        assert!(!parse.errors.is_empty(), "a clean file must format");
        return;
    };
    let again = neuride_dsl::parse(&formatted);
    assert!(
        again.errors.is_empty(),
        "formatted text has errors: {:?}\n{formatted}",
        again.errors
    );
    assert_eq!(
        neuride_dsl::format(&again).as_deref(),
        Some(formatted.as_str()),
        "formatting is not idempotent"
    );
}

/// A refused rename says why.
pub fn explained<T, E: std::fmt::Display>(result: Result<T, E>) {
    if let Err(error) = result {
        assert!(!error.to_string().is_empty(), "an error without a message");
    }
}

/// The text of a parse's tokens put back together: the source itself when
/// the tree is lossless.
pub fn rebuilt(parse: &neuride_dsl::Parse, text: &str) -> String {
    parse
        .tree
        .tokens()
        .iter()
        .map(|token| &text[token.range.start..token.range.end])
        .collect()
}
