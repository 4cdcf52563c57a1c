//! Element-wise operators: math functions and activations, arithmetic,
//! comparisons, logic and bit operations with numpy broadcasting, Where,
//! Clip.

use super::{Registry, arg, one, op, opt};
use crate::error::KernelError;
use crate::ml::num::{
    Int, Num, bad_type, broadcast_all, checked_len, float_match, int_match, num_match,
    zip_broadcast,
};
use crate::ml::{Attrs, BoxKernel};
use crate::value::{Data, Tensor, Value};

pub(super) fn register(reg: &mut Registry) {
    register_math(reg);
    register_activations(reg);
    register_arithmetic(reg);
    register_compare(reg);
    register_bits(reg);
}

// ---------------------------------------------------------------- helpers

/// `f` over every element of a float tensor, computed in f64 and rounded
/// once into the tensor's type.
pub(crate) fn float_map(
    t: &Tensor,
    what: &str,
    f: impl Fn(f64) -> f64,
) -> Result<Tensor, KernelError> {
    fn go<T: Num>(v: &[T], f: &impl Fn(f64) -> f64) -> Data {
        T::wrap(v.iter().map(|&x| T::from_f64(f(x.to_f64()))).collect())
    }
    let data = float_match!(&t.data, v => go(v, &f), return Err(bad_type(what, t.dtype())));
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
}

/// `f` over every element of a numeric tensor, in its own type.
fn num_map(t: &Tensor, what: &str, f: impl NumFn) -> Result<Tensor, KernelError> {
    fn go<T: Num>(v: &[T], f: &impl NumFn) -> Data {
        T::wrap(v.iter().map(|&x| f.call(x)).collect())
    }
    let data = num_match!(&t.data, v => go(v, &f), return Err(bad_type(what, t.dtype())));
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
}

/// A function generic over the element type (closures cannot be).
trait NumFn {
    fn call<T: Num>(&self, x: T) -> T;
}

macro_rules! num_fn {
    ($name:ident, |$x:ident| $body:expr) => {
        struct $name;
        impl NumFn for $name {
            fn call<T: Num>(&self, $x: T) -> T {
                $body
            }
        }
    };
}

num_fn!(AbsFn, |x| x.abs());
num_fn!(NegFn, |x| x.neg());
num_fn!(SignFn, |x| {
    if x.is_nan() {
        x
    } else if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        T::one().neg()
    } else {
        T::zero()
    }
});
num_fn!(ReluFn, |x| if x > T::zero() { x } else { T::zero() });

/// The kernel of a float function of [`FLOAT_FNS`].
fn build_float(name: &str, a: &Attrs, opset: i64) -> Result<BoxKernel, KernelError> {
    let (what, make) = FLOAT_FNS
        .iter()
        .find(|(n, _)| *n == name)
        .copied()
        .ok_or_else(|| KernelError::Type(format!("{name} is not a float function")))?;
    let f = make(name, a, opset)?;
    op(move |i| one(float_map(arg(i, 0)?, what, &f)?))
}

type FloatBuild =
    fn(&str, &Attrs, i64) -> Result<Box<dyn Fn(f64) -> f64 + Send + Sync>, KernelError>;

fn plain(f: fn(f64) -> f64) -> Result<Box<dyn Fn(f64) -> f64 + Send + Sync>, KernelError> {
    Ok(Box::new(f))
}

