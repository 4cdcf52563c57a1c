//! Rules for the default-domain ops: one match arm per op family. Each rule
//! returns the facts of the node's outputs in order (missing ones are unknown).

use super::dim::{Dim, ValueType, shape_text};
use super::spatial;
use super::{At, Cx, Fact, MAX_CONST_ELEMENTS};
use crate::attr;
use crate::proto::TensorProto;
use crate::proto::tensor_proto::DataType;

/// The fact of an initializer or a Constant's tensor (value kept when small and integer).
pub(crate) fn tensor_fact(t: &TensorProto) -> Fact {
    let elem = t.data_type.unwrap_or(0);
    let ty = ValueType::tensor(elem, t.dims.iter().map(|&d| Dim::Known(d)).collect());
    let konst = if t.dims.len() <= 1 {
        crate::tensor::small_ints(t, MAX_CONST_ELEMENTS)
            .map(|v| v.into_iter().map(Dim::Known).collect())
    } else {
        None
    };
    Fact { ty, konst }
}

fn elem(f: Option<&Fact>) -> i32 {
    f.map_or(0, |f| f.ty.elem())
}
fn shape(f: Option<&Fact>) -> Option<&[Dim]> {
    f.and_then(|f| f.ty.shape())
}
fn konst(f: Option<&Fact>) -> Option<&[Dim]> {
    f.and_then(|f| f.konst.as_deref())
}
/// Known integer values of a constant input (all dims known).
fn ints(f: Option<&Fact>) -> Option<Vec<i64>> {
    konst(f)?.iter().map(|d| d.known()).collect()
}
fn same_as(f: Option<&Fact>) -> Fact {
    f.map(|f| Fact::of(f.ty.clone()))
        .unwrap_or_else(Fact::unknown)
}
fn with_elem(f: Option<&Fact>, elem: i32) -> Fact {
    Fact::of(match shape(f) {
        Some(s) => ValueType::tensor(elem, s.to_vec()),
        None => ValueType::tensor_unranked(elem),
    })
}
fn tensor(elem: i32, dims: Vec<Dim>) -> Fact {
    Fact::of(ValueType::tensor(elem, dims))
}
fn unranked(elem: i32) -> Fact {
    Fact::of(ValueType::tensor_unranked(elem))
}
/// Normalises a possibly negative axis against `rank`.
fn axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if a < 0 { a + r } else { a };
    (0..r).contains(&a).then_some(a as usize)
}
fn product(dims: &[Dim]) -> Option<i64> {
    dims.iter()
        .try_fold(1i64, |acc, d| d.known().and_then(|v| acc.checked_mul(v)))
}
/// Product of dims, keeping a single symbolic dim when the others are 1.
fn product_dim(dims: &[Dim]) -> Dim {
    if let Some(p) = product(dims) {
        return Dim::Known(p);
    }
    let non_one: Vec<&Dim> = dims.iter().filter(|d| **d != Dim::Known(1)).collect();
    match non_one.as_slice() {
        [one @ Dim::Sym(_)] => (*one).clone(),
        _ => Dim::Unknown,
    }
}

fn broadcast_fact(cx: &mut Cx, at: &At, inputs: &[Option<&Fact>], out_elem: i32) -> Fact {
    let shapes: Option<Vec<&[Dim]>> = inputs.iter().map(|f| shape(*f)).collect();
    let Some(shapes) = shapes else {
        return unranked(out_elem);
    };
    match crate::broadcast::dims(&shapes) {
        Ok(dims) => {
            let mut fact = tensor(out_elem, dims);
            fact.konst = fold_arith(at, inputs);
            fact
        }
        Err((a, b)) => {
            at.mismatch(
                cx,
                format!(
                    "shapes cannot be broadcast: input {a} is {}, input {b} is {}",
                    shape_text(shapes[a]),
                    shape_text(shapes[b])
                ),
            );
            unranked(out_elem)
        }
    }
}

/// Integer arithmetic on small constant vectors (shape computations).
fn fold_arith(at: &At, inputs: &[Option<&Fact>]) -> Option<Vec<Dim>> {
    let op = at.node.op_type.as_deref()?;
    let [a, b] = inputs else { return None };
    let (a, b) = (ints(*a)?, ints(*b)?);
    let n = a.len().max(b.len());
    if !(a.len() == n || a.len() == 1) || !(b.len() == n || b.len() == 1) {
        return None;
    }
    (0..n)
        .map(|i| {
            let (x, y) = (
                a[if a.len() == 1 { 0 } else { i }],
                b[if b.len() == 1 { 0 } else { i }],
            );
            let v = match op {
                "Add" => x.checked_add(y),
                "Sub" => x.checked_sub(y),
                "Mul" => x.checked_mul(y),
                "Div" if y != 0 => Some(x.div_euclid(y)),
                _ => None,
            };
            v.map(Dim::Known)
        })
        .collect()
}

/// The facts of a node's outputs from the facts of its inputs; ops are
/// grouped by family, each a function that answers `None` for ops not its own.
pub(crate) fn infer(cx: &mut Cx, at: &At, ins: &[Option<&Fact>]) -> Vec<Fact> {
    const FAMILIES: [Family; 5] = [elementwise, layers, layout, values, reductions];
    let op = at.node.op_type.as_deref().unwrap_or("");
    FAMILIES
        .iter()
        .find_map(|family| family(cx, at, op, ins))
        .unwrap_or_default()
}

type Family = fn(&mut Cx, &At, &str, &[Option<&Fact>]) -> Option<Vec<Fact>>;

