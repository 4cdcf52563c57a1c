//! NIR's stateless and integrating nodes as NIR defines them, stepped at
//! dt: Threshold fires every step its input exceeds θ, I integrates
//! `dv/dt = R I` (its membrane is the output), LI leaks towards `v_leak`.

use neuride_nir::graph::{Array, Document, Graph, Node, Param};
use neuride_nir::{Edge, LowerOptions, lower};
use neuride_snn::{Decode, Encode, SimOptions, Simulator};

fn values(shape: Vec<usize>, values: &[f32]) -> Param {
    Param::Array(Array::f32(shape, values))
}

/// Input [3] -> `node` -> Output [3], run `steps` steps of `dt` on `x`.
fn run(node: Node, x: &[f32], steps: usize, dt: f32) -> Vec<f32> {
    let document = Document {
        version: neuride_nir::NIR_VERSION.into(),
        graph: Graph {
            nodes: vec![
                Node::new("input", "Input").with("shape", Param::Array(Array::ints(&[3]))),
                node,
                Node::new("output", "Output").with("shape", Param::Array(Array::ints(&[3]))),
            ],
            edges: vec![Edge::new("input", "n"), Edge::new("n", "output")],
            metadata: Vec::new(),
        },
    };
    let opts = LowerOptions {
        dt,
        ..LowerOptions::default()
    };
    let network = lower(&document, &opts).unwrap().network;
    let sim = SimOptions {
        steps,
        dt,
        encode: Encode::Current,
        decode: Decode::Auto,
        batch: 4,
        threads: 1,
    };
    let mut simulator = Simulator::new(&network, &sim).unwrap();
    let mut out = Vec::new();
    simulator.run(&network, 0, x, &mut out).unwrap();
    out
}

#[test]
fn threshold_fires_every_step_above_theta() {
    let node = Node::new("n", "Threshold").with("threshold", values(vec![3], &[0.5; 3]));
    let counts = run(node, &[0.2, 0.5, 0.7, 1.0, -1.0, 0.51], 7, 1e-4);
    assert_eq!(counts, [0.0, 0.0, 7.0, 7.0, 0.0, 7.0]);
}

#[test]
fn an_integrator_outputs_its_membrane() {
    let node = Node::new("n", "I").with("r", values(vec![3], &[100.0; 3]));
    // dv = dt * R * x per step: 1e-4 * 100 * x over 20 steps = 0.2 x.
    let membrane = run(node, &[1.0, -2.0, 0.5], 20, 1e-4);
    for (v, expected) in membrane.iter().zip([0.2f32, -0.4, 0.1]) {
        assert!((v - expected).abs() < 1e-5, "{membrane:?}");
    }
}

#[test]
fn a_leaky_integrator_settles_at_v_leak_plus_r_times_input() {
    let node = Node::new("n", "LI")
        .with("tau", values(vec![3], &[1e-3; 3]))
        .with("r", values(vec![3], &[2.0; 3]))
        .with("v_leak", values(vec![3], &[0.5; 3]));
    // Starts at v_leak; after many time constants v = v_leak + R x.
    let membrane = run(node, &[0.0, 1.0, -1.0], 400, 1e-4);
    for (v, expected) in membrane.iter().zip([0.5f32, 2.5, -1.5]) {
        assert!((v - expected).abs() < 1e-4, "{membrane:?}");
    }
}
