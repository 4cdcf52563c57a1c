//! Editor features over the digits example and small fixtures (`$0` marks
//! the cursor).

mod support;

use expect_test::{Expect, expect};
use neuride_dsl::{Analysis, Parse, TextRange};

fn analyze(text: &str) -> (Parse, Analysis) {
    let parse = neuride_dsl::parse(text);
    let analysis = neuride_dsl::check(&parse, &support::all_facts());
    (parse, analysis)
}

const FILE: &str = r#"model cnn = onnx("cnn.onnx")
weights w = npz("cnn.npz")
dataset test = npz("data/test.npz", x: "x", y: "y")
network snn = convert(cnn) {
    neuron = lif(tau_rc: 10ms)
}
network tiny {
    input x: f32[1, 8, 8]
    layer c1 = conv2d(x, out: 8, kernel: 3, padding: 1, weight: w["conv1.weight"])
    layer s1 = leaky(c1, beta: 0.9)
    layer p1 = avgpool(s1, kernel: 2)
    output y = flatten(p1)
}
simulate snn on test {
    steps = 20
}
"#;

/// The hover at `|` in `marker`, found in FILE.
fn hover(marker: &str) -> String {
    let plain = marker.replace('|', "");
    let offset =
        FILE.find(&plain).expect("marker in FILE") + marker.find('|').expect("| in marker");
    let text = FILE.to_string();
    let (parse, analysis) = analyze(&text);
    neuride_dsl::hover(&parse, &analysis, offset)
        .map(|hover| hover.markdown)
        .unwrap_or_default()
}

fn hover_at(marker: &str, expect: Expect) {
    expect.assert_eq(&hover(marker));
}