/// Element-wise ops: one type and shape through, or inputs broadcast together; normalisations that keep the shape.
/// `None`: the op is not of this family.
fn elementwise(cx: &mut Cx, at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e0 = elem(i(0));
    Some(match op {
        // Same type and shape as the first input.
        "Relu"
        | "Sigmoid"
        | "Tanh"
        | "Abs"
        | "Neg"
        | "Exp"
        | "Log"
        | "Sqrt"
        | "Reciprocal"
        | "Floor"
        | "Ceil"
        | "Round"
        | "Erf"
        | "Sin"
        | "Cos"
        | "Tan"
        | "Asin"
        | "Acos"
        | "Atan"
        | "Sinh"
        | "Cosh"
        | "Asinh"
        | "Acosh"
        | "Atanh"
        | "LeakyRelu"
        | "Elu"
        | "Selu"
        | "Celu"
        | "HardSigmoid"
        | "HardSwish"
        | "Gelu"
        | "Softplus"
        | "Softsign"
        | "Mish"
        | "ThresholdedRelu"
        | "Clip"
        | "Softmax"
        | "LogSoftmax"
        | "Hardmax"
        | "LRN"
        | "InstanceNormalization"
        | "LpNormalization"
        | "MeanVarianceNormalization"
        | "GroupNormalization"
        | "CumSum"
        | "Trilu"
        | "Shrink"
        | "Sign"
        | "PRelu"
        | "ReverseSequence"
        | "BitwiseNot"
        | "ScatterND"
        | "ScatterElements"
        | "Scatter"
        | "RandomNormalLike"
        | "RandomUniformLike"
        | "Swish" => vec![same_as(i(0))],
        "Identity" => vec![i(0).cloned().unwrap_or_else(Fact::unknown)],
        "Not" | "IsNaN" | "IsInf" => vec![with_elem(i(0), DataType::Bool as i32)],
        "Dropout" => vec![same_as(i(0)), with_elem(i(0), DataType::Bool as i32)],
        "BatchNormalization" => {
            let c = shape(i(0))
                .and_then(|s| s.get(1).cloned())
                .unwrap_or(Dim::Unknown);
            let stat = tensor(e0, vec![c]);
            vec![same_as(i(0)), stat.clone(), stat]
        }
        "LayerNormalization" => {
            let stash =
                attr::int(at.node, "stash_type").map_or(DataType::Float as i32, |v| v as i32);
            let stats = match shape(i(0)) {
                Some(s) => match axis(attr::int(at.node, "axis").unwrap_or(-1), s.len()) {
                    Some(a) => {
                        let mut d = s.to_vec();
                        d[a..].iter_mut().for_each(|x| *x = Dim::Known(1));
                        tensor(stash, d)
                    }
                    None => unranked(stash),
                },
                None => unranked(stash),
            };
            vec![same_as(i(0)), stats.clone(), stats]
        }
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Mod" | "Max" | "Min" | "Sum" | "Mean"
        | "BitShift" | "BitwiseAnd" | "BitwiseOr" | "BitwiseXor" => {
            vec![broadcast_fact(cx, at, ins, e0)]
        }
        "Equal" | "Greater" | "Less" | "GreaterOrEqual" | "LessOrEqual" | "And" | "Or" | "Xor" => {
            vec![broadcast_fact(cx, at, ins, DataType::Bool as i32)]
        }
        "Where" => vec![broadcast_fact(cx, at, ins, elem(i(1)))],
        "QuantizeLinear" => vec![with_elem(i(0), i(2).map_or(2, |z| z.ty.elem()))],
        "DequantizeLinear" => vec![with_elem(
            i(0),
            i(1).map_or(DataType::Float as i32, |s| s.ty.elem()),
        )],
        _ => return None,
    })
}

/// Layers with weights or windows: products, convolutions, pools, recurrent cells.
/// `None`: the op is not of this family.
fn layers(cx: &mut Cx, at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e0 = elem(i(0));
    Some(match op {
        "MatMul" => vec![matmul(cx, at, i(0), i(1), e0)],
        "MatMulInteger" => vec![matmul(cx, at, i(0), i(1), DataType::Int32 as i32)],
        "QLinearMatMul" => vec![matmul(cx, at, i(0), i(3), elem(i(7)))],
        "Gemm" => vec![gemm(cx, at, i(0), i(1), e0)],
        "Conv" => spatial::conv(cx, at, i(0), i(1), e0),
        "ConvInteger" => spatial::conv(cx, at, i(0), i(1), DataType::Int32 as i32),
        "QLinearConv" => spatial::conv(cx, at, i(0), i(3), elem(i(7))),
        "ConvTranspose" => spatial::conv_transpose(at, i(0), i(1), e0),
        "MaxPool" | "AveragePool" | "LpPool" => spatial::pool(at, i(0)),
        "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => spatial::global_pool(i(0)),
        "LSTM" | "GRU" | "RNN" => recurrent(at, i(0), op == "LSTM"),
        _ => return None,
    })
}

