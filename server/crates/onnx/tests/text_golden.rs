//! The text view against `onnx.printer.to_text` (goldens written by
//! scripts/gen_text_golden.py), and its anchor map.

use neuride_onnx::text::{Position, PrintOptions, print, print_with};
use neuride_onnx::{Anchor, GraphId};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/text")
}

/// The model a golden was printed from: a synthetic one next to it, or a
/// fixture named `<folder>_<name>`.
fn model_for(golden: &Path) -> PathBuf {
    let stem = golden.file_stem().unwrap().to_str().unwrap();
    let synthetic = golden.with_extension("onnx");
    if synthetic.exists() {
        return synthetic;
    }
    let (folder, name) = stem.split_once('_').unwrap();
    repo()
        .join("tests/fixtures")
        .join(folder)
        .join(format!("{name}.onnx"))
}

fn load(path: &Path) -> neuride_onnx::proto::ModelProto {
    neuride_onnx::load::load_file(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .proto
}

#[test]
fn every_golden_matches_onnx_printer_byte_for_byte() {
    let mut goldens: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    goldens.sort();
    assert!(
        goldens.len() >= 10,
        "goldens missing: run scripts/gen_text_golden.py"
    );
    for golden in goldens {
        let want = std::fs::read_to_string(&golden).unwrap();
        let got = print(&load(&model_for(&golden))).text;
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{}: differs at line {}\n got: {:.300}\nwant: {:.300}",
                golden.display(),
                line + 1,
                got.lines().nth(line).unwrap_or("<end>"),
                want.lines().nth(line).unwrap_or("<end>")
            );
        }
    }
}

fn text_at(view: &neuride_onnx::text::TextView, r: neuride_onnx::text::Range) -> String {
    let line = view.text.lines().nth(r.start.line as usize).unwrap();
    assert_eq!(r.start.line, r.end.line);
    line[r.start.character as usize..r.end.character as usize].to_owned()
}

#[test]
fn anchors_map_to_their_lines_and_back() {
    let model = load(&repo().join("tests/fixtures/dl/digits_mlp.onnx"));
    let view = print(&model);
    let node0 = Anchor::Node {
        graph: GraphId::Main,
        index: 0,
    };
    let r = view.range(&node0).unwrap();
    let node_text = text_at(&view, r);
    assert!(node_text.contains("= Flatten"), "{node_text}");
    assert_eq!(
        view.text.lines().nth(r.start.line as usize).unwrap().trim(),
        node_text
    );

    // A graph input is defined in the header and used by the first node.
    let x = Anchor::Value {
        graph: GraphId::Main,
        name: "x".into(),
    };
    let uses = view.ranges(&x);
    assert!(
        uses.iter().any(|(_, def)| *def) && uses.iter().any(|(_, def)| !*def),
        "{uses:?}"
    );
    assert_eq!(text_at(&view, view.range(&x).unwrap()), "x");

    // Hovering a weight name inside a Gemm line finds the initializer, whose
    // definition is in the graph's initializer list.
    let gemm_line = view
        .text
        .lines()
        .position(|l| l.contains("Gemm") && l.contains("fc1.weight"))
        .unwrap();
    let col = view
        .text
        .lines()
        .nth(gemm_line)
        .unwrap()
        .rfind("\"fc1.weight\"")
        .unwrap()
        + 2;
    let hit = view
        .anchor_at(Position {
            line: gemm_line as u32,
            character: col as u32,
        })
        .unwrap();
    assert_eq!(
        hit.anchor,
        Anchor::Initializer {
            graph: GraphId::Main,
            name: "fc1.weight".into()
        }
    );
    let def = view.range(&hit.anchor).unwrap();
    assert!(text_at(&view, def).starts_with("float[64,64] \"fc1.weight\" =  {"));

    // Off any name but on the node's line: the node.
    let hit = view
        .anchor_at(Position {
            line: gemm_line as u32,
            character: 4,
        })
        .unwrap();
    assert!(
        matches!(hit.anchor, Anchor::Node { .. }),
        "{:?}",
        hit.anchor
    );
    assert_eq!(
        view.range(&Anchor::Model).unwrap().start,
        Position {
            line: 0,
            character: 0
        }
    );
}

#[test]
fn subgraph_and_function_anchors_are_distinct() {
    let model = load(&golden_dir().join("synthetic_control_flow.onnx"));
    let view = print(&model);
    let then_id = GraphId::Sub(Box::new(GraphId::Main), 4, "then_branch".into());
    let relu = view
        .range(&Anchor::Node {
            graph: then_id.clone(),
            index: 0,
        })
        .unwrap();
    assert_eq!(text_at(&view, relu), "[then_relu] t = Relu (x)");
    // Inside the If's line span, the innermost anchor wins.
    let hit = view
        .anchor_at(Position {
            line: relu.start.line,
            character: relu.start.character + 1,
        })
        .unwrap();
    assert_eq!(
        hit.anchor,
        Anchor::Node {
            graph: then_id.clone(),
            index: 0
        }
    );
    let body = GraphId::Sub(Box::new(GraphId::Main), 5, "body".into());
    let one = view
        .range(&Anchor::Initializer {
            graph: body,
            name: "one".into(),
        })
        .unwrap();
    assert_eq!(text_at(&view, one), "float[2,3] one =  {1,1,1,1,1,1}");
    let f = GraphId::Function {
        domain: "custom".into(),
        name: "Double".into(),
        overload: String::new(),
    };
    let add = view.range(&Anchor::Node { graph: f, index: 0 }).unwrap();
    assert_eq!(text_at(&view, add), "b = Add (a, a)");
    assert!(
        view.range(&Anchor::Function {
            domain: "custom".into(),
            name: "Double".into(),
            overload: String::new()
        })
        .is_some()
    );
}

#[test]
fn large_tensors_can_be_elided_for_the_editor() {
    let model = load(&repo().join("tests/fixtures/dl/digits_mlp.onnx"));
    let full = print(&model);
    let short = print_with(
        &model,
        &PrintOptions {
            max_tensor_elements: Some(100),
        },
    );
    assert!(
        short.text.len() < full.text.len() / 10,
        "{} vs {}",
        short.text.len(),
        full.text.len()
    );
    assert!(short.text.contains("float[64,64] \"fc1.weight\" =  {...}"));
    // Small tensors are still printed in full.
    assert!(short.text.contains("float[10] \"fc2.bias\" =  {"));
    assert_eq!(short.text.lines().count(), full.text.lines().count());
}
