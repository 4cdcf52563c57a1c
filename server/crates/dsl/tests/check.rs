//! Checker tests: one fixture per rule, with the diagnostics as a snapshot
//! (`UPDATE_EXPECT=1` rewrites them). Facts come from `support`.

mod support;

use expect_test::{Expect, expect};

fn check(text: &str, expect: Expect) {
    let parse = neuride_dsl::parse(text);
    let analysis = neuride_dsl::check(&parse, &support::all_facts());
    let mut out = String::new();
    for diagnostic in &analysis.diagnostics {
        let snippet = &text[diagnostic.range.start..diagnostic.range.end];
        out.push_str(&format!(
            "{:?} {} `{}`: {}\n",
            diagnostic.severity, diagnostic.code, snippet, diagnostic.message
        ));
        for fix in &diagnostic.fixes {
            out.push_str(&format!(
                "  fix: {} {:?}\n",
                fix.title,
                fix.edits.iter().map(|e| &e.new_text).collect::<Vec<_>>()
            ));
        }
    }
    expect.assert_eq(&out);
}

const HEADER: &str = r#"model cnn = onnx("cnn.onnx")
weights w = npz("cnn.npz")
weights m = npz("mlp.npz")
dataset test = npz("data/test.npz", x: "x", y: "y")
dataset calib = npz("data/calib.npz")
"#;

fn with_header(body: &str) -> String {
    format!("{HEADER}{body}")
}

