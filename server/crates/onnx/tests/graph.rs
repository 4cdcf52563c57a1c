//! Graph views on every fixture model and on synthetic ones: the JSON lists
//! what the proto holds, the SVG is well-formed XML whose boxes do not
//! overlap, DOT parses, big graphs collapse, bad graphs do not panic.

mod graph_checks;

use expect_test::expect;
use graph_checks::{check_dot, check_svg, fixture_models};
use neuride_onnx::graph::synthetic::node;
use neuride_onnx::graph::{self, Collapse, Direction, ShapeMap, ViewOptions};
use neuride_onnx::proto::{GraphProto, ModelProto};

fn options(direction: Direction, collapse: Collapse) -> ViewOptions<'static> {
    ViewOptions {
        shapes: None,
        direction,
        collapse,
    }
}

#[test]
fn every_fixture_model_gets_consistent_json_svg_and_dot() {
    let models = fixture_models();
    assert!(
        models.len() >= 8,
        "expected the fixture models, found {}",
        models.len()
    );
    for (path, model) in &models {
        let graph_proto = model.graph.as_ref().unwrap();
        let json = graph::to_json(model, None);
        assert_eq!(json.nodes.len(), graph_proto.node.len(), "{path}");
        let mut ids: std::collections::HashSet<String> =
            json.nodes.iter().map(|n| n.id.clone()).collect();
        ids.extend(json.inputs.iter().map(|v| format!("in:{}", v.name)));
        ids.extend(json.initializers.iter().map(|v| format!("init:{}", v.name)));
        ids.extend(json.outputs.iter().map(|v| format!("out:{}", v.name)));
        for edge in &json.edges {
            assert!(
                ids.contains(&edge.from),
                "{path}: edge from unknown {}",
                edge.from
            );
            assert!(
                ids.contains(&edge.to),
                "{path}: edge to unknown {}",
                edge.to
            );
        }
        let used_inputs: usize = graph_proto
            .node
            .iter()
            .map(|n| n.input.iter().filter(|i| !i.is_empty()).count())
            .sum();
        assert_eq!(
            json.edges.len(),
            used_inputs + graph_proto.output.len(),
            "{path}"
        );
        assert!(json.undefined.is_empty(), "{path}: {:?}", json.undefined);
        serde_json::to_string(&json).unwrap();

        for direction in [Direction::LeftRight, Direction::TopDown] {
            let svg = graph::to_svg(model, &options(direction, Collapse::Auto));
            let boxes = check_svg(&svg, direction);
            let constants = graph_proto
                .node
                .iter()
                .filter(|n| n.op_type() == "Constant")
                .count();
            assert!(
                boxes >= graph_proto.node.len() - constants + json.outputs.len(),
                "{path}: {boxes} boxes"
            );
            let dot = graph::to_dot(model, &options(direction, Collapse::Auto));
            check_dot(&dot);
        }
    }
}

