//! The built-in calls of the language (layers, neurons, encoders, decoders,
//! normalizers, file loaders, sensor sources, pipeline stages) as one table.
//! The checker, hover, completion and code actions all read this table, so a
//! parameter added here is checked, documented and completed at once.

/// What a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueKind {
    /// A whole number, at least `min`.
    Int {
        min: i64,
    },
    /// A whole number, or a list of as many as one of `lens` (`3`,
    /// `[3, 5]`; padding also `[top, left, bottom, right]`), each at least `min`.
    Ints {
        min: i64,
        lens: &'static [usize],
    },
    /// A dimensionless number in `[min, max]`.
    Float {
        min: f64,
        max: f64,
    },
    /// A time (`20ms`), strictly positive unless `allow_zero`.
    Time {
        allow_zero: bool,
    },
    /// A frequency (`200Hz`), strictly positive.
    Freq,
    /// A tensor: `w["key"]` from a `weights` item.
    Tensor,
    /// The name of a layer or input of the same network.
    Layer,
    /// The name of a dataset item.
    Dataset,
    /// The name of a model item.
    Model,
    /// The name of a weights item.
    Weights,
    /// One of these bare words.
    Word(&'static [&'static str]),
    Bool,
    /// A string (a path or an NPZ key).
    Str,
    /// An image size: `[height, width]` (or `[side]`), whole numbers >= 1.
    Size,
}

impl ValueKind {
    pub fn describe(self) -> String {
        match self {
            ValueKind::Int { min } => format!("a whole number >= {min}"),
            ValueKind::Ints { min, lens } => format!(
                "a whole number >= {min} or a list of {} of them",
                lens.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            ValueKind::Float { min, max } if max.is_infinite() && min > 0.0 && min < 1e-300 => {
                "a number > 0".to_string()
            }
            ValueKind::Float { min, max } if max.is_infinite() => format!("a number >= {min}"),
            ValueKind::Float { min, max } if min > 0.0 && min < 1e-300 => {
                format!("a number in (0, {max}]")
            }
            ValueKind::Float { min, max } => format!("a number in [{min}, {max}]"),
            ValueKind::Time { .. } => "a time (e.g. `20ms`)".to_string(),
            ValueKind::Freq => "a frequency (e.g. `1000Hz`)".to_string(),
            ValueKind::Tensor => "a weight tensor such as `w[\"fc.weight\"]`".to_string(),
            ValueKind::Layer => "a layer or input of this network".to_string(),
            ValueKind::Dataset => "a dataset".to_string(),
            ValueKind::Model => "a model".to_string(),
            ValueKind::Weights => "a weights archive".to_string(),
            ValueKind::Word(words) => format!("one of {}", words.join(", ")),
            ValueKind::Bool => "`true` or `false`".to_string(),
            ValueKind::Str => "a string".to_string(),
            ValueKind::Size => "an image size `[height, width]`".to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: ValueKind,
    /// Required parameters have no default.
    pub default: Option<&'static str>,
    /// Optional without a default (`bias: B?`).
    pub optional: bool,
    /// The last positional parameter may be given any number of times
    /// (`add(a, b, c)`); its values come as a list.
    pub repeat: bool,
    pub doc: &'static str,
}

impl Param {
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !self.optional
    }
}

/// Where a call may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    Layer,
    Neuron,
    Encoder,
    Normalizer,
    Loader,
    SensorSource,
    Record,
    /// Makes a dataset from another one (`to_image`).
    DatasetOp,
}

#[derive(Clone, Copy, Debug)]
pub struct CallSpec {
    pub name: &'static str,
    pub kind: CallKind,
    /// Positional parameters, in order (the layer input first).
    pub positional: &'static [Param],
    pub named: &'static [Param],
    pub doc: &'static str,
    /// For neurons: the update equation shown on hover.
    pub equation: Option<&'static str>,
}

impl CallSpec {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.named
            .iter()
            .chain(self.positional)
            .find(|param| param.name == name)
    }
    pub fn is_neuron(&self) -> bool {
        self.kind == CallKind::Neuron
    }
}

