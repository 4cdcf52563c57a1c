//! A network: layers in topological order (node 0 is the input), each
//! naming the earlier nodes it reads. Validation computes every node's shape
//! once; everything else trusts it.

use crate::Error;
use crate::layer::{Layer, PoolWindow, window_out};
use crate::neuron::Neuron;

/// The longest delay a [`Layer::Delay`] may hold, in steps: its line keeps
/// that many past steps of its input in memory.
pub const MAX_DELAY: u32 = 100_000;
use serde::Serialize;
use std::collections::HashSet;

pub type NodeId = usize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    pub layer: Layer,
    pub inputs: Vec<NodeId>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Network {
    pub nodes: Vec<Node>,
    /// The node read out by the decoder.
    pub output: NodeId,
}

/// Geometry of a conv layer, derived once from shapes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvGeometry {
    pub in_c: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_c: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pt: usize,
    pub pl: usize,
    pub groups: usize,
}

impl ConvGeometry {
    pub fn in_per_group(&self) -> usize {
        self.in_c / self.groups
    }
    pub fn out_per_group(&self) -> usize {
        self.out_c / self.groups
    }
}

fn layer_error(node: &Node, message: impl Into<String>) -> Error {
    Error::Layer {
        layer: node.name.clone(),
        message: message.into(),
    }
}

impl Network {
    /// One name per node from `base(node)` (for a file format's own naming
    /// rules), unique among themselves and `reserved`: a base already taken
    /// gets `_N` appended, N counting up from `first_suffix`.
    pub fn unique_names(
        &self,
        reserved: &[&str],
        first_suffix: usize,
        mut base: impl FnMut(&Node) -> String,
    ) -> Vec<String> {
        let mut used: HashSet<String> = reserved.iter().map(|name| name.to_string()).collect();
        self.nodes
            .iter()
            .map(|node| {
                let base = base(node);
                let mut name = base.clone();
                let mut n = first_suffix;
                while !used.insert(name.clone()) {
                    name = format!("{base}_{n}");
                    n += 1;
                }
                name
            })
            .collect()
    }

    pub fn input_shape(&self) -> &[usize] {
        match self.nodes.first().map(|n| &n.layer) {
            Some(Layer::Input { shape }) => shape,
            _ => &[],
        }
    }

    /// Checks the structure and computes each node's per-sample output shape.
    pub fn validate(&self) -> Result<Vec<Vec<usize>>, Error> {
        let Some(first) = self.nodes.first() else {
            return Err(Error::Layer {
                layer: "<network>".into(),
                message: "has no nodes (an input node was expected)".into(),
            });
        };
        if !matches!(first.layer, Layer::Input { .. }) {
            return Err(layer_error(
                first,
                format!("node 0 must be the input, found {}", first.layer.op_name()),
            ));
        }
        if self.output >= self.nodes.len() {
            return Err(Error::Layer {
                layer: "<network>".into(),
                message: format!(
                    "output node {} does not exist ({} nodes)",
                    self.output,
                    self.nodes.len()
                ),
            });
        }
        let mut shapes: Vec<Vec<usize>> = Vec::with_capacity(self.nodes.len());
        for (index, node) in self.nodes.iter().enumerate() {
            for &input in &node.inputs {
                if input >= index {
                    return Err(layer_error(
                        node,
                        format!("reads node {input}, which does not come before it (node {index})"),
                    ));
                }
            }
            check_data_lengths(node)?;
            let shape = infer_shape(node, &shapes)?;
            if shape.iter().product::<usize>() == 0 && !matches!(node.layer, Layer::Input { .. }) {
                return Err(layer_error(
                    node,
                    format!("has an empty output shape {shape:?}"),
                ));
            }
            shapes.push(shape);
        }
        // A feedback reads a node of any place in the order, once all exist.
        for node in &self.nodes {
            if let Layer::Feedback {
                from,
                shape,
                initial,
            } = &node.layer
            {
                let len: usize = shape.iter().product();
                if !initial.is_empty() && initial.len() != len {
                    return Err(layer_error(
                        node,
                        format!("{} initial values for {len}", initial.len()),
                    ));
                }
                match shapes.get(*from) {
                    Some(theirs) if theirs == shape => {}
                    Some(theirs) => {
                        return Err(layer_error(
                            node,
                            format!("carries {shape:?} back from a node of shape {theirs:?}"),
                        ));
                    }
                    None => {
                        return Err(layer_error(
                            node,
                            format!("carries back node {from}, which does not exist"),
                        ));
                    }
                }
            }
        }
        Ok(shapes)
    }