#[test]
fn names_kinds_and_duplicates() {
    check(
        &with_header(
            r#"model cnn = onnx("cnn.onnx")
simulate cnn on test { steps = 10 }
simulate nope on tset { steps = 10 }
infer w on test { }
"#,
        ),
        expect![[r#"
            Error neuro/duplicate-name `cnn`: expected a new name, found `cnn` already defined as a model above
            Error neuro/wrong-kind `cnn`: expected a network to simulate, found `cnn` which is a model; convert it first with `network cnn_snn = convert(cnn) { ... }`
              fix: Insert a convert block for `cnn` ["\n\nnetwork cnn_snn = convert(cnn) {\n    neuron = if(threshold: 1.0, reset: subtract)\n    normalize = percentile(99.9, data: test)\n}", "cnn_snn"]
            Error neuro/unknown-name `nope`: expected a network to simulate, found unknown name `nope`
              fix: Create network `nope` ["network nope {\n    input x: f32[1]\n    output y = relu(x)\n}\n\n"]
            Error neuro/unknown-name `tset`: expected a dataset after `on`, found unknown name `tset`; did you mean `test`?
              fix: Create dataset `tset` ["dataset tset = npz(\"tset.npz\", x: \"x\", y: \"y\")\n"]
            Error neuro/wrong-kind `w`: expected a model, found `w` which is a weights
        "#]],
    );
}

#[test]
fn files_formats_and_keys() {
    check(
        r#"model a = onnx("missing.onnx")
model b = onnx("broken.onnx")
model c = onnx("cnn.npz")
weights d = onnx("cnn.npz")
dataset e = npz("data/iris.npz", x: "inputs", y: "y")
dataset f = npz("cnn.npz")
weights g = npz("cnn.npz", x: "x")
"#,
        expect![[r#"
            Error neuro/missing-file `"missing.onnx"`: expected an ONNX model at "missing.onnx", found no file
            Error neuro/wrong-format `"broken.onnx"`: expected an ONNX model at "broken.onnx", found bytes that are not a protobuf ModelProto (truncated at byte 3)
            Error neuro/wrong-format `"cnn.npz"`: expected an ONNX model at "cnn.npz", found an NPZ archive, not an ONNX model
            Error neuro/wrong-kind `onnx`: expected `npz(...)` for a weights, found `onnx(...)`
            Error neuro/unknown-key `"inputs"`: expected a key of `data/iris.npz` (e.g. "x", "y"), found "inputs"
            Error neuro/unknown-key `npz`: expected an array "x" in "cnn.npz" (the default input key), found none; name the key with `x: "..."`
            Error neuro/unknown-argument `x`: expected only a path for a weights, found `x:` (x and y are for datasets)
        "#]],
    );
}

#[test]
fn shapes_through_a_written_network() {
    // The DSL.md example: after one conv and one pool the flatten has 128
    // features, but fc.weight is [10, 64].
    check(
        &with_header(
            r#"network tiny {
    input x: f32[1, 8, 8]
    layer c1 = conv2d(x, out: 8, kernel: 3, padding: 1, weight: w["conv1.weight"])
    layer s1 = leaky(c1, beta: 0.9, threshold: 1.0, reset: subtract)
    layer p1 = avgpool(s1, kernel: 2)
    layer f  = flatten(p1)
    layer d  = dense(f, out: 10, weight: w["fc.weight"])
    layer e  = dense(p1, out: 10, weight: w["fc.weight"])
    layer c2 = conv2d(p1, out: 16, kernel: 3, weight: w["conv1.weight"])
    layer g  = add(c1, p1)
    layer h  = dense(f, out: 10, weight: w["fc.wieght"])
    output y = leaky(d, beta: 0.9)
}
"#,
        ),
        expect![[r#"
            Error neuro/shape-mismatch `dense`: `dense`: expected weight shaped [out, in] = [10, 128], found [10, 64]
            Error neuro/shape-mismatch `dense`: `dense`: expected a 1-D input [in], found [8, 4, 4]; add `flatten` first
            Error neuro/shape-mismatch `conv2d`: `conv2d`: expected weight shaped [out, in/groups, KH, KW] = [16, 8, 3, 3], found [8, 1, 3, 3]
            Error neuro/shape-mismatch `add`: `add`: expected every input to have the same shape, found [8, 8, 8] and [8, 4, 4]
            Error neuro/unknown-key `"fc.wieght"`: expected a key of `cnn.npz` (e.g. "fc.weight", "conv1.weight", "conv2.weight"), found "fc.wieght"
        "#]],
    );
}

#[test]
fn residuals_concatenation_and_windows() {
    // What converted CNNs print: n-ary add, concat, clip, scale, depthwise
    // conv, rectangular windows and asymmetric padding, capped/signed IF.
    check(
        &with_header(
            r#"network blocks {
    input x: f32[1, 8, 8]
    layer c1 = conv2d(x, out: 8, kernel: [3, 3], padding: [1, 1, 1, 1], weight: w["conv1.weight"])
    layer r1 = clip(c1, max: 6.0)
    layer c2 = conv2d(r1, out: 8, kernel: 3, stride: [1, 1], padding: [1, 1], groups: 8, weight: w["conv1.weight"])
    layer sum = add(c1, c2, r1)
    layer cat = concat(sum, c1, r1)
    layer p = maxpool(cat, kernel: 3, stride: 2, padding: [0, 0, 1, 1])
    layer q = avgpool(p, kernel: [2, 4], stride: [2, 4], count_include_pad: false)
    layer f = flatten(q)
    layer g = concat(f, f)
    layer d = dense(g, out: 10, weight: w["fc.weight"])
    layer bad = concat(p, c1)
    layer pads = conv2d(x, out: 8, kernel: 3, padding: [1, 2, 3], weight: w["conv1.weight"])
    layer s = scale(q, scale: w["fc.weight"])
    layer lonely = add(c1)
    output y = if(q, max_spikes: 2, signed: true)
}
"#,
        ),
        expect![[r#"
            Error neuro/shape-mismatch `dense`: `dense`: expected weight shaped [out, in] = [10, 96], found [10, 64]
            Error neuro/shape-mismatch `concat`: `concat`: expected inputs equal in all but the first axis, found [24, 4, 4] and [8, 8, 8]
            Error neuro/invalid-value `[1, 2, 3]`: expected `padding` to be one number or a list of 2 or 4, found `[1, 2, 3]`
            Error neuro/shape-mismatch `scale`: `scale`: expected scale shaped [24] (one per channel of [24, 2, 1]), found [10, 64]
            Error neuro/missing-argument `add`: `add` expects b, found no value for them
              fix: Insert missing arguments [", b: x"]
        "#]],
    );
}

#[test]
fn arguments_units_and_ranges() {
    check(
        &with_header(
            r#"network n {
    input x: f32[64]
    layer a = dense(x, out: 64, weight: m["fc1.weight"], outs: 3)
    layer b = lif(a, tau_rc: 20Hz, tau_ref: 0.002, threshold: -1)
    layer c = leaky(b, beta: 1.5, reset: sub)
    layer d = dense(c, out: 10.5)
    layer e = conv2d(x)
    layer f = lif(zz, tau_rc: 20mV)
    output y = relu(e, e)
}
"#,
        ),
        expect![[r#"
            Error neuro/unknown-argument `outs`: expected one of out, weight, bias for `dense`, found `outs`; did you mean `out`?
            Error neuro/unit `20Hz`: expected `tau_rc` to be a time (e.g. `20ms`), found the frequency 20Hz
              fix: Use ms: 20ms ["20ms"]
            Error neuro/unit `0.002`: expected `tau_ref` to be a time (e.g. `20ms`), found the dimensionless number 0.002
              fix: Use s: 0.002s ["0.002s"]
            Error neuro/range `-1`: expected `threshold` to be a number > 0, found -1
            Error neuro/range `1.5`: expected `beta` to be a number in [0, 1], found 1.5
            Error neuro/invalid-value `sub`: expected `reset` to be one of subtract, zero, found `sub`
            Error neuro/missing-argument `dense`: `dense` expects weight, found no value for them
              fix: Insert missing arguments [", weight: w[\"weight\"]"]
            Error neuro/range `10.5`: expected `out` to be a whole number, found 10.5
            Error neuro/missing-argument `conv2d`: `conv2d` expects out, kernel, weight, found no value for them
              fix: Insert missing arguments [", out: 1, kernel: 1, weight: w[\"weight\"]"]
            Error neuro/unknown-name `zz`: expected `x` to name an earlier input or layer, found unknown name `zz`
            Error neuro/unit `20mV`: expected a unit among ms, s, us, Hz, kHz (or none) for `tau_rc`, found `mV`
            Error neuro/unknown-argument `e`: expected 1 positional argument to `relu`, found another one
        "#]],
    );
}

#[test]
fn simulate_settings() {
    check(
        &with_header(
            r#"network n {
    input x: f32[1, 8, 8]
    layer f = flatten(x)
    layer l = lif(f, tau_ref: 0.5ms)
    output y = lif(l)
}
network wrong_input {
    input x: f32[64]
    output y = relu(x)
}
simulate n on calib {
    dt = 1ms
    steps = 0
    encode = rate(max_rate: 2kHz)
    decode = spikes
    record = [accuracy, raster(q), energy]
    speed = 3
}
simulate wrong_input on test {
    dt = 5ms
    layer z = relu(x)
}
"#,
        ),
        expect![[r#"
            Warning neuro/range `0.5ms`: expected `tau_ref` >= dt (1 ms) for it to take effect, found 0.5 ms: the refractory period is shorter than one step
            Error neuro/range `0`: expected `steps` >= 1, found 0
            Error neuro/range `2kHz`: expected `max_rate` at most 1/dt = 1000 Hz, found 2000 Hz
            Error neuro/invalid-value `spikes`: expected `decode` to be one of count, membrane, first_spike, found `spikes`
            Warning neuro/no-labels `accuracy`: expected the dataset to have labels (`y: "key"`) to record accuracy, found none
            Error neuro/unknown-name `q`: expected a layer of `n`, found unknown `q`
            Error neuro/invalid-value `energy`: expected one of accuracy, rates, synops, latency, raster(LAYER), found `energy`
            Error neuro/unknown-setting `speed`: expected one of dt, steps, encode, decode, batch, limit, record, found `speed`
            Error neuro/shape-mismatch `test`: expected samples shaped [64] for input `x` of `wrong_input`, found [1, 8, 8] in dataset `test`
            Error neuro/misplaced `layer`: expected settings (dt, steps, encode, decode, batch, limit, record) in a simulate block, found `layer`
        "#]],
    );
}

#[test]
fn conversion_feasibility() {
    check(
        r#"model iris = onnx("iris.onnx")
model spiking = onnx("snn.onnx")
model cnn = onnx("cnn.onnx")
weights mlp = npz("mlp.npz")
weights w = npz("cnn.npz")
network a = convert(iris) { neuron = lif(tau_rc: 20ms) }
network b = convert(spiking) { }
network c = convert(cnn) {
    neuron = lif(x, tau_rc: 20ms)
    normalize = percentile(120, data: iris)
    weights = mlp
    layer q = relu(x)
}
network d = convert(cnn) {
    neuron = if
    normalize = none
    weights = w
    max_to_avg = yes
}
"#,
        expect![[r#"
            Error neuro/not-dl `convert(iris)`: expected a deep-learning model to convert, found `iris` classified as classic ML
            Error neuro/unconvertible `convert(iris)`: expected only convertible ops in `iris`, found 2 that cannot be converted:
              LinearClassifier x1: LinearClassifier
              Normalizer x1: Normalizer
            Error neuro/already-spiking `convert(spiking)`: expected an ANN to convert, found `spiking` which is already a spiking network; simulate it as it is
            Error neuro/unknown-argument `x`: expected 0 positional arguments to `lif`, found another one
            Error neuro/range `120`: expected `p` to be a number in (0, 100], found 120
            Error neuro/wrong-kind `iris`: expected a dataset for `data`, found `iris` which is a model
            Warning neuro/unknown-key `mlp`: expected arrays named like the model's initializers, found none in common: nothing would be replaced
            Error neuro/misplaced `layer`: expected settings (neuron, normalize, weights, max_to_avg) in converted network `c`, found `layer`
            Error neuro/invalid-value `yes`: expected `max_to_avg` to be `true` or `false`, found `yes`
        "#]],
    );
}

#[test]
fn infer_and_apps() {
    check(
        r#"model iris = onnx("iris.onnx")
model cnn = onnx("cnn.onnx")
dataset flowers = npz("data/iris.npz", x: "x", y: "y")
dataset test = npz("data/test.npz", x: "x", y: "y")
network net = convert(cnn) { }
simulate net on test { steps = 100 }
infer iris on flowers {
    input X = flowers.z
    input Y = flowers.x
    record = [accuracy, rates]
}
infer cnn on flowers { }
infer net on test { }
app a {
    sensor leaf: f32[4] @ 5Hz = replay(flowers)
    sensor cam: f32[1, 8, 8] @ 100Hz = replay(test)
    sensor bad: f32[3] @ 5ms = replay(test)
    pipeline leaf -> iris -> species
    pipeline cam -> net -> argmax -> digit
    pipeline leaf -> net -> x
    pipeline cam -> argmax -> iris -> y
    pipeline cam -> net -> cnn
    rule r when digit == 7 and 3 => emit ""
    rule s when speciess == 1 for 0.5 => emit "x"
}
"#,
        expect![[r#"
            Error neuro/unknown-key `z`: expected a key of `data/iris.npz` (e.g. "x", "y"), found "z"
            Error neuro/unknown-name `Y`: expected an input of the model (`X`), found `Y`
            Error neuro/invalid-value `rates`: expected one of accuracy, latency, found `rates`
            Error neuro/shape-mismatch `flowers`: expected samples shaped [1, 8, 8] for input `x` of `cnn`, found [4] in dataset `flowers`
            Error neuro/wrong-kind `net`: expected a model to infer, found `net` which is a network; use `simulate net on ...`
            Error neuro/unit `5ms`: expected the rate of sensor `bad` to be a frequency (e.g. `1000Hz`), found the time 5ms
              fix: Use Hz: 5Hz ["5Hz"]
            Error neuro/shape-mismatch `replay(test)`: expected readings shaped [3] for sensor `bad`, found [1, 8, 8] in dataset `test`
            Error neuro/rate `net`: expected sensor `cam` at most 10 Hz for `net` (100 steps x 1 ms = 100 ms per reading), found 100 Hz
            Error neuro/pipeline `net`: expected [1, 8, 8] into input `x` of `net`, found [4] from the previous stage
            Error neuro/pipeline `iris`: expected a tensor into `iris`, found a class index
            Error neuro/rate `net`: expected sensor `cam` at most 10 Hz for `net` (100 steps x 1 ms = 100 ms per reading), found 100 Hz
            Error neuro/pipeline `cnn`: expected a new name for the pipeline's output, found `cnn` which is a model
            Error neuro/syntax `and`: expected `=>`, found `and`
            Error neuro/unknown-name `speciess`: expected a sensor or pipeline output of this app (`bad`, `cam`, `digit`, `leaf`, `species`), found `speciess`
            Error neuro/range `0.5`: expected `for` a whole number of readings >= 1 or a time, found 0.5
        "#]],
    );
}

#[test]
fn datasets_made_by_to_image() {
    // iris: a [150, 4] table with labels.
    check(
        r#"dataset iris = npz("data/iris.npz", x: "x", y: "y")
dataset digits = npz("data/test.npz", y: "y")
dataset img = to_image(iris, size: [4, 2], method: kpca, assign: lsa, fit: iris)
dataset square = to_image(iris, size: [3])
dataset bad = to_image(iris, size: [0, 2], method: umap, fit: digits)
dataset nested = to_image(img)
dataset few = to_image(iris, method: tsne)
dataset none = to_image(size: [2, 2])
network net {
    input x: f32[1, 4, 2]
    layer f = flatten(x)
    output o = relu(f)
}
network wrong {
    input x: f32[1, 8, 8]
    output o = relu(x)
}
simulate net on img { steps = 5
    record = [accuracy] }
simulate wrong on square { steps = 5 }
"#,
        expect![[r#"
            Error neuro/invalid-value `[0, 2]`: expected `size` to be an image size `[height, width]`, found `[0, 2]`
            Error neuro/invalid-value `umap`: expected `method` to be one of pca, kpca, tsne, found `umap`
            Error neuro/shape-mismatch `digits`: expected `fit` to have the same 4 features as `data`, found 64
            Error neuro/wrong-kind `img`: expected `data` to be a dataset read with `npz(...)`, found `img`, itself made by `to_image`
            Error neuro/range `tsne`: expected more features than t-SNE's perplexity (30) for `method: tsne`, found 4; use pca or kpca
            Error neuro/missing-argument `to_image`: `to_image` expects data, found no value for them
              fix: Insert missing arguments [", data: data"]
            Error neuro/shape-mismatch `square`: expected samples shaped [1, 8, 8] for input `x` of `wrong`, found [1, 3, 3] in dataset `square`
        "#]],
    );
}

#[test]
fn settings_blocks_refuse_unknown_and_repeated_keys() {
    check(
        r#"model cnn = onnx("cnn.onnx")
dataset test = npz("data/test.npz", x: "x", y: "y")
network net = convert(cnn) {
    neuron = if
    speed = 2
    speed = 3
}
simulate net on test {
    steps = 10
    steps = 20
    pace = 1
}
sweep net on test {
    steps = [10, 20]
    pace = [1]
    layer q = relu(x)
}
"#,
        expect![[r#"
            Error neuro/unknown-setting `speed`: expected one of neuron, normalize, weights, max_to_avg, found `speed`
            Error neuro/duplicate-name `speed`: expected `speed` once, found it again
            Error neuro/unknown-setting `speed`: expected one of neuron, normalize, weights, max_to_avg, found `speed`
            Error neuro/duplicate-name `steps`: expected `steps` once, found it again
            Error neuro/unknown-setting `pace`: expected one of dt, steps, encode, decode, batch, limit, record, found `pace`
            Error neuro/unknown-setting `pace`: expected one of steps, dt, encode, decode, neuron, max_to_avg, batch, limit, jobs, random, found `pace`
            Error neuro/misplaced `layer`: expected settings (steps, dt, encode, decode, neuron, max_to_avg, batch, limit, jobs, random) in a sweep block, found `layer`
        "#]],
    );
}