fn attr(a: &Attrs, name: &str, default: f32) -> f64 {
    a.f(name).unwrap_or(default) as f64
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn softplus(x: f64) -> f64 {
    if x > 30.0 { x } else { x.exp().ln_1p() }
}

/// The float functions by op name.
const FLOAT_FNS: &[(&str, FloatBuild)] = &[
    ("Exp", |_, _, _| plain(f64::exp)),
    ("Log", |_, _, _| plain(f64::ln)),
    ("Sqrt", |_, _, _| plain(f64::sqrt)),
    ("Reciprocal", |_, _, _| plain(|x| 1.0 / x)),
    ("Floor", |_, _, _| plain(f64::floor)),
    ("Ceil", |_, _, _| plain(f64::ceil)),
    ("Round", |_, _, _| plain(f64::round_ties_even)),
    ("Sin", |_, _, _| plain(f64::sin)),
    ("Cos", |_, _, _| plain(f64::cos)),
    ("Tan", |_, _, _| plain(f64::tan)),
    ("Asin", |_, _, _| plain(f64::asin)),
    ("Acos", |_, _, _| plain(f64::acos)),
    ("Atan", |_, _, _| plain(f64::atan)),
    ("Sinh", |_, _, _| plain(f64::sinh)),
    ("Cosh", |_, _, _| plain(f64::cosh)),
    ("Asinh", |_, _, _| plain(f64::asinh)),
    ("Acosh", |_, _, _| plain(f64::acosh)),
    ("Atanh", |_, _, _| plain(f64::atanh)),
    ("Erf", |_, _, _| plain(libm::erf)),
    ("Sigmoid", |_, _, _| plain(sigmoid)),
    ("Tanh", |_, _, _| plain(f64::tanh)),
    ("Softplus", |_, _, _| plain(softplus)),
    ("Softsign", |_, _, _| plain(|x| x / (1.0 + x.abs()))),
    ("Mish", |_, _, _| plain(|x| x * softplus(x).tanh())),
    ("HardSwish", |_, _, _| {
        plain(|x| x * (x / 6.0 + 0.5).clamp(0.0, 1.0))
    }),
    ("LeakyRelu", |_, a, _| {
        let alpha = attr(a, "alpha", 0.01);
        Ok(Box::new(move |x| if x < 0.0 { alpha * x } else { x }))
    }),
    ("Elu", |_, a, _| {
        let alpha = attr(a, "alpha", 1.0);
        Ok(Box::new(
            move |x| {
                if x < 0.0 { alpha * (x.exp() - 1.0) } else { x }
            },
        ))
    }),
    ("Selu", |_, a, _| {
        let alpha = attr(a, "alpha", 1.673_263_2);
        let gamma = attr(a, "gamma", 1.050_701);
        Ok(Box::new(move |x| {
            if x <= 0.0 {
                gamma * (alpha * x.exp() - alpha)
            } else {
                gamma * x
            }
        }))
    }),
    ("Celu", |_, a, _| {
        let alpha = attr(a, "alpha", 1.0);
        Ok(Box::new(move |x| {
            x.max(0.0) + (alpha * ((x / alpha).exp() - 1.0)).min(0.0)
        }))
    }),
    ("HardSigmoid", |_, a, _| {
        let (alpha, beta) = (attr(a, "alpha", 0.2), attr(a, "beta", 0.5));
        Ok(Box::new(move |x| (alpha * x + beta).clamp(0.0, 1.0)))
    }),
    ("ThresholdedRelu", |_, a, _| {
        let alpha = attr(a, "alpha", 1.0);
        Ok(Box::new(move |x| if x > alpha { x } else { 0.0 }))
    }),
    ("Gelu", |_, a, _| {
        Ok(match a.s_or("approximate", "none").as_str() {
            "tanh" => Box::new(|x: f64| {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }),
            "none" => Box::new(|x: f64| 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))),
            other => {
                return Err(KernelError::Attribute(format!(
                    "approximate '{other}' is not none or tanh"
                )));
            }
        })
    }),
    ("Swish", |_, a, _| {
        let alpha = attr(a, "alpha", 1.0);
        Ok(Box::new(move |x| x * sigmoid(alpha * x)))
    }),
];

// ---------------------------------------------------------------- math

