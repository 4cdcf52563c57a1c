//! Compiles a graph for concrete input shapes: every node becomes kernel
//! steps (or a constant, or an alias of its input for shape-only ops), then
//! buffers are assigned by liveness.
//!
//! Each op family registers its lowerings ([`LowerFn`] per op name) in the
//! [`Registry`], as `ml::ops` registers its kernels: elementwise arithmetic
//! and activations, shape views and copies, the layers with weights or
//! windows, the normalizations.

use super::kernels::Act;
use super::{Compiled, Graph, InputSpec, Kind, OutputSpec, Src, Step};
use crate::error::{Error, KernelError};
use crate::ml::Attrs;
use crate::value::{DType, Data, Tensor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

mod elementwise;
mod layers;
mod normalize;
mod shapes;
mod views;

use shapes::{numel, unsupported};

type R<T> = Result<T, KernelError>;

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
    let inputs = l.bind_inputs(shapes)?;
    for i in 0..g.nodes.len() {
        l.node = i;
        let node = &g.nodes[i];
        l.lower_node(i)
            .map_err(|m| Error::node(node.name(), node.op_type(), m))?;
    }
    let outputs = l.outputs()?;
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
    /// Makes each graph input a runtime value of its given shape.
    fn bind_inputs(&mut self, shapes: &[Vec<usize>]) -> Result<Vec<InputSpec>, Error> {
        let g = self.g;
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
            let root = self.new_root(len, *id);
            self.vals[*id] = Some(Val::Run {
                root,
                shape: shape.clone(),
                boolean,
            });
            inputs.push(InputSpec { root, len });
        }
        Ok(inputs)
    }

    /// Where each graph output is read from once every node is lowered.
    fn outputs(&mut self) -> Result<Vec<OutputSpec>, Error> {
        let g = self.g;
        let mut outputs = Vec::new();
        for &id in &g.outputs {
            let val = self.vals[id]
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
            let src = self
                .operand(&val)
                .map_err(|m| Error::Model(format!("output '{}': {m}", g.names[id])))?;
            outputs.push(OutputSpec {
                src,
                shape: val.shape().to_vec(),
                boolean,
                exact: None,
            });
        }
        Ok(outputs)
    }

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
        let ids = &g.node_inputs[i];
        let mut ins: Vec<Option<Val>> = Vec::with_capacity(ids.len());
        for id in ids {
            ins.push(match id {
                Some(id) => Some(self.vals[*id].clone().ok_or_else(|| {
                    KernelError::Value(format!("input '{}' is not computed", g.names[*id]))
                })?),
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
        let op = node.op_type();
        let lower = OPS
            .table()
            .get(op)
            .ok_or_else(|| unsupported(format!("op {op}")))?;
        lower(
            self,
            &Node {
                op,
                attrs: Attrs(node),
                ins,
                ids,
            },
        )
    }
}

/// One node as its lowering sees it: its op, attributes and input values.
struct Node<'n> {
    op: &'n str,
    attrs: Attrs<'n>,
    ins: Vec<Option<Val>>,
    /// The value ids of the inputs (None where omitted).
    ids: &'n [Option<usize>],
}

impl Node<'_> {
    /// Input `k` (an error when omitted).
    fn input(&self, k: usize) -> R<Val> {
        given(&self.ins, k)
    }

    /// Input `k`, which must be a constant.
    fn const_input(&self, k: usize) -> R<Arc<Tensor>> {
        match self.input(k)? {
            Val::Const(t) => Ok(t),
            Val::Run { .. } => Err(unsupported(format!("input {k} computed at run time"))),
        }
    }

    /// The value id of input `k` (an error when omitted).
    fn input_id(&self, k: usize) -> R<usize> {
        given(self.ids, k)
    }
}

/// Entry `k` of a node's per-input list (an error when the input is omitted).
fn given<T: Clone>(list: &[Option<T>], k: usize) -> R<T> {
    list.get(k)
        .cloned()
        .flatten()
        .ok_or_else(|| KernelError::Value(format!("input {k} is missing")))
}

/// Lowers one node of the op it is registered for.
type LowerFn = fn(&mut Lower<'_>, &Node<'_>) -> R<()>;

/// The native engine's ops, by name.
type Registry = crate::registry::Registry<LowerFn>;

static OPS: crate::registry::Ops<LowerFn> = crate::registry::Ops::new(&[
    elementwise::register,
    views::register,
    layers::register,
    normalize::register,
]);

#[cfg(test)]
mod tests {
    /// docs/infer.md's "Op set" paragraph is this registry (plus the shape
    /// queries Shape and Size, answered before any lowering): a new
    /// lowering is documented, a documented op is lowered.
    #[test]
    fn the_documented_op_set_is_the_registry() {
        let doc = include_str!("../../../../../../docs/infer.md");
        let start = doc
            .find("Op set:")
            .expect("docs/infer.md has an 'Op set:' paragraph");
        let paragraph = &doc[start + "Op set:".len()..];
        let paragraph = &paragraph[..paragraph.find("and every op").expect("the list ends")];
        let mut depth = 0;
        let without_notes: String = paragraph
            .chars()
            .filter(|&c| {
                depth += i32::from(c == '(') - i32::from(c == ')');
                depth == 0 && c != ')'
            })
            .collect();
        let mut documented: Vec<&str> = without_notes
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty() && !matches!(*name, "Shape" | "Size"))
            .collect();
        documented.sort_unstable();
        assert_eq!(documented, super::OPS.table().names());
    }
}
