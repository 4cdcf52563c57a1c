//! Weighted layers (Conv, Gemm, MatMul) and per-channel affine maps
//! (BatchNormalization; Add, Sub, Mul, Div by a constant). An affine map
//! folds into the weighted layer (or scale layer) it follows when nothing
//! else reads that layer's output; otherwise it becomes a `scale` layer.

use super::constant::Const;
use super::{Call, Importer, Value};
use crate::Error;
use neuride_onnx::attr;
use neuride_onnx::proto::NodeProto;
use neuride_onnx::window::{AutoPad, Window};
use neuride_snn::{Layer, NodeId, Tensor};

/// How a constant spreads over an activity `[N, C, ...]`: one value, or
/// one per channel (the first per-sample axis).
enum Spread {
    All(f32),
    PerChannel(Vec<f32>),
}

impl Spread {
    fn value(&self, channel: usize) -> f32 {
        match self {
            Spread::All(v) => *v,
            Spread::PerChannel(v) => v[channel],
        }
    }
}

/// `[top, left, bottom, right]` from `pads` or `auto_pad`, sized as every
/// engine sizes windows ([`Window`]) on an input of `input` (H, W); with
/// `ceil_mode` the last window's overhang becomes extra bottom/right padding
/// (the flag says whether there is any).
pub(super) fn window_pads(
    node: &NodeProto,
    kernel: [usize; 2],
    input: [usize; 2],
) -> Result<([usize; 4], bool), String> {
    let window = Window::of(node, 2).map_err(|e| e.to_string())?;
    if window.auto_pad == AutoPad::NotSet && window.pads.iter().any(|&p| p < 0) {
        return Err(format!(
            "pads {:?} must be 4 non-negative values",
            window.pads
        ));
    }
    if window.dilations.iter().any(|&d| d != 1) {
        return Err(format!(
            "dilations {:?} do not convert (only 1)",
            window.dilations
        ));
    }
    let mut pads = [0usize; 4];
    let mut any_overhang = false;
    for axis in 0..2 {
        let input = input[axis] as i64;
        let extent = window
            .extent(axis, input, kernel[axis] as i64)
            .map_err(|e| e.to_string())?;
        let reach = (extent.out - 1) * window.strides[axis] + kernel[axis] as i64;
        let overhang = (reach - input - extent.pad_begin - extent.pad_end).max(0);
        pads[axis] = extent.pad_begin as usize;
        pads[axis + 2] = (extent.pad_end + overhang) as usize;
        any_overhang |= overhang > 0;
    }
    Ok((pads, any_overhang))
}

