//! Convolutions and pools: output spatial sizes from kernel, pads, strides,
//! dilations and auto_pad, as the ONNX operator docs define them.

use super::dim::{Dim, ValueType, shape_text};
use super::{At, Cx, Fact};
use crate::attr;
use crate::window::{AutoPad, Window};

/// A node's window and its kernel size per spatial axis (`None` unknown).
struct Sized {
    win: Window,
    kernel: Vec<Option<i64>>,
}

/// `None` when the attributes do not fit `n` axes: the output is then unknown.
fn window(at: &At, n: usize, kernel: Vec<Option<i64>>) -> Option<Sized> {
    let win = Window::of(at.node, n).ok()?;
    Some(Sized { win, kernel })
}

impl Sized {
    /// Output size of spatial axis `i` for input size `input`.
    fn out(&self, i: usize, input: &Dim) -> Dim {
        let win = &self.win;
        let Some(x) = input.known() else {
            // A symbolic size stays symbolic only when the window cannot change it.
            let identity = win.strides[i] == 1
                && (win.auto_pad.is_same()
                    || (self.kernel[i] == Some(1)
                        && win.pads[i] == 0
                        && win.pads[i + win.axes()] == 0));
            return if identity {
                input.clone()
            } else {
                Dim::Unknown
            };
        };
        // SAME sizes do not depend on the kernel.
        let kernel = match self.kernel[i] {
            Some(k) => k,
            None if win.auto_pad.is_same() => 1,
            None => return Dim::Unknown,
        };
        win.extent(i, x, kernel)
            .map_or(Dim::Unknown, |e| Dim::Known(e.out))
    }
}

/// Conv (and ConvInteger/QLinearConv via `x_idx`/`w_idx`): `[N, M, spatial...]`.
pub fn conv(cx: &mut Cx, at: &At, x: Option<&Fact>, w: Option<&Fact>, elem: i32) -> Vec<Fact> {
    let x_shape = x.and_then(|f| f.ty.shape());
    let w_shape = w.and_then(|f| f.ty.shape());
    let Some(xs) = x_shape else {
        return vec![Fact::of(ValueType::tensor_unranked(elem))];
    };
    if xs.len() < 3 {
        return vec![Fact::of(ValueType::tensor_unranked(elem))];
    }
    let n = xs.len() - 2;
    let group = attr::int(at.node, "group").unwrap_or(1).max(1);
    let kernel: Vec<Option<i64>> = match attr::ints(at.node, "kernel_shape") {
        Some(k) if k.len() == n => k.iter().map(|&v| Some(v)).collect(),
        _ => match w_shape {
            Some(ws) if ws.len() == n + 2 => ws[2..].iter().map(|d| d.known()).collect(),
            _ => vec![None; n],
        },
    };
    if let (Some(ws), Some(c)) = (w_shape, xs[1].known())
        && let Some(wc) = ws.get(1).and_then(|d| d.known())
        && wc * group != c
    {
        at.mismatch(
                    cx,
                    format!(
                        "input channels differ: X is {} with {c} channels, W is {} expecting {} (group {group})",
                        shape_text(xs),
                        shape_text(ws),
                        wc * group
                    ),
                );
    }
    let Some(win) = window(at, n, kernel) else {
        return vec![Fact::of(ValueType::tensor_unranked(elem))];
    };
    let m = w_shape
        .and_then(|ws| ws.first().cloned())
        .unwrap_or(Dim::Unknown);
    let mut out = vec![xs[0].clone(), m];
    out.extend((0..n).map(|i| win.out(i, &xs[i + 2])));
    vec![Fact::of(ValueType::tensor(elem, out))]
}

