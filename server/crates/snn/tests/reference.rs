//! Replays the reference traces produced by Nengo and snnTorch
//! (tests/fixtures/reference, made by the frameworks' own step functions) and
//! asserts identical spikes and states within 1e-6, in the reference's dtype.

mod common;

use neuride_snn::Reset;
use neuride_snn::neuron::{LifParams, leaky_step, lif_gain_bias, lif_rate, lif_step};

#[test]
fn nengo_lif_matches_spikes_and_voltages() {
    let z = common::read_npz("reference/nengo_lif.npz");
    assert_eq!(z["J"].dtype, "<f8", "Nengo steps in float64, so we do too");
    let (steps, n) = (z["J"].shape[0], z["J"].shape[1]);
    let params = LifParams {
        tau_rc: z["tau_rc"].values[0],
        tau_ref: z["tau_ref"].values[0],
        ..LifParams::default()
    };
    let dt = z["dt"].values[0];
    let (mut v, mut refractory, mut out) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
    let mut total_spikes = 0;
    for t in 0..steps {
        let j = &z["J"].values[t * n..(t + 1) * n];
        lif_step(&params, dt, j, &mut v, &mut refractory, &mut out);
        for i in 0..n {
            assert_eq!(
                out[i],
                z["spikes"].values[t * n + i],
                "spike of neuron {i} at step {t}"
            );
            assert!(
                (v[i] - z["voltage"].values[t * n + i]).abs() <= 1e-6,
                "voltage of neuron {i} at step {t}: {} vs {}",
                v[i],
                z["voltage"].values[t * n + i]
            );
            total_spikes += (out[i] > 0.0) as usize;
        }
    }
    assert!(
        total_spikes > 100,
        "the trace must exercise spiking and refractoriness, found {total_spikes} spikes"
    );
}

#[test]
fn nengo_lif_rate_matches() {
    let z = common::read_npz("reference/nengo_lifrate.npz");
    let j = &z["J"].values;
    let columns = z["rates"].shape[1];
    let params = LifParams::default();
    for (row, &current) in j.iter().enumerate() {
        let expected = z["rates"].values[row * columns];
        let rate = lif_rate(&params, current);
        assert!(
            (rate - expected).abs() <= 1e-6 * expected.max(1.0),
            "J = {current}: {rate} vs {expected}"
        );
    }
}

#[test]
fn nengo_gain_bias_matches() {
    let z = common::read_npz("reference/nengo_gain_bias.npz");
    for i in 0..z["gain"].values.len() {
        let (gain, bias) = lif_gain_bias(
            &LifParams::default(),
            z["max_rates"].values[i],
            z["intercepts"].values[i],
        );
        assert!(
            (gain - z["gain"].values[i]).abs() <= 1e-6,
            "gain {i}: {gain} vs {}",
            z["gain"].values[i]
        );
        assert!(
            (bias - z["bias"].values[i]).abs() <= 1e-6,
            "bias {i}: {bias} vs {}",
            z["bias"].values[i]
        );
    }
}

fn replay_leaky(reset: Reset, spikes_key: &str, mem_key: &str) {
    let z = common::read_npz("reference/snntorch_leaky.npz");
    assert_eq!(
        z["input"].dtype, "<f4",
        "snnTorch steps in float32, so we do too"
    );
    let beta = z["beta"].values[0] as f32;
    let threshold = z["threshold"].values[0] as f32;
    let (steps, n) = (z["input"].shape[0], z["input"].shape[1]);
    let input = z["input"].f32();
    let (mut mem, mut spikes) = (vec![0.0f32; n], vec![0.0f32; n]);
    for t in 0..steps {
        leaky_step(
            beta,
            threshold,
            reset,
            &input[t * n..(t + 1) * n],
            &mut mem,
            &mut spikes,
        );
        for i in 0..n {
            assert_eq!(
                spikes[i] as f64,
                z[spikes_key].values[t * n + i],
                "{spikes_key}: neuron {i} step {t}"
            );
            let expected = z[mem_key].values[t * n + i];
            assert!(
                (mem[i] as f64 - expected).abs() <= 1e-6,
                "{mem_key}: neuron {i} step {t}: {} vs {expected}",
                mem[i]
            );
        }
    }
}

#[test]
fn snntorch_leaky_subtract_reset_matches() {
    replay_leaky(Reset::Subtract, "spikes_subtract", "mem_subtract");
}

#[test]
fn snntorch_leaky_zero_reset_matches() {
    replay_leaky(Reset::Zero, "spikes_zero", "mem_zero");
}