impl Importer<'_> {
    pub(super) fn conv(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, inputs, .. } = call;
        let (x, extra) = match inputs.first() {
            Some(Some(Value::Activity(x))) => (*x, [0; 4]),
            Some(Some(Value::Padded(x, pads))) => (*x, *pads),
            _ => {
                self.reject(node, "Conv needs an activity input and a constant weight");
                return Ok(());
            }
        };
        let Some(Some(Value::Constant(w))) = inputs.get(1) else {
            self.reject(node, "Conv needs a constant weight");
            return Ok(());
        };
        if w.dims.len() != 4 || self.shapes[x].len() != 3 {
            self.reject(
                node,
                format!(
                    "only 2-D convolution converts (weight rank {}, input rank {})",
                    w.dims.len(),
                    self.shapes[x].len() + 1
                ),
            );
            return Ok(());
        }
        let groups = attr::int(node, "group").unwrap_or(1);
        let window = Window::of(node, 2);
        let strides = window
            .as_ref()
            .map(|w| w.strides.clone())
            .unwrap_or_default();
        if groups < 1 || strides.len() != 2 {
            self.reject(
                node,
                format!("strides {strides:?} / group {groups} not usable"),
            );
            return Ok(());
        }
        let (kh, kw) = (w.dims[2], w.dims[3]);
        // A Pad in front makes the input bigger; the window is sized on that.
        let s = &self.shapes[x];
        let padded_input = [s[1] + extra[0] + extra[2], s[2] + extra[1] + extra[3]];
        let mut padding = match window_pads(node, [kh, kw], padded_input) {
            Ok((p, _)) => p,
            Err(reason) => {
                self.reject(node, reason);
                return Ok(());
            }
        };
        for (p, e) in padding.iter_mut().zip(extra) {
            *p += e;
        }
        let weight = self.weight(w)?;
        let bias = match inputs.get(2) {
            Some(Some(Value::Constant(b))) => Some(self.weight(b)?.data),
            Some(Some(_)) => {
                self.reject(node, "Conv bias must be a constant");
                return Ok(());
            }
            _ => None,
        };
        let layer = Layer::Conv2d {
            weight,
            bias: bias.filter(|b| !b.is_empty()),
            stride: [strides[0] as usize, strides[1] as usize],
            padding,
            groups: groups as usize,
        };
        self.push_layer(node, layer, x)?;
        Ok(())
    }

    fn dense(
        &mut self,
        node: &NodeProto,
        x: NodeId,
        weight: Tensor,
        bias: Option<Vec<f32>>,
    ) -> Result<(), Error> {
        let input_features: usize = self.shapes[x].iter().product();
        if weight.shape.len() != 2 || weight.shape[1] != input_features {
            self.reject(
                node,
                format!(
                    "weight {:?} does not fit an input of {input_features} features",
                    weight.shape
                ),
            );
            return Ok(());
        }
        self.push_layer(node, Layer::Dense { weight, bias }, x)?;
        Ok(())
    }

    /// `Y = alpha * A' B' + beta * C` with A the activity `[N, K]`.
    pub(super) fn gemm(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, inputs, .. } = call;
        let (Some(x), Some(Some(Value::Constant(b)))) = (self.activity(inputs, 0), inputs.get(1))
        else {
            self.reject(node, "Gemm needs an activity A and a constant B");
            return Ok(());
        };
        if attr::int(node, "transA").unwrap_or(0) != 0 {
            self.reject(
                node,
                "Gemm with transA = 1 (the batch along A's columns) does not convert",
            );
            return Ok(());
        }
        if b.dims.len() != 2 {
            self.reject(node, format!("Gemm B must be 2-D, found dims {:?}", b.dims));
            return Ok(());
        }
        let alpha = attr::float(node, "alpha").unwrap_or(1.0);
        let beta = attr::float(node, "beta").unwrap_or(1.0);
        let matrix = self.weight(b)?;
        let mut weight = if attr::int(node, "transB").unwrap_or(0) != 0 {
            matrix
        } else {
            transpose(&matrix)
        };
        if alpha != 1.0 {
            weight.data.iter_mut().for_each(|w| *w *= alpha);
        }
        let out_features = weight.shape[0];
        let bias = match inputs.get(2) {
            Some(Some(Value::Constant(c))) => {
                let c = c.clone();
                let Some(spread) = self.spread(&c, &[out_features])? else {
                    self.reject(
                        node,
                        format!("Gemm C of shape {:?} is not a per-output bias", c.dims),
                    );
                    return Ok(());
                };
                self.load_data
                    .then(|| (0..out_features).map(|o| beta * spread.value(o)).collect())
            }
            Some(Some(_)) => {
                self.reject(node, "Gemm C must be a constant");
                return Ok(());
            }
            _ => None,
        };
        self.dense(node, x, weight, bias)
    }

    pub(super) fn matmul(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, inputs, .. } = call;
        match (self.activity(inputs, 0), inputs.get(1)) {
            (Some(x), Some(Some(Value::Constant(b)))) if b.dims.len() == 2 => {
                if self.shapes[x].len() != 1 {
                    self.reject(
                        node,
                        format!(
                            "MatMul of a rank-{} activity (a vector per sample expected)",
                            self.shapes[x].len() + 1
                        ),
                    );
                    return Ok(());
                }
                let matrix = self.weight(b)?;
                self.dense(node, x, transpose(&matrix), None)
            }
            _ => {
                self.reject(
                    node,
                    "only MatMul of an activity by a constant 2-D matrix converts",
                );
                Ok(())
            }
        }
    }

    pub(super) fn batch_norm(&mut self, call: Call, x: NodeId) -> Result<(), Error> {
        let Call { node, inputs, .. } = call;
        let channels = self.shapes[x][0];
        let mut params = Vec::new();
        for i in 1..5 {
            match inputs.get(i) {
                Some(Some(Value::Constant(t))) if t.len() == channels => {
                    params.push(self.weight(t)?.data)
                }
                _ => {
                    self.reject(
                        node,
                        format!(
                            "BatchNormalization needs constant scale, B, mean and var of {channels} values"
                        ),
                    );
                    return Ok(());
                }
            }
        }
        let epsilon = attr::float(node, "epsilon").unwrap_or(1e-5);
        let (scale, shift) = if self.load_data {
            let (gamma, beta, mean, var) = (&params[0], &params[1], &params[2], &params[3]);
            let scale: Vec<f32> = (0..channels)
                .map(|c| gamma[c] / (var[c] + epsilon).sqrt())
                .collect();
            let shift = (0..channels)
                .map(|c| beta[c] - mean[c] * scale[c])
                .collect();
            (scale, shift)
        } else {
            (Vec::new(), Vec::new())
        };
        self.affine(node, x, &node.input[0], Some(scale), Some(shift))
    }

    /// Add, Sub, Mul, Div and Sum: of activities (Add/Sum: a residual sum),
    /// or of an activity and a constant (a per-channel affine map).
    pub(super) fn arithmetic(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, op, inputs } = call;
        let activities: Vec<NodeId> = (0..inputs.len())
            .filter_map(|i| self.activity(inputs, i))
            .collect();
        if activities.len() == inputs.len() && inputs.len() >= 2 {
            if op != "Add" && op != "Sum" {
                self.reject(node, crate::hint::reason(op));
                return Ok(());
            }
            return self.residual_sum(node, &activities);
        }
        if op == "Sum" && inputs.len() == 1 {
            if let Some(x) = activities.first() {
                self.alias(node, Value::Activity(*x));
                return Ok(());
            }
        }
        let (constant_index, x) = match (inputs.first(), inputs.get(1)) {
            (Some(Some(Value::Activity(x))), Some(Some(Value::Constant(_)))) => (1, *x),
            (Some(Some(Value::Constant(_))), Some(Some(Value::Activity(x)))) => (0, *x),
            _ => {
                self.reject(
                    node,
                    format!("{op} needs activities, or an activity and a constant"),
                );
                return Ok(());
            }
        };
        let Some(Value::Constant(c)) = inputs[constant_index].clone() else {
            unreachable!("matched above");
        };
        let x_name = node.input[1 - constant_index].clone();
        let Some(spread) = self.spread(&c, &self.shapes[x].clone())? else {
            self.reject(
                node,
                format!(
                    "{op} by a constant of shape {:?} (only one value or one per channel of {:?} converts)",
                    c.dims, self.shapes[x]
                ),
            );
            return Ok(());
        };
        let channels = self.shapes[x][0];
        let per = |f: &dyn Fn(f32) -> f32| -> Vec<f32> {
            (0..channels).map(|k| f(spread.value(k))).collect()
        };
        let (scale, shift) = match (op, constant_index) {
            ("Add" | "Sum", _) => (None, Some(per(&|v| v))),
            ("Sub", 1) => (None, Some(per(&|v| -v))),
            ("Sub", _) => (Some(vec![-1.0; channels]), Some(per(&|v| v))),
            ("Mul", _) => (Some(per(&|v| v)), None),
            ("Div", 1) => (Some(per(&|v| 1.0 / v)), None),
            _ => {
                self.reject(node, "a constant divided by an activity does not convert");
                return Ok(());
            }
        };
        self.affine(node, x, &x_name, scale, shift)
    }

    fn residual_sum(&mut self, node: &NodeProto, activities: &[NodeId]) -> Result<(), Error> {
        let first = self.shapes[activities[0]].clone();
        if let Some(&other) = activities.iter().find(|&&a| self.shapes[a] != first) {
            self.reject(
                node,
                format!(
                    "sum of shapes {first:?} and {:?} (broadcasting activities does not convert)",
                    self.shapes[other]
                ),
            );
            return Ok(());
        }
        self.push_node(node, Layer::Add, activities.to_vec())?;
        Ok(())
    }

    /// How constant `c` spreads over an activity of per-sample shape
    /// `activity` under numpy broadcasting, when it is one value or one per
    /// channel (`None` otherwise). Only shapes are read when only
    /// convertibility is checked (the values are then 0).
    fn spread(&self, c: &Const, activity: &[usize]) -> Result<Option<Spread>, Error> {
        let full: Vec<usize> = std::iter::once(1).chain(activity.iter().copied()).collect();
        if c.dims.len() > full.len() {
            return Ok(None);
        }
        let offset = full.len() - c.dims.len();
        let mut varies = None;
        for (k, &d) in c.dims.iter().enumerate() {
            let axis = offset + k;
            if d == 1 {
                continue;
            }
            if d != full[axis] || axis != 1 {
                return Ok(None);
            }
            varies = Some(axis);
        }
        let data = if self.load_data || self.weights.is_some() {
            self.weight(c)?.data
        } else {
            vec![0.0; c.len()]
        };
        Ok(Some(match varies {
            None => Spread::All(data.first().copied().unwrap_or(0.0)),
            Some(_) if data.is_empty() => Spread::All(0.0),
            Some(_) => Spread::PerChannel(data),
        }))
    }

    /// `y[c] = scale[c] * x[c] + shift[c]` over the channels of activity
    /// `x` (value `x_name`): folded into the weighted or scale layer
    /// producing `x` when only this node reads it, else a scale layer.
    fn affine(
        &mut self,
        node: &NodeProto,
        x: NodeId,
        x_name: &str,
        scale: Option<Vec<f32>>,
        shift: Option<Vec<f32>>,
    ) -> Result<(), Error> {
        let channels = self.shapes[x][0];
        if !self.load_data {
            // Shapes only: where it would fold does not change what converts.
            if !(self.used_once(x_name) && self.nodes[x].layer.is_weighted()) {
                let layer = Layer::Scale {
                    scale: vec![1.0; channels],
                    bias: None,
                };
                self.push_layer(node, layer, x)?;
            } else {
                self.alias(node, Value::Activity(x));
            }
            return Ok(());
        }
        if self.used_once(x_name) && self.nodes[x].layer.is_weighted() {
            match &mut self.nodes[x].layer {
                Layer::Dense { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
                    fold_affine(&mut weight.data, bias, channels, &scale, &shift)
                }
                Layer::Scale { scale: s, bias } => fold_affine(s, bias, channels, &scale, &shift),
                _ => unreachable!("is_weighted"),
            }
            self.alias(node, Value::Activity(x));
            return Ok(());
        }
        let layer = Layer::Scale {
            scale: scale.unwrap_or_else(|| vec![1.0; channels]),
            bias: shift,
        };
        self.push_layer(node, layer, x)?;
        Ok(())
    }
}

