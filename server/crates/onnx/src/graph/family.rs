//! Op families: the colour groups of the drawing (each is a CSS class
//! `op-<family>` in the SVG and a fill colour in DOT).

/// The family an op belongs to, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Conv,
    MatMul,
    Activation,
    Norm,
    Pool,
    Spiking,
    Compare,
    Elementwise,
    Shape,
    Ml,
    Control,
    Quant,
    Constant,
    Other,
    /// Pseudo-families for the boxes that are not nodes.
    Input,
    Output,
    Block,
    Undefined,
}

impl Family {
    /// The CSS class suffix (`op-conv`, ...).
    pub fn css(self) -> &'static str {
        match self {
            Family::Conv => "conv",
            Family::MatMul => "matmul",
            Family::Activation => "activation",
            Family::Norm => "norm",
            Family::Pool => "pool",
            Family::Spiking => "spiking",
            Family::Compare => "compare",
            Family::Elementwise => "elementwise",
            Family::Shape => "shape",
            Family::Ml => "ml",
            Family::Control => "control",
            Family::Quant => "quant",
            Family::Constant => "constant",
            Family::Other => "other",
            Family::Input => "input",
            Family::Output => "output",
            Family::Block => "block",
            Family::Undefined => "undefined",
        }
    }

    /// Fill and stroke colours, shared by the SVG style sheet and DOT.
    pub fn colors(self) -> (&'static str, &'static str) {
        match self {
            Family::Conv => ("#dbeafe", "#2563eb"),
            Family::MatMul => ("#e0e7ff", "#4f46e5"),
            Family::Activation => ("#fee2e2", "#dc2626"),
            Family::Norm => ("#dcfce7", "#16a34a"),
            Family::Pool => ("#cffafe", "#0891b2"),
            Family::Spiking => ("#fef3c7", "#d97706"),
            Family::Compare => ("#fce7f3", "#db2777"),
            Family::Elementwise => ("#f3f4f6", "#6b7280"),
            Family::Shape => ("#f5f5f4", "#a8a29e"),
            Family::Ml => ("#ede9fe", "#7c3aed"),
            Family::Control => ("#ffedd5", "#ea580c"),
            Family::Quant => ("#ecfccb", "#65a30d"),
            Family::Constant => ("#fafafa", "#d4d4d4"),
            Family::Other => ("#ffffff", "#525252"),
            Family::Input => ("#d1fae5", "#047857"),
            Family::Output => ("#fde68a", "#b45309"),
            Family::Block => ("#e2e8f0", "#334155"),
            Family::Undefined => ("#fff1f2", "#e11d48"),
        }
    }

    /// Every family, for the style sheet and the legend.
    pub const ALL: [Family; 18] = [
        Family::Conv,
        Family::MatMul,
        Family::Activation,
        Family::Norm,
        Family::Pool,
        Family::Spiking,
        Family::Compare,
        Family::Elementwise,
        Family::Shape,
        Family::Ml,
        Family::Control,
        Family::Quant,
        Family::Constant,
        Family::Other,
        Family::Input,
        Family::Output,
        Family::Block,
        Family::Undefined,
    ];
}

/// Spiking neuron ops as snnTorch, Norse, Lava and custom exporters name them.
const SPIKING_OPS: &[&str] = &[
    "lif",
    "if",
    "leaky",
    "rleaky",
    "synaptic",
    "rsynaptic",
    "alpha",
    "lapicque",
    "cubalif",
    "cuba",
    "izhikevich",
    "heaviside",
    "spike",
    "spikefn",
    "lifcell",
    "liflayer",
    "plif",
    "adex",
    "alif",
];

/// The family of `op` in `domain`.
pub fn family_of(op: &str, domain: &str) -> Family {
    if domain == "ai.onnx.ml" {
        return Family::Ml;
    }
    let lower = op.to_ascii_lowercase();
    if SPIKING_OPS.contains(&lower.as_str()) || lower.contains("spik") || lower.ends_with("lif") {
        return Family::Spiking;
    }
    match op {
        "Conv" | "ConvTranspose" | "ConvInteger" | "QLinearConv" | "DeformConv" => Family::Conv,
        "MatMul" | "Gemm" | "MatMulInteger" | "QLinearMatMul" | "Einsum" | "Attention"
        | "MultiHeadAttention" => Family::MatMul,
        "Relu" | "LeakyRelu" | "PRelu" | "Sigmoid" | "HardSigmoid" | "Tanh" | "Elu" | "Selu"
        | "Celu" | "Gelu" | "FastGelu" | "Softmax" | "LogSoftmax" | "Softplus" | "Softsign"
        | "HardSwish" | "Mish" | "ThresholdedRelu" | "Hardmax" | "Swish" | "QuickGelu" => {
            Family::Activation
        }
        "BatchNormalization"
        | "LayerNormalization"
        | "InstanceNormalization"
        | "GroupNormalization"
        | "LpNormalization"
        | "MeanVarianceNormalization"
        | "RMSNormalization"
        | "SimplifiedLayerNormalization"
        | "SkipLayerNormalization"
        | "LRN" => Family::Norm,
        "MaxPool" | "AveragePool" | "GlobalAveragePool" | "GlobalMaxPool" | "LpPool"
        | "GlobalLpPool" | "MaxRoiPool" | "RoiAlign" | "MaxUnpool" => Family::Pool,
        "Greater" | "GreaterOrEqual" | "Less" | "LessOrEqual" | "Equal" | "Where" | "Sign"
        | "Not" | "And" | "Or" | "Xor" => Family::Compare,
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Sqrt" | "Exp" | "Log" | "Abs" | "Neg"
        | "Reciprocal" | "Clip" | "Min" | "Max" | "Sum" | "Mean" | "Floor" | "Ceil" | "Round"
        | "Erf" | "Mod" | "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd"
        | "ReduceL2" | "ReduceL1" | "ArgMax" | "ArgMin" | "CumSum" => Family::Elementwise,
        "Reshape" | "Flatten" | "Transpose" | "Squeeze" | "Unsqueeze" | "Concat" | "Split"
        | "Slice" | "Gather" | "GatherElements" | "GatherND" | "Shape" | "Size" | "Expand"
        | "Tile" | "Pad" | "Identity" | "Cast" | "CastLike" | "Resize" | "Upsample"
        | "DepthToSpace" | "SpaceToDepth" | "ScatterND" | "ScatterElements" | "Range"
        | "ConstantOfShape" | "NonZero" | "TopK" | "OneHot" => Family::Shape,
        "Loop" | "If" | "Scan" | "SequenceMap" => Family::Control,
        "QuantizeLinear" | "DequantizeLinear" | "DynamicQuantizeLinear" => Family::Quant,
        "Constant" => Family::Constant,
        "LSTM" | "GRU" | "RNN" => Family::MatMul,
        _ => Family::Other,
    }
}