#[test]
fn mlp_json_snapshot() {
    let (_, model) = fixture_models()
        .into_iter()
        .find(|(path, _)| path.ends_with("digits_mlp.onnx"))
        .unwrap();
    let mut shapes = ShapeMap::new();
    shapes.insert("/fc1/Gemm_output_0".to_owned(), "float[N,64]".to_owned());
    let json = graph::to_json(&model, Some(&shapes));
    expect![[r#"
        {
          "name": "main_graph",
          "nodes": [
            {
              "id": "n0",
              "index": 0,
              "name": "/flatten/Flatten",
              "op": "Flatten",
              "domain": "",
              "family": "shape",
              "attributes": [
                {
                  "name": "axis",
                  "value": "1"
                }
              ],
              "inputs": [
                {
                  "name": "x",
                  "shape": "float[batch,1,8,8]"
                }
              ],
              "outputs": [
                {
                  "name": "/flatten/Flatten_output_0",
                  "shape": null
                }
              ]
            },
            {
              "id": "n1",
              "index": 1,
              "name": "/fc1/Gemm",
              "op": "Gemm",
              "domain": "",
              "family": "matmul",
              "attributes": [
                {
                  "name": "alpha",
                  "value": "1"
                },
                {
                  "name": "beta",
                  "value": "1"
                },
                {
                  "name": "transB",
                  "value": "1"
                }
              ],
              "inputs": [
                {
                  "name": "/flatten/Flatten_output_0",
                  "shape": null
                },
                {
                  "name": "fc1.weight",
                  "shape": "float[64,64]"
                },
                {
                  "name": "fc1.bias",
                  "shape": "float[64]"
                }
              ],
              "outputs": [
                {
                  "name": "/fc1/Gemm_output_0",
                  "shape": "float[N,64]"
                }
              ]
            },
            {
              "id": "n2",
              "index": 2,
              "name": "/Relu",
              "op": "Relu",
              "domain": "",
              "family": "activation",
              "attributes": [],
              "inputs": [
                {
                  "name": "/fc1/Gemm_output_0",
                  "shape": "float[N,64]"
                }
              ],
              "outputs": [
                {
                  "name": "/Relu_output_0",
                  "shape": null
                }
              ]
            },
            {
              "id": "n3",
              "index": 3,
              "name": "/fc2/Gemm",
              "op": "Gemm",
              "domain": "",
              "family": "matmul",
              "attributes": [
                {
                  "name": "alpha",
                  "value": "1"
                },
                {
                  "name": "beta",
                  "value": "1"
                },
                {
                  "name": "transB",
                  "value": "1"
                }
              ],
              "inputs": [
                {
                  "name": "/Relu_output_0",
                  "shape": null
                },
                {
                  "name": "fc2.weight",
                  "shape": "float[10,64]"
                },
                {
                  "name": "fc2.bias",
                  "shape": "float[10]"
                }
              ],
              "outputs": [
                {
                  "name": "logits",
                  "shape": "float[batch,10]"
                }
              ]
            }
          ],
          "edges": [
            {
              "from": "in:x",
              "to": "n0",
              "value": "x",
              "shape": "float[batch,1,8,8]"
            },
            {
              "from": "n0",
              "to": "n1",
              "value": "/flatten/Flatten_output_0",
              "shape": null
            },
            {
              "from": "init:fc1.weight",
              "to": "n1",
              "value": "fc1.weight",
              "shape": "float[64,64]"
            },
            {
              "from": "init:fc1.bias",
              "to": "n1",
              "value": "fc1.bias",
              "shape": "float[64]"
            },
            {
              "from": "n1",
              "to": "n2",
              "value": "/fc1/Gemm_output_0",
              "shape": "float[N,64]"
            },
            {
              "from": "n2",
              "to": "n3",
              "value": "/Relu_output_0",
              "shape": null
            },
            {
              "from": "init:fc2.weight",
              "to": "n3",
              "value": "fc2.weight",
              "shape": "float[10,64]"
            },
            {
              "from": "init:fc2.bias",
              "to": "n3",
              "value": "fc2.bias",
              "shape": "float[10]"
            },
            {
              "from": "n3",
              "to": "out:logits",
              "value": "logits",
              "shape": "float[batch,10]"
            }
          ],
          "inputs": [
            {
              "name": "x",
              "shape": "float[batch,1,8,8]"
            }
          ],
          "outputs": [
            {
              "name": "logits",
              "shape": "float[batch,10]"
            }
          ],
          "initializers": [
            {
              "name": "fc1.weight",
              "shape": "float[64,64]"
            },
            {
              "name": "fc1.bias",
              "shape": "float[64]"
            },
            {
              "name": "fc2.weight",
              "shape": "float[10,64]"
            },
            {
              "name": "fc2.bias",
              "shape": "float[10]"
            }
          ]
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&json).unwrap());
}

#[test]
fn cnn_dot_snapshot_folds_weights_into_nodes() {
    let (_, model) = fixture_models()
        .into_iter()
        .find(|(path, _)| path.ends_with("digits_cnn.onnx"))
        .unwrap();
    let dot = graph::to_dot(&model, &options(Direction::TopDown, Collapse::Never));
    expect![[r##"
        digraph "main_graph" {
          rankdir=TB;
          node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];
          edge [color="#64748b", fontname="monospace", fontsize=8];
          "in:x" [label="x\ninput\nfloat[batch,1,8,8]", tooltip="input x: float[batch,1,8,8]", fillcolor="#d1fae5", color="#047857", shape=box, style="rounded,filled,bold"];
          "n0" [label="Conv\n/conv1/Conv\nw[8,1,3,3]", tooltip="Conv\n/conv1/Conv\nin  x: float[batch,1,8,8]\nin  conv1.weight: float[8,1,3,3]\nout /conv1/Conv_output_0: ?\n@dilations = [1,1]\n@group = 1\n@kernel_shape = [3,3]\n@pads = [1,1,1,1]\n@strides = [1,1]", fillcolor="#dbeafe", color="#2563eb"];
          "n1" [label="Relu\n/Relu", tooltip="Relu\n/Relu\nin  /conv1/Conv_output_0: ?\nout /Relu_output_0: ?", fillcolor="#fee2e2", color="#dc2626"];
          "n2" [label="AveragePool\n/pool1/AveragePool", tooltip="AveragePool\n/pool1/AveragePool\nin  /Relu_output_0: ?\nout /pool1/AveragePool_output_0: ?\n@ceil_mode = 0\n@count_include_pad = 1\n@kernel_shape = [2,2]\n@pads = [0,0,0,0]\n@strides = [2,2]", fillcolor="#cffafe", color="#0891b2"];
          "n3" [label="Conv\n/conv2/Conv\nw[16,8,3,3]", tooltip="Conv\n/conv2/Conv\nin  /pool1/AveragePool_output_0: ?\nin  conv2.weight: float[16,8,3,3]\nout /conv2/Conv_output_0: ?\n@dilations = [1,1]\n@group = 1\n@kernel_shape = [3,3]\n@pads = [1,1,1,1]\n@strides = [1,1]", fillcolor="#dbeafe", color="#2563eb"];
          "n4" [label="Relu\n/Relu_1", tooltip="Relu\n/Relu_1\nin  /conv2/Conv_output_0: ?\nout /Relu_1_output_0: ?", fillcolor="#fee2e2", color="#dc2626"];
          "n5" [label="AveragePool\n/pool2/AveragePool", tooltip="AveragePool\n/pool2/AveragePool\nin  /Relu_1_output_0: ?\nout /pool2/AveragePool_output_0: ?\n@ceil_mode = 0\n@count_include_pad = 1\n@kernel_shape = [2,2]\n@pads = [0,0,0,0]\n@strides = [2,2]", fillcolor="#cffafe", color="#0891b2"];
          "n6" [label="Flatten\n/Flatten", tooltip="Flatten\n/Flatten\nin  /pool2/AveragePool_output_0: ?\nout /Flatten_output_0: ?\n@axis = 1", fillcolor="#f5f5f4", color="#a8a29e"];
          "n7" [label="MatMul\n/fc/MatMul\nfloat[batch,10]\nw[64,10]", tooltip="MatMul\n/fc/MatMul\nin  /Flatten_output_0: ?\nin  onnx::MatMul_13: float[64,10]\nout logits: float[batch,10]", fillcolor="#e0e7ff", color="#4f46e5"];
          "out:logits" [label="logits\noutput\nfloat[batch,10]", tooltip="output logits: float[batch,10]", fillcolor="#fde68a", color="#b45309", shape=box, style="rounded,filled,bold"];
          "in:x" -> "n0" [label="float[batch,1,8,8]", tooltip="x: float[batch,1,8,8]"];
          "n0" -> "n1" [label="", tooltip="/conv1/Conv_output_0: ?"];
          "n1" -> "n2" [label="", tooltip="/Relu_output_0: ?"];
          "n2" -> "n3" [label="", tooltip="/pool1/AveragePool_output_0: ?"];
          "n3" -> "n4" [label="", tooltip="/conv2/Conv_output_0: ?"];
          "n4" -> "n5" [label="", tooltip="/Relu_1_output_0: ?"];
          "n5" -> "n6" [label="", tooltip="/pool2/AveragePool_output_0: ?"];
          "n6" -> "n7" [label="", tooltip="/Flatten_output_0: ?"];
          "n7" -> "out:logits" [label="float[batch,10]", tooltip="logits: float[batch,10]"];
        }
    "##]].assert_eq(&dot);
}

#[test]
fn snntorch_constants_are_folded_and_spiking_ops_coloured() {
    let (_, model) = fixture_models()
        .into_iter()
        .find(|(path, _)| path.ends_with("digits_snntorch.onnx"))
        .unwrap();
    let svg = graph::to_svg(&model, &options(Direction::LeftRight, Collapse::Auto));
    let graph_proto = model.graph.as_ref().unwrap();
    let constants = graph_proto
        .node
        .iter()
        .filter(|n| n.op_type() == "Constant")
        .count();
    assert!(constants > 0);
    let boxes = check_svg(&svg, Direction::LeftRight);
    assert_eq!(
        boxes,
        graph_proto.node.len() - constants + graph_proto.input.len() + graph_proto.output.len()
    );
    assert!(
        svg.contains("op-compare"),
        "Greater is drawn as a compare op"
    );
    assert!(
        svg.contains("class=\"weights\""),
        "folded constants are listed in their consumers"
    );
}

#[test]
fn large_transformer_collapses_by_name_prefix() {
    let model = graph::synthetic::transformer_like(8000);
    let nodes = model.graph.as_ref().unwrap().node.len();
    assert!(nodes >= 8000);
    let svg = graph::to_svg(&model, &options(Direction::LeftRight, Collapse::Auto));
    let boxes = check_svg(&svg, Direction::LeftRight);
    // 320 layers: the deepest prefix under the target is `/encoder/layer.N`.
    assert_eq!(boxes, 320 + 2);
    assert!(
        svg.contains(">/encoder/layer.319<"),
        "blocks are titled by their prefix"
    );
    assert!(svg.contains(&format!("data-collapsed-nodes=\"{nodes}\"")));

    let never = graph::to_svg(
        &graph::synthetic::transformer_like(1000),
        &options(Direction::TopDown, Collapse::Never),
    );
    assert_eq!(check_svg(&never, Direction::TopDown), 1000 + 2);
}

#[test]
fn unstructured_names_collapse_into_runs_of_nodes() {
    let mut model = graph::synthetic::chain(3000);
    for node in &mut model.graph.as_mut().unwrap().node {
        node.name = Some(format!("op{}", node.name().len()));
    }
    let svg = graph::to_svg(&model, &options(Direction::LeftRight, Collapse::Auto));
    let boxes = check_svg(&svg, Direction::LeftRight);
    assert!(boxes <= 400 + 2, "{boxes} boxes");
    assert!(
        svg.contains(">nodes 0–7<"),
        "{}",
        &svg[..2000.min(svg.len())]
    );
    let always = graph::to_svg(
        &graph::synthetic::chain(40),
        &options(Direction::LeftRight, Collapse::Always),
    );
    assert!(check_svg(&always, Direction::LeftRight) < 40);
}

#[test]
fn broken_graphs_render_cycles_dangling_values_and_hostile_names() {
    let graph_proto = GraphProto {
        name: Some("bad \"graph\"".to_owned()),
        node: vec![
            node("a<&>", "Add", &["c_out", "missing"], &["a_out"]),
            node("b", "Relu", &["a_out"], &["b_out"]),
            node("c", "Relu", &["b_out"], &["c_out"]),
            node("", "", &["", "b_out"], &[]),
            node("self", "Identity", &["self_out"], &["self_out"]),
        ],
        ..Default::default()
    };
    let model = ModelProto {
        graph: Some(graph_proto),
        ..Default::default()
    };
    let json = graph::to_json(&model, None);
    assert_eq!(json.undefined.len(), 1);
    assert_eq!(json.undefined[0].name, "missing");
    for direction in [Direction::LeftRight, Direction::TopDown] {
        let svg = graph::to_svg(&model, &options(direction, Collapse::Always));
        check_svg(&svg, direction);
        check_dot(&graph::to_dot(&model, &options(direction, Collapse::Never)));
    }
    let empty = ModelProto::default();
    assert_eq!(
        check_svg(
            &graph::to_svg(&empty, &ViewOptions::default()),
            Direction::LeftRight
        ),
        0
    );
    check_dot(&graph::to_dot(&empty, &ViewOptions::default()));
}

#[test]
fn direction_parses_protocol_spelling() {
    assert_eq!(Direction::parse("LR"), Some(Direction::LeftRight));
    assert_eq!(Direction::parse("tb"), Some(Direction::TopDown));
    assert_eq!(Direction::parse("sideways"), None);
}