const fn req(name: &'static str, kind: ValueKind, doc: &'static str) -> Param {
    Param {
        name,
        kind,
        default: None,
        optional: false,
        repeat: false,
        doc,
    }
}
const fn opt(
    name: &'static str,
    kind: ValueKind,
    default: &'static str,
    doc: &'static str,
) -> Param {
    Param {
        name,
        kind,
        default: Some(default),
        optional: false,
        repeat: false,
        doc,
    }
}
const fn maybe(name: &'static str, kind: ValueKind, doc: &'static str) -> Param {
    Param {
        name,
        kind,
        default: None,
        optional: true,
        repeat: false,
        doc,
    }
}

/// A pool's window, the same for avgpool and maxpool.
const POOL_KERNEL: Param = req("kernel", PAIR, "window size: `K` or `[KH, KW]`");
const POOL_STRIDE: Param = maybe("stride", PAIR, "stride (default: the kernel size)");
/// A required positional parameter that may repeat (one or more values).
const fn many(name: &'static str, kind: ValueKind, doc: &'static str) -> Param {
    Param {
        name,
        kind,
        default: None,
        optional: false,
        repeat: true,
        doc,
    }
}

const POSITIVE: ValueKind = ValueKind::Float {
    min: f64::MIN_POSITIVE,
    max: f64::INFINITY,
};
/// A count: output features or channels, groups, steps, spikes.
const COUNT: ValueKind = ValueKind::Int { min: 1 };
const INPUT: Param = req("x", ValueKind::Layer, "the layer's input");
/// Dense's and convolution's optional bias, one per output.
const BIAS: Param = maybe("bias", ValueKind::Tensor, "bias `[out]`");
/// Membrane at t = 0; converted networks start at half the threshold
/// (SNN.md, "ANN -> SNN conversion").
const INITIAL_MEMBRANE: Param = opt(
    "initial_membrane",
    ValueKind::Float {
        min: 0.0,
        max: f64::INFINITY,
    },
    "0.0",
    "membrane potential at the first step",
);
/// Multiplies the input current (the converter's per-layer scaling).
const INPUT_SCALE: Param = opt("input_scale", POSITIVE, "1.0", "input current multiplier");
/// The neurons' common parameters.
const THRESHOLD: Param = opt("threshold", POSITIVE, "1.0", "firing threshold");
const AMPLITUDE: Param = opt("amplitude", POSITIVE, "1.0", "spike amplitude");
const RESET: Param = opt(
    "reset",
    ValueKind::Word(&["subtract", "zero"]),
    "subtract",
    "reset by subtraction or to zero",
);
/// A size per spatial axis: one for both, or `[h, w]`.
const PAIR: ValueKind = ValueKind::Ints { min: 1, lens: &[2] };
/// Padding: one for every side, `[h, w]`, or `[top, left, bottom, right]`.
const PADDING: ValueKind = ValueKind::Ints {
    min: 0,
    lens: &[2, 4],
};
/// Convolution's and average pooling's padding (zeros).
const ZERO_PADDING: Param = opt(
    "padding",
    PADDING,
    "0",
    "zero padding: every side, `[H, W]` or `[top, left, bottom, right]`",
);

