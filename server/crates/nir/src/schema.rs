//! The NIR node types as data (nir 1.0.8, `nir/ir/*.py`): each type's
//! parameters, which are required, and its equation. The reader checks
//! files against it, hovers and the text view print from it, and "is this
//! type known" is answered by this one table.

/// What a parameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A float array (per neuron, or a weight).
    Floats,
    /// An integer or a list of integers (a shape, a stride).
    Ints,
    /// An integer, a list of integers, or the text `same` / `valid` (conv padding).
    Padding,
}

#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Absent optional parameters take NIR's default (said in `doc`).
    pub required: bool,
    pub doc: &'static str,
}

#[derive(Clone, Copy, Debug)]
pub struct TypeSpec {
    pub name: &'static str,
    pub summary: &'static str,
    /// The continuous-time definition, as NIR states it.
    pub equation: &'static str,
    pub params: &'static [ParamSpec],
    /// Emits spikes (0/1 events) rather than values.
    pub spiking: bool,
}

const fn req(name: &'static str, kind: ParamKind, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        required: true,
        doc,
    }
}

const fn opt(name: &'static str, kind: ParamKind, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        required: false,
        doc,
    }
}

use ParamKind::{Floats, Ints, Padding};

const TAU: ParamSpec = req("tau", Floats, "membrane time constant (s)");
const R: ParamSpec = req("r", Floats, "resistance (input gain)");
const V_LEAK: ParamSpec = req("v_leak", Floats, "leak (resting) voltage");
const V_THRESHOLD: ParamSpec = req("v_threshold", Floats, "firing threshold");
const V_RESET: ParamSpec = opt("v_reset", Floats, "voltage after a spike (default 0)");
const TAU_SYN: ParamSpec = req("tau_syn", Floats, "synaptic time constant (s)");
const TAU_MEM: ParamSpec = req("tau_mem", Floats, "membrane time constant (s)");
const W_IN: ParamSpec = opt(
    "w_in",
    Floats,
    "input weight of the synaptic current (default 1)",
);
const WEIGHT: ParamSpec = req("weight", Floats, "weight, `[out, in]` (PyTorch layout)");
const CONV: [ParamSpec; 7] = [
    req("weight", Floats, "kernel, `[out, in / groups, k...]`"),
    req("bias", Floats, "one per output channel"),
    req("stride", Ints, "step of the window"),
    req(
        "padding",
        Padding,
        "zeros on each side, or `same` / `valid`",
    ),
    req("dilation", Ints, "spacing of the kernel taps"),
    req("groups", Ints, "channel groups"),
    opt("input_shape", Ints, "spatial size of the input"),
];
const POOL: [ParamSpec; 3] = [
    req("kernel_size", Ints, "window (height, width)"),
    req("stride", Ints, "step (height, width)"),
    req("padding", Ints, "zeros on each side (height, width)"),
];

pub const TYPES: &[TypeSpec] = &[
    TypeSpec {
        name: "Input",
        summary: "a graph input",
        equation: "",
        params: &[req("shape", Ints, "per-sample shape of the data")],
        spiking: false,
    },
    TypeSpec {
        name: "Output",
        summary: "a graph output",
        equation: "",
        params: &[req("shape", Ints, "per-sample shape of the result")],
        spiking: false,
    },
    TypeSpec {
        name: "Affine",
        summary: "a dense layer with bias",
        equation: "y = W x + b",
        params: &[WEIGHT, req("bias", Floats, "one per output")],
        spiking: false,
    },
    TypeSpec {
        name: "Linear",
        summary: "a dense layer without bias",
        equation: "y = W x",
        params: &[WEIGHT],
        spiking: false,
    },
    TypeSpec {
        name: "Scale",
        summary: "an elementwise product",
        equation: "y = s ⊙ x",
        params: &[req("scale", Floats, "one factor per element")],
        spiking: false,
    },
    TypeSpec {
        name: "Conv1d",
        summary: "a 1-D convolution (PyTorch semantics)",
        equation: "y = W ⋆ x + b",
        params: &CONV,
        spiking: false,
    },
    TypeSpec {
        name: "Conv2d",
        summary: "a 2-D convolution (PyTorch semantics)",
        equation: "y = W ⋆ x + b",
        params: &CONV,
        spiking: false,
    },
    TypeSpec {
        name: "SumPool2d",
        summary: "2-D sum pooling",
        equation: "y = Σ window(x)",
        params: &POOL,
        spiking: false,
    },
    TypeSpec {
        name: "AvgPool2d",
        summary: "2-D average pooling",
        equation: "y = mean window(x)",
        params: &POOL,
        spiking: false,
    },
    TypeSpec {
        name: "Flatten",
        summary: "merges dimensions start_dim..end_dim",
        equation: "",
        params: &[
            req("start_dim", Ints, "first dimension merged (per sample)"),
            req("end_dim", Ints, "last dimension merged (-1: the last)"),
            opt("input_type", Ints, "per-sample input shape"),
        ],
        spiking: false,
    },
    TypeSpec {
        name: "Delay",
        summary: "a delay line",
        equation: "y(t) = x(t - τ)",
        params: &[req("delay", Floats, "delay of each element (s)")],
        spiking: false,
    },
    TypeSpec {
        name: "Threshold",
        summary: "a Heaviside step",
        equation: "z = 1 if x > θ else 0",
        params: &[req("threshold", Floats, "θ per element")],
        spiking: true,
    },
    TypeSpec {
        name: "I",
        summary: "integrator",
        equation: "dv/dt = R I",
        params: &[R],
        spiking: false,
    },
    TypeSpec {
        name: "LI",
        summary: "leaky integrator",
        equation: "τ dv/dt = (v_leak - v) + R I",
        params: &[TAU, R, V_LEAK],
        spiking: false,
    },
    TypeSpec {
        name: "IF",
        summary: "integrate-and-fire neuron",
        equation: "dv/dt = R I; z = v > v_threshold; v ← v_reset after a spike",
        params: &[R, V_THRESHOLD, V_RESET],
        spiking: true,
    },
    TypeSpec {
        name: "LIF",
        summary: "leaky integrate-and-fire neuron",
        equation: "τ dv/dt = (v_leak - v) + R I; z = v > v_threshold; v ← v_reset after a spike",
        params: &[TAU, R, V_LEAK, V_THRESHOLD, V_RESET],
        spiking: true,
    },
    TypeSpec {
        name: "CubaLI",
        summary: "current-based leaky integrator",
        equation: "τ_syn dI/dt = -I + w_in S; τ_mem dv/dt = (v_leak - v) + R I",
        params: &[TAU_SYN, TAU_MEM, R, V_LEAK, W_IN],
        spiking: false,
    },
    TypeSpec {
        name: "CubaLIF",
        summary: "current-based leaky integrate-and-fire neuron",
        equation: "τ_syn dI/dt = -I + w_in S; τ_mem dv/dt = (v_leak - v) + R I; z = v > v_threshold; v ← v_reset after a spike",
        params: &[TAU_SYN, TAU_MEM, R, V_LEAK, V_THRESHOLD, V_RESET, W_IN],
        spiking: true,
    },
    TypeSpec {
        name: "NIRGraph",
        summary: "a graph of nodes (nested graphs are subnetworks)",
        equation: "",
        params: &[],
        spiking: false,
    },
];

/// The type named `name`, if NIR defines it.
pub fn find(name: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().find(|t| t.name == name)
}

/// The neuron types (they have state and per-neuron parameters).
pub fn is_neuron(name: &str) -> bool {
    matches!(name, "I" | "LI" | "IF" | "LIF" | "CubaLI" | "CubaLIF")
}
