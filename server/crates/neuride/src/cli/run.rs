//! `neuride run MODEL --input ...`: runs a model where its kind says it
//! belongs: DL and ML models (and spiking models exported as plain ops) on
//! the ONNX runtime, spiking models with custom neuron ops on the simulator.

use anyhow::Context;
use neuride_ide::run::model::SimulateModel;
use neuride_infer::Route;
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: super::infer::Args) -> anyhow::Result<ExitCode> {
    let path = &args.model;
    let (proto, route) = if neuride_ide::run::nir::is_nir(path) {
        // A NIR file is a spiking network: its ONNX view names its input.
        let reason = "a NIR file".to_owned();
        (
            super::classify::load(path)?.proto,
            Route::Simulator { reason },
        )
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let proto = neuride_onnx::load::decode(bytes.into())
            .with_context(|| format!("decoding {}", path.display()))?;
        let route = neuride_infer::route(&proto);
        (proto, route)
    };
    match route {
        Route::Simulator { reason } => {
            if let Some(out) = &args.output {
                anyhow::bail!(
                    "cannot write {}: {} is a spiking model ({reason}) and runs on the simulator, which writes no output file (drop -o; --format json prints the report)",
                    out.display(),
                    path.display()
                );
            }
            eprintln!(
                "neuride: {} is a spiking model ({reason}): running it on the SNN simulator",
                path.display()
            );
            let options = simulator_options(&args, &proto)?;
            let json = args.format == super::infer::Format::Json;
            super::simulate::run_model(path, &options, json)
        }
        Route::Tract | Route::Evaluator => super::infer::run(args),
    }
}

/// The simulator's options that run `--input` through it: the one `.npz`
/// input, its array for the model's input (by name, else the only array
/// that is not the labels) and the labels; the rest are the defaults.
fn simulator_options(
    args: &super::infer::Args,
    proto: &neuride_onnx::proto::ModelProto,
) -> anyhow::Result<SimulateModel> {
    let [input] = args.inputs.as_slice() else {
        anyhow::bail!(
            "a spiking model runs on the simulator from one .npz of samples (--input D.npz), found {} inputs",
            args.inputs.len()
        );
    };
    let data: &Path = &input.file;
    let file = data.display();
    if input.name.is_some() || data.extension().is_none_or(|e| e != "npz") {
        anyhow::bail!(
            "{file}: the simulator reads samples from an .npz (--input D.npz [--labels KEY])"
        );
    }
    let bytes = std::fs::read(data).with_context(|| format!("cannot read {file}"))?;
    let archive =
        neuride_npz::list(&bytes).with_context(|| format!("{file} is not a valid .npz"))?;
    let names: Vec<String> = archive.names().map(String::from).collect();
    let labels = args.labels.clone().unwrap_or_else(|| "y".into());
    let input_name = proto
        .graph
        .as_ref()
        .and_then(|g| g.input.first())
        .map(|i| i.name().to_owned())
        .unwrap_or_default();
    let key = if names.contains(&input_name) {
        input_name
    } else {
        let candidates: Vec<&String> = names.iter().filter(|n| **n != labels).collect();
        match candidates.as_slice() {
            [only] => (*only).clone(),
            _ => anyhow::bail!(
                "{file}: cannot tell which array holds the samples (arrays: {}); name it after the model's input '{input_name}'",
                names.join(", ")
            ),
        }
    };
    Ok(SimulateModel {
        data: Some(data.to_owned()),
        inputs: key,
        labels,
        ..SimulateModel::default()
    })
}