pub const CALLS: &[CallSpec] = &[
    CallSpec {
        name: "dense",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[
            req("out", COUNT, "number of output features"),
            req(
                "weight",
                ValueKind::Tensor,
                "weight `[out, in]` (PyTorch layout)",
            ),
            BIAS,
        ],
        doc: "Fully connected layer: `y = W x + b`, `W` shaped `[out, in]`.",
        equation: None,
    },
    CallSpec {
        name: "conv2d",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[
            req("out", COUNT, "number of output channels"),
            req("kernel", PAIR, "kernel size: `K` or `[KH, KW]`"),
            opt("stride", PAIR, "1", "stride: `S` or `[SH, SW]`"),
            ZERO_PADDING,
            opt("groups", COUNT, "1", "channel groups"),
            req(
                "weight",
                ValueKind::Tensor,
                "weight `[out, in/groups, KH, KW]`",
            ),
            BIAS,
        ],
        doc: "2-D convolution over `[C, H, W]` (NCHW without the batch).",
        equation: None,
    },
    CallSpec {
        name: "avgpool",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[
            POOL_KERNEL,
            POOL_STRIDE,
            ZERO_PADDING,
            opt(
                "count_include_pad",
                ValueKind::Bool,
                "true",
                "divide by the whole window, padding included (else by the cells inside)",
            ),
        ],
        doc: "Average pooling over `[C, H, W]`.",
        equation: None,
    },
    CallSpec {
        name: "maxpool",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[
            POOL_KERNEL,
            POOL_STRIDE,
            opt(
                "padding",
                PADDING,
                "0",
                "padding (never the maximum): every side, `[H, W]` or `[top, left, bottom, right]`",
            ),
        ],
        doc: "Max pooling over `[C, H, W]`. Simulated, it is a running max: each step it emits the increase of the largest input total in the window, so its output total is the max of its inputs' totals.",
        equation: None,
    },
    CallSpec {
        name: "flatten",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[],
        doc: "Flattens `[C, H, W]` to `[C*H*W]`.",
        equation: None,
    },
    CallSpec {
        name: "add",
        kind: CallKind::Layer,
        positional: &[
            req("a", ValueKind::Layer, "first input"),
            many("b", ValueKind::Layer, "further inputs, same shape"),
        ],
        named: &[],
        doc: "Elementwise sum of two or more layers of the same shape (a residual connection).",
        equation: None,
    },
    CallSpec {
        name: "concat",
        kind: CallKind::Layer,
        positional: &[
            req("a", ValueKind::Layer, "first input"),
            many(
                "b",
                ValueKind::Layer,
                "further inputs, equal but in the first axis",
            ),
        ],
        named: &[],
        doc: "The inputs one after another along channels (`[C, H, W]`) or features (`[F]`).",
        equation: None,
    },
    CallSpec {
        name: "scale",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[
            req("scale", ValueKind::Tensor, "per-channel factor `[C]`"),
            maybe("bias", ValueKind::Tensor, "per-channel offset `[C]`"),
        ],
        doc: "Per-channel affine map `y[c] = scale[c]·x[c] + bias[c]` (a batch norm that follows no weighted layer).",
        equation: Some("y[c] = scale[c]·x[c] + bias[c]"),
    },
    CallSpec {
        name: "relu",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[],
        doc: "Non-spiking rectified linear rate unit (for checking a converted net).",
        equation: Some("y = max(x, 0)"),
    },
    CallSpec {
        name: "clip",
        kind: CallKind::Layer,
        positional: &[INPUT],
        named: &[req("max", POSITIVE, "saturation (6 for ReLU6)")],
        doc: "Non-spiking rectifier that saturates at `max` (ReLU6 and kin).",
        equation: Some("y = min(max(x, 0), max)"),
    },
    CallSpec {
        name: "lif",
        kind: CallKind::Neuron,
        positional: &[INPUT],
        named: &[
            opt(
                "tau_rc",
                ValueKind::Time { allow_zero: false },
                "20ms",
                "membrane RC time constant",
            ),
            opt(
                "tau_ref",
                ValueKind::Time { allow_zero: true },
                "2ms",
                "refractory period",
            ),
            THRESHOLD,
            AMPLITUDE,
            opt(
                "min_voltage",
                ValueKind::Float {
                    min: f64::NEG_INFINITY,
                    max: 0.0,
                },
                "0.0",
                "lowest membrane voltage",
            ),
            INPUT_SCALE,
            INITIAL_MEMBRANE,
        ],
        doc: "Nengo's leaky integrate-and-fire neuron, exact zero-order-hold update.",
        equation: Some(
            "v ← v − (J − v)·expm1(−Δt/τ_rc); spike when v > threshold, then v ← 0 and refractory for τ_ref",
        ),
    },
    CallSpec {
        name: "if",
        kind: CallKind::Neuron,
        positional: &[INPUT],
        named: &[
            THRESHOLD,
            RESET,
            opt(
                "rectify",
                ValueKind::Bool,
                "false",
                "ignore negative currents (Nengo's SpikingRectifiedLinear)",
            ),
            maybe(
                "max_spikes",
                COUNT,
                "spikes per step at most (1: the classic neuron; default: as many as the membrane holds)",
            ),
            opt(
                "signed",
                ValueKind::Bool,
                "false",
                "emit -1 spikes when the membrane drops below 0, never more than emitted",
            ),
            AMPLITUDE,
            INPUT_SCALE,
            INITIAL_MEMBRANE,
        ],
        doc: "Integrate-and-fire neuron, as ANN-to-SNN conversion steps it (negative currents lower the membrane); with `rectify: true`, Nengo's SpikingRectifiedLinear.",
        equation: Some(
            "v ← v + J (J ← max(J, 0) with rectify: true); spike when v ≥ threshold, then reset",
        ),
    },
    CallSpec {
        name: "leaky",
        kind: CallKind::Neuron,
        positional: &[INPUT],
        named: &[
            opt(
                "beta",
                ValueKind::Float { min: 0.0, max: 1.0 },
                "0.9",
                "membrane decay per step",
            ),
            THRESHOLD,
            RESET,
            AMPLITUDE,
            INPUT_SCALE,
            INITIAL_MEMBRANE,
        ],
        doc: "snnTorch's Leaky neuron.",
        equation: Some("mem ← β·mem + input − reset·threshold; spike = H(mem − threshold)"),
    },
    CallSpec {
        name: "rate",
        kind: CallKind::Encoder,
        positional: &[],
        named: &[
            maybe(
                "max_rate",
                ValueKind::Freq,
                "spike rate for an input of 1 (at most 1/dt)",
            ),
            opt("seed", ValueKind::Int { min: 0 }, "0", "random seed"),
        ],
        doc: "Rate coding: each step spikes with probability `clamp(x, 0, 1)` (or `x·max_rate·dt`).",
        equation: None,
    },
    CallSpec {
        name: "current",
        kind: CallKind::Encoder,
        positional: &[],
        named: &[],
        doc: "The input itself is the input current every step.",
        equation: None,
    },
    CallSpec {
        name: "latency",
        kind: CallKind::Encoder,
        positional: &[],
        named: &[req(
            "tau",
            ValueKind::Time { allow_zero: false },
            "time constant",
        )],
        doc: "One spike per input at `t = tau·ln(x / (x − threshold))`.",
        equation: None,
    },
    CallSpec {
        name: "delta",
        kind: CallKind::Encoder,
        positional: &[],
        named: &[req("threshold", POSITIVE, "change that triggers a spike")],
        doc: "A spike where the input changed by more than `threshold`.",
        equation: None,
    },
    CallSpec {
        name: "max",
        kind: CallKind::Normalizer,
        positional: &[],
        named: &[req("data", ValueKind::Dataset, "calibration data")],
        doc: "Normalise each layer by its maximum activation on `data`.",
        equation: None,
    },
    CallSpec {
        name: "percentile",
        kind: CallKind::Normalizer,
        positional: &[req(
            "p",
            ValueKind::Float {
                min: f64::MIN_POSITIVE,
                max: 100.0,
            },
            "percentile, e.g. 99.9",
        )],
        named: &[req("data", ValueKind::Dataset, "calibration data")],
        doc: "Normalise each layer by the p-th percentile of its activations on `data`.",
        equation: None,
    },
    CallSpec {
        name: "qcfs",
        kind: CallKind::Normalizer,
        positional: &[req("steps", COUNT, "the steps the network will run")],
        named: &[req("data", ValueKind::Dataset, "calibration data")],
        doc: "Normalise each layer by the scale whose spike count after `steps` steps best copies its activations on `data` (a quantised clip, QCFS-style).",
        equation: None,
    },
    CallSpec {
        name: "onnx",
        kind: CallKind::Loader,
        positional: &[req(
            "path",
            ValueKind::Str,
            "path to the .onnx file, relative to this file",
        )],
        named: &[],
        doc: "Binds an ONNX model.",
        equation: None,
    },
    CallSpec {
        name: "npz",
        kind: CallKind::Loader,
        positional: &[req(
            "path",
            ValueKind::Str,
            "path to the .npz file, relative to this file",
        )],
        named: &[
            opt(
                "x",
                ValueKind::Str,
                "\"x\"",
                "key of the inputs (datasets only)",
            ),
            maybe("y", ValueKind::Str, "key of the labels (datasets only)"),
        ],
        doc: "Binds an NPZ archive.",
        equation: None,
    },
    CallSpec {
        name: "to_image",
        kind: CallKind::DatasetOp,
        positional: &[req(
            "data",
            ValueKind::Dataset,
            "a dataset whose `x` is a table [rows, features]",
        )],
        named: &[
            opt(
                "size",
                ValueKind::Size,
                "[16, 16]",
                "image height and width in pixels",
            ),
            opt(
                "method",
                ValueKind::Word(IMAGE_METHODS),
                "pca",
                "how features are placed: pca, kpca (RBF kernel PCA) or tsne (exact t-SNE, cosine)",
            ),
            opt(
                "assign",
                ValueKind::Word(IMAGE_ASSIGNMENTS),
                "bin",
                "how placed features get pixels: bin, or lsa (linear sum assignment to pixel centres)",
            ),
            maybe(
                "fit",
                ValueKind::Dataset,
                "fit the map on this dataset's rows (e.g. the training set); default: `data` itself",
            ),
            maybe(
                "map",
                ValueKind::Str,
                "a saved map (.json, from `neuride data to-image --map`) used instead of fitting",
            ),
        ],
        doc: "Turns a table into images (DeepInsight): each feature gets a pixel from an embedding of the features over the rows, so that features that vary together sit together; values are Norm2-scaled and features sharing a pixel averaged. `x` becomes [1, height, width] per sample; `y` is the table's.",
        equation: None,
    },
    CallSpec {
        name: "replay",
        kind: CallKind::SensorSource,
        positional: &[req(
            "data",
            ValueKind::Dataset,
            "dataset whose inputs are replayed",
        )],
        named: &[],
        doc: "Replays a dataset's inputs as sensor readings.",
        equation: None,
    },
    CallSpec {
        name: "mqtt",
        kind: CallKind::SensorSource,
        positional: &[req("topic", ValueKind::Str, "MQTT topic")],
        named: &[],
        doc: "Readings from an MQTT topic.",
        equation: None,
    },
    CallSpec {
        name: "raster",
        kind: CallKind::Record,
        positional: &[req(
            "layer",
            ValueKind::Layer,
            "layer whose spikes are recorded",
        )],
        named: &[],
        doc: "Records the spike raster of one layer.",
        equation: None,
    },
];

