//! Lowering of the elementwise ops: unary maps, broadcast binary ops,
//! the variadic Sum/Mean/Max/Min, Where, Cast, and the activations that fuse
//! into the Conv or Dense step before them (Relu, LeakyRelu, Clip).

use super::shapes::{broadcast, scalar_of, unsupported, with_bool};
use super::{Lower, Node, R, Registry, Val};
use crate::error::KernelError;
use crate::native::kernels::{Act, Walk};
use crate::native::{BinOp, Kind, UnOp};
use crate::value::{DType, Data, Tensor};
use std::sync::Arc;

/// The unary ops without attributes, and their kernel op.
const PLAIN_UNARY: &[(&str, UnOp)] = &[
    ("Sigmoid", UnOp::Sigmoid),
    ("Tanh", UnOp::Tanh),
    ("Neg", UnOp::Neg),
    ("Abs", UnOp::Abs),
    ("Exp", UnOp::Exp),
    ("Log", UnOp::Log),
    ("Sqrt", UnOp::Sqrt),
    ("Reciprocal", UnOp::Reciprocal),
    ("Floor", UnOp::Floor),
    ("Ceil", UnOp::Ceil),
    ("Round", UnOp::Round),
    ("Sign", UnOp::Sign),
    ("Softplus", UnOp::Softplus),
    ("Softsign", UnOp::Softsign),
    ("HardSwish", UnOp::HardSwish),
];

/// The broadcast binary ops, and their kernel op.
const BINARY: &[(&str, BinOp)] = &[
    ("Add", BinOp::Add),
    ("Sub", BinOp::Sub),
    ("Mul", BinOp::Mul),
    ("Div", BinOp::Div),
    ("Pow", BinOp::Pow),
    ("PRelu", BinOp::PRelu),
    ("Greater", BinOp::Greater),
    ("Less", BinOp::Less),
    ("Equal", BinOp::Equal),
    ("GreaterOrEqual", BinOp::GreaterOrEqual),
    ("LessOrEqual", BinOp::LessOrEqual),
    ("And", BinOp::And),
    ("Or", BinOp::Or),
    ("Xor", BinOp::Xor),
];

/// The kernel op `table` pairs with op `name`.
fn kernel_op<Op: Copy>(table: &[(&str, Op)], name: &str) -> R<Op> {
    table
        .iter()
        .find(|(op, _)| *op == name)
        .map(|&(_, kernel)| kernel)
        .ok_or_else(|| unsupported(format!("op {name}")))
}

pub(super) fn register(reg: &mut Registry) {
    for &(name, _) in PLAIN_UNARY {
        reg.add(&[name], |l, n| {
            l.unary(n.input(0)?, kernel_op(PLAIN_UNARY, n.op)?, false)
        });
    }
    for &(name, _) in BINARY {
        reg.add(&[name], |l, n| l.binary_node(n, kernel_op(BINARY, n.op)?));
    }
    reg.add(&["Elu"], |l, n| {
        let alpha = n.attrs.f("alpha").unwrap_or(1.0);
        l.unary(n.input(0)?, UnOp::Elu(alpha), false)
    });
    reg.add(&["Selu"], |l, n| {
        let alpha = n.attrs.f("alpha").unwrap_or(1.673_263_2);
        let gamma = n.attrs.f("gamma").unwrap_or(1.050_701);
        l.unary(n.input(0)?, UnOp::Selu(alpha, gamma), false)
    });
    reg.add(&["HardSigmoid"], |l, n| {
        let alpha = n.attrs.f("alpha").unwrap_or(0.2);
        let beta = n.attrs.f("beta").unwrap_or(0.5);
        l.unary(n.input(0)?, UnOp::HardSigmoid(alpha, beta), false)
    });
    reg.add(&["Not"], |l, n| l.unary(n.input(0)?, UnOp::Not, true));
    reg.add(&["Cast"], |l, n| l.cast(n));
    reg.add(&["Sum", "Mean", "Max", "Min"], |l, n| l.variadic(n));
    reg.add(&["Where"], |l, n| l.where_(n));
    reg.add(&["Relu"], |l, n| l.activation(n, Act::Relu));
    reg.add(&["LeakyRelu"], |l, n| {
        let alpha = n.attrs.f("alpha").unwrap_or(0.01);
        l.activation(n, Act::LeakyRelu(alpha))
    });
    reg.add(&["Clip"], |l, n| l.clip(n));
}

