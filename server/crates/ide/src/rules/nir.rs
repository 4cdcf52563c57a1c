//! The rules of NIR files (`.nir`, `neuride_nir::codes`).

use super::Rule;

pub const RULES: &[Rule] = &[
    rule!(
        "nir/not-hdf5",
        "Not an HDF5 file",
        Error,
        false,
        "the file is not HDF5, or its HDF5 structure does not decode",
        r#"
A `.nir` file is an HDF5 file written by `nir.write`. A file of another
format, or one cut short while it was written, does not decode.

**Example**: a text file renamed to `model.nir`.

**Fix**: write the graph again with `nir.write(path, graph)` (or
`neuride convert MODEL.onnx -o OUT.nir`).
"#
    ),
    rule!(
        "nir/layout",
        "Not NIR's layout",
        Error,
        false,
        "the HDF5 file lacks NIR's root `version` and `node` group, or a node lacks its `type`",
        r#"
`nir.write` stores a root `version` string and a `node` group holding the
graph (`type = "NIRGraph"`, `nodes`, `edges`). Other HDF5 files (Keras
weights, data sets) are not NIR graphs.

**Example**: `h5py.File("x.nir", "w").create_dataset("weights", data=w)`.

**Fix**: write the graph with `nir.write`.
"#
    ),
    rule!(
        "nir/unknown-type",
        "Unknown node type",
        Error,
        false,
        "a node's `type` is not one of NIR's node types (the node is kept and shown)",
        r#"
NIR 1.0 defines Input, Output, Affine, Linear, Scale, Conv1d, Conv2d,
SumPool2d, AvgPool2d, Flatten, Delay, Threshold, I, LI, IF, LIF, CubaLI,
CubaLIF and NIRGraph. A newer or extended writer may store others; neuride
shows them but cannot simulate them.

**Example**: a node group with `type = "Quantize"`.

**Fix**: replace the node by NIR's own types, or update neuride.
"#
    ),
    rule!(
        "nir/missing-param",
        "Missing parameter",
        Error,
        false,
        "a node lacks a parameter its type requires",
        r#"
Each node type has required parameters (`LIF`: `tau`, `r`, `v_leak`,
`v_threshold`); `nir.read` fails without them.

**Example**: a `LIF` node with `tau` and `r` only.

**Fix**: store every required parameter (see the hover of the node type).
"#
    ),
    rule!(
        "nir/param-type",
        "Parameter of the wrong type",
        Error,
        false,
        "a parameter holds the wrong kind of value (text for numbers, floats for a shape)",
        r#"
Weights and neuron parameters are float arrays, strides and shapes are
integers, a convolution's padding is integers or `same`/`valid`.

**Example**: `stride` stored as the string `"1"`.

**Fix**: store the value with the type NIR defines for it.
"#
    ),
    rule!(
        "nir/unknown-param",
        "Unknown parameter",
        Warning,
        false,
        "a node holds a dataset its type does not define (nir.read refuses it)",
        r#"
`nir.read` passes a node's datasets to its type's constructor, which fails
on names it does not take.

**Example**: an `Affine` node with a `scale` dataset.

**Fix**: move extra information into the node's `metadata` group.
"#
    ),
    rule!(
        "nir/edge",
        "Broken edge",
        Error,
        false,
        "an edge names a node the graph does not have, or repeats",
        r#"
Edges are `[from, to]` pairs of node names of the same graph.

**Example**: `edges = [("input", "fc"), ("fc", "lif2")]` without a node
`lif2`.

**Fix**: name existing nodes; connect each pair once.
"#
    ),
    rule!(
        "nir/shape",
        "Shapes do not meet",
        Error,
        false,
        "an edge joins a node's output shape to a node that takes another shape",
        r#"
NIR's type check (`nir.read(..., type_check=True)`) compares each edge's
output shape with the input shape of the node it feeds.

**Example**: an `Affine` with weight `[10, 64]` feeding a `LIF` of 32
neurons.

**Fix**: make the parameter shapes agree along every edge.
"#
    ),
    rule!(
        "nir/limit",
        "Too large to read",
        Error,
        false,
        "the file has more nodes, values or nesting than neuride reads",
        r#"
neuride reads at most 100,000 nodes, 2^27 values and 16 levels of nested
graphs, so a hostile file cannot exhaust memory.

**Example**: a graph nested 20 levels deep.

**Fix**: flatten the graph, or split the network.
"#
    ),
    rule!(
        "nir/unsupported",
        "Not simulated by neuride",
        Warning,
        false,
        "the graph is valid NIR but neuride cannot simulate part of it (the message says what)",
        r#"
The simulator runs the NIR node types it knows (recurrent edges, several
Inputs, per-neuron parameters and delays included). What it cannot run is
reported here: a delay longer than it holds (100,000 steps of the run's
`dt`), a nested graph with several Inputs or Outputs, a Flatten to more than
one axis, 3-D weights; the file still opens, shows and checks.

**Example**: a Delay of 20 s (200,000 steps of 0.1 ms).

**Fix**: none needed to view the file; to simulate it, change or drop the
part named.
"#
    ),
];