fn register_math(reg: &mut Registry) {
    for &(name, _) in FLOAT_FNS {
        reg.add(&[name], build_float);
    }
    reg.add(&["Abs"], |_, _, _| {
        op(|i| one(num_map(arg(i, 0)?, "Abs", AbsFn)?))
    });
    reg.add(&["Neg"], |_, _, _| {
        op(|i| one(num_map(arg(i, 0)?, "Neg", NegFn)?))
    });
    reg.add(&["Sign"], |_, _, _| {
        op(|i| one(num_map(arg(i, 0)?, "Sign", SignFn)?))
    });
    reg.add(&["Relu"], |_, _, _| {
        op(|i| one(num_map(arg(i, 0)?, "Relu", ReluFn)?))
    });
    reg.add(&["IsNaN"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let v = crate::ml::num::floats(t, "IsNaN")?;
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::Bool(v.iter().map(|x| x.is_nan()).collect()),
            })
        })
    });
    reg.add(&["IsInf"], |_, a, _| {
        let neg = a.i("detect_negative").unwrap_or(1) != 0;
        let pos = a.i("detect_positive").unwrap_or(1) != 0;
        op(move |i| {
            let t = arg(i, 0)?;
            let v = crate::ml::num::floats(t, "IsInf")?;
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::Bool(
                    v.iter()
                        .map(|&x| (x == f64::INFINITY && pos) || (x == f64::NEG_INFINITY && neg))
                        .collect(),
                ),
            })
        })
    });
    reg.add(&["Shrink"], |_, a, _| {
        let bias = attr(a, "bias", 0.0);
        let lambd = attr(a, "lambd", 0.5);
        op(move |i| {
            let t = arg(i, 0)?;
            let f = |x: f64| {
                if x < -lambd {
                    x + bias
                } else if x > lambd {
                    x - bias
                } else {
                    0.0
                }
            };
            // Integers too: computed exactly in f64 for their range.
            let v = crate::ml::num::floats(t, "Shrink")?;
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::from_f64(t.dtype(), v.into_iter().map(f).collect()),
            })
        })
    });
    reg.add(&["Clip"], |_, a, opset| {
        let (amin, amax) = (a.f("min"), a.f("max"));
        op(move |i| {
            let t = arg(i, 0)?;
            if opset < 11 {
                let lo = amin.unwrap_or(f32::MIN) as f64;
                let hi = amax.unwrap_or(f32::MAX) as f64;
                return one(float_map(t, "Clip", |x| {
                    if x.is_nan() { x } else { x.max(lo).min(hi) }
                })?);
            }
            let (lo, hi) = (opt(i, 1)?, opt(i, 2)?);
            one(clip(t, lo, hi)?)
        })
    });
}

fn clip(t: &Tensor, lo: Option<&Tensor>, hi: Option<&Tensor>) -> Result<Tensor, KernelError> {
    fn go<T: Num>(v: &[T], lo: Option<&Tensor>, hi: Option<&Tensor>) -> Result<Data, KernelError> {
        let bound = |b: Option<&Tensor>| -> Result<Option<T>, KernelError> {
            match b {
                None => Ok(None),
                Some(b) if b.is_empty() => Ok(None),
                Some(b) => Ok(Some(
                    T::view(&b.data)
                        .and_then(|s| s.first().copied())
                        .ok_or_else(|| {
                            KernelError::Type(format!("Clip bound of type {}", b.dtype()))
                        })?,
                )),
            }
        };
        let (lo, hi) = (bound(lo)?, bound(hi)?);
        Ok(T::wrap(
            v.iter()
                .map(|&x| {
                    if x.is_nan() {
                        return x;
                    }
                    let mut y = x;
                    if let Some(l) = lo
                        && y < l
                    {
                        y = l;
                    }
                    if let Some(h) = hi
                        && y > h
                    {
                        y = h;
                    }
                    y
                })
                .collect(),
        ))
    }
    let data = num_match!(&t.data, v => go(v, lo, hi)?, return Err(bad_type("Clip", t.dtype())));
    Ok(Tensor {
        shape: t.shape.clone(),
        data,
    })
}

fn register_activations(reg: &mut Registry) {
    reg.add(&["PRelu"], |_, _, _| {
        op(|i| {
            let (x, slope) = (arg(i, 0)?, arg(i, 1)?);
            one(binary(x, slope, "PRelu", Arith::PRelu)?)
        })
    });
}

// ---------------------------------------------------------------- arithmetic

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    PRelu,
}

fn apply<T: Num>(op: Arith, x: T, y: T) -> Result<T, KernelError> {
    Ok(match op {
        Arith::Add => x.add(y),
        Arith::Sub => x.sub(y),
        Arith::Mul => x.mul(y),
        Arith::Div => x.div(y)?,
        Arith::Max => {
            if x.is_nan() || y.is_nan() {
                if x.is_nan() { x } else { y }
            } else if y > x {
                y
            } else {
                x
            }
        }
        Arith::Min => {
            if x.is_nan() || y.is_nan() {
                if x.is_nan() { x } else { y }
            } else if y < x {
                y
            } else {
                x
            }
        }
        Arith::PRelu => {
            if x < T::zero() {
                x.mul(y)
            } else {
                x
            }
        }
    })
}

