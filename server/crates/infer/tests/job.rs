//! The job API: batching with progress, cancellation, scoring, and input
//! checks that list every mismatch.

mod common;

use common::repo;
use neuride_infer::{Error, Score, Session, Tensor, Value, infer, io, score};
use std::sync::atomic::AtomicBool;

fn iris() -> (std::sync::Arc<Session>, Tensor, Tensor) {
    let session = Session::load(
        &std::fs::read(repo().join("tests/fixtures/ml/iris_logreg_nozipmap.onnx")).unwrap(),
    )
    .unwrap();
    let arrays =
        io::read_npz(&std::fs::read(repo().join("tests/fixtures/data/iris.npz")).unwrap()).unwrap();
    let get = |k: &str| arrays.iter().find(|(n, _)| n == k).unwrap().1.clone();
    (session, get("x"), get("y"))
}

#[test]
fn batches_report_progress_and_stitch_outputs_back() {
    let (session, x, y) = iris();
    let rows = x.shape[0];
    let mut calls = Vec::new();
    let report = infer(
        &session,
        vec![("X".into(), Value::Tensor(x.clone()))],
        32,
        &mut |done, total| calls.push((done, total)),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.batches, rows.div_ceil(32));
    assert_eq!(calls.last(), Some(&(rows, rows)));
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0), "{calls:?}");
    // Batched outputs equal a single run.
    let whole = session.run(vec![("X".into(), Value::Tensor(x))]).unwrap();
    assert_eq!(report.outputs, whole);
    let Score::Classification {
        accuracy, total, ..
    } = score(&report.outputs, &y).unwrap()
    else {
        panic!("not a classification score")
    };
    assert_eq!(total, rows);
    assert!(
        accuracy > 0.9,
        "iris logistic regression accuracy {accuracy}"
    );
}

#[test]
fn cancellation_stops_before_the_next_batch() {
    let (session, x, _) = iris();
    let cancel = AtomicBool::new(false);
    let mut seen = 0;
    let result = infer(
        &session,
        vec![("X".into(), Value::Tensor(x))],
        16,
        &mut |done, _| {
            seen = done;
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        },
        &cancel,
    );
    match result {
        Err(Error::Cancelled { done, total }) => {
            assert_eq!((done, total, seen), (16, 150, 16));
        }
        other => panic!("expected cancellation, got {other:?}"),
    }
}

