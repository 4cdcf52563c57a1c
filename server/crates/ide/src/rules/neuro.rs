//! The `neuro/` rules: the Neuro language checker's codes (`neuride_dsl`)
//! and the host's. Each example is a `.neuro` file next to the files of
//! `tests/fixtures/` (`dl/digits_cnn.onnx`, `data/digits_test.npz`, ...): a
//! test checks it there and expects the rule's code.

use super::Rule;

pub(super) const RULES: &[Rule] = &[
    rule!(
        "neuro/syntax",
        "Syntax error",
        Error,
        false,
        "the file does not parse here (the parser recovers at the next entry or item)",
        r#"
The message says what was expected and names the token found; the error
points at the end of the previous token, where the missing piece belongs.

**Example**:
```neuro
model cnn = onnx("dl/digits_cnn.onnx"
dataset test = npz("data/digits_test.npz", x: "x", y: "y")
```

**Fix**: add what is missing: `onnx("dl/digits_cnn.onnx")`.
"#
    ),
    rule!(
        "neuro/not-utf8",
        "Not UTF-8",
        Error,
        false,
        "a `.neuro` file must be UTF-8 text",
        r#"
**Example**: a file saved as Latin-1 with `// café` in a comment.

**Fix**: save the file as UTF-8.
"#
    ),
    rule!(
        "neuro/unknown-name",
        "Unknown name",
        Error,
        false,
        "a name, call or layer that does not exist (close names are suggested)",
        r#"
**Example**:
```neuro
dataset test = npz("data/digits_test.npz", x: "x", y: "y")
simulate snn on test {
    steps = 10
}
```

**Fix**: define the name (`network snn = ...`) or correct it; the editor
offers the close names as quick fixes.
"#
    ),
    rule!(
        "neuro/duplicate-name",
        "Name defined twice",
        Error,
        false,
        "a name or setting defined twice",
        r#"
**Example**:
```neuro
model cnn = onnx("dl/digits_cnn.onnx")
model cnn = onnx("dl/digits_mlp.onnx")
```

**Fix**: rename one of them.
"#
    ),
    rule!(
        "neuro/wrong-kind",
        "Name of the wrong kind",
        Error,
        false,
        "a name of the wrong kind (e.g. `simulate` a model: suggests `convert`)",
        r#"
**Example**: a model cannot be simulated, only a network:
```neuro
model cnn = onnx("dl/digits_cnn.onnx")
dataset test = npz("data/digits_test.npz", x: "x", y: "y")
simulate cnn on test {
    steps = 10
}
```

**Fix**: convert it first (`network snn = convert(cnn)`) and simulate
`snn`; the editor offers this as a quick fix.
"#
    ),
    rule!(
        "neuro/unknown-argument",
        "Unknown argument",
        Error,
        false,
        "an unknown named argument, or one positional argument too many",
        r#"
**Example**:
```neuro
network n {
    input x: f32[4]
    output y = dense(x, out: 2, size: 3)
}
```

**Fix**: use the call's parameters (hover on the call lists them).
"#
    ),
    rule!(
        "neuro/duplicate-argument",
        "Argument given twice",
        Error,
        false,
        "the same argument twice",
        r#"
**Example**:
```neuro
network n {
    input x: f32[4]
    output y = dense(x, out: 2, out: 3)
}
```

**Fix**: keep one.
"#
    ),
    rule!(
        "neuro/missing-argument",
        "Missing argument",
        Error,
        false,
        "a required argument is missing",
        r#"
**Example**: `dense` needs `out`:
```neuro
network n {
    input x: f32[4]
    output y = dense(x)
}
```

**Fix**: pass it (`dense(x, out: 2)`); the editor's quick fix inserts the
missing arguments.
"#
    ),
    rule!(
        "neuro/unknown-setting",
        "Unknown setting",
        Error,
        false,
        "a setting the block does not take",
        r#"
**Example**:
```neuro
model cnn = onnx("dl/digits_cnn.onnx")
network snn = convert(cnn) {
    speed = 2
}
```

**Fix**: use the block's settings (`neuron`, `normalize`, `weights`,
`max_to_avg` for `convert`).
"#
    ),
    rule!(
        "neuro/misplaced",
        "Entry in the wrong block",
        Error,
        false,
        "an entry that does not belong in its block",
        r#"
**Example**: sensors belong in apps, not networks:
```neuro
network n {
    input x: f32[4]
    sensor s: f32[4] @ 1Hz = mqtt("t")
    output y = relu(x)
}
```

**Fix**: move the entry to a block that takes it.
"#
    ),
    rule!(
        "neuro/incomplete",
        "Network without input or output",
        Error,
        false,
        "a written network with no input or no output",
        r#"
**Example**:
```neuro
network n {
    input x: f32[4]
    layer h = relu(x)
}
```

**Fix**: mark the last layer as the output (`output h = relu(x)`).
"#
    ),
    rule!(
        "neuro/invalid-value",
        "Invalid value",
        Error,
        false,
        "a value of the wrong form (`reset: sub`, a string for a number, ...)",
        r#"
**Example**:
```neuro
network n {
    input x: f32[4]
    output y = leaky(x, beta: 0.9, reset: sub)
}
```

**Fix**: write a value the parameter takes (`reset: subtract`); hover
lists them.
"#
    ),
    rule!(
        "neuro/missing-file",
        "Missing file",
        Error,
        false,
        "the bound model or archive does not exist",
        r#"
Paths are relative to the `.neuro` file.

**Example**:
```neuro
model cnn = onnx("dl/no_such_model.onnx")
```

**Fix**: correct the path (completion lists the folder's files).
"#
    ),
    rule!(
        "neuro/wrong-format",
        "File of the wrong format",
        Error,
        false,
        "the bound file is not an ONNX model / NPZ archive",
        r#"
**Example**:
```neuro
model cnn = onnx("dl/digits_cnn.npz")
```

**Fix**: bind models with `onnx(...)` and archives with `npz(...)`.
"#
    ),
    rule!(
        "neuro/unknown-key",
        "Unknown archive key",
        Error,
        false,
        "an NPZ key that is not in the archive (close keys are listed)",
        r#"
A `convert` whose `weights` archive shares no name with the model's
initializers is a warning.

**Example**:
```neuro
dataset test = npz("data/digits_test.npz", x: "images", y: "y")
```

**Fix**: use a key the archive has (`neuride info data/digits_test.npz`).
"#
    ),
    rule!(
        "neuro/shape-mismatch",
        "Shapes do not fit",
        Error,
        false,
        "weights vs layer, layer vs layer, dataset vs input: both shapes in the message",
        r#"
**Example**: the CNN takes 1x8x8 images, the network declares 64 values:
```neuro
weights w = npz("dl/digits_mlp.npz")
network n {
    input x: f32[32]
    output y = dense(x, out: 64, weight: w["fc1.weight"])
}
```

**Fix**: make the shapes agree (here `input x: f32[64]`).
"#
    ),
    rule!(
        "neuro/unit",
        "Wrong unit",
        Error,
        false,
        "a unit of the wrong dimension, or an unknown unit",
        r#"
**Example**: `tau_rc` is a time:
```neuro
network n {
    input x: f32[4]
    output y = lif(x, tau_rc: 20Hz)
}
```

**Fix**: write a time (`tau_rc: 20ms`); the quick fix offers the right unit.
"#
    ),
    rule!(
        "neuro/range",
        "Value out of range",
        Error,
        false,
        "a value out of range (`steps = 0`, `beta` outside [0, 1], ...); `tau_ref < dt` is a warning",
        r#"
**Example**:
```neuro
network n {
    input x: f32[4]
    output y = leaky(x, beta: 1.5)
}
```

**Fix**: use a value in range (`beta` is a decay factor in [0, 1]).
"#
    ),
    rule!(
        "neuro/not-dl",
        "Model is not deep learning",
        Error,
        false,
        "`convert` of a model that is not deep learning",
        r#"
Only deep-learning models (ReLU networks) convert to spiking networks.

**Example**:
```neuro
model rf = onnx("ml/breast_cancer_rf.onnx")
network snn = convert(rf)
```

**Fix**: run classic ML models with `infer` instead.
"#
    ),
    rule!(
        "neuro/already-spiking",
        "Model already spiking",
        Error,
        false,
        "`convert` of a model that is already a spiking network",
        r#"
**Example**:
```neuro
model s = onnx("snn/digits_snntorch.onnx")
network snn = convert(s)
```

**Fix**: simulate or infer the spiking model as it is.
"#
    ),
    rule!(
        "neuro/unconvertible",
        "Unconvertible operators",
        Error,
        false,
        "the model has operators the converter cannot convert (all named in one message)",
        r#"
**Example**: a model with attention (`Softmax`, `MatMul` of two
activations) in `convert(m)`.

**Fix**: convert a ReLU network of supported layers (docs/snn.md lists
them), or run the model with `infer`.
"#
    ),
    rule!(
        "neuro/pipeline",
        "Pipeline does not connect",
        Error,
        false,
        "pipeline stages whose shapes or kinds do not connect",
        r#"
**Example**:
```neuro
app a {
    sensor s: f32[4] @ 1Hz = mqtt("t")
    pipeline s
}
```

**Fix**: write `pipeline SENSOR -> MODEL_OR_NETWORK -> OUTPUT`, with shapes
that fit.
"#
    ),
    rule!(
        "neuro/rate",
        "Sensor faster than its network",
        Error,
        false,
        "a sensor reads faster than a network stage can run",
        r#"
A spiking network takes `steps x dt` per reading; a sensor faster than
that drops readings.

**Example**: 100 steps of 1 ms take 100 ms, so at most 10 Hz.
```neuro
model cnn = onnx("dl/digits_mlp.onnx")
network snn = convert(cnn)
dataset test = npz("data/digits_test.npz", x: "x", y: "y")
simulate snn on test {
    steps = 100
}
app a {
    sensor s: f32[1, 8, 8] @ 50Hz = mqtt("t")
    pipeline s -> snn -> digit
}
```

**Fix**: lower the sensor's rate, or the network's steps or `dt`.
"#
    ),
    rule!(
        "neuro/no-labels",
        "No labels",
        Warning,
        false,
        "`accuracy` recorded on a dataset without labels",
        r#"
**Example**:
```neuro
model mlp = onnx("dl/digits_mlp.onnx")
dataset calib = npz("data/digits_calib.npz", x: "x")
infer mlp on calib {
    record = [accuracy]
}
```

**Fix**: bind the labels (`y: "y"`) or drop `accuracy`.
"#
    ),
];