/// `a op b` with broadcasting; both operands of one type.
fn binary(a: &Tensor, b: &Tensor, what: &str, op: Arith) -> Result<Tensor, KernelError> {
    fn go<T: Num>(
        a: &Tensor,
        x: &[T],
        b: &Tensor,
        op: Arith,
        what: &str,
    ) -> Result<Tensor, KernelError> {
        let y = T::view(&b.data).ok_or_else(|| {
            KernelError::Type(format!(
                "{what}: operands of types {} and {}",
                a.dtype(),
                b.dtype()
            ))
        })?;
        let mut error = None;
        let (shape, out) = zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| {
            apply(op, p, q).unwrap_or_else(|e| {
                error = Some(e);
                T::zero()
            })
        })?;
        if let Some(e) = error {
            return Err(e);
        }
        Ok(Tensor {
            shape,
            data: T::wrap(out),
        })
    }
    num_match!(&a.data, x => go(a, x, b, op, what), Err(bad_type(what, a.dtype())))
}

fn variadic(inputs: &[Option<&Value>], what: &str, op: Arith) -> Result<Tensor, KernelError> {
    let mut acc = arg(inputs, 0)?.clone();
    for k in 1..inputs.len() {
        acc = binary(&acc, arg(inputs, k)?, what, op)?;
    }
    Ok(acc)
}

fn pow(a: &Tensor, b: &Tensor) -> Result<Tensor, KernelError> {
    let y = crate::ml::num::floats(b, "Pow")?;
    fn go<T: Num>(a: &Tensor, x: &[T], y: &[f64], b: &Tensor) -> Result<Tensor, KernelError> {
        let (shape, out) = zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| {
            if T::is_float() {
                T::from_f64(p.to_f64().powf(q))
            } else {
                // Integer powers stay exact where f64 holds them.
                T::from_f64(p.to_f64().powf(q).round())
            }
        })?;
        Ok(Tensor {
            shape,
            data: T::wrap(out),
        })
    }
    num_match!(&a.data, x => go(a, x, &y, b), Err(bad_type("Pow", a.dtype())))
}

fn modulo(a: &Tensor, b: &Tensor, fmod: bool) -> Result<Tensor, KernelError> {
    fn ints<T: Int>(a: &Tensor, x: &[T], b: &Tensor, fmod: bool) -> Result<Tensor, KernelError> {
        let y = T::view(&b.data)
            .ok_or_else(|| KernelError::Type("Mod operands differ in type".to_owned()))?;
        let (shape, out) = zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| {
            if fmod { p.fmod(q) } else { p.modulo(q) }
        })?;
        Ok(Tensor {
            shape,
            data: T::wrap(out),
        })
    }
    fn flts<T: Num>(a: &Tensor, x: &[T], b: &Tensor, fmod: bool) -> Result<Tensor, KernelError> {
        let y = T::view(&b.data)
            .ok_or_else(|| KernelError::Type("Mod operands differ in type".to_owned()))?;
        // fmod=1: C's fmod (the dividend's sign); fmod=0: numpy's mod
        // (the divisor's sign, as Python's %).
        let (shape, out) = zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| {
            let (p, q) = (p.to_f64(), q.to_f64());
            let r = p % q;
            T::from_f64(if fmod || r.is_nan() {
                r
            } else if r == 0.0 {
                0f64.copysign(q)
            } else if (r < 0.0) != (q < 0.0) {
                r + q
            } else {
                r
            })
        })?;
        Ok(Tensor {
            shape,
            data: T::wrap(out),
        })
    }
    int_match!(&a.data, x => ints(a, x, b, fmod), {
        float_match!(&a.data, x => flts(a, x, b, fmod), Err(bad_type("Mod", a.dtype())))
    })
}

fn register_arithmetic(reg: &mut Registry) {
    reg.add(&["Add"], |_, _, _| {
        op(|i| one(binary(arg(i, 0)?, arg(i, 1)?, "Add", Arith::Add)?))
    });
    reg.add(&["Sub"], |_, _, _| {
        op(|i| one(binary(arg(i, 0)?, arg(i, 1)?, "Sub", Arith::Sub)?))
    });
    reg.add(&["Mul"], |_, _, _| {
        op(|i| one(binary(arg(i, 0)?, arg(i, 1)?, "Mul", Arith::Mul)?))
    });
    reg.add(&["Div"], |_, _, _| {
        op(|i| one(binary(arg(i, 0)?, arg(i, 1)?, "Div", Arith::Div)?))
    });
    reg.add(&["Pow"], |_, _, _| {
        op(|i| one(pow(arg(i, 0)?, arg(i, 1)?)?))
    });
    reg.add(&["Mod"], |_, a, _| {
        let fmod = a.i("fmod").unwrap_or(0) != 0;
        op(move |i| one(modulo(arg(i, 0)?, arg(i, 1)?, fmod)?))
    });
    reg.add(&["Max"], |_, _, _| {
        op(|i| one(variadic(i, "Max", Arith::Max)?))
    });
    reg.add(&["Min"], |_, _, _| {
        op(|i| one(variadic(i, "Min", Arith::Min)?))
    });
    reg.add(&["Sum"], |_, _, _| {
        op(|i| one(variadic(i, "Sum", Arith::Add)?))
    });
    reg.add(&["Mean"], |_, _, _| {
        op(|i| {
            let sum = variadic(i, "Mean", Arith::Add)?;
            let n = i.len() as f64;
            one(float_map(&sum, "Mean", |x| x / n)?)
        })
    });
}

