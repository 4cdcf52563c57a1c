//! The inference compiler on arbitrary models: routing, the native engine's
//! lowering and planning, the evaluator's plan, then one run on zeros of the
//! declared shapes (small ones only). Errors are fine; panics, hangs and
//! memory faults in the kernels are not. tract is left out: its panics are
//! its own and the engine runs it under `catch_unwind`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neuride_infer::{Data, Dim, EngineChoice, Session, Tensor, Value, ValueType};

fuzz_target!(|data: &[u8]| {
    let Ok(proto) = neuride_onnx::load::decode(bytes::Bytes::copy_from_slice(data)) else {
        return;
    };
    let Ok(session) = Session::prepare_with(&proto, data, 0, EngineChoice::Native) else {
        return;
    };
    let mut inputs = Vec::new();
    for port in &session.signature.inputs {
        let ValueType::Tensor { dtype, shape: Some(dims) } = &port.ty else {
            return;
        };
        let shape: Vec<usize> = dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => *n,
                Dim::Symbolic(_) => 1,
            })
            .collect();
        let Some(count) = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
            return;
        };
        if count > 1 << 16 {
            return;
        }
        let Some(dtype) = dtype else {
            return;
        };
        let values = match Data::empty(*dtype) {
            Data::F32(_) => Data::F32(vec![0.0; count]),
            Data::F64(_) => Data::F64(vec![0.0; count]),
            Data::I64(_) => Data::I64(vec![0; count]),
            Data::I32(_) => Data::I32(vec![0; count]),
            Data::U8(_) => Data::U8(vec![0; count]),
            Data::I8(_) => Data::I8(vec![0; count]),
            Data::Bool(_) => Data::Bool(vec![false; count]),
            _ => return,
        };
        let Ok(tensor) = Tensor::new(shape, values) else {
            return;
        };
        inputs.push((port.name.clone(), Value::Tensor(tensor)));
    }
    let _ = session.run(inputs);
});