/// Ops that move or re-index data: reshapes, concatenation, slices, gathers, padding, resizing, tiling.
/// `None`: the op is not of this family.
fn layout(cx: &mut Cx, at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e0 = elem(i(0));
    Some(match op {
        "Reshape" => vec![reshape(cx, at, i(0), i(1))],
        "Flatten" => vec![flatten(at, i(0))],
        "Transpose" => vec![transpose(at, i(0))],
        "Concat" => vec![concat(cx, at, ins)],
        "Split" => split(at, i(0), i(1)),
        "Slice" => vec![slice(at, ins)],
        "Gather" => vec![gather(at, i(0), i(1))],
        "GatherElements" => vec![with_elem(i(1), e0)],
        "Unsqueeze" => vec![unsqueeze(at, i(0), i(1))],
        "Squeeze" => vec![squeeze(at, i(0), i(1))],
        "Expand" => vec![expand(cx, at, i(0), i(1))],
        "Tile" => vec![match (shape(i(0)), ints(i(1))) {
            (Some(s), Some(r)) if r.len() == s.len() => tensor(
                e0,
                s.iter()
                    .zip(&r)
                    .map(|(d, &k)| {
                        if k == 1 {
                            d.clone()
                        } else {
                            d.known().map_or(Dim::Unknown, |v| Dim::Known(v * k))
                        }
                    })
                    .collect(),
            ),
            (Some(s), _) => tensor(e0, vec![Dim::Unknown; s.len()]),
            _ => unranked(e0),
        }],
        "Pad" => vec![pad(at, ins)],
        "Resize" | "Upsample" => vec![resize(at, ins)],
        "OneHot" => vec![match (shape(i(0)), ints(i(1))) {
            (Some(s), depth) => {
                let mut d = s.to_vec();
                let depth = depth
                    .and_then(|v| v.first().copied())
                    .map_or(Dim::Unknown, Dim::Known);
                match axis(attr::int(at.node, "axis").unwrap_or(-1), s.len() + 1) {
                    Some(a) => {
                        d.insert(a, depth);
                        tensor(elem(i(2)), d)
                    }
                    None => unranked(elem(i(2))),
                }
            }
            _ => unranked(elem(i(2))),
        }],
        "DepthToSpace" | "SpaceToDepth" => {
            let b = attr::int(at.node, "blocksize").unwrap_or(1).max(1);
            match shape(i(0)) {
                Some(s) if s.len() == 4 => {
                    let (c, h, w) = (s[1].known(), s[2].known(), s[3].known());
                    let to_space = op == "DepthToSpace";
                    let f = |v: Option<i64>, mul: bool| {
                        v.map_or(Dim::Unknown, |v| {
                            Dim::Known(if mul { v * b } else { v / b })
                        })
                    };
                    let c2 = c.map_or(Dim::Unknown, |c| {
                        Dim::Known(if to_space { c / (b * b) } else { c * b * b })
                    });
                    vec![tensor(
                        e0,
                        vec![s[0].clone(), c2, f(h, to_space), f(w, to_space)],
                    )]
                }
                _ => vec![unranked(e0)],
            }
        }
        _ => return None,
    })
}

/// Ops that make values: shapes, constants, casts, random and index generators, sequences.
/// `None`: the op is not of this family.
fn values(_cx: &mut Cx, at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e0 = elem(i(0));
    Some(match op {
        "Shape" => vec![shape_op(at, i(0))],
        "Size" => {
            let mut f = tensor(DataType::Int64 as i32, vec![]);
            f.konst = shape(i(0)).and_then(product).map(|p| vec![Dim::Known(p)]);
            vec![f]
        }
        "Constant" => vec![constant(at.node)],
        "ConstantOfShape" => {
            let elem = attr::tensor(at.node, "value")
                .and_then(|t| t.data_type)
                .unwrap_or(DataType::Float as i32);
            match konst(i(0)) {
                Some(dims) => vec![tensor(elem, dims.to_vec())],
                None => vec![unranked(elem)],
            }
        }
        "Cast" => {
            let to = attr::int(at.node, "to").unwrap_or(0) as i32;
            let mut f = with_elem(i(0), to);
            if matches!(
                DataType::try_from(to),
                Ok(DataType::Int64 | DataType::Int32)
            ) {
                f.konst = i(0).and_then(|f| f.konst.clone());
            }
            vec![f]
        }
        "CastLike" => vec![with_elem(i(0), elem(i(1)))],
        "EyeLike" => vec![with_elem(
            i(0),
            attr::int(at.node, "dtype").map_or(e0, |v| v as i32),
        )],
        "RandomNormal" | "RandomUniform" => {
            let elem = attr::int(at.node, "dtype").map_or(DataType::Float as i32, |v| v as i32);
            match attr::ints(at.node, "shape") {
                Some(s) => vec![tensor(elem, s.iter().map(|&d| Dim::Known(d)).collect())],
                None => vec![unranked(elem)],
            }
        }
        "Range" => {
            let len = match (ints(i(0)), ints(i(1)), ints(i(2))) {
                (Some(s), Some(l), Some(d))
                    if s.len() == 1 && l.len() == 1 && d.len() == 1 && d[0] != 0 =>
                {
                    Dim::Known(((l[0] - s[0]) as f64 / d[0] as f64).ceil().max(0.0) as i64)
                }
                _ => Dim::Unknown,
            };
            vec![tensor(e0, vec![len])]
        }
        "SequenceConstruct" => vec![Fact::of(ValueType::Sequence(Box::new(
            i(0).map_or(ValueType::Unknown, |f| f.ty.clone()),
        )))],
        "SequenceAt" => vec![Fact::of(match i(0).map(|f| &f.ty) {
            Some(ValueType::Sequence(e)) => (**e).clone(),
            _ => ValueType::Unknown,
        })],
        "SplitToSequence" => vec![Fact::of(ValueType::Sequence(Box::new(
            ValueType::tensor_unranked(e0),
        )))],
        _ => return None,
    })
}