#[test]
fn every_input_mismatch_is_listed() {
    let (session, _, _) = iris();
    let wrong = Tensor::new(vec![2, 5], vec![1.0f64; 10]).unwrap();
    let err = session
        .run(vec![
            ("X".into(), Value::Tensor(wrong)),
            (
                "extra".into(),
                Value::Tensor(Tensor::new(vec![1], vec![1i64]).unwrap()),
            ),
        ])
        .unwrap_err();
    let Error::Inputs(problems) = &err else {
        panic!("{err}")
    };
    let text = problems.join("\n");
    expect_test::expect![[r#"
        'extra' is not an input of the model (inputs: ["X"])
        input 'X': dtype float32 expected, found float64
        input 'X': dimension 1 must be 4, found 5 (shape [2, 5])"#]]
    .assert_eq(&text);
}

#[test]
fn regression_scores_mae_and_r2() {
    let outputs = vec![(
        "y".to_owned(),
        Value::Tensor(Tensor::new(vec![4, 1], vec![1.0f32, 2.0, 3.0, 5.0]).unwrap()),
    )];
    let labels = Tensor::new(vec![4], vec![1.0f64, 2.0, 3.0, 4.0]).unwrap();
    let Score::Regression { mae, r2, total } = score(&outputs, &labels).unwrap() else {
        panic!()
    };
    assert_eq!(total, 4);
    assert!((mae - 0.25).abs() < 1e-12);
    assert!((r2 - (1.0 - 1.0 / 5.0)).abs() < 1e-12);
}

#[test]
fn broken_models_are_errors_not_panics() {
    let bytes = std::fs::read(repo().join("tests/fixtures/ml/wine_svc_pipeline.onnx")).unwrap();
    // Every truncation of a real model either decodes to something we can
    // prepare or fails with a typed error; none may panic.
    for cut in (0..bytes.len()).step_by(97) {
        explained(Session::load(&bytes[..cut]));
    }
    // Flipped bytes inside the attribute payloads.
    for at in (0..bytes.len()).step_by(131) {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        if let Ok(session) = Session::load(&b) {
            let x = Tensor::new(vec![2, 13], vec![0.5f32; 26]).unwrap();
            explained(session.run(vec![("X".into(), Value::Tensor(x))]));
        }
    }
}

/// Hostile DL models on the native engine (and the tract fallback): every
/// byte flip of the fixtures and every integer attribute set to extreme
/// values either prepares and runs or fails with a typed error; none may
/// panic or try to allocate what a shape claims.
#[test]
fn broken_dl_models_are_errors_not_panics_on_the_native_engine() {
    use neuride_infer::{Dim, EngineChoice, ValueType};
    use prost::Message;
    fn run_once(session: &Session) {
        let inputs = session
            .signature
            .inputs
            .iter()
            .filter_map(|port| {
                let ValueType::Tensor {
                    shape: Some(dims), ..
                } = &port.ty
                else {
                    return None;
                };
                let shape: Vec<usize> = dims
                    .iter()
                    .map(|d| match d {
                        Dim::Fixed(n) => (*n).min(64),
                        Dim::Symbolic(_) => 2,
                    })
                    .collect();
                let n = shape.iter().product();
                Some((
                    port.name.clone(),
                    Value::Tensor(Tensor::new(shape, vec![0.5f32; n]).unwrap()),
                ))
            })
            .collect();
        explained(session.run(inputs));
    }
    for name in [
        "dl/digits_cnn.onnx",
        "dl/digits_mlp.onnx",
        "snn/digits_snntorch.onnx",
    ] {
        let bytes = std::fs::read(repo().join("tests/fixtures").join(name)).unwrap();
        for at in (0..bytes.len()).step_by(bytes.len() / 150 + 1) {
            let mut b = bytes.clone();
            b[at] ^= 0x5a;
            for choice in [EngineChoice::Native, EngineChoice::Auto] {
                if let Ok(session) = Session::load_with(&b, choice) {
                    run_once(&session);
                }
            }
        }
        let model = neuride_onnx::proto::ModelProto::decode(&bytes[..]).unwrap();
        let nodes = model.graph.as_ref().unwrap().node.len();
        for n in 0..nodes.min(40) {
            let attrs = model.graph.as_ref().unwrap().node[n].attribute.len();
            for a in 0..attrs {
                for extreme in [0i64, -1, 3, 1 << 40, i64::MIN] {
                    let mut m = model.clone();
                    let attr = &mut m.graph.as_mut().unwrap().node[n].attribute[a];
                    attr.i = Some(extreme);
                    for v in attr.ints.iter_mut() {
                        *v = extreme;
                    }
                    if let Ok(session) =
                        Session::load_with(&m.encode_to_vec(), EngineChoice::Native)
                    {
                        run_once(&session);
                    }
                }
            }
        }
    }
}

/// An error must say what went wrong.
fn explained<T, E: std::fmt::Display>(result: Result<T, E>) {
    if let Err(error) = result {
        assert!(!error.to_string().is_empty(), "an error without a message");
    }
}

/// A kernel's failure names the node and its op, and says what kind of
/// failure it is: a wrong element type at run time, a missing attribute when
/// the plan is built.
#[test]
fn kernel_errors_name_the_node_and_their_kind() {
    use neuride_infer::{EngineChoice, KernelError};
    use prost::Message;
    let model = |op: &str| {
        let mut model = neuride_onnx::graph::synthetic::chain(1);
        let node = &mut model.graph.as_mut().unwrap().node[0];
        node.op_type = Some(op.to_owned());
        node.name = Some("n0".to_owned());
        model.encode_to_vec()
    };
    let session = Session::load_with(&model("Not"), EngineChoice::Evaluator).unwrap();
    let x = Tensor::new(vec![1, 64], vec![0.5f32; 64]).unwrap();
    let err = session
        .run(vec![("x".into(), Value::Tensor(x))])
        .unwrap_err();
    let Error::Node {
        node,
        op,
        error: KernelError::Type(message),
    } = &err
    else {
        panic!("expected a type error of the node, got {err:?}")
    };
    assert_eq!((node.as_str(), op.as_str()), ("n0", "Not"));
    assert_eq!(message, "Not takes bool tensors, found float32");
    assert_eq!(
        err.to_string(),
        "node 'n0' (Not): Not takes bool tensors, found float32"
    );

    let Err(err) = Session::load_with(&model("Cast"), EngineChoice::Evaluator) else {
        panic!("a Cast without 'to' was prepared")
    };
    assert!(
        matches!(&err, Error::Node { error: KernelError::Attribute(m), .. } if m == "Cast needs 'to'"),
        "expected a missing attribute, got {err:?}"
    );
}