pub fn call(name: &str) -> Option<&'static CallSpec> {
    CALLS.iter().find(|spec| spec.name == name)
}

pub fn calls_of(kind: CallKind) -> impl Iterator<Item = &'static CallSpec> {
    CALLS.iter().filter(move |spec| spec.kind == kind)
}

/// A setting key of a block: its value kind and documentation.
#[derive(Clone, Copy, Debug)]
pub struct SettingSpec {
    pub key: &'static str,
    pub doc: &'static str,
    /// Inserted by completion after `key = `.
    pub snippet: &'static str,
}

pub const CONVERT_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "neuron",
        doc: "the spiking neuron replacing each ReLU (`lif(...)`, `if(...)`, `leaky(...)`)",
        snippet: "neuron = ${1:if(threshold: 1.0, reset: subtract)}",
    },
    SettingSpec {
        key: "normalize",
        doc: "weight normalisation: `max(data: D)`, `percentile(P, data: D)`, `qcfs(T, data: D)` or `none`",
        snippet: "normalize = percentile(${1:99.9}, data: ${2:calib})",
    },
    SettingSpec {
        key: "weights",
        doc: "take tensors from an NPZ archive by initializer name",
        snippet: "weights = ${1:w}",
    },
    SettingSpec {
        key: "max_to_avg",
        doc: "replace MaxPool with AvgPool (`true`/`false`; else a spiking max-pool)",
        snippet: "max_to_avg = ${1:true}",
    },
];