// ---------------------------------------------------------------- comparisons

#[derive(Clone, Copy)]
enum Cmp {
    Less,
    Greater,
    Equal,
    LessEq,
    GreaterEq,
}

fn cmp<T: PartialOrd>(p: T, q: T, op: Cmp) -> bool {
    match op {
        Cmp::Less => p < q,
        Cmp::Greater => p > q,
        Cmp::Equal => p == q,
        Cmp::LessEq => p <= q,
        Cmp::GreaterEq => p >= q,
    }
}

fn compare(a: &Tensor, b: &Tensor, op: Cmp) -> Result<Tensor, KernelError> {
    let mismatch = || KernelError::Type(format!("comparing {} with {}", a.dtype(), b.dtype()));
    let (shape, out) = match (&a.data, &b.data) {
        (Data::Str(x), Data::Str(y)) => {
            let (xs, ys): (Vec<&str>, Vec<&str>) = (
                x.iter().map(String::as_str).collect(),
                y.iter().map(String::as_str).collect(),
            );
            zip_broadcast((&a.shape, &xs), (&b.shape, &ys), |p, q| cmp(p, q, op))?
        }
        (Data::Bool(x), Data::Bool(y)) => {
            zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| cmp(p, q, op))?
        }
        _ => {
            fn go<T: Num>(
                a: &Tensor,
                x: &[T],
                b: &Tensor,
                op: Cmp,
            ) -> Option<Result<(Vec<usize>, Vec<bool>), KernelError>> {
                let y = T::view(&b.data)?;
                Some(zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| {
                    cmp(p, q, op)
                }))
            }
            num_match!(&a.data, x => go(a, x, b, op).ok_or_else(mismatch)??, return Err(mismatch()))
        }
    };
    Ok(Tensor {
        shape,
        data: Data::Bool(out),
    })
}

fn logic(a: &Tensor, b: &Tensor, f: fn(bool, bool) -> bool) -> Result<Tensor, KernelError> {
    let (Data::Bool(x), Data::Bool(y)) = (&a.data, &b.data) else {
        return Err(KernelError::Type(format!(
            "logical ops take bool tensors, found {} and {}",
            a.dtype(),
            b.dtype()
        )));
    };
    let (shape, out) = zip_broadcast((&a.shape, x), (&b.shape, y), f)?;
    Ok(Tensor {
        shape,
        data: Data::Bool(out),
    })
}

