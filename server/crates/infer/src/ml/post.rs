//! Score post-transforms shared by the linear, SVM and tree operators, in f32
//! exactly as onnxruntime's `ml_common.h` computes them.
use crate::error::KernelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostTransform {
    None,
    Softmax,
    Logistic,
    SoftmaxZero,
    Probit,
}

impl PostTransform {
    pub fn parse(s: &str) -> Result<PostTransform, KernelError> {
        Ok(match s {
            "NONE" | "" => PostTransform::None,
            "SOFTMAX" => PostTransform::Softmax,
            "LOGISTIC" => PostTransform::Logistic,
            "SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
            "PROBIT" => PostTransform::Probit,
            other => {
                return Err(KernelError::Attribute(format!(
                    "post_transform '{other}' is not one of NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT"
                )));
            }
        })
    }

    pub fn from_attrs(a: &super::Attrs) -> Result<PostTransform, KernelError> {
        PostTransform::parse(&a.s_or("post_transform", "NONE"))
    }
}

pub(crate) fn logistic(x: f32) -> f32 {
    let v = 1.0 / (1.0 + (-x.abs()).exp());
    if x < 0.0 { 1.0 - v } else { v }
}

/// The approximation of erf⁻¹ onnxruntime uses (Winitzki, a = 0.147).
fn erf_inv(x: f32) -> f32 {
    let sgn = if x < 0.0 { -1.0f32 } else { 1.0 };
    let x = (1.0 - x) * (1.0 + x);
    let log = x.ln();
    let v = 2.0 / (std::f32::consts::PI * 0.147) + 0.5 * log;
    let v2 = 1.0 / 0.147 * log;
    let v3 = -v + (v * v - v2).sqrt();
    sgn * v3.sqrt()
}

pub(crate) fn probit(x: f32) -> f32 {
    std::f32::consts::SQRT_2 * erf_inv(2.0 * x - 1.0)
}

pub(crate) fn softmax(values: &mut [f32]) {
    let max = values
        .iter()
        .fold(-f32::MAX, |m, &v| if v > m { v } else { m });
    let mut sum = 0.0f32;
    for v in values.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in values.iter_mut() {
        *v /= sum;
    }
}

/// Softmax that leaves (near-)zero scores near zero instead of exp(0).
pub(crate) fn softmax_zero(values: &mut [f32]) {
    let max = values
        .iter()
        .fold(-f32::MAX, |m, &v| if v > m { v } else { m });
    let exp_neg_max = (-max).exp();
    let mut sum = 0.0f32;
    for v in values.iter_mut() {
        if *v > 0.0000001 || *v < -0.0000001 {
            *v = (*v - max).exp();
            sum += *v;
        } else {
            *v *= exp_neg_max;
        }
    }
    for v in values.iter_mut() {
        *v /= sum;
    }
}

/// Applies the transform to one row of `scores` with more than one score
/// (onnxruntime's `batched_update_scores_inplace`, batch_size > 1).
pub(crate) fn apply_row(scores: &mut [f32], transform: PostTransform) {
    if scores.len() < 2 {
        if transform == PostTransform::Probit {
            for s in scores.iter_mut() {
                *s = probit(*s);
            }
        }
        return;
    }
    match transform {
        PostTransform::None => {}
        PostTransform::Probit => scores.iter_mut().for_each(|s| *s = probit(*s)),
        PostTransform::Logistic => scores.iter_mut().for_each(|s| *s = logistic(*s)),
        PostTransform::Softmax => softmax(scores),
        PostTransform::SoftmaxZero => softmax_zero(scores),
    }
}

/// How one score becomes two (onnxruntime's `add_second_class`): 0/1 when all
/// weights are positive (p, 1-p), 2/3 for mixed weights (-s, s or logistic).
pub(crate) fn expand_binary(
    score: f32,
    transform: PostTransform,
    add_second_class: i32,
) -> [f32; 2] {
    match add_second_class {
        // onnxruntime squashes the score first when the transform is LOGISTIC.
        0 | 1 if transform == PostTransform::Logistic => {
            let p = logistic(score);
            [1.0 - p, p]
        }
        0 | 1 => [1.0 - score, score],
        _ if transform == PostTransform::Logistic => [logistic(-score), logistic(score)],
        _ => [-score, score],
    }
}
