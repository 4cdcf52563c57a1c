//! The native engine: float32 DL graphs (CNNs, MLPs, unrolled spiking nets
//! exported as plain ops) compiled for each concrete input shape into a
//! list of kernel calls over preallocated buffers.
//!
//! Why not tract for these: on the small models neuromorphic IoT work runs
//! (the fixtures' 8x8 digits CNN and MLP, snnTorch exports), tract's
//! im2col + packing and per-op overhead made it 1.3-3x slower than
//! onnxruntime (README, inference benchmark). Here shapes are fixed when a
//! plan is compiled, constant subgraphs are folded (with the ML evaluator's
//! kernels), activations, biases and batch norms are fused into the Conv or
//! Gemm before them, and buffers are assigned once by liveness and reused
//! between runs. Graphs with an op or type outside this set go to tract.

mod act;
mod kernels;
mod lower;
mod pointwise;
mod product;
mod simd;
mod winograd;

use crate::error::{Error, KernelError};
use crate::tensor_proto;
use crate::value::{DType, Data, Tensor, Value};
use kernels::{Affine, Blocks, Conv, Dense, Lrn, MatMul, Pool, Softmax, Walk};
use neuride_onnx::proto::{GraphProto, NodeProto};
use simd::Aligned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Input shapes a plan was compiled for.
type ShapeKey = Vec<Vec<usize>>;

/// Concrete-shape plans kept per model.
const COMPILED_PLANS: usize = 4;

/// The graph as the compiler reads it: value ids instead of names, nodes in
/// dependency order, initializers decoded once.
pub(crate) struct Graph {
    opset: i64,
    names: Vec<String>,
    /// Runtime inputs in signature order, with their element type.
    inputs: Vec<(usize, Option<DType>)>,
    outputs: Vec<usize>,
    initializers: Vec<(usize, Arc<Tensor>)>,
    nodes: Vec<NodeProto>,
    node_inputs: Vec<Vec<Option<usize>>>,
    node_outputs: Vec<Vec<usize>>,
    /// How many times each value is read (graph outputs count as a read).
    uses: Vec<usize>,
}

/// A model ready for the native engine.
pub(crate) struct NativePlan {
    graph: Graph,
    compiled: Mutex<Vec<(ShapeKey, Arc<Compiled>)>>,
}

impl NativePlan {
    /// Builds the plan when every node is within the engine's reach for the
    /// model's declared input shapes (symbolic dimensions taken as 1);
    /// the error says what is not, and the model goes to tract.
    pub fn build(graph: &GraphProto, opset: i64) -> Result<NativePlan, Error> {
        let graph = Graph::new(graph, opset)?;
        let plan = NativePlan {
            graph,
            compiled: Mutex::new(Vec::new()),
        };
        Ok(plan)
    }

    /// Compiles for the declared shapes (symbolic dimensions as 1): the
    /// check that the graph is within reach.
    pub fn check(&self, declared: &[Vec<usize>]) -> Result<(), Error> {
        self.compiled_for(declared.to_vec()).map(|_| ())
    }

    fn compiled_for(&self, shapes: ShapeKey) -> Result<Arc<Compiled>, Error> {
        let mut cache = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = cache.iter().find(|(key, _)| *key == shapes) {
            return Ok(c.clone());
        }
        let compiled = Arc::new(crate::error::catch_panic("native engine compile", || {
            lower::compile(&self.graph, &shapes)
        })?);
        if cache.len() >= COMPILED_PLANS {
            cache.remove(0);
        }
        cache.push((shapes, compiled.clone()));
        Ok(compiled)
    }

    pub fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        let shapes = inputs
            .iter()
            .map(|v| v.as_tensor().map(|t| t.shape.clone()).unwrap_or_default())
            .collect();
        let compiled = self.compiled_for(shapes)?;
        crate::error::catch_panic("native engine run", || compiled.run(inputs))
    }
}

