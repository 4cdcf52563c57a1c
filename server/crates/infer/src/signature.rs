//! What a model declares about its inputs and outputs, and the check of
//! given inputs against it (every mismatch listed, not just the first).

use crate::value::{DType, MapKeys, Value};
use neuride_onnx::proto::{GraphProto, TypeProto, tensor_shape_proto::dimension, type_proto};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Dim {
    Fixed(usize),
    /// A named dimension (`batch`) or an unnamed unknown one (empty name).
    Symbolic(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ValueType {
    Tensor {
        dtype: Option<DType>,
        shape: Option<Vec<Dim>>,
    },
    Sequence {
        element: Box<ValueType>,
    },
    Map {
        key: Option<DType>,
        value: Box<ValueType>,
    },
    Optional {
        element: Box<ValueType>,
    },
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct Port {
    pub name: String,
    pub ty: ValueType,
}

#[derive(Debug, Clone, Serialize)]
pub struct Signature {
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
}

pub(crate) fn value_type(t: Option<&TypeProto>) -> ValueType {
    match t.and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(tt)) => ValueType::Tensor {
            dtype: tt.elem_type.and_then(DType::from_onnx),
            shape: tt.shape.as_ref().map(|s| {
                s.dim
                    .iter()
                    .map(|d| match &d.value {
                        Some(dimension::Value::DimValue(v)) if *v >= 0 => Dim::Fixed(*v as usize),
                        Some(dimension::Value::DimParam(p)) => Dim::Symbolic(p.clone()),
                        _ => Dim::Symbolic(String::new()),
                    })
                    .collect()
            }),
        },
        Some(type_proto::Value::SequenceType(s)) => ValueType::Sequence {
            element: Box::new(value_type(s.elem_type.as_deref())),
        },
        Some(type_proto::Value::OptionalType(o)) => ValueType::Optional {
            element: Box::new(value_type(o.elem_type.as_deref())),
        },
        Some(type_proto::Value::MapType(m)) => ValueType::Map {
            key: m.key_type.and_then(DType::from_onnx),
            value: Box::new(value_type(m.value_type.as_deref())),
        },
        _ => ValueType::Unknown,
    }
}

impl Signature {
    pub fn of_graph(graph: &GraphProto) -> Signature {
        let inits: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name()).collect();
        let port = |v: &neuride_onnx::proto::ValueInfoProto| Port {
            name: v.name().to_owned(),
            ty: value_type(v.r#type.as_ref()),
        };
        Signature {
            inputs: graph
                .input
                .iter()
                .filter(|v| !inits.contains(v.name()))
                .map(port)
                .collect(),
            outputs: graph.output.iter().map(port).collect(),
        }
    }

    /// Orders `given` by the model's inputs, or lists every mismatch.
    pub fn check(&self, given: Vec<(String, Value)>) -> Result<Vec<Value>, crate::Error> {
        let mut problems = Vec::new();
        let mut by_name: HashMap<String, Value> = HashMap::new();
        for (name, value) in given {
            if !self.inputs.iter().any(|p| p.name == name) {
                let known: Vec<&str> = self.inputs.iter().map(|p| p.name.as_str()).collect();
                problems.push(format!(
                    "'{name}' is not an input of the model (inputs: {known:?})"
                ));
            } else if by_name.insert(name.clone(), value).is_some() {
                problems.push(format!("'{name}' is given twice"));
            }
        }
        let mut symbols: HashMap<String, (usize, String)> = HashMap::new();
        let mut ordered = Vec::new();
        for port in &self.inputs {
            match by_name.remove(&port.name) {
                None => problems.push(format!(
                    "input '{}' is missing ({})",
                    port.name,
                    describe(&port.ty)
                )),
                Some(value) => {
                    check_value(&port.name, &port.ty, &value, &mut symbols, &mut problems);
                    ordered.push(value);
                }
            }
        }
        if problems.is_empty() {
            Ok(ordered)
        } else {
            Err(crate::Error::Inputs(problems))
        }
    }
}

pub fn describe(ty: &ValueType) -> String {
    match ty {
        ValueType::Tensor { dtype, shape } => {
            let d = dtype.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
            match shape {
                Some(s) => format!(
                    "tensor({d})[{}]",
                    s.iter()
                        .map(|d| match d {
                            Dim::Fixed(v) => v.to_string(),
                            Dim::Symbolic(p) if p.is_empty() => "?".to_owned(),
                            Dim::Symbolic(p) => p.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                None => format!("tensor({d})"),
            }
        }
        ValueType::Sequence { element } => format!("seq({})", describe(element)),
        ValueType::Optional { element } => format!("optional({})", describe(element)),
        ValueType::Map { key, value } => format!(
            "map({},{})",
            key.map(|k| k.to_string()).unwrap_or("?".into()),
            describe(value)
        ),
        ValueType::Unknown => "?".to_owned(),
    }
}

fn check_value(
    name: &str,
    ty: &ValueType,
    value: &Value,
    symbols: &mut HashMap<String, (usize, String)>,
    problems: &mut Vec<String>,
) {
    match (ty, value) {
        (ValueType::Tensor { dtype, shape }, Value::Tensor(t)) => {
            if let Some(d) = dtype
                && *d != t.dtype()
            {
                problems.push(format!(
                    "input '{name}': dtype {} expected, found {}",
                    d,
                    t.dtype()
                ));
            }
            if let Some(shape) = shape {
                if shape.len() != t.shape.len() {
                    problems.push(format!(
                        "input '{name}': rank {} ({}) expected, found shape {:?}",
                        shape.len(),
                        describe(ty),
                        t.shape
                    ));
                    return;
                }
                for (axis, (want, &got)) in shape.iter().zip(&t.shape).enumerate() {
                    match want {
                        Dim::Fixed(w) if *w != got => problems.push(format!(
                            "input '{name}': dimension {axis} must be {w}, found {got} (shape {:?})",
                            t.shape
                        )),
                        Dim::Symbolic(p) if !p.is_empty() => {
                            let entry = symbols.entry(p.clone()).or_insert((got, name.to_owned()));
                            if entry.0 != got {
                                problems.push(format!(
                                    "input '{name}': dimension {axis} ('{p}') is {got}, but '{}' set '{p}' to {}",
                                    entry.1, entry.0
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        (ValueType::Map { key, .. }, Value::Map(m)) => {
            let got = match m.keys {
                MapKeys::I64(_) => DType::I64,
                MapKeys::Str(_) => DType::Str,
            };
            if key.is_some_and(|k| k != got) {
                problems.push(format!(
                    "input '{name}': {} expected, found {}",
                    describe(ty),
                    value.describe()
                ));
            }
        }
        (ValueType::Sequence { .. }, Value::Sequence(_))
        | (ValueType::Optional { .. }, Value::Optional(_))
        | (ValueType::Unknown, _) => {}
        _ => problems.push(format!(
            "input '{name}': {} expected, found {}",
            describe(ty),
            value.describe()
        )),
    }
}
