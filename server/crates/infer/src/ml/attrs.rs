//! Typed access to a node's attributes.

use crate::tensor_proto;
use crate::value::{Data, Tensor};
use neuride_onnx::proto::{AttributeProto, NodeProto};

pub(crate) struct Attrs<'a>(pub &'a NodeProto);

impl<'a> Attrs<'a> {
    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.0.attribute.iter().find(|a| a.name() == name)
    }

    pub fn f(&self, name: &str) -> Option<f32> {
        self.get(name).map(|a| a.f())
    }

    pub fn i(&self, name: &str) -> Option<i64> {
        self.get(name).map(|a| a.i())
    }

    pub fn s(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(a.s()).into_owned())
    }

    pub fn floats(&self, name: &str) -> Option<Vec<f32>> {
        self.get(name).map(|a| a.floats.clone())
    }

    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }

    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|a| {
            a.strings
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect()
        })
    }

    pub fn tensor(&self, name: &str) -> Result<Option<Tensor>, String> {
        match self.get(name).and_then(|a| a.t.as_ref()) {
            Some(t) => tensor_proto::from_proto(t)
                .map(Some)
                .map_err(|e| format!("attribute '{name}': {e}")),
            None => Ok(None),
        }
    }

    /// `name` as floats, or `name_as_tensor` (float or double) as f64.
    pub fn floats_or_tensor(&self, name: &str) -> Result<Option<Vec<f64>>, String> {
        if let Some(t) = self.tensor(&format!("{name}_as_tensor"))? {
            return match t.data {
                Data::F32(v) => Ok(Some(v.into_iter().map(f64::from).collect())),
                Data::F64(v) => Ok(Some(v)),
                other => Err(format!(
                    "{name}_as_tensor must be float or double, found {}",
                    other.dtype()
                )),
            };
        }
        Ok(self
            .floats(name)
            .map(|v| v.into_iter().map(f64::from).collect()))
    }

    pub fn s_or(&self, name: &str, default: &str) -> String {
        self.s(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn required_floats(&self, name: &str) -> Result<Vec<f32>, String> {
        self.floats(name)
            .ok_or_else(|| format!("required attribute '{name}' is missing"))
    }
}