impl Graph {
    fn new(graph: &GraphProto, opset: i64) -> Result<Graph, Error> {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        fn id_of(name: &str, ids: &mut HashMap<String, usize>, names: &mut Vec<String>) -> usize {
            *ids.entry(name.to_owned()).or_insert_with(|| {
                names.push(name.to_owned());
                names.len() - 1
            })
        }
        let mut initializers = Vec::new();
        for init in &graph.initializer {
            let tensor = tensor_proto::from_proto(init)
                .map_err(|e| Error::Model(format!("initializer '{}': {e}", init.name())))?;
            initializers.push((id_of(init.name(), &mut ids, &mut names), Arc::new(tensor)));
        }
        let init_names: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name()).collect();
        let mut inputs = Vec::new();
        for input in graph
            .input
            .iter()
            .filter(|i| !init_names.contains(i.name()))
        {
            let dtype = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(neuride_onnx::proto::type_proto::Value::TensorType(t)) => {
                    DType::from_onnx(t.elem_type())
                }
                _ => {
                    return Err(Error::Model(format!(
                        "input '{}' is not a tensor",
                        input.name()
                    )));
                }
            };
            inputs.push((id_of(input.name(), &mut ids, &mut names), dtype));
        }
        let mut available: Vec<bool> = vec![true; names.len()];
        let mut pending: Vec<&NodeProto> = graph.node.iter().collect();
        let mut nodes = Vec::with_capacity(pending.len());
        let mut node_inputs: Vec<Vec<Option<usize>>> = Vec::with_capacity(pending.len());
        let mut node_outputs = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for node in pending {
                let ready = node
                    .input
                    .iter()
                    .all(|n| n.is_empty() || ids.get(n.as_str()).is_some_and(|&i| available[i]));
                if !ready {
                    rest.push(node);
                    continue;
                }
                if !(node.domain().is_empty() || node.domain() == "ai.onnx") {
                    return Err(Error::node(
                        node.name(),
                        node.op_type(),
                        KernelError::Unsupported(format!(
                            "domain '{}' is outside the native engine",
                            node.domain()
                        )),
                    ));
                }
                node_inputs.push(
                    node.input
                        .iter()
                        .map(|n| (!n.is_empty()).then(|| ids[n.as_str()]))
                        .collect(),
                );
                let outs: Vec<usize> = node
                    .output
                    .iter()
                    .map(|n| id_of(n, &mut ids, &mut names))
                    .collect();
                available.resize(names.len(), false);
                for &o in &outs {
                    available[o] = true;
                }
                node_outputs.push(outs);
                nodes.push(node.clone());
            }
            if rest.len() == before {
                return Err(Error::node(
                    rest[0].name(),
                    rest[0].op_type(),
                    KernelError::Value(
                        "some inputs are never produced (cycle or missing initializer)".to_owned(),
                    ),
                ));
            }
            pending = rest;
        }
        let mut outputs = Vec::new();
        for out in &graph.output {
            match ids.get(out.name()) {
                Some(&id) if available[id] => outputs.push(id),
                _ => {
                    return Err(Error::Model(format!(
                        "graph output '{}' is produced by no node",
                        out.name()
                    )));
                }
            }
        }
        let mut uses = vec![0; names.len()];
        for ins in &node_inputs {
            for &i in ins.iter().flatten() {
                uses[i] += 1;
            }
        }
        for &o in &outputs {
            uses[o] += 1;
        }
        Ok(Graph {
            opset,
            names,
            inputs,
            outputs,
            initializers,
            nodes,
            node_inputs,
            node_outputs,
            uses,
        })
    }
}

/// Where a kernel reads an operand: a constant or a runtime value's buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Src {
    Const(u32),
    Root(u32),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
    Greater,
    Less,
    Equal,
    GreaterOrEqual,
    LessOrEqual,
    And,
    Or,
    Xor,
    PRelu,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum UnOp {
    Act(kernels::Act),
    Sigmoid,
    Tanh,
    Neg,
    Abs,
    Exp,
    Log,
    Sqrt,
    Reciprocal,
    Floor,
    Ceil,
    Round,
    Sign,
    Elu(f32),
    Selu(f32, f32),
    Softplus,
    Softsign,
    HardSigmoid(f32, f32),
    HardSwish,
    Not,
    /// Cast to bool: non-zero (and NaN) is true.
    ToBool,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Dense {
        x: Src,
        m: usize,
        dense: Dense,
    },
    Conv {
        x: Src,
        batch: usize,
        conv: Conv,
        /// A tensor of the output's shape added before the activation (a
        /// residual connection's `Add`, fused).
        sum: Option<Src>,
    },
    Pool {
        x: Src,
        pool: Pool,
    },
    Binary {
        a: Src,
        b: Src,
        walk: Walk,
        op: BinOp,
    },
    Where {
        c: Src,
        a: Src,
        b: Src,
        walk: Walk,
    },
    Unary {
        x: Src,
        len: usize,
        op: UnOp,
    },
    Copy {
        x: Src,
        base: usize,
        walk: Walk,
    },
    Blocks {
        x: Src,
        blocks: Blocks,
    },
    Softmax {
        x: Src,
        softmax: Softmax,
    },
    Lrn {
        x: Src,
        lrn: Lrn,
    },
    MatMul {
        a: Src,
        b: Src,
        matmul: MatMul,
    },
    Affine {
        x: Src,
        affine: Affine,
    },
}

