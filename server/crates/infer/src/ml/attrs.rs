//! A node's attributes as the ML evaluator and the native lowering want them:
//! owned values, tensors decoded into [`Tensor`]. Reading is
//! [`neuride_onnx::attr`]'s; this view only converts.

use crate::error::KernelError;
use crate::tensor_proto;
use crate::value::{Data, Tensor};
use neuride_onnx::attr;
use neuride_onnx::proto::NodeProto;

pub(crate) struct Attrs<'a>(pub &'a NodeProto);

impl<'a> Attrs<'a> {
    pub fn f(&self, name: &str) -> Option<f32> {
        attr::float(self.0, name)
    }

    pub fn i(&self, name: &str) -> Option<i64> {
        attr::int(self.0, name)
    }

    pub fn s(&self, name: &str) -> Option<String> {
        attr::text(self.0, name)
    }

    pub fn floats(&self, name: &str) -> Option<Vec<f32>> {
        attr::floats(self.0, name).map(<[f32]>::to_vec)
    }

    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        attr::ints(self.0, name).map(<[i64]>::to_vec)
    }

    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        attr::strings(self.0, name)
    }

    pub fn tensor(&self, name: &str) -> Result<Option<Tensor>, KernelError> {
        match attr::tensor(self.0, name) {
            Some(t) => tensor_proto::decode(t)
                .map(Some)
                .map_err(|e| KernelError::Attribute(format!("attribute '{name}': {e}"))),
            None => Ok(None),
        }
    }

    /// `name` as floats, or `name_as_tensor` (float or double) as f64.
    pub fn floats_or_tensor(&self, name: &str) -> Result<Option<Vec<f64>>, KernelError> {
        if let Some(t) = self.tensor(&format!("{name}_as_tensor"))? {
            return match t.data {
                Data::F32(v) => Ok(Some(v.into_iter().map(f64::from).collect())),
                Data::F64(v) => Ok(Some(v)),
                other => Err(KernelError::Attribute(format!(
                    "{name}_as_tensor must be float or double, found {}",
                    other.dtype()
                ))),
            };
        }
        Ok(self
            .floats(name)
            .map(|v| v.into_iter().map(f64::from).collect()))
    }

    pub fn graph(&self, name: &str) -> Option<&'a neuride_onnx::proto::GraphProto> {
        attr::graph(self.0, name)
    }

    pub fn s_or(&self, name: &str, default: &str) -> String {
        self.s(name).unwrap_or_else(|| default.to_owned())
    }

    /// A string attribute that names one of `choices` (`default` when absent):
    /// the value paired with it.
    pub fn choice<T: Copy>(
        &self,
        name: &str,
        default: &str,
        choices: &[(&str, T)],
    ) -> Result<T, KernelError> {
        let word = self.s_or(name, default);
        match choices.iter().find(|(choice, _)| *choice == word) {
            Some(&(_, value)) => Ok(value),
            None => {
                let words: Vec<&str> = choices.iter().map(|(choice, _)| *choice).collect();
                Err(KernelError::Attribute(format!(
                    "{name} '{word}' is not one of {}",
                    words.join(", ")
                )))
            }
        }
    }

    /// A string attribute the op cannot do without.
    pub fn required_s(&self, name: &str) -> Result<String, KernelError> {
        required(name, self.s(name))
    }

    /// An int attribute the op cannot do without.
    pub fn required_i(&self, name: &str) -> Result<i64, KernelError> {
        required(name, self.i(name))
    }

    /// An ints attribute the op cannot do without.
    pub fn required_ints(&self, name: &str) -> Result<Vec<i64>, KernelError> {
        required(name, self.ints(name))
    }

    /// A strings attribute the op cannot do without.
    pub fn required_strings(&self, name: &str) -> Result<Vec<String>, KernelError> {
        required(name, self.strings(name))
    }

    /// An ints attribute of counts or indexes (negative ones read as 0;
    /// absent: empty).
    pub fn counts(&self, name: &str) -> Vec<usize> {
        self.ints(name)
            .unwrap_or_default()
            .iter()
            .map(|&c| c.max(0) as usize)
            .collect()
    }

    pub fn required_floats(&self, name: &str) -> Result<Vec<f32>, KernelError> {
        self.floats(name).ok_or_else(|| {
            KernelError::Attribute(format!("required attribute '{name}' is missing"))
        })
    }
}

/// `value` of attribute `name`, which the op cannot do without.
fn required<T>(name: &str, value: Option<T>) -> Result<T, KernelError> {
    value.ok_or_else(|| KernelError::Attribute(format!("{name} is required")))
}

/// Parallel list attributes (one entry per tree node, per category...):
/// each of `others` must have as many entries as `reference`; the first
/// that does not is the error, naming both.
pub(crate) fn same_lengths(
    (reference, n): (&str, usize),
    others: &[(&str, usize)],
) -> Result<(), KernelError> {
    match others.iter().find(|&&(_, len)| len != n) {
        Some((name, len)) => Err(KernelError::Attribute(format!(
            "{name} has {len} entries, {reference} {n}"
        ))),
        None => Ok(()),
    }
}
