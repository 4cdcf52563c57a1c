//! Layer kinds. Shapes are per sample (no batch dimension), NCHW order:
//! `[C, H, W]` for images, `[F]` for vectors.

use crate::neuron::{Neuron, NirNeuron};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

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
        #[serde(flatten)]
        window: PoolWindow,
        count_include_pad: bool,
    },
    /// Max pooling; padded cells never win. In an ANN pass the max of the
    /// window. In a simulation it is a running max: the pool keeps every
    /// input's total so far and each step emits the increase of the largest
    /// total in the window, so its output total always equals the max of its
    /// inputs' totals, the max of their rates (docs/snn.md, "Spiking
    /// max-pool"). Fed by a constant input it is the plain max.
    MaxPool {
        #[serde(flatten)]
        window: PoolWindow,
    },
    /// To `[C*H*W]` (NCHW order, so it moves no data).
    Flatten,
    /// Elementwise sum of its inputs (two or more, same shapes).
    Add,
    /// Its inputs one after another along the first per-sample axis:
    /// channels for `[C, H, W]` inputs (equal H and W), features for `[F]`.
    Concat,
    /// Per-channel affine map `y[c] = scale[c] * x[c] + bias[c]` over the
    /// first per-sample axis (a BatchNormalization that follows no weighted
    /// layer, or a multiplication by a per-channel constant).
    Scale {
        scale: Vec<f32>,
        bias: Option<Vec<f32>>,
    },
    /// A non-spiking rectifier (ANN layer; in a simulation a rate unit).
    Relu,
    /// A rectifier that saturates: `min(max(x, 0), max)` (ReLU6 has max 6).
    /// Conversion turns it into neurons whose rate saturates at `max`.
    Clip { max: f32 },
    /// The output of node `from` at the previous step: a recurrent edge of
    /// a NIR graph, which discrete-time simulators (snnTorch's RLeaky,
    /// Norse's recurrent cells) carry one step late. Before the first step
    /// it is `initial` (one value per sample; empty: zeros), what `from`
    /// gives for a network at rest (a recurrent Affine's bias). It has no
    /// inputs; `from` may come after it in the order.
    Feedback {
        from: usize,
        shape: Vec<usize>,
        initial: Vec<f32>,
    },
    /// Values `[start, start + prod(shape))` of its input's per-sample
    /// values (in order), as `shape`: one of several inputs carried in the
    /// network's one input (a NIR graph's Inputs, concatenated). A copy in
    /// every pass.
    Slice { start: usize, shape: Vec<usize> },
    /// Each value as it was `steps[i]` simulation steps earlier (0 before
    /// then): one count per value of the per-sample shape (NIR's Delay). In
    /// an ANN pass, where values are rates, it is the identity.
    Delay { steps: Vec<u32> },
    /// A layer of spiking neurons, scaled as [`Scaling`] says.
    Spiking {
        neuron: Neuron,
        #[serde(flatten)]
        scaling: Scaling,
        /// NIR neurons whose parameters differ from neuron to neuron (a NIR
        /// file holds them per neuron): one per value of the layer's
        /// per-sample shape, in order; `neuron` is then the first of them.
        #[serde(skip_serializing_if = "Option::is_none")]
        per_neuron: Option<Vec<NirNeuron>>,
    },
}

/// The window of a pooling layer; `padding` is `[top, left, bottom, right]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PoolWindow {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 4],
}

impl PoolWindow {
    pub fn new(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 4]) -> PoolWindow {
        PoolWindow {
            kernel,
            stride,
            padding,
        }
    }

    /// The output's `[height, width]` for an input of `height` x `width`
    /// (floor mode), `None` when the window does not fit.
    pub fn output_size(&self, height: usize, width: usize) -> Option<[usize; 2]> {
        let PoolWindow {
            kernel,
            stride,
            padding,
        } = *self;
        Some([
            window_out(height, kernel[0], stride[0], padding[0], padding[2])?,
            window_out(width, kernel[1], stride[1], padding[1], padding[3])?,
        ])
    }
}

/// How a spiking layer meets its neighbours: it is driven by
/// `input_scale * input`, each spike emits `amplitude`, and the membrane
/// starts at `initial_membrane * threshold`. Conversion first sets
/// `input_scale = 1/λ`, `amplitude = λ` and then folds both into
/// neighbouring weights where the graph allows it. The default changes
/// nothing (1, 1, 0).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub input_scale: f32,
    pub amplitude: f32,
    pub initial_membrane: f32,
}

impl Default for Scaling {
    fn default() -> Scaling {
        Scaling {
            input_scale: 1.0,
            amplitude: 1.0,
            initial_membrane: 0.0,
        }
    }
}

impl Scaling {
    /// Each value by its name, with the value at which it changes nothing
    /// (the one a writer may leave out).
    pub fn named(&self) -> [(&'static str, f32, f32); 3] {
        let neutral = Scaling::default();
        [
            ("input_scale", self.input_scale, neutral.input_scale),
            ("amplitude", self.amplitude, neutral.amplitude),
            (
                "initial_membrane",
                self.initial_membrane,
                neutral.initial_membrane,
            ),
        ]
    }
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
            Layer::Concat => "concat",
            Layer::Scale { .. } => "scale",
            Layer::Relu => "relu",
            Layer::Clip { .. } => "clip",
            Layer::Slice { .. } => "slice",
            Layer::Delay { .. } => "delay",
            Layer::Feedback { .. } => "feedback",
            Layer::Spiking { neuron, .. } => neuron.op_name(),
        }
    }

    /// Layers with synaptic weights (the ones normalisation rescales): a
    /// factor on their input folds into the weights, one on their output into
    /// the weights and the bias.
    pub fn is_weighted(&self) -> bool {
        matches!(
            self,
            Layer::Dense { .. } | Layer::Conv2d { .. } | Layer::Scale { .. }
        )
    }

    /// Layers whose output is a linear function of their inputs, so a
    /// positive factor passes through them unchanged.
    pub fn is_linear_passthrough(&self) -> bool {
        matches!(
            self,
            Layer::AvgPool { .. }
                | Layer::MaxPool { .. }
                | Layer::Flatten
                | Layer::Add
                | Layer::Concat
        )
    }

    /// The ANN rectifiers conversion replaces by spiking neurons.
    pub fn is_rectifier(&self) -> bool {
        matches!(self, Layer::Relu | Layer::Clip { .. })
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