/// Reductions over axes and index searches: Reduce*, ArgMax/ArgMin, TopK, NonZero.
/// `None`: the op is not of this family.
fn reductions(cx: &mut Cx, at: &At, op: &str, ins: &[Option<&Fact>]) -> Option<Vec<Fact>> {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e0 = elem(i(0));
    Some(match op {
        "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1"
        | "ReduceL2" | "ReduceLogSum" | "ReduceLogSumExp" | "ReduceSumSquare" => {
            vec![reduce(cx, at, i(0), i(1))]
        }
        "ArgMax" | "ArgMin" => {
            let Some(s) = shape(i(0)) else {
                return Some(vec![unranked(DataType::Int64 as i32)]);
            };
            let Some(a) = axis(attr::int(at.node, "axis").unwrap_or(0), s.len()) else {
                return Some(vec![unranked(DataType::Int64 as i32)]);
            };
            vec![tensor(
                DataType::Int64 as i32,
                reduce_dims(s, &[a], attr::int(at.node, "keepdims").unwrap_or(1) != 0),
            )]
        }
        "TopK" => {
            let Some(s) = shape(i(0)) else {
                return Some(vec![unranked(e0), unranked(DataType::Int64 as i32)]);
            };
            let Some(a) = axis(attr::int(at.node, "axis").unwrap_or(-1), s.len()) else {
                return Some(vec![unranked(e0), unranked(DataType::Int64 as i32)]);
            };
            let mut d = s.to_vec();
            d[a] = ints(i(1))
                .and_then(|k| k.first().copied())
                .map_or(Dim::Unknown, Dim::Known);
            vec![tensor(e0, d.clone()), tensor(DataType::Int64 as i32, d)]
        }
        "NonZero" => vec![match shape(i(0)) {
            Some(s) => tensor(
                DataType::Int64 as i32,
                vec![Dim::Known(s.len() as i64), Dim::Unknown],
            ),
            None => unranked(DataType::Int64 as i32),
        }],
        _ => return None,
    })
}

fn matmul(cx: &mut Cx, at: &At, a: Option<&Fact>, b: Option<&Fact>, elem: i32) -> Fact {
    let (Some(sa), Some(sb)) = (shape(a), shape(b)) else {
        return unranked(elem);
    };
    if sa.is_empty() || sb.is_empty() {
        return unranked(elem);
    }
    // 1-D operands are promoted to matrices and the added dim removed after.
    let a2: Vec<Dim> = if sa.len() == 1 {
        vec![Dim::Known(1), sa[0].clone()]
    } else {
        sa.to_vec()
    };
    let b2: Vec<Dim> = if sb.len() == 1 {
        vec![sb[0].clone(), Dim::Known(1)]
    } else {
        sb.to_vec()
    };
    let (ka, kb) = (&a2[a2.len() - 1], &b2[b2.len() - 2]);
    if let (Dim::Known(x), Dim::Known(y)) = (ka, kb)
        && x != y
    {
        at.mismatch(
            cx,
            format!(
                "inner dimensions differ: A is {}, B is {}",
                shape_text(sa),
                shape_text(sb)
            ),
        );
        return unranked(elem);
    }
    let batch = match crate::broadcast::dims(&[&a2[..a2.len() - 2], &b2[..b2.len() - 2]]) {
        Ok(b) => b,
        Err(_) => {
            at.mismatch(
                cx,
                format!(
                    "batch dimensions cannot be broadcast: A is {}, B is {}",
                    shape_text(sa),
                    shape_text(sb)
                ),
            );
            return unranked(elem);
        }
    };
    let mut out = batch;
    if sa.len() > 1 {
        out.push(a2[a2.len() - 2].clone());
    }
    if sb.len() > 1 {
        out.push(b2[b2.len() - 1].clone());
    }
    tensor(elem, out)
}

fn gemm(cx: &mut Cx, at: &At, a: Option<&Fact>, b: Option<&Fact>, elem: i32) -> Fact {
    let (Some(sa), Some(sb)) = (shape(a), shape(b)) else {
        return tensor(elem, vec![Dim::Unknown, Dim::Unknown]);
    };
    if sa.len() != 2 || sb.len() != 2 {
        return tensor(elem, vec![Dim::Unknown, Dim::Unknown]);
    }
    let ta = attr::int(at.node, "transA").unwrap_or(0) != 0;
    let tb = attr::int(at.node, "transB").unwrap_or(0) != 0;
    let (m, ka) = if ta {
        (&sa[1], &sa[0])
    } else {
        (&sa[0], &sa[1])
    };
    let (kb, n) = if tb {
        (&sb[1], &sb[0])
    } else {
        (&sb[0], &sb[1])
    };
    if let (Dim::Known(x), Dim::Known(y)) = (ka, kb)
        && x != y
    {
        at.mismatch(
            cx,
            format!(
                "inner dimensions differ: A{} is {}, B{} is {}",
                if ta { "ᵀ" } else { "" },
                shape_text(sa),
                if tb { "ᵀ" } else { "" },
                shape_text(sb)
            ),
        );
    }
    tensor(elem, vec![m.clone(), n.clone()])
}