    /// Which nodes a [`Layer::Feedback`] reads: their values must outlive
    /// the step (the simulator keeps their buffers).
    pub fn fed_back(&self) -> Vec<bool> {
        let mut fed = vec![false; self.nodes.len()];
        for node in &self.nodes {
            if let Layer::Feedback { from, .. } = node.layer
                && from < fed.len()
            {
                fed[from] = true;
            }
        }
        fed
    }
}

/// Weight payloads must hold exactly what their shapes say (checked apart
/// from shapes so importers can infer shapes before loading any weights).
fn check_data_lengths(node: &Node) -> Result<(), Error> {
    match &node.layer {
        Layer::Dense { weight, .. } | Layer::Conv2d { weight, .. }
            if weight.data.len() != weight.shape.iter().product::<usize>() =>
        {
            Err(layer_error(
                node,
                format!(
                    "weight has {} values, shape {:?} needs {}",
                    weight.data.len(),
                    weight.shape,
                    weight.shape.iter().product::<usize>()
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The per-sample output shape of `node` given its inputs' shapes (indexed by
/// node id). Looks at weight shapes only, never at their data.
pub fn infer_shape(node: &Node, shapes: &[Vec<usize>]) -> Result<Vec<usize>, Error> {
    for &input in &node.inputs {
        if input >= shapes.len() {
            return Err(layer_error(
                node,
                format!("reads node {input}, which has no shape yet"),
            ));
        }
    }
    {
        let arity = |n: usize| -> Result<(), Error> {
            if node.inputs.len() == n {
                Ok(())
            } else {
                Err(layer_error(
                    node,
                    format!("expects {n} input(s), found {}", node.inputs.len()),
                ))
            }
        };
        let input_shape = |i: usize| -> &[usize] { &shapes[node.inputs[i]] };
        match &node.layer {
            Layer::Input { shape } => {
                arity(0)?;
                if shape.is_empty() || shape.iter().product::<usize>() == 0 {
                    return Err(layer_error(node, format!("input shape {shape:?} is empty")));
                }
                Ok(shape.clone())
            }
            Layer::Dense { weight, bias } => {
                arity(1)?;
                let in_features: usize = input_shape(0).iter().product();
                if weight.shape.len() != 2 || weight.shape[1] != in_features {
                    return Err(layer_error(
                        node,
                        format!(
                            "weight shape {:?} does not fit input of {in_features} features ([out, {in_features}] expected)",
                            weight.shape
                        ),
                    ));
                }
                check_bias(node, bias, weight.shape[0])?;
                Ok(vec![weight.shape[0]])
            }
            Layer::Conv2d { .. } => {
                arity(1)?;
                let g = conv_geometry(node, input_shape(0))?;
                Ok(vec![g.out_c, g.out_h, g.out_w])
            }
            Layer::AvgPool { window, .. } | Layer::MaxPool { window } => {
                arity(1)?;
                let s = input_shape(0);
                if s.len() != 3 {
                    return Err(layer_error(
                        node,
                        format!("pooling needs a [C, H, W] input, found {s:?}"),
                    ));
                }
                match window.output_size(s[1], s[2]) {
                    Some([oh, ow]) => Ok(vec![s[0], oh, ow]),
                    None => Err(layer_error(
                        node,
                        format!(
                            "kernel {:?} stride {:?} padding {:?} does not fit input {s:?}",
                            window.kernel, window.stride, window.padding
                        ),
                    )),
                }
            }
            Layer::Flatten => {
                arity(1)?;
                Ok(vec![input_shape(0).iter().product()])
            }
            Layer::Add => {
                if node.inputs.len() < 2 {
                    return Err(layer_error(
                        node,
                        format!("add expects at least 2 inputs, found {}", node.inputs.len()),
                    ));
                }
                let first = input_shape(0).to_vec();
                for i in 1..node.inputs.len() {
                    if input_shape(i) != first.as_slice() {
                        return Err(layer_error(
                            node,
                            format!("input shapes differ: {first:?} and {:?}", input_shape(i)),
                        ));
                    }
                }
                Ok(first)
            }
            Layer::Concat => {
                if node.inputs.is_empty() {
                    return Err(layer_error(
                        node,
                        "concat expects at least 1 input, found 0",
                    ));
                }
                let first = input_shape(0).to_vec();
                let mut out = first.clone();
                for i in 1..node.inputs.len() {
                    let s = input_shape(i);
                    if s.len() != first.len() || s[1..] != first[1..] {
                        return Err(layer_error(
                            node,
                            format!(
                                "inputs must agree on every axis but the first: {first:?} and {s:?}"
                            ),
                        ));
                    }
                    out[0] += s[0];
                }
                Ok(out)
            }
            Layer::Scale { scale, bias } => {
                arity(1)?;
                let s = input_shape(0);
                let channels = s.first().copied().unwrap_or(0);
                if scale.len() != channels {
                    return Err(layer_error(
                        node,
                        format!(
                            "scale has {} values, the input {s:?} has {channels} channels",
                            scale.len()
                        ),
                    ));
                }
                check_bias(node, bias, channels)?;
                Ok(s.to_vec())
            }
            Layer::Relu => {
                arity(1)?;
                Ok(input_shape(0).to_vec())
            }
            Layer::Feedback { shape, .. } => {
                arity(0)?;
                Ok(shape.clone())
            }
            Layer::Slice { start, shape } => {
                arity(1)?;
                let len: usize = input_shape(0).iter().product();
                let count: usize = shape.iter().product();
                if shape.is_empty() || count == 0 {
                    return Err(layer_error(node, format!("slice shape {shape:?} is empty")));
                }
                if start.checked_add(count).is_none_or(|end| end > len) {
                    return Err(layer_error(
                        node,
                        format!(
                            "takes values {start}..{} of an input of {len} values",
                            start.saturating_add(count)
                        ),
                    ));
                }
                Ok(shape.clone())
            }
            Layer::Delay { steps } => {
                arity(1)?;
                let len: usize = input_shape(0).iter().product();
                if steps.len() != len {
                    return Err(layer_error(
                        node,
                        format!("{} delays for {len} values", steps.len()),
                    ));
                }
                if let Some(&most) = steps.iter().max()
                    && most > MAX_DELAY
                {
                    return Err(layer_error(
                        node,
                        format!("a delay of {most} steps (at most {MAX_DELAY})"),
                    ));
                }
                Ok(input_shape(0).to_vec())
            }
            Layer::Clip { max } => {
                arity(1)?;
                if !(max.is_finite() && *max > 0.0) {
                    return Err(layer_error(
                        node,
                        format!("clip max must be a positive number, found {max}"),
                    ));
                }
                Ok(input_shape(0).to_vec())
            }
            Layer::Spiking {
                neuron,
                scaling,
                per_neuron,
            } => {
                arity(1)?;
                neuron.validate().map_err(|m| layer_error(node, m))?;
                if let Some(neurons) = per_neuron {
                    let len: usize = input_shape(0).iter().product();
                    if neurons.len() != len {
                        return Err(layer_error(
                            node,
                            format!(
                                "{} per-neuron parameter sets for {len} neurons",
                                neurons.len()
                            ),
                        ));
                    }
                    let model = match neuron {
                        Neuron::Nir(first) => Some(first.model),
                        _ => None,
                    };
                    for each in neurons {
                        if Some(each.model) != model {
                            return Err(layer_error(
                                node,
                                "per-neuron parameters are for NIR neurons of the layer's one model"
                                    .to_owned(),
                            ));
                        }
                        each.validate().map_err(|m| layer_error(node, m))?;
                    }
                }
                for (name, value, _) in scaling.named() {
                    if !value.is_finite() {
                        return Err(layer_error(
                            node,
                            format!("{name} must be finite, found {value}"),
                        ));
                    }
                }
                Ok(input_shape(0).to_vec())
            }
        }
    }
}

impl Network {
    pub(crate) fn conv_geometry_of(
        &self,
        node: NodeId,
        shapes: &[Vec<usize>],
    ) -> Result<ConvGeometry, Error> {
        let n = &self.nodes[node];
        conv_geometry(n, &shapes[n.inputs[0]])
    }

    /// ANN multiply-accumulates of one sample through the weighted layers.
    pub fn macs_per_sample(&self, shapes: &[Vec<usize>]) -> u64 {
        (0..self.nodes.len())
            .map(|index| self.node_macs(index, shapes))
            .sum()
    }

    /// Multiply-accumulates of node `index` for one sample (0 for layers
    /// without weights).
    pub fn node_macs(&self, index: NodeId, shapes: &[Vec<usize>]) -> u64 {
        let out: usize = shapes[index].iter().product();
        match &self.nodes[index].layer {
            Layer::Dense { weight, .. } => (weight.shape[0] * weight.shape[1]) as u64,
            Layer::Conv2d { weight, .. } => {
                (out * weight.shape[1] * weight.shape[2] * weight.shape[3]) as u64
            }
            Layer::Scale { .. } => out as u64,
            _ => 0,
        }
    }

    /// Indices of the nodes that read each node.
    pub fn consumers(&self) -> Vec<Vec<NodeId>> {
        let mut consumers = vec![Vec::new(); self.nodes.len()];
        for (index, node) in self.nodes.iter().enumerate() {
            for &input in &node.inputs {
                if input < consumers.len() && !consumers[input].contains(&index) {
                    consumers[input].push(index);
                }
            }
        }
        consumers
    }

    /// For every node output element: how many synapses a spike there drives
    /// (its fan-out through pooling/flatten/add into weighted layers). This is
    /// what one spike costs in synaptic operations (NeuroBench SOPs).
    pub fn fanout(&self, shapes: &[Vec<usize>]) -> Result<Vec<Vec<f32>>, Error> {
        let consumers = self.consumers();
        let mut fanout: Vec<Vec<f32>> = shapes
            .iter()
            .map(|s| vec![0.0; s.iter().product()])
            .collect();
        for index in (0..self.nodes.len()).rev() {
            let mut mine = vec![0.0f32; fanout[index].len()];
            for &consumer in &consumers[index] {
                let node = &self.nodes[consumer];
                match &node.layer {
                    Layer::Dense { weight, .. } => {
                        mine.iter_mut().for_each(|f| *f += weight.shape[0] as f32)
                    }
                    Layer::Conv2d { .. } => {
                        let g = self.conv_geometry_of(consumer, shapes)?;
                        add_conv_fanout(&g, &mut mine);
                    }
                    Layer::AvgPool { window, .. } | Layer::MaxPool { window } => {
                        let PoolWindow {
                            kernel,
                            stride,
                            padding,
                        } = window;
                        let s = &shapes[index];
                        let o = &shapes[consumer];
                        let theirs = &fanout[consumer];
                        for c in 0..s[0] {
                            for oy in 0..o[1] {
                                for ox in 0..o[2] {
                                    let value = theirs[(c * o[1] + oy) * o[2] + ox];
                                    for ky in 0..kernel[0] {
                                        for kx in 0..kernel[1] {
                                            let iy = (oy * stride[0] + ky) as isize
                                                - padding[0] as isize;
                                            let ix = (ox * stride[1] + kx) as isize
                                                - padding[1] as isize;
                                            if iy >= 0
                                                && ix >= 0
                                                && (iy as usize) < s[1]
                                                && (ix as usize) < s[2]
                                            {
                                                mine[(c * s[1] + iy as usize) * s[2]
                                                    + ix as usize] += value;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    // A delay passes each value on, later.
                    Layer::Flatten | Layer::Add | Layer::Delay { .. } => {
                        for (m, t) in mine.iter_mut().zip(&fanout[consumer]) {
                            *m += t;
                        }
                    }
                    Layer::Slice { start, .. } => {
                        for (m, t) in mine[*start..].iter_mut().zip(&fanout[consumer]) {
                            *m += t;
                        }
                    }
                    Layer::Concat => {
                        // Each place this node is read (concat(a, a) reads it twice).
                        let mut offset = 0;
                        for &input in &node.inputs {
                            let len = fanout[input].len();
                            if input == index {
                                for (m, t) in mine.iter_mut().zip(&fanout[consumer][offset..]) {
                                    *m += t;
                                }
                            }
                            offset += len;
                        }
                    }
                    // One multiplication per value.
                    Layer::Scale { .. } => mine.iter_mut().for_each(|f| *f += 1.0),
                    Layer::Input { .. }
                    | Layer::Relu
                    | Layer::Clip { .. }
                    | Layer::Feedback { .. }
                    | Layer::Spiking { .. } => {}
                }
            }
            fanout[index] = mine;
        }
        // What a fed-back node drives through its feedback, a step later
        // (the reverse pass above reached the feedback after the node).
        for (index, node) in self.nodes.iter().enumerate() {
            if let Layer::Feedback { from, .. } = node.layer {
                let theirs = fanout[index].clone();
                for (m, t) in fanout[from].iter_mut().zip(&theirs) {
                    *m += t;
                }
            }
        }
        Ok(fanout)
    }
}

fn add_conv_fanout(g: &ConvGeometry, fanout: &mut [f32]) {
    // Taps that land inside the output, per row and per column: a position's
    // count is their product, the same in every input channel.
    let reach = |n: usize, k: usize, pad: usize, stride: usize, out: usize| -> Vec<usize> {
        (0..n)
            .map(|i| {
                (0..k)
                    .filter(|&t| conv_target(i, t, pad, stride, out).is_some())
                    .count()
            })
            .collect()
    };
    let rows = reach(g.in_h, g.kh, g.pt, g.sh, g.out_h);
    let columns = reach(g.in_w, g.kw, g.pl, g.sw, g.out_w);
    let per = g.out_per_group() as f32;
    let plane: Vec<f32> = rows
        .iter()
        .flat_map(|&r| columns.iter().map(move |&c| (r * c) as f32 * per))
        .collect();
    for channel in fanout.chunks_exact_mut(plane.len()).take(g.in_c) {
        for (f, p) in channel.iter_mut().zip(&plane) {
            *f += p;
        }
    }
}

/// The output row/column an input position reaches through kernel tap `k`.
#[inline]
pub(crate) fn conv_target(
    i: usize,
    k: usize,
    pad: usize,
    stride: usize,
    out: usize,
) -> Option<usize> {
    let t = i + pad;
    if t < k {
        return None;
    }
    let t = t - k;
    if !t.is_multiple_of(stride) {
        return None;
    }
    let o = t / stride;
    if o < out { Some(o) } else { None }
}

fn check_bias(node: &Node, bias: &Option<Vec<f32>>, out: usize) -> Result<(), Error> {
    match bias {
        Some(b) if b.len() != out => Err(layer_error(
            node,
            format!("bias has {} values, {out} expected", b.len()),
        )),
        _ => Ok(()),
    }
}

fn conv_geometry(node: &Node, input: &[usize]) -> Result<ConvGeometry, Error> {
    let Layer::Conv2d {
        weight,
        bias,
        stride,
        padding,
        groups,
    } = &node.layer
    else {
        return Err(layer_error(node, "not a conv2d layer"));
    };
    if input.len() != 3 {
        return Err(layer_error(
            node,
            format!("conv2d needs a [C, H, W] input, found {input:?}"),
        ));
    }
    let w = &weight.shape;
    if w.len() != 4 {
        return Err(layer_error(
            node,
            format!("weight must be [out, in/groups, kh, kw], found {w:?}"),
        ));
    }
    let groups = *groups;
    if groups == 0
        || !input[0].is_multiple_of(groups)
        || w[0] % groups != 0
        || w[1] * groups != input[0]
    {
        return Err(layer_error(
            node,
            format!(
                "weight {w:?} with groups {groups} does not fit {} input channels",
                input[0]
            ),
        ));
    }
    check_bias(node, bias, w[0])?;
    let out_h = window_out(input[1], w[2], stride[0], padding[0], padding[2]);
    let out_w = window_out(input[2], w[3], stride[1], padding[1], padding[3]);
    let (Some(out_h), Some(out_w)) = (out_h, out_w) else {
        return Err(layer_error(
            node,
            format!(
                "kernel {}x{} stride {stride:?} padding {padding:?} does not fit input {input:?}",
                w[2], w[3]
            ),
        ));
    };
    Ok(ConvGeometry {
        in_c: input[0],
        in_h: input[1],
        in_w: input[2],
        out_c: w[0],
        out_h,
        out_w,
        kh: w[2],
        kw: w[3],
        sh: stride[0],
        sw: stride[1],
        pt: padding[0],
        pl: padding[1],
        groups,
    })
}
