//! A plain owned f32 tensor: the only array type the simulator exchanges.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    /// Checks that `data` holds exactly `product(shape)` values.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Tensor, crate::Error> {
        let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(crate::Error::Data {
                expected: format!(
                    "{} values for shape {shape:?}",
                    expected.map_or("overflowing".into(), |n| n.to_string())
                ),
                found: format!("{} values", data.len()),
            });
        }
        Ok(Tensor { shape, data })
    }

    pub fn zeros(shape: Vec<usize>) -> Tensor {
        let len = shape.iter().product();
        Tensor {
            shape,
            data: vec![0.0; len],
        }
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