fn reshape(cx: &mut Cx, at: &At, data: Option<&Fact>, target: Option<&Fact>) -> Fact {
    let e = elem(data);
    let Some(t) = konst(target) else {
        // The rank is still known from the target's own length.
        return match shape(target) {
            Some([Dim::Known(r)]) => tensor(e, vec![Dim::Unknown; (*r).clamp(0, 64) as usize]),
            _ => unranked(e),
        };
    };
    let allow_zero = attr::int(at.node, "allowzero").unwrap_or(0) != 0;
    let input = shape(data);
    let mut out: Vec<Dim> = t
        .iter()
        .enumerate()
        .map(|(k, d)| match d {
            Dim::Known(0) if !allow_zero => input
                .and_then(|s| s.get(k).cloned())
                .unwrap_or(Dim::Unknown),
            other => other.clone(),
        })
        .collect();
    let infer_at: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == Dim::Known(-1))
        .map(|(k, _)| k)
        .collect();
    let total = input.and_then(product);
    if let [k] = infer_at[..] {
        out[k] = Dim::Unknown;
        let rest: Vec<Dim> = out
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, d)| d.clone())
            .collect();
        if let (Some(total), Some(rest)) = (total, product(&rest)) {
            if rest != 0 && total % rest == 0 {
                out[k] = Dim::Known(total / rest);
            } else if rest != 0 {
                at.mismatch(
                    cx,
                    format!(
                        "cannot reshape {} ({total} elements) to {}",
                        shape_text(input.unwrap_or(&[])),
                        shape_text(t)
                    ),
                );
            }
        } else if let Some(s) = input {
            // Symbolic batch: [N, a, b] -> [N, -1] keeps a*b when the symbols match.
            let syms_in: Vec<&Dim> = s.iter().filter(|d| matches!(d, Dim::Sym(_))).collect();
            let syms_out: Vec<&Dim> = rest.iter().filter(|d| matches!(d, Dim::Sym(_))).collect();
            if syms_in == syms_out {
                let known_in: Vec<Dim> =
                    s.iter().filter(|d| d.known().is_some()).cloned().collect();
                let known_out: Vec<Dim> = rest
                    .iter()
                    .filter(|d| d.known().is_some())
                    .cloned()
                    .collect();
                if s.iter().chain(&rest).all(|d| !matches!(d, Dim::Unknown))
                    && let (Some(a), Some(b)) = (product(&known_in), product(&known_out))
                    && b != 0
                    && a % b == 0
                {
                    out[k] = Dim::Known(a / b);
                }
            }
        }
    } else if infer_at.is_empty()
        && let (Some(total), Some(want)) = (total, product(&out))
        && total != want
    {
        at.mismatch(
            cx,
            format!(
                "cannot reshape {} ({total} elements) to {} ({want} elements)",
                shape_text(input.unwrap_or(&[])),
                shape_text(&out)
            ),
        );
    }
    let mut f = tensor(e, out);
    f.konst = data.and_then(|d| d.konst.clone()).filter(|_| t.len() <= 1);
    f
}

fn flatten(at: &At, x: Option<&Fact>) -> Fact {
    let e = elem(x);
    let Some(s) = shape(x) else {
        return tensor(e, vec![Dim::Unknown, Dim::Unknown]);
    };
    let a = attr::int(at.node, "axis").unwrap_or(1);
    let a = if a < 0 { a + s.len() as i64 } else { a };
    if a < 0 || a as usize > s.len() {
        return tensor(e, vec![Dim::Unknown, Dim::Unknown]);
    }
    let (l, r) = s.split_at(a as usize);
    tensor(e, vec![product_dim(l), product_dim(r)])
}

fn transpose(at: &At, x: Option<&Fact>) -> Fact {
    let e = elem(x);
    let Some(s) = shape(x) else {
        return unranked(e);
    };
    let perm: Vec<i64> = match attr::ints(at.node, "perm") {
        Some(p) if !p.is_empty() => p.to_vec(),
        _ => (0..s.len() as i64).rev().collect(),
    };
    if perm.len() != s.len() {
        return unranked(e);
    }
    let dims: Option<Vec<Dim>> = perm
        .iter()
        .map(|&p| axis(p, s.len()).map(|k| s[k].clone()))
        .collect();
    dims.map_or_else(|| unranked(e), |d| tensor(e, d))
}

fn concat(cx: &mut Cx, at: &At, ins: &[Option<&Fact>]) -> Fact {
    let e = ins.iter().map(|f| elem(*f)).find(|&e| e != 0).unwrap_or(0);
    let shapes: Option<Vec<&[Dim]>> = ins.iter().map(|f| shape(*f)).collect();
    let Some(shapes) = shapes.filter(|s| !s.is_empty()) else {
        return unranked(e);
    };
    let rank = shapes[0].len();
    if shapes.iter().any(|s| s.len() != rank) {
        let (k, s) = shapes
            .iter()
            .enumerate()
            .find(|(_, s)| s.len() != rank)
            .map(|(k, s)| (k, *s))
            .unwrap_or((0, &[]));
        at.mismatch(
            cx,
            format!(
                "ranks differ: input 0 is {}, input {k} is {}",
                shape_text(shapes[0]),
                shape_text(s)
            ),
        );
        return unranked(e);
    }
    let Some(a) = axis(attr::int(at.node, "axis").unwrap_or(0), rank) else {
        return unranked(e);
    };
    let mut out = shapes[0].to_vec();
    for (k, s) in shapes.iter().enumerate().skip(1) {
        for d in 0..rank {
            if d == a {
                continue;
            }
            match (&out[d], &s[d]) {
                (Dim::Known(x), Dim::Known(y)) if x != y => {
                    at.mismatch(
                        cx,
                        format!("dimension {d} differs off the concat axis {a}: input 0 is {}, input {k} is {}", shape_text(shapes[0]), shape_text(s)),
                    );
                    return unranked(e);
                }
                (Dim::Unknown, y) | (Dim::Sym(_), y @ Dim::Known(_)) => out[d] = y.clone(),
                _ => {}
            }
        }
    }
    out[a] = product_sum(shapes.iter().map(|s| &s[a]));
    let mut f = tensor(e, out);
    // Concatenated shape vectors (Shape -> Gather -> Concat -> Reshape).
    if rank == 1 {
        let parts: Option<Vec<&[Dim]>> = ins.iter().map(|f| konst(*f)).collect();
        f.konst = parts.map(|p| p.concat());
    }
    f
}