pub const SIMULATE_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "dt",
        doc: "time step (default 1ms)",
        snippet: "dt = ${1:1ms}",
    },
    SettingSpec {
        key: "steps",
        doc: "number of time steps per sample (default 100)",
        snippet: "steps = ${1:50}",
    },
    SettingSpec {
        key: "encode",
        doc: "input encoding: `rate(...)`, `current()`, `latency(tau: T)`, `delta(threshold: x)`",
        snippet: "encode = ${1:rate(max_rate: 1000Hz, seed: 0)}",
    },
    SettingSpec {
        key: "decode",
        doc: "output decoding: `count`, `membrane` or `first_spike`",
        snippet: "decode = ${1|count,membrane,first_spike|}",
    },
    BATCH,
    LIMIT,
    SettingSpec {
        key: "record",
        doc: "what to record: accuracy, rates, synops, latency, raster(LAYER)",
        snippet: "record = [${1:accuracy}]",
    },
];

/// `batch` and `limit`, the same in a simulate block and a sweep.
const BATCH: SettingSpec = SettingSpec {
    key: "batch",
    doc: "samples simulated together",
    snippet: "batch = ${1:32}",
};
const LIMIT: SettingSpec = SettingSpec {
    key: "limit",
    doc: "simulate only the first N samples",
    snippet: "limit = ${1:100}",
};

