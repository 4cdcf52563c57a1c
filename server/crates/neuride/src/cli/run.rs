//! `neuride run MODEL --input ...`: runs a model where its kind says it
//! belongs: DL and ML models (and spiking models exported as plain ops) on
//! the ONNX runtime, spiking models with custom neuron ops on the simulator.

use anyhow::Context;
use neuride_infer::{Route, Session};
use std::process::ExitCode;

pub fn run(args: super::infer::Args) -> anyhow::Result<ExitCode> {
    let path = &args.model;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let proto = neuride_onnx::load::decode(bytes.clone().into())
        .with_context(|| format!("decoding {}", path.display()))?;
    match neuride_infer::route(&proto) {
        Route::Simulator { reason } => {
            // The simulator's ONNX entry point (neuride-convert/neuride-snn) is not wired here yet.
            eprintln!(
                "neuride: {} is a spiking model ({reason}); it runs on neuride's SNN simulator, \
                 which `neuride run` cannot drive yet. Use `neuride simulate` once it accepts this model.",
                path.display()
            );
            Ok(ExitCode::from(2))
        }
        Route::Tract | Route::Evaluator => {
            let session =
                Session::load(&bytes).with_context(|| format!("preparing {}", path.display()))?;
            super::infer::run_session(&args, &session)
        }
    }
}