pub fn conv_transpose(at: &At, x: Option<&Fact>, w: Option<&Fact>, elem: i32) -> Vec<Fact> {
    let unknown = || vec![Fact::of(ValueType::tensor_unranked(elem))];
    let Some(xs) = x.and_then(|f| f.ty.shape()) else {
        return unknown();
    };
    if xs.len() < 3 {
        return unknown();
    }
    let n = xs.len() - 2;
    let ws = w.and_then(|f| f.ty.shape());
    let group = attr::int(at.node, "group").unwrap_or(1).max(1);
    let m = match ws.and_then(|ws| ws.get(1)).and_then(|d| d.known()) {
        Some(v) => Dim::Known(v * group),
        None => Dim::Unknown,
    };
    let mut out = vec![xs[0].clone(), m];
    if let Some(os) = attr::ints(at.node, "output_shape").filter(|o| o.len() == n) {
        out.extend(os.iter().map(|&v| Dim::Known(v)));
        return vec![Fact::of(ValueType::tensor(elem, out))];
    }
    let kernel: Vec<Option<i64>> = match attr::ints(at.node, "kernel_shape") {
        Some(k) if k.len() == n => k.iter().map(|&v| Some(v)).collect(),
        _ => match ws {
            Some(ws) if ws.len() == n + 2 => ws[2..].iter().map(|d| d.known()).collect(),
            _ => vec![None; n],
        },
    };
    let Some(win) = window(at, n, kernel) else {
        return unknown();
    };
    let out_pad = attr::ints(at.node, "output_padding")
        .filter(|o| o.len() == n)
        .map(|o| o.to_vec())
        .unwrap_or(vec![0; n]);
    let Sized { win, kernel } = win;
    for i in 0..n {
        let d = match (xs[i + 2].known(), kernel[i]) {
            (Some(x), _) if win.auto_pad.is_same() => Dim::Known(x * win.strides[i]),
            (Some(x), Some(k)) => {
                let pads = if win.auto_pad == AutoPad::Valid {
                    0
                } else {
                    win.pads[i] + win.pads[i + n]
                };
                Dim::Known(win.strides[i] * (x - 1) + out_pad[i] + win.span(i, k) - pads)
            }
            _ => Dim::Unknown,
        };
        out.push(d);
    }
    vec![Fact::of(ValueType::tensor(elem, out))]
}

/// MaxPool / AveragePool / LpPool: channels kept, spatial from kernel_shape.
pub fn pool(at: &At, x: Option<&Fact>) -> Vec<Fact> {
    let elem = x.map_or(0, |f| f.ty.elem());
    let unknown = || {
        vec![
            Fact::of(ValueType::tensor_unranked(elem)),
            Fact::of(ValueType::tensor_unranked(7)),
        ]
    };
    let Some(xs) = x.and_then(|f| f.ty.shape()) else {
        return unknown();
    };
    if xs.len() < 3 {
        return unknown();
    }
    let n = xs.len() - 2;
    let kernel: Vec<Option<i64>> = match attr::ints(at.node, "kernel_shape") {
        Some(k) if k.len() == n => k.iter().map(|&v| Some(v)).collect(),
        _ => return unknown(),
    };
    let Some(win) = window(at, n, kernel) else {
        return unknown();
    };
    let mut out = vec![xs[0].clone(), xs[1].clone()];
    out.extend((0..n).map(|i| win.out(i, &xs[i + 2])));
    vec![
        Fact::of(ValueType::tensor(elem, out.clone())),
        Fact::of(ValueType::tensor(7, out)),
    ]
}

/// GlobalAveragePool / GlobalMaxPool / GlobalLpPool: `[N, C, 1, 1, ...]`.
pub fn global_pool(x: Option<&Fact>) -> Vec<Fact> {
    let elem = x.map_or(0, |f| f.ty.elem());
    match x.and_then(|f| f.ty.shape()) {
        Some(xs) if xs.len() >= 2 => {
            let mut out = xs[..2].to_vec();
            out.extend(std::iter::repeat_n(Dim::Known(1), xs.len() - 2));
            vec![Fact::of(ValueType::tensor(elem, out))]
        }
        _ => vec![Fact::of(ValueType::tensor_unranked(elem))],
    }
}