/// A `sweep` block's settings: a list of values (`steps = [10, 20, 50]`) is
/// an axis of the grid, a single value is fixed for every trial.
pub const SWEEP_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "steps",
        doc: "time steps per sample; a list sweeps them (default 100)",
        snippet: "steps = [${1:10, 20, 50}]",
    },
    SettingSpec {
        key: "dt",
        doc: "time step (default 1ms); a list sweeps it",
        snippet: "dt = ${1:1ms}",
    },
    SettingSpec {
        key: "encode",
        doc: "input encoding(s): `[current, rate(max_rate: 1000Hz)]`",
        snippet: "encode = [${1:current, rate}]",
    },
    SettingSpec {
        key: "decode",
        doc: "output decoding(s): count, membrane, first_spike",
        snippet: "decode = ${1|count,membrane,first_spike|}",
    },
    SettingSpec {
        key: "neuron",
        doc: "converted networks: the neuron(s) replacing each ReLU, e.g. `[if(threshold: 0.8), if(threshold: 1.0)]`",
        snippet: "neuron = [${1:if(threshold: 0.8), if(threshold: 1.0)}]",
    },
    SettingSpec {
        key: "max_to_avg",
        doc: "converted networks: MaxPool as AvgPool, `[true, false]`",
        snippet: "max_to_avg = ${1:true}",
    },
    BATCH,
    LIMIT,
    SettingSpec {
        key: "jobs",
        doc: "trials run at once (default: the machine's cores)",
        snippet: "jobs = ${1:2}",
    },
    SettingSpec {
        key: "random",
        doc: "run only N combinations of the grid, drawn at random",
        snippet: "random = ${1:10}",
    },
];

pub const INFER_SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "record",
        doc: "what to record: accuracy, latency",
        snippet: "record = [${1:accuracy}]",
    },
    SettingSpec {
        key: "batch",
        doc: "samples run together",
        snippet: "batch = ${1:32}",
    },
    SettingSpec {
        key: "limit",
        doc: "run only the first N samples",
        snippet: "limit = ${1:100}",
    },
];

pub const IMAGE_METHODS: &[&str] = &["pca", "kpca", "tsne"];
pub const IMAGE_ASSIGNMENTS: &[&str] = &["bin", "lsa"];
/// t-SNE's perplexity in `to_image` (it needs more features than this).
pub const IMAGE_TSNE_PERPLEXITY: f64 = 30.0;
pub const DECODERS: &[&str] = &["count", "membrane", "first_spike"];
pub const SIMULATE_RECORDS: &[&str] = &["accuracy", "rates", "synops", "latency"];
pub const INFER_RECORDS: &[&str] = &["accuracy", "latency"];
pub const PIPELINE_STAGES: &[(&str, &str)] = &[
    ("argmax", "index of the largest output: a class"),
    ("softmax", "probabilities over the outputs"),
    ("mean", "mean of the outputs: a scalar"),
    ("max", "largest output: a scalar"),
];
pub const DTYPES: &[&str] = &["f16", "f32", "f64", "i8", "i32", "i64", "u8", "bool"];
/// Defaults used where a setting is not written.
pub const DEFAULT_DT_SECONDS: f64 = 1e-3;
pub const DEFAULT_STEPS: u64 = 100;
