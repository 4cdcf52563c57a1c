//! The sliding window of Conv and the pools, as the ONNX operator docs define
//! it: `kernel_shape`, `strides`, `dilations`, `pads`, `auto_pad` and
//! `ceil_mode` read once, and the output size of each spatial axis with the
//! pads actually applied. The shape rules, the native engine and the converter
//! all size windows here, so they cannot disagree.

use crate::attr;
use crate::proto::NodeProto;

/// The `auto_pad` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoPad {
    /// Explicit `pads` (the default; `""` reads as this too).
    NotSet,
    /// No padding.
    Valid,
    /// Pad so that `out = ceil(in / stride)`, the odd pad at the end.
    SameUpper,
    /// As `SameUpper`, the odd pad at the beginning.
    SameLower,
}

impl AutoPad {
    pub fn is_same(self) -> bool {
        matches!(self, AutoPad::SameUpper | AutoPad::SameLower)
    }
}

/// Why a node's window attributes cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("auto_pad '{0}' is not an ONNX value")]
    AutoPad(String),
    #[error("strides {strides:?} / dilations {dilations:?} do not fit {axes} spatial axes")]
    StridesDilations {
        strides: Vec<i64>,
        dilations: Vec<i64>,
        axes: usize,
    },
    #[error("pads {pads:?} do not fit {axes} spatial axes")]
    Pads { pads: Vec<i64>, axes: usize },
    #[error("the window {span} is larger than the input {input}")]
    LargerThanInput { span: i64, input: i64 },
    #[error("the window {span} is larger than the padded input {padded}")]
    LargerThanPadded { span: i64, padded: i64 },
}

/// A Conv's or pool's window attributes for `n` spatial axes. Absent or
/// empty lists take their defaults (strides and dilations 1, pads 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub strides: Vec<i64>,
    pub dilations: Vec<i64>,
    /// Begin pads of every axis, then end pads (as `pads` stores them).
    pub pads: Vec<i64>,
    pub auto_pad: AutoPad,
    pub ceil_mode: bool,
}

/// One spatial axis of a sized window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub out: i64,
    pub pad_begin: i64,
    pub pad_end: i64,
}

impl Window {
    /// Reads the window of `node` for `n` spatial axes. Strides and dilations
    /// must be positive, one per axis; pads one begin and one end per axis.
    pub fn of(node: &NodeProto, n: usize) -> Result<Window, WindowError> {
        let list = |name: &str, default: i64, len: usize| -> Vec<i64> {
            match attr::ints(node, name) {
                Some(v) if !v.is_empty() => v.to_vec(),
                _ => vec![default; len],
            }
        };
        let auto_pad = match attr::text(node, "auto_pad").as_deref() {
            None | Some("" | "NOTSET") => AutoPad::NotSet,
            Some("VALID") => AutoPad::Valid,
            Some("SAME_UPPER") => AutoPad::SameUpper,
            Some("SAME_LOWER") => AutoPad::SameLower,
            Some(other) => return Err(WindowError::AutoPad(other.to_owned())),
        };
        let strides = list("strides", 1, n);
        let dilations = list("dilations", 1, n);
        if strides.len() != n
            || dilations.len() != n
            || strides.iter().chain(&dilations).any(|&v| v < 1)
        {
            return Err(WindowError::StridesDilations {
                strides,
                dilations,
                axes: n,
            });
        }
        let pads = list("pads", 0, 2 * n);
        if pads.len() != 2 * n {
            return Err(WindowError::Pads { pads, axes: n });
        }
        Ok(Window {
            strides,
            dilations,
            pads,
            auto_pad,
            ceil_mode: attr::int(node, "ceil_mode").unwrap_or(0) != 0,
        })
    }

    /// The number of spatial axes.
    pub fn axes(&self) -> usize {
        self.strides.len()
    }

    /// The kernel's reach on axis `axis` once dilated.
    pub fn span(&self, axis: usize, kernel: i64) -> i64 {
        (kernel - 1) * self.dilations[axis] + 1
    }

    /// Output size and applied pads of axis `axis` for an input of `input`
    /// and a kernel of `kernel`. Negative explicit pads count as 0. With
    /// `ceil_mode`, a last window that would start in the end pad is dropped.
    pub fn extent(&self, axis: usize, input: i64, kernel: i64) -> Result<Extent, WindowError> {
        let stride = self.strides[axis];
        let span = self.span(axis, kernel);
        match self.auto_pad {
            AutoPad::SameUpper | AutoPad::SameLower => {
                let out = (input + stride - 1) / stride;
                let total = ((out - 1) * stride + span - input).max(0);
                let small = total / 2;
                let (pad_begin, pad_end) = if self.auto_pad == AutoPad::SameUpper {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                Ok(Extent {
                    out,
                    pad_begin,
                    pad_end,
                })
            }
            AutoPad::Valid => {
                if input < span {
                    return Err(WindowError::LargerThanInput { span, input });
                }
                Ok(Extent {
                    out: (input - span) / stride + 1,
                    pad_begin: 0,
                    pad_end: 0,
                })
            }
            AutoPad::NotSet => {
                let n = self.axes();
                let (pad_begin, pad_end) = (self.pads[axis].max(0), self.pads[n + axis].max(0));
                let padded = input + pad_begin + pad_end;
                if padded < span {
                    return Err(WindowError::LargerThanPadded { span, padded });
                }
                let out = if self.ceil_mode {
                    let out = (padded - span + stride - 1) / stride + 1;
                    // The last window must start inside the input or its leading pad.
                    if (out - 1) * stride >= input + pad_begin {
                        out - 1
                    } else {
                        out
                    }
                } else {
                    (padded - span) / stride + 1
                };
                Ok(Extent {
                    out,
                    pad_begin,
                    pad_end,
                })
            }
        }
    }
}
