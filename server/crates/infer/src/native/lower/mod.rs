//! Compiles a graph for concrete input shapes: every node becomes kernel
//! steps (or a constant, or an alias of its input for shape-only ops), then
//! buffers are assigned by liveness.

use super::kernels::{Act, Walk, strides};
use super::{BinOp, Compiled, Graph, InputSpec, Kind, OutputSpec, Src, Step, UnOp};
use crate::error::Error;
use crate::ml::Attrs;
use crate::value::{DType, Data, Tensor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod layers;
mod ops;
mod shapes;

use shapes::{
    broadcast, const_input, input, ints_of, numel, reshape, squeeze, unsqueeze, unsupported,
    with_bool, with_shape,
};

type R<T> = Result<T, String>;

#[derive(Clone, Debug)]
enum Val {
    Const(Arc<Tensor>),
    Run {
        root: u32,
        shape: Vec<usize>,
        boolean: bool,
    },
}

impl Val {
    fn shape(&self) -> &[usize] {
        match self {
            Val::Const(t) => &t.shape,
            Val::Run { shape, .. } => shape,
        }
    }

    fn is_bool(&self) -> bool {
        match self {
            Val::Const(t) => t.dtype() == DType::Bool,
            Val::Run { boolean, .. } => *boolean,
        }
    }
}

struct Lower<'g> {
    g: &'g Graph,
    vals: Vec<Option<Val>>,
    steps: Vec<Step>,
    root_sizes: Vec<usize>,
    /// The value each root was made for (fusion checks the value read is it).
    root_value: Vec<usize>,
    producer: Vec<Option<usize>>,
    consts: Vec<Vec<f32>>,
    const_ids: HashMap<usize, u32>,
    const_kept: Vec<Arc<Tensor>>,
    tmp_len: usize,
    node: usize,
}

pub(super) fn compile(g: &Graph, shapes: &[Vec<usize>]) -> Result<Compiled, Error> {
    let mut l = Lower {
        g,
        vals: vec![None; g.names.len()],
        steps: Vec::new(),
        root_sizes: Vec::new(),
        root_value: Vec::new(),
        producer: Vec::new(),
        consts: Vec::new(),
        const_ids: HashMap::new(),
        const_kept: Vec::new(),
        tmp_len: 0,
        node: 0,
    };
    for (id, t) in &g.initializers {
        l.vals[*id] = Some(Val::Const(t.clone()));
    }
    if shapes.len() != g.inputs.len() {
        return Err(Error::Model(format!(
            "the model takes {} inputs, found {}",
            g.inputs.len(),
            shapes.len()
        )));
    }
    let mut inputs = Vec::new();
    for ((id, dtype), shape) in g.inputs.iter().zip(shapes) {
        let boolean = match dtype {
            Some(DType::F32) => false,
            Some(DType::Bool) => true,
            other => {
                return Err(Error::Model(format!(
                    "input '{}' is {}: the native engine takes float32 and bool",
                    g.names[*id],
                    other.map_or("of unknown type", |d| d.name())
                )));
            }
        };
        let len =
            numel(shape).map_err(|m| Error::Model(format!("input '{}': {m}", g.names[*id])))?;
        let root = l.new_root(len, *id);
        l.vals[*id] = Some(Val::Run {
            root,
            shape: shape.clone(),
            boolean,
        });
        inputs.push(InputSpec { root, len });
    }
    for i in 0..g.nodes.len() {
        l.node = i;
        let node = &g.nodes[i];
        l.lower_node(i)
            .map_err(|m| Error::node(node.name(), node.op_type(), m))?;
    }
    let mut outputs = Vec::new();
    for &id in &g.outputs {
        let val = l.vals[id]
            .clone()
            .ok_or_else(|| Error::Model(format!("output '{}' is not computed", g.names[id])))?;
        // A constant output of another type (Shape of an input, ...) is
        // returned as it is, not through the float buffers.
        if let Val::Const(t) = &val
            && !matches!(t.dtype(), DType::F32 | DType::Bool)
        {
            outputs.push(OutputSpec {
                src: Src::Const(u32::MAX),
                shape: t.shape.clone(),
                boolean: false,
                exact: Some(t.clone()),
            });
            continue;
        }
        let boolean = val.is_bool();
        let src = l
            .operand(&val)
            .map_err(|m| Error::Model(format!("output '{}': {m}", g.names[id])))?;
        outputs.push(OutputSpec {
            src,
            shape: val.shape().to_vec(),
            boolean,
            exact: None,
        });
    }
    let output_roots: Vec<u32> = outputs
        .iter()
        .filter_map(|o| match o.src {
            Src::Root(r) => Some(r),
            Src::Const(_) => None,
        })
        .collect();
    let input_roots: Vec<u32> = inputs.iter().map(|i| i.root).collect();
    let (buf_of, buf_sizes) = allocate(&l.steps, &l.root_sizes, &input_roots, &output_roots);
    Ok(Compiled {
        steps: l.steps,
        consts: l.consts,
        buf_of,
        buf_sizes,
        tmp_len: l.tmp_len,
        inputs,
        outputs,
        spare: Mutex::new(Vec::new()),
    })
}

