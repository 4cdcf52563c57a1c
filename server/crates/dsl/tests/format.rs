//! Formatter: canonical layout snapshots, comments kept, idempotence, and
//! the examples round-trip unchanged.

mod support;

use expect_test::{Expect, expect};

fn check(input: &str, expect: Expect) {
    let parse = neuride_dsl::parse(input);
    let formatted = neuride_dsl::format(&parse).expect("fixture parses");
    expect.assert_eq(&formatted);
    let again =
        neuride_dsl::format(&neuride_dsl::parse(&formatted)).expect("formatted text parses");
    assert_eq!(again, formatted, "formatting must be idempotent");
}

#[test]
fn canonical_layout() {
    check(
        r#"

model   cnn=onnx( "m.onnx" )   // the model
weights w = npz("w.npz")



network tiny{ input x : f32[ 1,8 , 8 ]
  layer c1=conv2d(x,out:8,kernel:3,
      weight:w["conv1.weight"])
      /* why */ layer s = leaky(c1, beta: 0.9) // trailing


  output y=relu( s ) }
network empty {  }
simulate tiny on d { record=[accuracy,raster(s)]
    encode = rate(max_rate: 1kHz)
 threshold = -1.5 }
app a { sensor s:f32[4]@5Hz=replay(d)
pipeline s->n->argmax->k
rule r when k==2 for 3=>emit "x" }
"#,
        expect![[r#"
            model cnn = onnx("m.onnx") // the model
            weights w = npz("w.npz")

            network tiny {
                input x: f32[1, 8, 8]
                layer c1 = conv2d(x, out: 8, kernel: 3, weight: w["conv1.weight"])
                /* why */ layer s = leaky(c1, beta: 0.9) // trailing

                output y = relu(s)
            }
            network empty { }
            simulate tiny on d {
                record = [accuracy, raster(s)]
                encode = rate(max_rate: 1kHz)
                threshold = -1.5
            }
            app a {
                sensor s: f32[4] @ 5Hz = replay(d)
                pipeline s -> n -> argmax -> k
                rule r when k == 2 for 3 => emit "x"
            }
        "#]],
    );
}

#[test]
fn comments_inside_expressions_keep_their_lines() {
    check(
        "network n {\n    layer a = dense(x, // the input\n        out: 3)\n    // last\n}\n/* end */\n",
        expect![[r#"
            network n {
                layer a = dense(x, // the input
                    out: 3)
                // last
            }
            /* end */
        "#]],
    );
}

#[test]
fn broken_files_are_not_formatted() {
    let parse = neuride_dsl::parse("model m = \nnetwork {");
    assert_eq!(neuride_dsl::format(&parse), None);
    assert!(neuride_dsl::format_edits(&parse).is_empty());
}

#[test]
fn examples_round_trip_unchanged() {
    for (example, file) in [
        ("digits-snn", "digits.neuro"),
        ("handwritten-snn", "mlp.neuro"),
        ("iot-app", "greenhouse.neuro"),
        ("tabular-snn", "genes.neuro"),
    ] {
        let path = support::examples_dir().join(example).join(file);
        let text = std::fs::read_to_string(&path).expect("example file");
        let formatted = neuride_dsl::format(&neuride_dsl::parse(&text)).expect("example parses");
        assert_eq!(formatted, text, "{} is not formatted", path.display());
    }
}