impl Kind {
    fn sources(&self) -> Vec<Src> {
        match self {
            Kind::Conv { x, sum, .. } => [Some(*x), *sum].into_iter().flatten().collect(),
            Kind::Dense { x, .. }
            | Kind::Pool { x, .. }
            | Kind::Unary { x, .. }
            | Kind::Copy { x, .. }
            | Kind::Blocks { x, .. }
            | Kind::Softmax { x, .. }
            | Kind::Lrn { x, .. }
            | Kind::Affine { x, .. } => vec![*x],
            Kind::Binary { a, b, .. } | Kind::MatMul { a, b, .. } => vec![*a, *b],
            Kind::Where { c, a, b, .. } => vec![*c, *a, *b],
        }
    }
}

#[derive(Debug)]
pub(crate) struct Step {
    pub out: u32,
    pub kind: Kind,
}

pub(crate) struct InputSpec {
    root: u32,
    len: usize,
}

pub(crate) struct OutputSpec {
    src: Src,
    shape: Vec<usize>,
    boolean: bool,
    /// A constant output that is neither float nor bool, returned as is
    /// (`src` is then unused).
    exact: Option<Arc<Tensor>>,
}

struct Scratch {
    bufs: Vec<Aligned>,
    tmp: Aligned,
}

/// A graph compiled for one set of input shapes.
pub(crate) struct Compiled {
    steps: Vec<Step>,
    consts: Vec<Vec<f32>>,
    buf_of: Vec<u32>,
    buf_sizes: Vec<usize>,
    tmp_len: usize,
    inputs: Vec<InputSpec>,
    outputs: Vec<OutputSpec>,
    /// Buffer sets of finished runs, reused by the next.
    spare: Mutex<Vec<Scratch>>,
}

impl Compiled {
    fn run(&self, inputs: Vec<Value>) -> Result<Vec<Value>, Error> {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        let mut scratch = spare.unwrap_or_else(|| Scratch {
            bufs: self.buf_sizes.iter().map(|&n| Aligned::zeroed(n)).collect(),
            tmp: Aligned::zeroed(self.tmp_len),
        });
        for (spec, value) in self.inputs.iter().zip(&inputs) {
            let root = spec.root;
            let buf = &mut scratch.bufs[self.buf_of[root as usize] as usize][..spec.len];
            match value.as_tensor().map(|t| &t.data) {
                Some(Data::F32(v)) if v.len() == spec.len => buf.copy_from_slice(v),
                Some(Data::Bool(v)) if v.len() == spec.len => {
                    for (d, &b) in buf.iter_mut().zip(v) {
                        *d = if b { 1.0 } else { 0.0 };
                    }
                }
                _ => {
                    return Err(Error::Model(format!(
                        "the native engine takes float32 or bool tensors of {} values, found {}",
                        spec.len,
                        value.describe()
                    )));
                }
            }
        }
        for step in &self.steps {
            self.exec(step, &mut scratch);
        }
        let outputs = self
            .outputs
            .iter()
            .map(|spec| {
                if let Some(t) = &spec.exact {
                    return Value::Tensor((**t).clone());
                }
                let len = spec.shape.iter().product::<usize>();
                let values = &self.get(spec.src, &scratch.bufs)[..len];
                let data = if spec.boolean {
                    Data::Bool(values.iter().map(|&v| v != 0.0).collect())
                } else {
                    Data::F32(values.to_vec())
                };
                Value::Tensor(Tensor {
                    shape: spec.shape.clone(),
                    data,
                })
            })
            .collect();
        if let Ok(mut s) = self.spare.lock() {
            s.push(scratch);
        }
        Ok(outputs)
    }

    fn get<'a>(&'a self, src: Src, bufs: &'a [Aligned]) -> &'a [f32] {
        match src {
            Src::Const(i) => &self.consts[i as usize],
            Src::Root(r) => &bufs[self.buf_of[r as usize] as usize],
        }
    }