/// Assigns each root a buffer: a root's buffer is taken when it is first
/// written and given back after its last read, so a step's output buffer is
/// never one of its inputs. Graph inputs and outputs keep theirs.
fn allocate(
    steps: &[Step],
    sizes: &[usize],
    inputs: &[u32],
    outputs: &[u32],
) -> (Vec<u32>, Vec<usize>) {
    let mut last: Vec<Option<usize>> = vec![None; sizes.len()];
    for (i, step) in steps.iter().enumerate() {
        for src in step.kind.sources() {
            if let Src::Root(r) = src {
                last[r as usize] = Some(i);
            }
        }
    }
    for &r in outputs {
        last[r as usize] = Some(usize::MAX);
    }
    let mut buf_of = vec![u32::MAX; sizes.len()];
    let mut buf_sizes: Vec<usize> = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let take = |need: usize, buf_sizes: &mut Vec<usize>, free: &mut Vec<u32>| -> u32 {
        // The smallest free buffer that fits, else the largest grown.
        let fit = free
            .iter()
            .enumerate()
            .filter(|(_, b)| buf_sizes[**b as usize] >= need)
            .min_by_key(|(_, b)| buf_sizes[**b as usize])
            .map(|(i, _)| i)
            .or_else(|| {
                free.iter()
                    .enumerate()
                    .max_by_key(|(_, b)| buf_sizes[**b as usize])
                    .map(|(i, _)| i)
            });
        match fit {
            Some(i) => {
                let b = free.swap_remove(i);
                buf_sizes[b as usize] = buf_sizes[b as usize].max(need);
                b
            }
            None => {
                buf_sizes.push(need);
                (buf_sizes.len() - 1) as u32
            }
        }
    };
    for &r in inputs {
        buf_of[r as usize] = take(sizes[r as usize], &mut buf_sizes, &mut free);
    }
    for (i, step) in steps.iter().enumerate() {
        let out = step.out as usize;
        if buf_of[out] == u32::MAX {
            buf_of[out] = take(sizes[out], &mut buf_sizes, &mut free);
        }
        let mut done: Vec<u32> = Vec::new();
        for src in step.kind.sources() {
            if let Src::Root(r) = src
                && last[r as usize] == Some(i)
                && !done.contains(&r)
            {
                done.push(r);
                free.push(buf_of[r as usize]);
            }
        }
    }
    (buf_of, buf_sizes)
}