fn product_sum<'a>(dims: impl Iterator<Item = &'a Dim>) -> Dim {
    let mut sum = 0i64;
    for d in dims {
        match d.known() {
            Some(v) => sum += v,
            None => return Dim::Unknown,
        }
    }
    Dim::Known(sum)
}

fn split(at: &At, x: Option<&Fact>, split_input: Option<&Fact>) -> Vec<Fact> {
    let e = elem(x);
    let n_out = at.node.output.len();
    let Some(s) = shape(x) else {
        return vec![unranked(e); n_out];
    };
    let Some(a) = axis(attr::int(at.node, "axis").unwrap_or(0), s.len()) else {
        return vec![unranked(e); n_out];
    };
    let sizes: Option<Vec<i64>> = ints(split_input).or_else(|| {
        attr::ints(at.node, "split")
            .filter(|v| !v.is_empty())
            .map(|v| v.to_vec())
    });
    let sizes: Vec<Dim> = match sizes {
        Some(v) if v.len() == n_out => v.into_iter().map(Dim::Known).collect(),
        _ => match s[a].known() {
            Some(total) if n_out > 0 => {
                let chunk = (total + n_out as i64 - 1) / n_out as i64;
                (0..n_out as i64)
                    .map(|k| Dim::Known((total - k * chunk).clamp(0, chunk)))
                    .collect()
            }
            _ => vec![Dim::Unknown; n_out],
        },
    };
    sizes
        .into_iter()
        .map(|d| {
            let mut o = s.to_vec();
            o[a] = d;
            tensor(e, o)
        })
        .collect()
}

fn slice(at: &At, ins: &[Option<&Fact>]) -> Fact {
    let i = |k: usize| ins.get(k).copied().flatten();
    let x = i(0);
    let e = elem(x);
    let Some(s) = shape(x) else {
        return unranked(e);
    };
    let (starts, ends, axes, steps) = if ins.len() > 1 || !attr::has(at.node, "starts") {
        (
            ints(i(1)),
            ints(i(2)),
            if ins.len() > 3 && i(3).is_some() {
                ints(i(3))
            } else {
                Some((0..s.len() as i64).collect())
            },
            if ins.len() > 4 && i(4).is_some() {
                ints(i(4))
            } else {
                None
            },
        )
    } else {
        let st = attr::ints(at.node, "starts").map(|v| v.to_vec());
        let en = attr::ints(at.node, "ends").map(|v| v.to_vec());
        let ax = attr::ints(at.node, "axes")
            .filter(|v| !v.is_empty())
            .map(|v| v.to_vec())
            .or_else(|| Some((0..s.len() as i64).collect()));
        (st, en, ax, None)
    };
    let (Some(starts), Some(ends), Some(axes)) = (starts, ends, axes) else {
        return tensor(e, vec![Dim::Unknown; s.len()]);
    };
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || steps.len() != starts.len() {
        return tensor(e, vec![Dim::Unknown; s.len()]);
    }
    let mut out = s.to_vec();
    let mut konst_out = konst(x).map(|v| v.to_vec());
    for (k, &ax) in axes.iter().enumerate().take(starts.len()) {
        let Some(a) = axis(ax, s.len()) else {
            return unranked(e);
        };
        let (st, en, step) = (starts[k], ends[k], steps[k]);
        if step == 0 {
            return unranked(e);
        }
        let Some(len) = s[a].known() else {
            // Whole-axis slices keep a symbolic dim.
            out[a] = if st == 0 && step == 1 && en >= i32::MAX as i64 {
                s[a].clone()
            } else {
                Dim::Unknown
            };
            continue;
        };
        let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
        let norm = |v: i64| if v < 0 { v.saturating_add(len) } else { v };
        let (b, f, n) = if step > 0 {
            let b = clamp(norm(st), 0, len);
            let f = clamp(norm(en), 0, len);
            (b, f, if f > b { (f - b + step - 1) / step } else { 0 })
        } else {
            let b = clamp(norm(st), -1, len - 1);
            let f = clamp(norm(en), -1, len - 1);
            (
                b,
                f,
                if b > f {
                    (b - f + (-step) - 1) / (-step)
                } else {
                    0
                },
            )
        };
        out[a] = Dim::Known(n);
        if let Some(kv) = konst_out.as_mut().filter(|_| s.len() == 1) {
            *kv = (0..n)
                .map(|j| b + j * step)
                .filter_map(|p| kv.get(p as usize).cloned())
                .collect();
        }
        let _ = f;
    }
    let mut fact = tensor(e, out);
    fact.konst = konst_out.filter(|_| s.len() == 1);
    fact
}