    fn exec(&self, step: &Step, scratch: &mut Scratch) {
        let o = self.buf_of[step.out as usize] as usize;
        // The output buffer is never one of the step's inputs (buffer
        // assignment guarantees it), so it can be taken out while they are read.
        let mut out = std::mem::take(&mut scratch.bufs[o]);
        let bufs = &scratch.bufs;
        let get = |s: Src| self.get(s, bufs);
        match &step.kind {
            Kind::Dense { x, m, dense } => dense.run(get(*x), *m, &mut out),
            Kind::Conv {
                x,
                batch,
                conv,
                sum,
            } => conv.run(get(*x), sum.map(get), *batch, &mut out, &mut scratch.tmp),
            Kind::Pool { x, pool } => pool.run(get(*x), &mut out),
            Kind::Binary { a, b, walk, op } => binary(*op, walk, get(*a), get(*b), &mut out),
            Kind::Where { c, a, b, walk } => {
                walk.ternary(get(*c), get(*a), get(*b), &mut out, |c, a, b| {
                    if c != 0.0 { a } else { b }
                })
            }
            Kind::Unary { x, len, op } => unary(*op, &get(*x)[..*len], &mut out[..*len]),
            Kind::Copy { x, base, walk } => walk.copy(*base, get(*x), &mut out),
            Kind::Blocks { x, blocks } => blocks.run(get(*x), &mut out),
            Kind::Softmax { x, softmax } => softmax.run(get(*x), &mut out),
            Kind::Lrn { x, lrn } => lrn.run(get(*x), &mut out),
            Kind::MatMul { a, b, matmul } => matmul.run(get(*a), get(*b), &mut out),
            Kind::Affine { x, affine } => affine.run(get(*x), &mut out),
        }
        scratch.bufs[o] = out;
    }
}

fn flag(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

fn binary(op: BinOp, walk: &Walk, a: &[f32], b: &[f32], out: &mut [f32]) {
    match op {
        BinOp::Add => walk.binary(a, b, out, |x, y| x + y),
        BinOp::Sub => walk.binary(a, b, out, |x, y| x - y),
        BinOp::Mul => walk.binary(a, b, out, |x, y| x * y),
        BinOp::Div => walk.binary(a, b, out, |x, y| x / y),
        BinOp::Pow => walk.binary(a, b, out, f32::powf),
        BinOp::Max => walk.binary(a, b, out, |x, y| if x.is_nan() || x > y { x } else { y }),
        BinOp::Min => walk.binary(a, b, out, |x, y| if x.is_nan() || x < y { x } else { y }),
        BinOp::Greater => walk.binary(a, b, out, |x, y| flag(x > y)),
        BinOp::Less => walk.binary(a, b, out, |x, y| flag(x < y)),
        BinOp::Equal => walk.binary(a, b, out, |x, y| flag(x == y)),
        BinOp::GreaterOrEqual => walk.binary(a, b, out, |x, y| flag(x >= y)),
        BinOp::LessOrEqual => walk.binary(a, b, out, |x, y| flag(x <= y)),
        BinOp::And => walk.binary(a, b, out, |x, y| flag(x != 0.0 && y != 0.0)),
        BinOp::Or => walk.binary(a, b, out, |x, y| flag(x != 0.0 || y != 0.0)),
        BinOp::Xor => walk.binary(a, b, out, |x, y| flag((x != 0.0) != (y != 0.0))),
        BinOp::PRelu => walk.binary(a, b, out, |x, s| if x < 0.0 { x * s } else { x }),
    }
}

fn map(x: &[f32], out: &mut [f32], f: impl Fn(f32) -> f32) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = f(v);
    }
}