#[test]
fn hovers() {
    hover_at(
        "model c|nn",
        expect![[r#"
        **model** `cnn` — `cnn.onnx`

        **deep learning (DL)** · 8 ops · 1864 parameters · producer pytorch

        per-sample shapes (batch dimension dropped):
        - in `x`: [1, 8, 8]
        - out `logits`: [10]

        evidence: Conv (/conv1/Conv), Relu (/Relu), MatMul (/fc/MatMul): neural network ops"#]],
    );
    hover_at(
        "layer c|1",
        expect![[r#"
        **layer** `c1` = `conv2d(...)`

        [1, 8, 8] → [8, 8, 8] · 72 parameters"#]],
    );
    hover_at(
        "layer s|1",
        expect![[r#"
            **layer** `s1` = `leaky(...)`

            [8, 8, 8] → [8, 8, 8]

            `mem ← β·mem + input − reset·threshold; spike = H(mem − threshold)` with beta = 0.9, threshold = 1.0 (default), reset = subtract (default), amplitude = 1.0 (default), input_scale = 1.0 (default), initial_membrane = 0.0 (default)"#]],
    );
    hover_at(
        "w[\"conv1.w|eight\"]",
        expect![[r#"
        **array** `conv1.weight` in `cnn.npz`: f32 [8, 1, 3, 3]

        min -1.0669 · max 1.2596 · mean 0.2924 · std 0.6103"#]],
    );
    hover_at(
        "network s|nn",
        expect![[r#"
            **network** `snn` — converted from `cnn` · 1864 parameters
            - in `x`: [1, 8, 8]
            - out `logits`: [10]

            neuron: `v ← v − (J − v)·expm1(−Δt/τ_rc); spike when v > threshold, then v ← 0 and refractory for τ_ref` with tau_rc = 10ms, tau_ref = 2ms (default), threshold = 1.0 (default), amplitude = 1.0 (default), min_voltage = 0.0 (default), input_scale = 1.0 (default), initial_membrane = 0.0 (default)"#]],
    );
    hover_at("tau_rc: 1|0ms", expect!["time: 0.01 s = 10 ms"]);
    assert_eq!(
        hover("simulate s|nn"),
        hover("network s|nn"),
        "a run's target hovers as the network's definition"
    );
    hover_at(
        "ste|ps",
        expect!["`steps`: number of time steps per sample (default 100)"],
    );
    hover_at(
        "avg|pool",
        expect![[r#"
            **avgpool** — Average pooling over `[C, H, W]`.
            - `x`: the layer's input
            - `kernel`: window size: `K` or `[KH, KW]`
            - `stride`: stride (default: the kernel size)
            - `padding` = `0`: zero padding: every side, `[H, W]` or `[top, left, bottom, right]`
            - `count_include_pad` = `true`: divide by the whole window, padding included (else by the cells inside)"#]],
    );
}

fn complete(text: &str) -> String {
    let (text, offset) = support::cursor(text);
    let (parse, analysis) = analyze(&text);
    let items = neuride_dsl::completion(&parse, &analysis, &support::all_facts(), offset);
    items
        .iter()
        .map(|item| format!("{} ({:?}) {}", item.label, item.kind, item.insert_text))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn completions() {
    expect![[r#"
        conv1.weight (Field) conv1.weight
        conv2.weight (Field) conv2.weight
        fc.weight (Field) fc.weight"#]]
    .assert_eq(&complete(
        &FILE.replace("w[\"conv1.weight\"]", "w[\"c$0\"]"),
    ));
    expect![[r#"
        cnn.npz (File) cnn.npz
        data/ (Folder) data/
        mlp.npz (File) mlp.npz
    "#]]
    .assert_eq(&(complete("dataset d = npz(\"$0\")") + "\n"));
    expect![[r#"
        calib.npz (File) calib.npz
        iris.npz (File) iris.npz
        test.npz (File) test.npz"#]]
    .assert_eq(&complete("dataset d = npz(\"data/$0\")"));
    expect![[r#"
        cnn.onnx (File) cnn.onnx
        data/ (Folder) data/
        iris.onnx (File) iris.onnx
        snn.onnx (File) snn.onnx"#]]
    .assert_eq(&complete("model m = onnx(\"$0\")"));
    let layers = complete(&FILE.replace(
        "    output y = flatten(p1)",
        "    layer z = $0\n    output y = flatten(p1)",
    ));
    assert!(
        layers.contains("dense (Function) dense(${1:x}, out: ${2}, weight: ${3})"),
        "{layers}"
    );
    assert!(layers.contains("lif (Function) lif(${1:x})"), "{layers}");
    let args = complete(&FILE.replace("avgpool(s1, kernel: 2)", "avgpool(s1, $0)"));
    expect![[r#"
        kernel: (Property) kernel: 
        stride: (Property) stride: 
        padding: (Property) padding: 
        count_include_pad: (Property) count_include_pad: "#]]
    .assert_eq(&args);
    expect![[r#"
        subtract (Value) subtract
        zero (Value) zero"#]]
    .assert_eq(&complete(
        &FILE.replace("leaky(c1, beta: 0.9)", "leaky(c1, reset: $0)"),
    ));
    let positional = complete(&FILE.replace("avgpool(s1, kernel: 2)", "avgpool($0)"));
    assert!(
        positional.contains("s1 (Variable) s1") && positional.contains("x (Variable) x"),
        "got: {positional}"
    );
    expect![[r#"
        x (Field) x
        y (Field) y"#]]
    .assert_eq(&complete(
        "dataset test = npz(\"data/test.npz\")\ninfer m on test {\n    input X = test.$0\n}",
    ));
    let settings = complete(&FILE.replace("    steps = 20\n", "    steps = 20\n    $0\n"));
    assert!(
        settings.contains("encode (Property)") && settings.contains("dt (Property)"),
        "{settings}"
    );
    let top = complete(&format!("{FILE}\n$0"));
    assert!(
        top.starts_with("model (Keyword)")
            && top.contains("simulate (Keyword) simulate ${1:snn} on ${2:test}"),
        "{top}"
    );
    assert_eq!(complete("simulate $0"), "");
    assert!(complete(&format!("{FILE}simulate $0")).contains("tiny (Variable) tiny"));
    assert!(
        complete(&FILE.replace("neuron = lif(tau_rc: 10ms)", "neuron = $0"))
            .contains("leaky (Function) leaky()"),
        "neuron calls without x"
    );
    assert_eq!(complete("// comment $0"), "");
}

#[test]
fn navigation_and_rename() {
    let (text, offset) =
        support::cursor(&FILE.replace("layer s1 = leaky(c1,", "layer s1 = leaky(c$01,"));
    let (parse, analysis) = analyze(&text);
    let target = neuride_dsl::goto_definition(&parse, &analysis, offset).expect("definition");
    let neuride_dsl::Target::InFile { selection, .. } = target else {
        panic!("in file: {target:?}")
    };
    assert_eq!(&text[selection.start..selection.end], "c1");
    assert!(text[..selection.start].ends_with("layer "));
    let refs = neuride_dsl::references(&analysis, offset, true);
    assert_eq!(refs.len(), 2);
    let edits = neuride_dsl::rename(&analysis, offset, "conv").expect("rename");
    let mut renamed = text.clone();
    for edit in edits.iter().rev() {
        renamed.replace_range(edit.range.start..edit.range.end, &edit.new_text);
    }
    assert!(
        renamed.contains("layer conv = conv2d") && renamed.contains("leaky(conv, beta"),
        "{renamed}"
    );
    assert_eq!(
        neuride_dsl::rename(&analysis, offset, "layer"),
        Err(neuride_dsl::RenameError::InvalidName("layer".into()))
    );

    let (text, offset) =
        support::cursor(&FILE.replace("w[\"conv1.weight\"]", "w[\"conv1.we$0ight\"]"));
    let (parse, analysis) = analyze(&text);
    assert_eq!(
        neuride_dsl::goto_definition(&parse, &analysis, offset),
        Some(neuride_dsl::Target::ArchiveEntry {
            path: "cnn.npz".into(),
            key: "conv1.weight".into()
        })
    );
    assert_eq!(
        neuride_dsl::prepare_rename(&analysis, offset),
        Err(neuride_dsl::RenameError::NotInThisFile)
    );

    let (text, offset) = support::cursor(&FILE.replace("simulate snn", "simulate s$0nn"));
    let (parse, analysis) = analyze(&text);
    let Some(neuride_dsl::Target::InFile { selection, .. }) =
        neuride_dsl::goto_definition(&parse, &analysis, offset)
    else {
        panic!()
    };
    assert_eq!(
        selection,
        TextRange::new(text.find("snn").unwrap(), text.find("snn").unwrap() + 3)
    );
    assert_eq!(neuride_dsl::references(&analysis, offset, false).len(), 1);
}

#[test]
fn symbols_tokens_hints_lenses() {
    let (parse, analysis) = analyze(FILE);
    let symbols = neuride_dsl::document_symbols(&parse.ast, &parse.text);
    let outline: Vec<String> = symbols
        .iter()
        .map(|symbol| {
            format!(
                "{:?} {} [{}]",
                symbol.kind,
                symbol.name,
                symbol
                    .children
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    expect![[r#"
        [
            "Item(Model) cnn []",
            "Item(Weights) w []",
            "Item(Dataset) test []",
            "Item(Network) snn [neuron]",
            "Item(Network) tiny [x, c1, s1, p1, y]",
            "Item(Simulate) simulate snn [steps]",
        ]
    "#]]
    .assert_debug_eq(&outline);

    let hints = neuride_dsl::inlay_hints(&parse, &analysis, TextRange::new(0, FILE.len()));
    let labels: Vec<String> = hints
        .iter()
        .map(|hint| {
            format!(
                "{}{}",
                &FILE[..hint.offset].rsplit(' ').next().unwrap(),
                hint.label
            )
        })
        .collect();
    expect![[r#"
        [
            "snn: [1, 8, 8] -> [10]",
            "c1: [8, 8, 8]",
            "s1: [8, 8, 8]",
            "p1: [8, 4, 4]",
            "y: [128]",
        ]
    "#]]
    .assert_debug_eq(&labels);

    let lenses: Vec<String> = neuride_dsl::code_lenses(&parse)
        .iter()
        .map(|lens| format!("{} {:?} {:?}", lens.title, lens.action, lens.arguments))
        .collect();
    expect![[r#"
        [
            "Graph Graph [\"cnn\"]",
            "Graph Graph [\"snn\"]",
            "Graph Graph [\"tiny\"]",
            "▶ Simulate Simulate [\"snn\", \"test\"]",
        ]
    "#]]
    .assert_debug_eq(&lenses);

    let tokens = neuride_dsl::semantic_tokens(&parse, &analysis);
    let line: Vec<String> = tokens
        .iter()
        .filter(|token| {
            token.range.start >= FILE.find("    layer c1").unwrap()
                && token.range.end <= FILE.find("    layer s1").unwrap()
        })
        .map(|token| {
            format!(
                "{}:{}:{}",
                &FILE[token.range.start..token.range.end],
                neuride_dsl::TOKEN_TYPES[token.token_type as usize],
                token.modifiers
            )
        })
        .collect();
    expect![[r#"layer:keyword:0 c1:variable:3 =:operator:0 conv2d:function:8 x:variable:0 out:parameter:0 8:number:0 kernel:parameter:0 3:number:0 padding:parameter:0 1:number:0 weight:parameter:0 w:variable:0 "conv1.weight":string:0"#]]
    .assert_eq(&line.join(" "));
}

#[test]
fn code_actions() {
    let apply = |text: &str, edits: &[neuride_dsl::TextEdit]| {
        let mut out = text.to_string();
        let mut edits = edits.to_vec();
        edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
        for edit in edits {
            out.replace_range(edit.range.start..edit.range.end, &edit.new_text);
        }
        out
    };
    // Fix a unit.
    let text = FILE.replace("tau_rc: 10ms", "tau_rc: 10Hz");
    let (parse, analysis) = analyze(&text);
    let at = text.find("10Hz").unwrap();
    let actions = neuride_dsl::code_actions(&parse, &analysis, TextRange::empty(at));
    let fix = actions
        .iter()
        .find(|action| action.diagnostic_code == Some("neuro/unit"))
        .expect("unit fix");
    assert!(apply(&text, &fix.edits).contains("tau_rc: 10ms"));
    // Insert all arguments.
    let at = text.find("avgpool").unwrap();
    let actions = neuride_dsl::code_actions(&parse, &analysis, TextRange::empty(at));
    let insert = actions
        .iter()
        .find(|action| action.title.starts_with("Insert all arguments"))
        .expect("insert all");
    assert!(
        apply(&text, &insert.edits)
            .contains("avgpool(s1, kernel: 2, stride: 1, padding: 0, count_include_pad: true)"),
        "{}",
        apply(&text, &insert.edits)
    );
    // Insert a convert block for a model (none converts this one yet), then it checks clean.
    let text = "model cnn = onnx(\"cnn.onnx\")\ndataset calib = npz(\"data/calib.npz\")\n";
    let (parse, analysis) = analyze(text);
    let actions = neuride_dsl::code_actions(&parse, &analysis, TextRange::empty(3));
    let convert = actions
        .iter()
        .find(|action| action.title == "Insert a convert block for `cnn`")
        .expect("convert block");
    let converted = apply(text, &convert.edits);
    let (_, analysis) = analyze(&converted);
    assert!(
        analysis.diagnostics.is_empty(),
        "{converted}\n{:?}",
        analysis.diagnostics
    );
    // Create a missing item.
    let text = "simulate n on test { steps = 5 }\n";
    let (parse, analysis) = analyze(text);
    let actions = neuride_dsl::code_actions(
        &parse,
        &analysis,
        TextRange::empty(text.find("test").unwrap()),
    );
    let create = actions
        .iter()
        .find(|action| action.title == "Create dataset `test`")
        .expect("create");
    assert!(
        apply(text, &create.edits)
            .starts_with("dataset test = npz(\"test.npz\", x: \"x\", y: \"y\")\nsimulate")
    );
}

#[test]
fn broken_file_still_gets_symbols_hover_and_completion() {
    let text = "model cnn = onnx(\"cnn.onnx\")\nnetwork n {\n    input x: f32[1, 8, 8]\n    layer a = conv2d(x, out: 8, kernel: 3, weight: )\n    layer b = \n}\nsimulate";
    let (parse, analysis) = analyze(text);
    assert!(!parse.errors.is_empty());
    let symbols = neuride_dsl::document_symbols(&parse.ast, &parse.text);
    assert_eq!(symbols.len(), 3);
    assert_eq!(symbols[1].children.len(), 3);
    assert!(
        neuride_dsl::hover(&parse, &analysis, 8)
            .is_some_and(|hover| hover.markdown.contains("deep learning"))
    );
    let offset = text.find("layer b = ").unwrap() + "layer b = ".len();
    assert!(
        neuride_dsl::completion(&parse, &analysis, &support::all_facts(), offset)
            .iter()
            .any(|item| item.label == "dense")
    );
}