fn gather(at: &At, data: Option<&Fact>, idx: Option<&Fact>) -> Fact {
    let e = elem(data);
    let (Some(ds), Some(is)) = (shape(data), shape(idx)) else {
        return unranked(e);
    };
    let Some(a) = axis(attr::int(at.node, "axis").unwrap_or(0), ds.len()) else {
        return unranked(e);
    };
    let mut out = ds[..a].to_vec();
    out.extend_from_slice(is);
    out.extend_from_slice(&ds[a + 1..]);
    let mut f = tensor(e, out);
    if let (Some(values), Some(picks)) = (konst(data), ints(idx))
        && ds.len() == 1
    {
        let n = values.len() as i64;
        f.konst = picks
            .iter()
            .map(|&p| {
                values
                    .get((if p < 0 { p + n } else { p }) as usize)
                    .cloned()
            })
            .collect();
    }
    f
}

fn axes_of(at: &At, axes_input: Option<&Fact>) -> Option<Vec<i64>> {
    ints(axes_input).or_else(|| attr::ints(at.node, "axes").map(|v| v.to_vec()))
}

fn unsqueeze(at: &At, x: Option<&Fact>, axes_input: Option<&Fact>) -> Fact {
    let e = elem(x);
    let (Some(s), Some(axes)) = (shape(x), axes_of(at, axes_input)) else {
        return unranked(e);
    };
    let rank = s.len() + axes.len();
    let mut norm: Vec<usize> = match axes
        .iter()
        .map(|&a| axis(a, rank))
        .collect::<Option<Vec<_>>>()
    {
        Some(v) => v,
        None => return unranked(e),
    };
    norm.sort_unstable();
    let mut out = Vec::with_capacity(rank);
    let mut src = s.iter();
    for k in 0..rank {
        if norm.binary_search(&k).is_ok() {
            out.push(Dim::Known(1));
        } else {
            out.push(src.next().cloned().unwrap_or(Dim::Unknown));
        }
    }
    let mut f = tensor(e, out);
    f.konst = x.and_then(|x| x.konst.clone());
    f
}

fn squeeze(at: &At, x: Option<&Fact>, axes_input: Option<&Fact>) -> Fact {
    let e = elem(x);
    let Some(s) = shape(x) else {
        return unranked(e);
    };
    let axes = axes_of(at, axes_input).filter(|a| !a.is_empty());
    let keep: Vec<Dim> = match axes {
        Some(axes) => {
            let norm: Option<Vec<usize>> = axes.iter().map(|&a| axis(a, s.len())).collect();
            let Some(norm) = norm else { return unranked(e) };
            s.iter()
                .enumerate()
                .filter(|(k, _)| !norm.contains(k))
                .map(|(_, d)| d.clone())
                .collect()
        }
        None => {
            if s.iter().any(|d| d.known().is_none()) {
                return unranked(e);
            }
            s.iter().filter(|d| **d != Dim::Known(1)).cloned().collect()
        }
    };
    let mut f = tensor(e, keep);
    f.konst = x.and_then(|x| x.konst.clone());
    f
}

fn expand(cx: &mut Cx, at: &At, x: Option<&Fact>, target: Option<&Fact>) -> Fact {
    let e = elem(x);
    let (Some(s), Some(t)) = (shape(x), konst(target)) else {
        return match (shape(x), shape(target)) {
            (Some(s), Some([Dim::Known(r)])) => tensor(
                e,
                vec![Dim::Unknown; s.len().max((*r).clamp(0, 64) as usize)],
            ),
            _ => unranked(e),
        };
    };
    match crate::broadcast::dims(&[s, t]) {
        Ok(d) => tensor(e, d),
        Err(_) => {
            at.mismatch(
                cx,
                format!("cannot expand {} to {}", shape_text(s), shape_text(t)),
            );
            unranked(e)
        }
    }
}

fn shape_op(at: &At, x: Option<&Fact>) -> Fact {
    let Some(s) = shape(x) else {
        return tensor(DataType::Int64 as i32, vec![Dim::Unknown]);
    };
    let r = s.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clamp(attr::int(at.node, "start").unwrap_or(0));
    let end = clamp(attr::int(at.node, "end").unwrap_or(r));
    let dims = if start < end {
        s[start..end].to_vec()
    } else {
        Vec::new()
    };
    Fact {
        ty: ValueType::tensor(DataType::Int64 as i32, vec![Dim::Known(dims.len() as i64)]),
        konst: Some(dims),
    }
}

fn constant(node: &crate::proto::NodeProto) -> Fact {
    if let Some(t) = attr::tensor(node, "value") {
        return tensor_fact(t);
    }
    if let Some(v) = attr::int(node, "value_int") {
        return Fact {
            ty: ValueType::tensor(DataType::Int64 as i32, vec![]),
            konst: Some(vec![Dim::Known(v)]),
        };
    }
    if let Some(v) = attr::ints(node, "value_ints") {
        return Fact {
            ty: ValueType::tensor(DataType::Int64 as i32, vec![Dim::Known(v.len() as i64)]),
            konst: Some(v.iter().map(|&x| Dim::Known(x)).collect()),
        };
    }
    if attr::has(node, "value_float") {
        return tensor(DataType::Float as i32, vec![]);
    }
    if let Some(v) = attr::floats(node, "value_floats") {
        return tensor(DataType::Float as i32, vec![Dim::Known(v.len() as i64)]);
    }
    if attr::has(node, "value_string") {
        return tensor(8, vec![]);
    }
    if attr::has(node, "value_strings") {
        return tensor(
            8,
            vec![Dim::Known(attr::strings_len(node, "value_strings") as i64)],
        );
    }
    Fact::unknown()
}

