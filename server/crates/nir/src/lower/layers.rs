//! The synapse and pooling nodes as the simulator's layers: NIR's layouts
//! (PyTorch's) and parameters read, checked and turned into `neuride_snn`
//! layers.

use crate::graph::{Node, Param};
use crate::shapes::{self, Padding};
use neuride_snn::{Layer, PoolWindow, Tensor};

/// NIR's elementwise Scale as neuride's per-channel one: a vector's
/// elements are its channels; a `[C, ...]` map needs one factor per channel.
pub(super) fn scale_layer(input: &[usize], scale: &[f32]) -> Result<Layer, String> {
    let count: usize = input.iter().product();
    if scale.len() != count {
        return Err(format!(
            "Scale of {} factors over an input of shape {input:?}",
            scale.len()
        ));
    }
    let channels = input.first().copied().unwrap_or(1).max(1);
    let per_channel = count / channels;
    let mut factors = Vec::with_capacity(channels);
    for channel in scale.chunks(per_channel.max(1)) {
        if channel.iter().any(|&s| s != channel[0]) {
            return Err(format!(
                "Scale over {input:?} with factors that differ inside a channel: neuride scales per channel"
            ));
        }
        factors.push(channel[0]);
    }
    Ok(Layer::Scale {
        scale: factors,
        bias: None,
    })
}

/// How neuride holds a NIR shape: rank-2 `[C, L]` as `[C, 1, L]`.
pub(super) fn held_shape(shape: &[usize]) -> Vec<usize> {
    match shape {
        [c, l] => vec![*c, 1, *l],
        other => other.to_vec(),
    }
}

pub(super) fn floats(node: &Node, name: &str) -> Result<Tensor, String> {
    match node.param(name) {
        // `Tensor::new` checks that the values fill the shape.
        Some(Param::Array(a)) => {
            Tensor::new(a.shape.clone(), a.to_f32()).map_err(|e| format!("`{name}`: {e}"))
        }
        Some(other) => Err(format!(
            "`{name}` is {}, numbers expected",
            other.type_text()
        )),
        None => Err(format!("`{name}` is missing")),
    }
}

pub(super) fn floats_f64(node: &Node, name: &str) -> Result<Vec<f64>, String> {
    match node.param(name) {
        Some(Param::Array(a)) => Ok(a.values.clone()),
        _ => Err(format!("`{name}` is missing or not numbers")),
    }
}

/// A pool's window (NIR pads both sides of an axis alike).
pub(super) fn pool(node: &Node) -> Result<PoolWindow, String> {
    let kernel = shapes::per_axis(node, "kernel_size", 2, 1)?;
    let stride = shapes::per_axis(node, "stride", 2, 1)?;
    let pad = shapes::per_axis(node, "padding", 2, 0)?;
    at_least_one("kernel_size", &kernel)?;
    at_least_one("stride", &stride)?;
    Ok(PoolWindow::new(
        [kernel[0], kernel[1]],
        [stride[0], stride[1]],
        [pad[0], pad[1], pad[0], pad[1]],
    ))
}

/// Window sizes, strides and dilations of 0 describe no window.
fn at_least_one(what: &str, values: &[usize]) -> Result<(), String> {
    if values.contains(&0) {
        return Err(format!("{what} {values:?}: every value must be at least 1"));
    }
    Ok(())
}

/// Conv1d/Conv2d as a 2-D convolution (Conv1d over `[C, 1, L]`).
pub(super) fn conv(node: &Node) -> Result<Layer, String> {
    let axes = if node.type_name == "Conv1d" { 1 } else { 2 };
    let weight = floats(node, "weight")?;
    if weight.shape.len() != axes + 2 {
        return Err(format!(
            "weight {:?} does not have {} dimensions",
            weight.shape,
            axes + 2
        ));
    }
    let stride = shapes::per_axis(node, "stride", axes, 1)?;
    let dilation = shapes::per_axis(node, "dilation", axes, 1)?;
    let groups = shapes::per_axis(node, "groups", 1, 1)?[0];
    let bias = floats(node, "bias")?.data;
    let kernel = &weight.shape[2..];
    at_least_one("the kernel's size", kernel)?;
    at_least_one("stride", &stride)?;
    at_least_one("dilation", &dilation)?;
    let padding = match shapes::padding(node, axes)? {
        Padding::Explicit(p) => p.iter().map(|&p| (p, p)).collect::<Vec<_>>(),
        Padding::Valid => vec![(0, 0); axes],
        Padding::Same => {
            if stride.iter().any(|&s| s != 1) {
                return Err("padding 'same' with a stride other than 1".into());
            }
            // PyTorch: the odd one of the total padding goes after.
            (0..axes)
                .map(|a| {
                    let total = dilation[a] * (kernel[a] - 1);
                    (total / 2, total - total / 2)
                })
                .collect()
        }
    };
    // Dilation: the kernel with (d - 1) zeros between taps.
    let (out_c, in_c) = (weight.shape[0], weight.shape[1]);
    let k: Vec<usize> = (0..axes)
        .map(|a| dilation[a] * (kernel[a] - 1) + 1)
        .collect();
    let (kh, kw) = if axes == 1 { (1, k[0]) } else { (k[0], k[1]) };
    let (sh, dh, khs) = if axes == 1 {
        (1, 1, 1)
    } else {
        (stride[0], dilation[0], kernel[0])
    };
    let (sw, dw, kws) = if axes == 1 {
        (stride[0], dilation[0], kernel[0])
    } else {
        (stride[1], dilation[1], kernel[1])
    };
    let count = out_c
        .checked_mul(in_c)
        .and_then(|c| c.checked_mul(kh))
        .and_then(|c| c.checked_mul(kw))
        .filter(|&c| c <= 1 << 28)
        .ok_or("the dilated kernel is too large")?;
    let mut data = vec![0.0f32; count];
    for o in 0..out_c {
        for i in 0..in_c {
            for y in 0..khs {
                for x in 0..kws {
                    let from = ((o * in_c + i) * khs + y) * kws + x;
                    let to = ((o * in_c + i) * kh + y * dh) * kw + x * dw;
                    data[to] = weight.data[from];
                }
            }
        }
    }
    let (pad_h, pad_w) = if axes == 1 {
        ((0, 0), padding[0])
    } else {
        (padding[0], padding[1])
    };
    Ok(Layer::Conv2d {
        weight: Tensor {
            shape: vec![out_c, in_c, kh, kw],
            data,
        },
        bias: Some(bias),
        stride: [sh, sw],
        padding: [pad_h.0, pad_w.0, pad_h.1, pad_w.1],
        groups: groups.max(1),
    })
}