fn unary(op: UnOp, x: &[f32], out: &mut [f32]) {
    match op {
        UnOp::Act(act) => map(x, out, |v| act.apply(v)),
        UnOp::Sigmoid => map(x, out, |v| 1.0 / (1.0 + (-v).exp())),
        UnOp::Tanh => map(x, out, f32::tanh),
        UnOp::Neg => map(x, out, |v| -v),
        UnOp::Abs => map(x, out, f32::abs),
        UnOp::Exp => map(x, out, f32::exp),
        UnOp::Log => map(x, out, f32::ln),
        UnOp::Sqrt => map(x, out, f32::sqrt),
        UnOp::Reciprocal => map(x, out, |v| 1.0 / v),
        UnOp::Floor => map(x, out, f32::floor),
        UnOp::Ceil => map(x, out, f32::ceil),
        UnOp::Round => map(x, out, f32::round_ties_even),
        UnOp::Sign => map(x, out, |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        }),
        UnOp::Elu(alpha) => map(
            x,
            out,
            |v| if v < 0.0 { alpha * (v.exp() - 1.0) } else { v },
        ),
        UnOp::Selu(alpha, gamma) => map(x, out, |v| {
            if v <= 0.0 {
                gamma * (alpha * v.exp() - alpha)
            } else {
                gamma * v
            }
        }),
        UnOp::Softplus => map(x, out, |v| {
            // ln(1 + e^v) without overflow for large v.
            if v > 0.0 {
                v + (-v).exp().ln_1p()
            } else {
                v.exp().ln_1p()
            }
        }),
        UnOp::Softsign => map(x, out, |v| v / (1.0 + v.abs())),
        UnOp::HardSigmoid(alpha, beta) => {
            map(x, out, |v| kernels::clip(alpha * v + beta, 0.0, 1.0))
        }
        UnOp::HardSwish => map(x, out, |v| v * kernels::clip(v / 6.0 + 0.5, 0.0, 1.0)),
        UnOp::Not => map(x, out, |v| flag(v == 0.0)),
        UnOp::ToBool => map(x, out, |v| flag(v != 0.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn fixture(path: &str) -> NativePlan {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures")
            .join(path);
        let model =
            neuride_onnx::proto::ModelProto::decode(&std::fs::read(file).unwrap()[..]).unwrap();
        NativePlan::build(model.graph.as_ref().unwrap(), 17).unwrap()
    }

    /// Buffer sharing is what lets a step take its output buffer while it
    /// reads its inputs: no step may write a buffer it reads, and two values
    /// sharing a buffer must never be alive at once.
    #[test]
    fn buffers_are_shared_only_between_values_never_alive_together() {
        for (path, shape) in [
            ("dl/digits_cnn.onnx", vec![3, 1, 8, 8]),
            ("dl/digits_mlp.onnx", vec![5, 1, 8, 8]),
            ("snn/digits_snntorch.onnx", vec![25, 4, 64]),
        ] {
            let plan = fixture(path);
            let c = plan.compiled_for(vec![shape]).unwrap();
            let roots = c.buf_of.len();
            let (mut first, mut last) = (vec![usize::MAX; roots], vec![0usize; roots]);
            for input in &c.inputs {
                first[input.root as usize] = 0;
            }
            for (i, step) in c.steps.iter().enumerate() {
                let out = step.out as usize;
                first[out] = first[out].min(i);
                last[out] = last[out].max(i);
                for src in step.kind.sources() {
                    if let Src::Root(r) = src {
                        assert_ne!(
                            c.buf_of[r as usize], c.buf_of[out],
                            "{path}: step {i} reads its output buffer"
                        );
                        last[r as usize] = last[r as usize].max(i);
                    }
                }
            }
            for out in &c.outputs {
                if let Src::Root(r) = out.src {
                    last[r as usize] = usize::MAX;
                }
            }
            for x in 0..roots {
                for y in x + 1..roots {
                    if c.buf_of[x] == c.buf_of[y]
                        && first[x] != usize::MAX
                        && first[y] != usize::MAX
                    {
                        let apart = last[x] <= first[y] || last[y] <= first[x];
                        assert!(
                            apart,
                            "{path}: roots {x} and {y} share a buffer while both alive"
                        );
                    }
                }
            }
            assert!(c.buf_sizes.len() < roots, "{path}: no buffer was reused");
        }
    }

    #[test]
    fn the_digits_cnn_compiles_to_fused_steps() {
        let plan = fixture("dl/digits_cnn.onnx");
        let c = plan.compiled_for(vec![vec![2, 1, 8, 8]]).unwrap();
        // Conv+Relu, AvgPool, Conv+Relu, AvgPool, MatMul (Flatten is an alias).
        let kinds: Vec<&str> = c
            .steps
            .iter()
            .map(|s| match &s.kind {
                Kind::Conv { conv, .. } if conv.act == kernels::Act::Relu => "conv+relu",
                Kind::Pool { .. } => "pool",
                Kind::Dense { .. } => "dense",
                other => panic!("unexpected step {other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["conv+relu", "pool", "conv+relu", "pool", "dense"]);
    }

    #[test]
    fn residual_adds_and_their_relus_fuse_into_the_conv_before_them() {
        let plan = fixture("dl/digits16_resnet.onnx");
        let c = plan.compiled_for(vec![vec![2, 1, 16, 16]]).unwrap();
        let summed = c
            .steps
            .iter()
            .filter(|s| matches!(&s.kind, Kind::Conv { sum: Some(_), conv, .. } if conv.act == kernels::Act::Relu))
            .count();
        let adds = c
            .steps
            .iter()
            .filter(|s| matches!(&s.kind, Kind::Binary { op: BinOp::Add, .. }))
            .count();
        assert!(
            summed > 0 && adds == 0,
            "{summed} fused sums, {adds} Add steps: {:?}",
            c.steps
        );
    }
}