impl Lower<'_> {
    fn new_root(&mut self, size: usize, value: usize) -> u32 {
        self.root_sizes.push(size);
        self.root_value.push(value);
        self.producer.push(None);
        (self.root_sizes.len() - 1) as u32
    }

    fn push(&mut self, out: u32, kind: Kind) {
        if self.producer[out as usize].is_none() {
            self.producer[out as usize] = Some(self.steps.len());
        }
        self.steps.push(Step { out, kind });
    }

    /// A new runtime value for output `k` of the current node.
    fn output(&mut self, k: usize, shape: Vec<usize>, boolean: bool) -> R<u32> {
        let id = self.g.node_outputs[self.node][k];
        let root = self.new_root(numel(&shape)?, id);
        self.vals[id] = Some(Val::Run {
            root,
            shape,
            boolean,
        });
        Ok(root)
    }

    /// A runtime value with no ONNX name (an intermediate of a lowering).
    fn temp(&mut self, shape: &[usize]) -> R<(u32, Val)> {
        let root = self.new_root(numel(shape)?, usize::MAX);
        Ok((
            root,
            Val::Run {
                root,
                shape: shape.to_vec(),
                boolean: false,
            },
        ))
    }

    /// Names a value this node's lowering created as its output 0 (so the
    /// next node may fuse into the step that writes it).
    fn set_result(&mut self, val: Val) {
        if let Val::Run { root, .. } = &val {
            self.root_value[*root as usize] = self.g.node_outputs[self.node][0];
        }
        self.set(0, val);
    }

    fn set(&mut self, k: usize, val: Val) {
        let id = self.g.node_outputs[self.node][k];
        self.vals[id] = Some(val);
    }

    /// Where a kernel reads `val`: its buffer, or a constant as f32 (bools as 0/1).
    fn operand(&mut self, val: &Val) -> R<Src> {
        match val {
            Val::Run { root, .. } => Ok(Src::Root(*root)),
            Val::Const(t) => {
                let key = Arc::as_ptr(t) as usize;
                if let Some(&i) = self.const_ids.get(&key) {
                    return Ok(Src::Const(i));
                }
                let data = match &t.data {
                    Data::F32(v) => v.clone(),
                    Data::Bool(v) => v.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect(),
                    _ => return Err(unsupported(format!("a {} tensor at run time", t.dtype()))),
                };
                self.consts.push(data);
                let i = (self.consts.len() - 1) as u32;
                self.const_ids.insert(key, i);
                // Keyed by address: keep the tensor alive so no later
                // constant (Gemm's beta after its alpha) can reuse it.
                self.const_kept.push(t.clone());
                Ok(Src::Const(i))
            }
        }
    }

    /// The producing Conv or Dense step of `value` when `value` is read only
    /// here and nothing is fused into that step yet.
    fn fusable(&self, value: usize) -> Option<usize> {
        let Some(Val::Run { root, .. }) = &self.vals[value] else {
            return None;
        };
        if self.g.uses[value] != 1 || self.root_value[*root as usize] != value {
            return None;
        }
        let s = self.producer[*root as usize]?;
        match &self.steps[s].kind {
            Kind::Dense { dense, .. } if dense.act == Act::None => Some(s),
            Kind::Conv { conv, .. } if conv.act == Act::None => Some(s),
            _ => None,
        }
    }

    /// Makes output 0 of the current node the (fused) value `input` names.
    fn alias_fused(&mut self, input: usize) {
        let val = self.vals[input].clone().expect("fused value exists");
        if let Val::Run { root, .. } = &val {
            self.root_value[*root as usize] = self.g.node_outputs[self.node][0];
        }
        self.set(0, val);
    }

    /// Whether a later node reads an output of the current node beyond its first.
    fn extra_outputs_read(&self) -> bool {
        let g = self.g;
        g.node_outputs[self.node]
            .iter()
            .skip(1)
            .any(|&o| g.uses[o] > 0)
    }

    fn lower_node(&mut self, i: usize) -> R<()> {
        let g = self.g;
        let node = &g.nodes[i];
        let op = node.op_type();
        let ids = &g.node_inputs[i];
        let mut ins: Vec<Option<Val>> = Vec::with_capacity(ids.len());
        for id in ids {
            ins.push(match id {
                Some(id) => Some(
                    self.vals[*id]
                        .clone()
                        .ok_or_else(|| format!("input '{}' is not computed", g.names[*id]))?,
                ),
                None => None,
            });
        }
        // Shapes are known here, so shape queries are constants.
        if let Some(first) = ins.first().cloned().flatten()
            && let Some(t) = crate::fold::shape_query(node, first.shape())
        {
            self.set(0, Val::Const(Arc::new(t)));
            return Ok(());
        }
        let constants: Option<Vec<Option<&Tensor>>> = ins
            .iter()
            .map(|v| match v {
                Some(Val::Const(t)) => Some(Some(&**t)),
                Some(Val::Run { .. }) => None,
                None => Some(None),
            })
            .collect();
        if let Some(constants) = constants
            && crate::fold::can_fold(node)
        {
            for (k, t) in crate::fold::eval(node, g.opset, &constants)?
                .into_iter()
                .enumerate()
            {
                self.set(k, Val::Const(Arc::new(t)));
            }
            return Ok(());
        }
        let a = Attrs(node);
        let input = |k: usize| input(&ins, k);
        let const_input = |k: usize| const_input(&ins, k);
        let extra_read = self.extra_outputs_read();
        match op {
            "Identity" => self.set(0, input(0)?),
            "Dropout" => {
                match ins.get(2) {
                    Some(Some(Val::Const(t))) if matches!(&t.data, Data::Bool(v) if v.first() == Some(&true)) =>
                    {
                        return Err(unsupported("Dropout in training mode"));
                    }
                    Some(Some(Val::Run { .. })) => {
                        return Err(unsupported("Dropout with a run-time training_mode"));
                    }
                    _ => {}
                }
                let x = input(0)?;
                if g.node_outputs[i].len() > 1 {
                    // In inference the mask keeps everything.
                    let shape = x.shape().to_vec();
                    let ones = vec![true; shape.iter().product()];
                    self.set(
                        1,
                        Val::Const(Arc::new(Tensor {
                            shape,
                            data: Data::Bool(ones),
                        })),
                    );
                }
                self.set(0, x);
            }
            "Reshape" => {
                let x = input(0)?;
                let spec = if g.opset < 5 {
                    a.ints("shape").ok_or("no 'shape' attribute")?
                } else {
                    ints_of(&*const_input(1)?)?
                };
                let shape = reshape(x.shape(), &spec, a.i("allowzero") == Some(1))?;
                self.set(0, with_shape(x, shape));
            }
            "Flatten" => {
                let x = input(0)?;
                let rank = x.shape().len();
                let axis = a.i("axis").unwrap_or(1);
                let axis = if axis < 0 { axis + rank as i64 } else { axis };
                if axis < 0 || axis as usize > rank {
                    return Err(format!("axis {axis} is out of range for rank {rank}"));
                }
                let axis = axis as usize;
                let shape = vec![
                    x.shape()[..axis].iter().product(),
                    x.shape()[axis..].iter().product(),
                ];
                self.set(0, with_shape(x, shape));
            }
            "Squeeze" | "Unsqueeze" => {
                let x = input(0)?;
                let axes = match a.ints("axes") {
                    Some(axes) => Some(axes),
                    None => match ins.get(1) {
                        Some(Some(_)) => Some(ints_of(&*const_input(1)?)?),
                        _ => None,
                    },
                };
                let shape = if op == "Squeeze" {
                    squeeze(x.shape(), axes.as_deref())?
                } else {
                    unsqueeze(x.shape(), &axes.ok_or("no axes")?)?
                };
                self.set(0, with_shape(x, shape));
            }
            "Transpose" => {
                let x = input(0)?;
                let rank = x.shape().len();
                let perm: Vec<usize> = match a.ints("perm") {
                    Some(p) => p.iter().map(|&d| d as usize).collect(),
                    None => (0..rank).rev().collect(),
                };
                let mut sorted = perm.clone();
                sorted.sort_unstable();
                if sorted != (0..rank).collect::<Vec<_>>() {
                    return Err(format!("perm {perm:?} is not a permutation of 0..{rank}"));
                }
                let own = strides(x.shape());
                let shape: Vec<usize> = perm.iter().map(|&d| x.shape()[d]).collect();
                let walk = Walk::strided(&shape, vec![perm.iter().map(|&d| own[d]).collect()]);
                self.copy(x, shape, 0, walk)?;
            }
            "Expand" => {
                let x = input(0)?;
                let target: Vec<usize> = ints_of(&*const_input(1)?)?
                    .iter()
                    .map(|&d| d.max(0) as usize)
                    .collect();
                let shape = broadcast(&[x.shape(), &target])?;
                let walk = Walk::new(&shape, &[x.shape()]);
                self.copy(x, shape, 0, walk)?;
            }
            "Slice" => self.slice(&a, &ins)?,
            "Gather" => self.gather(&a, &ins)?,
            "Concat" => self.concat(&a, &ins)?,
            "Relu" | "LeakyRelu" | "Clip" => self.activation(&a, &ins, ids)?,
            "Cast" => {
                let x = input(0)?;
                match DType::from_onnx(a.i("to").unwrap_or(0) as i32) {
                    Some(DType::F32) => self.set(0, with_bool(x, false)),
                    Some(DType::Bool) if x.is_bool() => self.set(0, x),
                    Some(DType::Bool) => self.unary(x, UnOp::ToBool, true)?,
                    other => {
                        return Err(unsupported(format!(
                            "a cast to {} at run time",
                            other.map_or("this type", |d| d.name())
                        )));
                    }
                }
            }
            "Not" => self.unary(input(0)?, UnOp::Not, true)?,
            "Sigmoid" | "Tanh" | "Neg" | "Abs" | "Exp" | "Log" | "Sqrt" | "Reciprocal"
            | "Floor" | "Ceil" | "Round" | "Sign" | "Elu" | "Selu" | "Softplus" | "Softsign"
            | "HardSigmoid" | "HardSwish" => {
                let u = match op {
                    "Sigmoid" => UnOp::Sigmoid,
                    "Tanh" => UnOp::Tanh,
                    "Neg" => UnOp::Neg,
                    "Abs" => UnOp::Abs,
                    "Exp" => UnOp::Exp,
                    "Log" => UnOp::Log,
                    "Sqrt" => UnOp::Sqrt,
                    "Reciprocal" => UnOp::Reciprocal,
                    "Floor" => UnOp::Floor,
                    "Ceil" => UnOp::Ceil,
                    "Round" => UnOp::Round,
                    "Sign" => UnOp::Sign,
                    "Elu" => UnOp::Elu(a.f("alpha").unwrap_or(1.0)),
                    "Selu" => UnOp::Selu(
                        a.f("alpha").unwrap_or(1.673_263_2),
                        a.f("gamma").unwrap_or(1.050_701),
                    ),
                    "Softplus" => UnOp::Softplus,
                    "Softsign" => UnOp::Softsign,
                    "HardSigmoid" => {
                        UnOp::HardSigmoid(a.f("alpha").unwrap_or(0.2), a.f("beta").unwrap_or(0.5))
                    }
                    _ => UnOp::HardSwish,
                };
                self.unary(input(0)?, u, false)?;
            }
            "Add" | "Sub" | "Mul" | "Div" | "Pow" | "PRelu" | "Greater" | "Less" | "Equal"
            | "GreaterOrEqual" | "LessOrEqual" | "And" | "Or" | "Xor" => {
                let bin = match op {
                    "Add" => BinOp::Add,
                    "Sub" => BinOp::Sub,
                    "Mul" => BinOp::Mul,
                    "Div" => BinOp::Div,
                    "Pow" => BinOp::Pow,
                    "PRelu" => BinOp::PRelu,
                    "Greater" => BinOp::Greater,
                    "Less" => BinOp::Less,
                    "Equal" => BinOp::Equal,
                    "GreaterOrEqual" => BinOp::GreaterOrEqual,
                    "LessOrEqual" => BinOp::LessOrEqual,
                    "And" => BinOp::And,
                    "Or" => BinOp::Or,
                    _ => BinOp::Xor,
                };
                let (x, y) = (input(0)?, input(1)?);
                if bin == BinOp::Add && self.fold_bias(ids, &x, &y)? {
                    return Ok(());
                }
                let val = self.binary(bin, &x, &y)?;
                self.set(0, val);
            }
            "Sum" | "Mean" | "Max" | "Min" => {
                let parts: Vec<Val> = ins.iter().flatten().cloned().collect();
                let bin = match op {
                    "Max" => BinOp::Max,
                    "Min" => BinOp::Min,
                    _ => BinOp::Add,
                };
                let mut acc = parts.first().cloned().ok_or("no inputs")?;
                for p in &parts[1..] {
                    acc = self.binary(bin, &acc, p)?;
                }
                if op == "Mean" && parts.len() > 1 {
                    let n = Val::Const(Arc::new(Tensor {
                        shape: vec![],
                        data: Data::F32(vec![parts.len() as f32]),
                    }));
                    acc = self.binary(BinOp::Div, &acc, &n)?;
                }
                self.set(0, acc);
            }
            "Where" => {
                let (c, x, y) = (input(0)?, input(1)?, input(2)?);
                let shape = broadcast(&[c.shape(), x.shape(), y.shape()])?;
                let walk = Walk::new(&shape, &[c.shape(), x.shape(), y.shape()]);
                let (c, x_src, y_src) = (self.operand(&c)?, self.operand(&x)?, self.operand(&y)?);
                let out = self.output(0, shape, x.is_bool())?;
                self.push(
                    out,
                    Kind::Where {
                        c,
                        a: x_src,
                        b: y_src,
                        walk,
                    },
                );
            }
            "Gemm" => self.gemm(&a, &ins)?,
            "MatMul" => {
                let (x, w) = (input(0)?, input(1)?);
                let val = self.matmul(&x, &w, 1.0)?;
                self.set_result(val);
            }
            "Conv" => self.conv(&a, &ins)?,
            "AveragePool" | "MaxPool" | "GlobalAveragePool" | "GlobalMaxPool" => {
                if extra_read {
                    return Err(unsupported("MaxPool's indices output"));
                }
                self.pool(op, &a, input(0)?)?;
            }
            "BatchNormalization" => self.batch_norm(&a, &ins, ids)?,
            "Softmax" | "LogSoftmax" => self.softmax(&a, &ins)?,
            other => return Err(unsupported(format!("op {other}"))),
        }
        Ok(())
    }

    fn unary(&mut self, x: Val, op: UnOp, boolean: bool) -> R<()> {
        let shape = x.shape().to_vec();
        let len = shape.iter().product();
        let src = self.operand(&x)?;
        let out = self.output(0, shape, boolean)?;
        self.push(out, Kind::Unary { x: src, len, op });
        Ok(())
    }

    fn copy(&mut self, x: Val, shape: Vec<usize>, base: usize, walk: Walk) -> R<()> {
        let boolean = x.is_bool();
        let src = self.operand(&x)?;
        let out = self.output(0, shape, boolean)?;
        self.push(out, Kind::Copy { x: src, base, walk });
        Ok(())
    }

    /// `x op y` as a new runtime value (an intermediate unless the caller names it).
    fn binary(&mut self, op: BinOp, x: &Val, y: &Val) -> R<Val> {
        let shape = broadcast(&[x.shape(), y.shape()])?;
        let walk = Walk::new(&shape, &[x.shape(), y.shape()]);
        let (a, b) = (self.operand(x)?, self.operand(y)?);
        let (root, mut val) = self.temp(&shape)?;
        let boolean = matches!(
            op,
            BinOp::Greater
                | BinOp::Less
                | BinOp::Equal
                | BinOp::GreaterOrEqual
                | BinOp::LessOrEqual
                | BinOp::And
                | BinOp::Or
                | BinOp::Xor
        );
        if let Val::Run { boolean: b, .. } = &mut val {
            *b = boolean;
        }
        self.push(root, Kind::Binary { a, b, walk, op });
        Ok(val)
    }

    /// `Add(conv_or_gemm, constant)` with a per-channel / per-column
    /// constant: folded into the producer's bias. Returns whether it was.
    fn fold_bias(&mut self, ids: &[Option<usize>], x: &Val, y: &Val) -> R<bool> {
        let (run_id, bias) = match (x, y) {
            (Val::Run { .. }, Val::Const(t)) => (ids[0], t.clone()),
            (Val::Const(t), Val::Run { .. }) => (ids[1], t.clone()),
            _ => return Ok(false),
        };
        let Some(run_id) = run_id else {
            return Ok(false);
        };
        let Some(s) = self.fusable(run_id) else {
            return Ok(false);
        };
        let out_shape = self.vals[run_id]
            .as_ref()
            .map(|v| v.shape().to_vec())
            .unwrap_or_default();
        if broadcast(&[&out_shape, &bias.shape]).ok().as_deref() != Some(&out_shape[..]) {
            return Ok(false);
        }
        let Some(values) = bias.data.to_f32() else {
            return Ok(false);
        };
        let rank = out_shape.len();
        let lead = rank - bias.shape.len();
        // The one axis the constant varies along (None: a scalar).
        let varying: Vec<usize> = (0..bias.shape.len())
            .filter(|&d| bias.shape[d] != 1)
            .map(|d| d + lead)
            .collect();
        let fits = match (&self.steps[s].kind, varying.as_slice()) {
            (_, []) => true,
            (Kind::Dense { .. }, [axis]) => *axis == rank - 1,
            (Kind::Conv { .. }, [axis]) => *axis == 1,
            _ => false,
        };
        if !fits {
            return Ok(false);
        }
        let at = |j: usize| {
            if values.len() == 1 {
                values[0]
            } else {
                values[j]
            }
        };
        match &mut self.steps[s].kind {
            Kind::Dense { dense, .. } => dense.add_bias(at),
            Kind::Conv { conv, .. } => {
                for (o, b) in conv.bias.iter_mut().enumerate() {
                    *b += at(o);
                }
            }
            _ => return Ok(false),
        }
        self.alias_fused(run_id);
        Ok(true)
    }
}