/// Where(condition, X, Y) over three broadcast operands of any type.
fn where_(c: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor, KernelError> {
    let Data::Bool(cond) = &c.data else {
        return Err(KernelError::Type(format!(
            "Where's condition must be bool, found {}",
            c.dtype()
        )));
    };
    if x.dtype() != y.dtype() {
        return Err(KernelError::Value(format!(
            "Where of {} and {}",
            x.dtype(),
            y.dtype()
        )));
    }
    let shape = broadcast_all(&[&c.shape, &x.shape, &y.shape])?;
    checked_len(&shape)?;
    let ic = neuride_onnx::broadcast::index_map(&shape, &c.shape);
    let ix = neuride_onnx::broadcast::index_map(&shape, &x.shape);
    let iy = neuride_onnx::broadcast::index_map(&shape, &y.shape);
    // Pick from the concatenation [x, y]: x's indices as they are, y's shifted.
    let picks: Vec<usize> = (0..ic.len())
        .map(|k| if cond[ic[k]] { ix[k] } else { x.len() + iy[k] })
        .collect();
    let mut both = x.data.clone();
    both.extend(&y.data);
    Ok(Tensor {
        shape,
        data: both.gather(&picks),
    })
}

fn register_compare(reg: &mut Registry) {
    macro_rules! cmp_op {
        ($name:literal, $c:expr) => {
            reg.add(&[$name], |_, _, _| {
                op(|i| one(compare(arg(i, 0)?, arg(i, 1)?, $c)?))
            });
        };
    }
    cmp_op!("Less", Cmp::Less);
    cmp_op!("Greater", Cmp::Greater);
    cmp_op!("Equal", Cmp::Equal);
    cmp_op!("LessOrEqual", Cmp::LessEq);
    cmp_op!("GreaterOrEqual", Cmp::GreaterEq);
    reg.add(&["And"], |_, _, _| {
        op(|i| one(logic(arg(i, 0)?, arg(i, 1)?, |p, q| p && q)?))
    });
    reg.add(&["Or"], |_, _, _| {
        op(|i| one(logic(arg(i, 0)?, arg(i, 1)?, |p, q| p || q)?))
    });
    reg.add(&["Xor"], |_, _, _| {
        op(|i| one(logic(arg(i, 0)?, arg(i, 1)?, |p, q| p != q)?))
    });
    reg.add(&["Not"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            let Data::Bool(v) = &t.data else {
                return Err(KernelError::Type(format!(
                    "Not takes bool tensors, found {}",
                    t.dtype()
                )));
            };
            one(Tensor {
                shape: t.shape.clone(),
                data: Data::Bool(v.iter().map(|x| !x).collect()),
            })
        })
    });
    reg.add(&["Where"], |_, _, _| {
        op(|i| one(where_(arg(i, 0)?, arg(i, 1)?, arg(i, 2)?)?))
    });
}

// ---------------------------------------------------------------- bits

#[derive(Clone, Copy)]
enum Bits {
    And,
    Or,
    Xor,
    Left,
    Right,
}

fn bits(a: &Tensor, b: &Tensor, op: Bits) -> Result<Tensor, KernelError> {
    fn go<T: Int>(a: &Tensor, x: &[T], b: &Tensor, op: Bits) -> Result<Tensor, KernelError> {
        let y = T::view(&b.data)
            .ok_or_else(|| KernelError::Type("bit op operands differ in type".to_owned()))?;
        let (shape, out) = zip_broadcast((&a.shape, x), (&b.shape, y), |p, q| match op {
            Bits::And => p.and(q),
            Bits::Or => p.or(q),
            Bits::Xor => p.xor(q),
            Bits::Left | Bits::Right => {
                let n = q.to_i64();
                if n < 0 || n >= T::BITS as i64 {
                    // Shifted out entirely: the sign remains on the right.
                    if matches!(op, Bits::Right) && p < T::zero() {
                        T::one().neg()
                    } else {
                        T::zero()
                    }
                } else if matches!(op, Bits::Left) {
                    p.shl(n as u32)
                } else {
                    p.shr(n as u32)
                }
            }
        })?;
        Ok(Tensor {
            shape,
            data: T::wrap(out),
        })
    }
    int_match!(&a.data, x => go(a, x, b, op), Err(bad_type("bit operations", a.dtype())))
}

fn register_bits(reg: &mut Registry) {
    reg.add(&["BitwiseAnd"], |_, _, _| {
        op(|i| one(bits(arg(i, 0)?, arg(i, 1)?, Bits::And)?))
    });
    reg.add(&["BitwiseOr"], |_, _, _| {
        op(|i| one(bits(arg(i, 0)?, arg(i, 1)?, Bits::Or)?))
    });
    reg.add(&["BitwiseXor"], |_, _, _| {
        op(|i| one(bits(arg(i, 0)?, arg(i, 1)?, Bits::Xor)?))
    });
    reg.add(&["BitwiseNot"], |_, _, _| {
        op(|i| {
            let t = arg(i, 0)?;
            fn not<T: Int>(v: &[T]) -> Data {
                T::wrap(v.iter().map(|&x| x.not()).collect())
            }
            let data =
                int_match!(&t.data, v => not(v), return Err(bad_type("BitwiseNot", t.dtype())));
            one(Tensor {
                shape: t.shape.clone(),
                data,
            })
        })
    });
    reg.add(&["BitShift"], |_, a, _| {
        let dir = a.choice(
            "direction",
            "",
            &[("LEFT", Bits::Left), ("RIGHT", Bits::Right)],
        )?;
        op(move |i| one(bits(arg(i, 0)?, arg(i, 1)?, dir)?))
    });
}