/// Applies `y = scale * y + shift` per output channel to a weighted layer's
/// `weights` (`channels` equal rows) and `bias`.
fn fold_affine(
    weights: &mut [f32],
    bias: &mut Option<Vec<f32>>,
    channels: usize,
    scale: &Option<Vec<f32>>,
    shift: &Option<Vec<f32>>,
) {
    if let Some(scale) = scale {
        let per_channel = weights.len() / channels.max(1);
        for (c, row) in weights.chunks_exact_mut(per_channel.max(1)).enumerate() {
            row.iter_mut().for_each(|w| *w *= scale[c]);
        }
        if let Some(b) = bias {
            b.iter_mut().zip(scale).for_each(|(b, s)| *b *= s);
        }
    }
    if let Some(shift) = shift {
        let b = bias.get_or_insert_with(|| vec![0.0; channels]);
        b.iter_mut().zip(shift).for_each(|(b, s)| *b += s);
    }
}

fn transpose(matrix: &Tensor) -> Tensor {
    let (rows, cols) = (matrix.shape[0], matrix.shape[1]);
    if matrix.data.is_empty() {
        return Tensor {
            shape: vec![cols, rows],
            data: Vec::new(),
        };
    }
    let mut data = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            data[c * rows + r] = matrix.data[r * cols + c];
        }
    }
    Tensor {
        shape: vec![cols, rows],
        data,
    }
}