fn reduce_dims(s: &[Dim], axes: &[usize], keep: bool) -> Vec<Dim> {
    s.iter()
        .enumerate()
        .filter_map(|(k, d)| match (axes.contains(&k), keep) {
            (true, true) => Some(Dim::Known(1)),
            (true, false) => None,
            (false, _) => Some(d.clone()),
        })
        .collect()
}

fn reduce(cx: &mut Cx, at: &At, x: Option<&Fact>, axes_input: Option<&Fact>) -> Fact {
    let op = at.node.op_type.as_deref().unwrap_or("");
    let e = elem(x);
    let Some(s) = shape(x) else {
        return unranked(e);
    };
    let keep = attr::int(at.node, "keepdims").unwrap_or(1) != 0;
    // Axes moved from attribute to input in opset 13 (ReduceSum) / 18 (the rest).
    let axes_from_input = if op == "ReduceSum" {
        cx.opset >= 13
    } else {
        cx.opset >= 18
    };
    let axes: Option<Vec<i64>> = if axes_from_input {
        match axes_input {
            Some(f) => match ints(Some(f)) {
                Some(v) => Some(v),
                None => {
                    return if keep {
                        tensor(e, vec![Dim::Unknown; s.len()])
                    } else {
                        unranked(e)
                    };
                }
            },
            None => None,
        }
    } else {
        attr::ints(at.node, "axes").map(|v| v.to_vec())
    };
    let axes = match axes.filter(|a| !a.is_empty()) {
        Some(a) => a,
        None if attr::int(at.node, "noop_with_empty_axes").unwrap_or(0) != 0 => {
            return tensor(e, s.to_vec());
        }
        None => (0..s.len() as i64).collect(),
    };
    let norm: Option<Vec<usize>> = axes.iter().map(|&a| axis(a, s.len())).collect();
    match norm {
        Some(n) => tensor(e, reduce_dims(s, &n, keep)),
        None => unranked(e),
    }
}

fn pad(at: &At, ins: &[Option<&Fact>]) -> Fact {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e = elem(i(0));
    let Some(s) = shape(i(0)) else {
        return unranked(e);
    };
    let pads = ints(i(1)).or_else(|| attr::ints(at.node, "pads").map(|v| v.to_vec()));
    let axes: Vec<usize> = match ints(i(3)) {
        Some(a) => match a
            .iter()
            .map(|&x| axis(x, s.len()))
            .collect::<Option<Vec<_>>>()
        {
            Some(v) => v,
            None => return unranked(e),
        },
        None if i(3).is_some() => return tensor(e, vec![Dim::Unknown; s.len()]),
        None => (0..s.len()).collect(),
    };
    let Some(pads) = pads.filter(|p| p.len() == 2 * axes.len()) else {
        return tensor(e, vec![Dim::Unknown; s.len()]);
    };
    let mut out = s.to_vec();
    for (k, &a) in axes.iter().enumerate() {
        out[a] = match s[a].known() {
            Some(v) => Dim::Known(v + pads[k] + pads[k + axes.len()]),
            None if pads[k] == 0 && pads[k + axes.len()] == 0 => s[a].clone(),
            None => Dim::Unknown,
        };
    }
    tensor(e, out)
}

fn resize(at: &At, ins: &[Option<&Fact>]) -> Fact {
    let i = |k: usize| ins.get(k).copied().flatten();
    let e = elem(i(0));
    let Some(s) = shape(i(0)) else {
        return unranked(e);
    };
    let op = at.node.op_type.as_deref().unwrap_or("");
    // Sizes (Resize input 3) are integers; scales are floats read from the constant's tensor.
    if op == "Resize"
        && let Some(sizes) = ints(i(3)).filter(|v| v.len() == s.len())
    {
        return tensor(e, sizes.into_iter().map(Dim::Known).collect());
    }
    let scales = if op == "Upsample" {
        attr::floats(at.node, "scales").map(|v| v.iter().map(|&x| x as f64).collect::<Vec<_>>())
    } else {
        None
    };
    match scales.filter(|v| v.len() == s.len()) {
        Some(sc) => tensor(
            e,
            s.iter()
                .zip(sc)
                .map(|(d, f)| {
                    d.known()
                        .map_or(Dim::Unknown, |v| Dim::Known((v as f64 * f).floor() as i64))
                })
                .collect(),
        ),
        None => tensor(e, vec![Dim::Unknown; s.len()]),
    }
}

fn recurrent(at: &At, x: Option<&Fact>, lstm: bool) -> Vec<Fact> {
    let e = elem(x);
    let hidden = attr::int(at.node, "hidden_size").map_or(Dim::Unknown, Dim::Known);
    let dirs = Dim::Known(
        if attr::string(at.node, "direction") == Some("bidirectional") {
            2
        } else {
            1
        },
    );
    let batch_first = attr::int(at.node, "layout").unwrap_or(0) == 1;
    let (seq, batch) = match shape(x) {
        Some(s) if s.len() == 3 => {
            if batch_first {
                (s[1].clone(), s[0].clone())
            } else {
                (s[0].clone(), s[1].clone())
            }
        }
        _ => (Dim::Unknown, Dim::Unknown),
    };
    let (y, state) = if batch_first {
        (
            vec![batch.clone(), seq, dirs.clone(), hidden.clone()],
            vec![batch, dirs, hidden],
        )
    } else {
        (
            vec![seq, dirs.clone(), batch.clone(), hidden.clone()],
            vec![dirs, batch, hidden],
        )
    };
    let mut out = vec![tensor(e, y), tensor(e, state.clone())];
    if lstm {
        out.push(tensor(e, state));
    }
    out
}