impl Lower<'_> {
    /// `op` of every value of `x` as output 0.
    fn unary(&mut self, x: Val, op: UnOp, boolean: bool) -> R<()> {
        let shape = x.shape().to_vec();
        let len = shape.iter().product();
        let src = self.operand(&x)?;
        let out = self.output(0, shape, boolean)?;
        self.push(out, Kind::Unary { x: src, len, op });
        Ok(())
    }

    fn cast(&mut self, n: &Node) -> R<()> {
        let x = n.input(0)?;
        match DType::from_onnx(n.attrs.i("to").unwrap_or(0) as i32) {
            Some(DType::F32) => {
                self.set(0, with_bool(x, false));
                Ok(())
            }
            Some(DType::Bool) if x.is_bool() => {
                self.set(0, x);
                Ok(())
            }
            Some(DType::Bool) => self.unary(x, UnOp::ToBool, true),
            other => Err(unsupported(format!(
                "a cast to {} at run time",
                other.map_or("this type", |d| d.name())
            ))),
        }
    }

    fn binary_node(&mut self, n: &Node, op: BinOp) -> R<()> {
        let (x, y) = (n.input(0)?, n.input(1)?);
        if op == BinOp::Add && (self.fold_bias(n.ids, &x, &y)? || self.fold_sum(n.ids, &x, &y)?) {
            return Ok(());
        }
        let val = self.binary(op, &x, &y)?;
        self.set(0, val);
        Ok(())
    }

    /// Sum, Mean, Max, Min: one op over all inputs (Mean divides the sum).
    fn variadic(&mut self, n: &Node) -> R<()> {
        if n.op == "Sum" && n.ins.len() == 2 {
            // As Add: a residual Sum (Caffe2's ResNets) folds into its Conv.
            return self.binary_node(n, BinOp::Add);
        }
        let (op, mean) = match n.op {
            "Max" => (BinOp::Max, false),
            "Min" => (BinOp::Min, false),
            _ => (BinOp::Add, n.op == "Mean"),
        };
        let parts: Vec<Val> = n.ins.iter().flatten().cloned().collect();
        let mut acc = parts
            .first()
            .cloned()
            .ok_or_else(|| KernelError::Value("no inputs".to_owned()))?;
        for p in &parts[1..] {
            acc = self.binary(op, &acc, p)?;
        }
        if mean && parts.len() > 1 {
            let count = Val::Const(Arc::new(Tensor {
                shape: vec![],
                data: Data::F32(vec![parts.len() as f32]),
            }));
            acc = self.binary(BinOp::Div, &acc, &count)?;
        }
        self.set(0, acc);
        Ok(())
    }

    fn where_(&mut self, n: &Node) -> R<()> {
        let (c, x, y) = (n.input(0)?, n.input(1)?, n.input(2)?);
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
        Ok(())
    }

    /// `x op y` as a new runtime value (an intermediate unless the caller names it).
    pub(super) fn binary(&mut self, op: BinOp, x: &Val, y: &Val) -> R<Val> {
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

    /// `Add(conv, other)` of one shape, where the Conv's output is read
    /// only here and `other` is computed before the Conv (a residual
    /// connection): the Conv adds `other` before its activation, so no
    /// pass of its own reads and writes the sum. Returns whether it did.
    fn fold_sum(&mut self, ids: &[Option<usize>], x: &Val, y: &Val) -> R<bool> {
        if x.shape() != y.shape() || x.is_bool() || y.is_bool() {
            return Ok(false);
        }
        for (conv_id, other) in [(ids[0], y), (ids[1], x)] {
            let (Some(conv_id), Val::Run { root, .. }) = (conv_id, other) else {
                continue;
            };
            let Some(s) = self.fusable(conv_id) else {
                continue;
            };
            let ready = self.producer[*root as usize].is_none_or(|p| p < s);
            if !ready || !matches!(self.steps[s].kind, Kind::Conv { sum: None, .. }) {
                continue;
            }
            let src = self.operand(other)?;
            if let Kind::Conv { sum, .. } = &mut self.steps[s].kind {
                *sum = Some(src);
            }
            self.alias_fused(conv_id);
            return Ok(true);
        }
        Ok(false)
    }

    /// Clip with constant bounds is a fusable activation; with bounds
    /// computed at run time it is Min(Max(x, lo), hi), so NaN stays NaN.
    fn clip(&mut self, n: &Node) -> R<()> {
        let (mut lo, mut hi) = if self.g.opset < 11 {
            (
                n.attrs.f("min").unwrap_or(f32::MIN),
                n.attrs.f("max").unwrap_or(f32::MAX),
            )
        } else {
            (f32::NEG_INFINITY, f32::INFINITY)
        };
        if let Some(Some(Val::Const(t))) = n.ins.get(1) {
            lo = scalar_of(t)?;
        }
        if let Some(Some(Val::Const(t))) = n.ins.get(2) {
            hi = scalar_of(t)?;
        }
        let runtime_bounds = n
            .ins
            .iter()
            .skip(1)
            .flatten()
            .any(|v| matches!(v, Val::Run { .. }));
        if !runtime_bounds {
            return self.activation(n, Act::Clip(lo, hi));
        }
        let mut y = n.input(0)?;
        if let Some(Some(lo)) = n.ins.get(1) {
            y = self.binary(BinOp::Max, &y, lo)?;
        }
        if let Some(Some(hi)) = n.ins.get(2) {
            y = self.binary(BinOp::Min, &y, hi)?;
        }
        self.set(0, y);
        Ok(())
    }

    /// `act` of input 0: fused into the Conv or Dense step that makes it
    /// when that is its only reader, else a step of its own.
    fn activation(&mut self, n: &Node, act: Act) -> R<()> {
        let x_id = n.input_id(0)?;
        if let Some(s) = self.fusable(x_id) {
            match &mut self.steps[s].kind {
                Kind::Dense { dense, .. } => dense.act = act,
                Kind::Conv { conv, .. } => conv.act = act,
                _ => unreachable!("fusable returns Conv or Dense steps"),
            }
            self.alias_fused(x_id);
            Ok(())
        } else {
            self.unary(n.input(0)?, UnOp::Act(act), false)
        }
    }
}
