//! Structure: rectifiers, concatenation, pooling, zero padding and the
//! reshapes that move no data. A reshape converts when it keeps the
//! per-sample shape (an alias) or flattens it to `[N, F]` (a flatten);
//! anything that would reorder values is refused.

use super::weighted::window_pads;
use super::{Call, Importer, Value};
use crate::Error;
use neuride_onnx::attr;
use neuride_snn::{Layer, NodeId, PoolWindow};

impl Importer<'_> {
    /// Relu, and Clip(0, c): ReLU6 and its kin (Clip with no upper bound is a ReLU).
    pub(super) fn rectifier(&mut self, call: Call, x: NodeId) -> Result<(), Error> {
        let Call { node, op, inputs } = call;
        if op == "Relu" {
            self.push_layer(node, Layer::Relu, x)?;
            return Ok(());
        }
        // Opset 11+: bounds as inputs; before: attributes.
        let bound = |k: usize, name: &str| -> Result<Option<f32>, String> {
            match inputs.get(k) {
                Some(Some(Value::Constant(c))) => self
                    .floats(c)
                    .and_then(|v| v.first().copied())
                    .map(Some)
                    .ok_or_else(|| format!("Clip {name} is not a number")),
                Some(Some(_)) => Err(format!("Clip {name} must be a constant")),
                _ => Ok(attr::float(node, name)),
            }
        };
        let (min, max) = match (bound(1, "min"), bound(2, "max")) {
            (Ok(min), Ok(max)) => (min, max),
            (Err(reason), _) | (_, Err(reason)) => {
                self.reject(node, reason);
                return Ok(());
            }
        };
        if min != Some(0.0) {
            self.reject(
                node,
                format!(
                    "Clip with min {} is not a rectifier (only Clip(0, c), e.g. ReLU6, converts)",
                    min.map_or("unset".to_string(), |m| m.to_string())
                ),
            );
            return Ok(());
        }
        let layer = match max {
            Some(c) if c.is_finite() && c > 0.0 => Layer::Clip { max: c },
            Some(c) if c.is_finite() => {
                self.reject(node, format!("Clip(0, {c}) has no positive range"));
                return Ok(());
            }
            _ => Layer::Relu,
        };
        self.push_layer(node, layer, x)?;
        Ok(())
    }

    /// Concat along channels (`[N, C, H, W]`, axis 1) or features (`[N, F]`).
    pub(super) fn concat(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, inputs, .. } = call;
        let activities: Vec<NodeId> = (0..inputs.len())
            .filter_map(|i| self.activity(inputs, i))
            .collect();
        if activities.len() != inputs.len() || activities.is_empty() {
            self.reject(node, "Concat converts only when every input is an activity");
            return Ok(());
        }
        let rank = self.shapes[activities[0]].len() as i64 + 1;
        let axis = attr::int(node, "axis").unwrap_or(1);
        let axis = if axis < 0 { axis + rank } else { axis };
        if axis != 1 {
            self.reject(
                node,
                format!(
                    "Concat along axis {axis} of a rank-{rank} activity (only along channels or features, axis 1, converts)"
                ),
            );
            return Ok(());
        }
        let first = self.shapes[activities[0]].clone();
        if let Some(&other) = activities
            .iter()
            .find(|&&a| self.shapes[a].len() != first.len() || self.shapes[a][1..] != first[1..])
        {
            self.reject(
                node,
                format!(
                    "Concat of shapes {first:?} and {:?} (all but the channels must agree)",
                    self.shapes[other]
                ),
            );
            return Ok(());
        }
        if activities.len() == 1 {
            self.alias(node, Value::Activity(activities[0]));
        } else {
            self.push_node(node, Layer::Concat, activities)?;
        }
        Ok(())
    }

    /// AveragePool and MaxPool (a spiking max-pool, or average pooling with
    /// `max_to_avg`), with pads, `auto_pad`, `ceil_mode` and
    /// `count_include_pad`; a Pad in front becomes the pool's padding.
    pub(super) fn pool(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, op, .. } = call;
        let Some((x, extra)) = self.padded_input(call) else {
            return Ok(());
        };
        if op == "MaxPool"
            && node
                .output
                .iter()
                .skip(1)
                .any(|o| self.uses.contains_key(o))
        {
            self.reject(node, "MaxPool's indices output does not convert");
            return Ok(());
        }
        let kernel = attr::ints(node, "kernel_shape")
            .unwrap_or_default()
            .to_vec();
        if kernel.len() != 2 || self.shapes[x].len() != 3 || kernel.iter().any(|&k| k < 1) {
            self.reject(
                node,
                format!("only 2-D pooling converts (kernel_shape {kernel:?})"),
            );
            return Ok(());
        }
        let kernel = [kernel[0] as usize, kernel[1] as usize];
        let strides = attr::ints(node, "strides").map_or(vec![1, 1], <[i64]>::to_vec);
        if strides.len() != 2 || strides.iter().any(|&s| s < 1) {
            self.reject(node, format!("strides {strides:?} not usable"));
            return Ok(());
        }
        let stride = [strides[0] as usize, strides[1] as usize];
        let s = &self.shapes[x];
        let input = [s[1] + extra[0] + extra[2], s[2] + extra[1] + extra[3]];
        let (own, ceil_overhang) = match window_pads(node, kernel, input) {
            Ok(p) => p,
            Err(reason) => {
                self.reject(node, reason);
                return Ok(());
            }
        };
        let count_include_pad = attr::int(node, "count_include_pad").unwrap_or(0) != 0;
        let mut padding = own;
        for (p, e) in padding.iter_mut().zip(extra) {
            *p += e;
        }
        let window = PoolWindow::new(kernel, stride, padding);
        let layer = if op == "AveragePool" || self.max_to_avg {
            let averaging_own_pads = op == "AveragePool" && count_include_pad;
            if averaging_own_pads && ceil_overhang {
                self.reject(
                    node,
                    "AveragePool with ceil_mode and count_include_pad over the edge does not convert",
                );
                return Ok(());
            }
            // Zeros from a Pad in front are real values: they count in every
            // window; the pool's own pads count only with count_include_pad.
            let has_extra = extra != [0; 4];
            if has_extra && own != [0; 4] && !averaging_own_pads {
                self.reject(
                    node,
                    "AveragePool with its own pads behind a Pad (two padding rules) does not convert",
                );
                return Ok(());
            }
            Layer::AvgPool {
                window,
                // MaxPool -> AvgPool divides by the window cells that exist.
                count_include_pad: (op == "AveragePool" && count_include_pad) || has_extra,
            }
        } else {
            // Padded cells never win a max-pool; a Pad's zeros may, which is
            // the same only for a non-negative input.
            if extra != [0; 4] && !self.nodes[x].layer.is_rectifier() {
                self.reject(
                    node,
                    "MaxPool behind a Pad of an input that may be negative does not convert",
                );
                return Ok(());
            }
            Layer::MaxPool { window }
        };
        self.push_layer(node, layer, x)?;
        Ok(())
    }

    pub(super) fn global_pool(&mut self, call: Call) -> Result<(), Error> {
        let Call { node, op, inputs } = call;
        let Some(x) = self
            .activity(inputs, 0)
            .filter(|&x| self.shapes[x].len() == 3)
        else {
            self.reject(node, format!("{op} needs a [N, C, H, W] activity input"));
            return Ok(());
        };
        let s = &self.shapes[x];
        let kernel = [s[1], s[2]];
        let window = PoolWindow::new(kernel, [1, 1], [0; 4]);
        let layer = if op == "GlobalAveragePool" || self.max_to_avg {
            Layer::AvgPool {
                window,
                count_include_pad: true,
            }
        } else {
            Layer::MaxPool { window }
        };
        // ONNX keeps [N, C, 1, 1]; a later Flatten makes it [N, C].
        self.push_layer(node, layer, x)?;
        Ok(())
    }

    /// A zero `Pad` of the spatial axes: kept with the activity until the
    /// Conv or pool that reads it.
    pub(super) fn pad(&mut self, call: Call) {
        let Call { node, inputs, .. } = call;
        let Some((x, before)) = self.padded_input(call) else {
            return;
        };
        let mode = attr::text(node, "mode").unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            self.reject(
                node,
                format!("Pad mode '{mode}' (only constant zeros convert)"),
            );
            return;
        }
        let pads = match inputs.get(1) {
            Some(Some(Value::Constant(c))) => self.ints(c),
            Some(Some(_)) => None,
            _ => attr::ints(node, "pads").map(<[i64]>::to_vec),
        };
        let value = match inputs.get(2) {
            Some(Some(Value::Constant(c))) => self.floats(c).and_then(|v| v.first().copied()),
            Some(Some(_)) => None,
            _ => Some(attr::float(node, "value").unwrap_or(0.0)),
        };
        let rank = self.shapes[x].len() + 1;
        let Some(pads) = pads.filter(|p| p.len() == 2 * rank && rank == 4) else {
            self.reject(
                node,
                "Pad converts only with constant pads of a [N, C, H, W] activity",
            );
            return;
        };
        if value != Some(0.0) {
            self.reject(node, "Pad converts only with the value 0");
            return;
        }
        // [n, c, h, w] begins then ends; only h and w may be padded.
        if pads.iter().any(|&p| p < 0)
            || pads[0] != 0
            || pads[1] != 0
            || pads[4] != 0
            || pads[5] != 0
        {
            self.reject(
                node,
                format!("Pad {pads:?}: only non-negative pads of the spatial axes convert"),
            );
            return;
        }
        let add = [pads[2], pads[3], pads[6], pads[7]].map(|p| p as usize);
        let total = [0, 1, 2, 3].map(|k| before[k] + add[k]);
        self.alias(node, Value::Padded(x, total));
    }

    /// Flatten, Reshape, Squeeze, Unsqueeze and Transpose when they move no
    /// data: the same per-sample shape (an alias) or `[N, F]` (a flatten).
    pub(super) fn reshape(&mut self, call: Call, x: NodeId) -> Result<(), Error> {
        let Call { node, op, .. } = call;
        let current = self.shapes[x].clone();
        let full: Vec<i64> = std::iter::once(1)
            .chain(current.iter().map(|&d| d as i64))
            .collect();
        let target = match self.target_shape(call, &full) {
            Ok(t) => t,
            Err(reason) => {
                self.reject(node, reason);
                return Ok(());
            }
        };
        let features: usize = current.iter().product();
        if target.first() != Some(&1) {
            self.reject(
                node,
                format!("{op} of {full:?} to {target:?} moves the batch axis"),
            );
            return Ok(());
        }
        let per_sample: Vec<usize> = target[1..].iter().map(|&d| d as usize).collect();
        if per_sample == current {
            self.alias(node, Value::Activity(x));
        } else if per_sample.len() == 1 && per_sample[0] == features {
            if current.len() == 1 {
                self.alias(node, Value::Activity(x));
            } else {
                self.push_layer(node, Layer::Flatten, x)?;
            }
        } else {
            self.reject(
                node,
                format!(
                    "{op} of {current:?} to {per_sample:?} per sample: only keeping the shape or flattening to [N, {features}] converts"
                ),
            );
        }
        Ok(())
    }

    /// The output shape (batch 1) of a reshaping op on a value of shape
    /// `full`, or why it cannot be read; a Transpose must keep its non-1
    /// axes in order (then its data order is unchanged).
    fn target_shape(&self, call: Call, full: &[i64]) -> Result<Vec<i64>, String> {
        let Call { node, op, inputs } = call;
        let rank = full.len() as i64;
        let axes = |k: usize| -> Result<Option<Vec<i64>>, String> {
            match inputs.get(k) {
                Some(Some(Value::Constant(c))) => self
                    .ints(c)
                    .map(Some)
                    .ok_or_else(|| format!("{op} axes are not integers")),
                Some(Some(_)) => Err(format!("{op} axes must be constant")),
                _ => Ok(attr::ints(node, "axes").map(<[i64]>::to_vec)),
            }
        };
        match op {
            "Flatten" => {
                let axis = attr::int(node, "axis").unwrap_or(1);
                let axis = if axis < 0 { axis + rank } else { axis };
                if !(0..=rank).contains(&axis) {
                    return Err(format!("Flatten axis {axis} out of range"));
                }
                let (a, b) = full.split_at(axis as usize);
                Ok(vec![a.iter().product(), b.iter().product()])
            }
            "Reshape" => {
                let Some(Some(Value::Constant(c))) = inputs.get(1) else {
                    return Err("Reshape needs a constant shape".into());
                };
                let shape = self.ints(c).ok_or("Reshape shape is not integers")?;
                let allow_zero = attr::int(node, "allowzero").unwrap_or(0) != 0;
                let mut out: Vec<i64> = shape
                    .iter()
                    .enumerate()
                    .map(|(k, &d)| {
                        if d == 0 && !allow_zero {
                            full.get(k).copied().unwrap_or(0)
                        } else {
                            d
                        }
                    })
                    .collect();
                let total: i64 = full.iter().product();
                if let Some(unknown) = out.iter().position(|&d| d == -1) {
                    let known: i64 = out.iter().filter(|&&d| d != -1).product();
                    if known <= 0 || total % known != 0 {
                        return Err(format!("Reshape to {shape:?} does not fit {full:?}"));
                    }
                    out[unknown] = total / known;
                }
                if out.iter().any(|&d| d < 0) || out.iter().product::<i64>() != total {
                    return Err(format!("Reshape to {shape:?} does not fit {full:?}"));
                }
                Ok(out)
            }
            "Squeeze" => {
                let axes = axes(1)?;
                Ok(full
                    .iter()
                    .enumerate()
                    .filter(|&(k, &d)| {
                        let k = k as i64;
                        match &axes {
                            Some(axes) => !axes.iter().any(|&a| a == k || a + rank == k),
                            None => d != 1,
                        }
                    })
                    .map(|(_, &d)| d)
                    .collect())
            }
            "Unsqueeze" => {
                let axes = axes(1)?.ok_or("Unsqueeze without axes")?;
                let out_rank = rank + axes.len() as i64;
                let mut axes: Vec<i64> = axes
                    .iter()
                    .map(|&a| if a < 0 { a + out_rank } else { a })
                    .collect();
                axes.sort_unstable();
                let mut out = full.to_vec();
                for a in axes {
                    if a < 0 || a > out.len() as i64 {
                        return Err(format!("Unsqueeze axis {a} out of range"));
                    }
                    out.insert(a as usize, 1);
                }
                Ok(out)
            }
            _ => {
                let perm: Vec<i64> = attr::ints(node, "perm")
                    .map(<[i64]>::to_vec)
                    .unwrap_or_else(|| (0..rank).rev().collect());
                if perm.len() != full.len() || perm.iter().any(|&p| p < 0 || p >= rank) {
                    return Err(format!("Transpose perm {perm:?} does not fit rank {rank}"));
                }
                let moved: Vec<i64> = perm
                    .iter()
                    .copied()
                    .filter(|&p| full[p as usize] != 1)
                    .collect();
                if !moved.is_sorted() {
                    return Err(format!(
                        "Transpose {perm:?} of {full:?} reorders values (only moving size-1 axes converts)"
                    ));
                }
                Ok(perm.iter().map(|&p| full[p as usize]).collect())
            }
        }
    }
}
