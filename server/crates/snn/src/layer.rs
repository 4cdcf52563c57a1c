//! Layer kinds. Shapes are per sample (no batch dimension), NCHW order:
//! `[C, H, W]` for images, `[F]` for vectors.

use crate::neuron::Neuron;
use crate::tensor::Tensor;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Layer {
    /// The network input (one per network, node 0).
    Input { shape: Vec<usize> },
    /// `y = W x + b`, `W` shaped `[out, in]` (PyTorch layout).
    Dense {
        weight: Tensor,
        bias: Option<Vec<f32>>,
    },
    /// 2-D convolution, `W` shaped `[out, in / groups, kh, kw]`; padding is
    /// `[top, left, bottom, right]`.
    Conv2d {
        weight: Tensor,
        bias: Option<Vec<f32>>,
        stride: [usize; 2],
        padding: [usize; 4],
        groups: usize,
    },
    /// Average pooling; with `count_include_pad` the divisor is always kh*kw.
    AvgPool {
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        count_include_pad: bool,
    },
    /// Max pooling (in a spiking network: the max over the window's values this step).
    MaxPool {
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
    },
    /// To `[C*H*W]` (NCHW order, so it moves no data).
    Flatten,
    /// Elementwise sum of its inputs (same shapes).
    Add,
    /// A non-spiking rectifier (ANN layer; in a simulation a rate unit).
    Relu,
    /// A layer of spiking neurons driven by `input_scale * input`; each spike
    /// emits `amplitude`. The membrane starts at `initial_membrane * threshold`.
    /// Conversion first sets `input_scale = 1/λ`, `amplitude = λ` and then folds
    /// both into neighbouring weights where the graph allows it.
    Spiking {
        neuron: Neuron,
        input_scale: f32,
        amplitude: f32,
        initial_membrane: f32,
    },
}

impl Layer {
    pub fn op_name(&self) -> &'static str {
        match self {
            Layer::Input { .. } => "input",
            Layer::Dense { .. } => "dense",
            Layer::Conv2d { .. } => "conv2d",
            Layer::AvgPool { .. } => "avgpool",
            Layer::MaxPool { .. } => "maxpool",
            Layer::Flatten => "flatten",
            Layer::Add => "add",
            Layer::Relu => "relu",
            Layer::Spiking { neuron, .. } => neuron.op_name(),
        }
    }

    /// Layers with synaptic weights (the ones normalisation rescales).
    pub fn is_weighted(&self) -> bool {
        matches!(self, Layer::Dense { .. } | Layer::Conv2d { .. })
    }

    /// Layers whose output is a linear function of their inputs, so a
    /// positive factor passes through them unchanged.
    pub fn is_linear_passthrough(&self) -> bool {
        matches!(self, Layer::AvgPool { .. } | Layer::Flatten | Layer::Add)
    }
}

/// Output size of a pooling/conv window along one axis (floor mode).
pub(crate) fn window_out(
    size: usize,
    kernel: usize,
    stride: usize,
    pad_before: usize,
    pad_after: usize,
) -> Option<usize> {
    let padded = size + pad_before + pad_after;
    if kernel == 0 || stride == 0 || padded < kernel {
        return None;
    }
    Some((padded - kernel) / stride + 1)
}
