//! Elementwise float functions on the CPU: one pass, strided input, contiguous output.

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::Rows;
use crate::dtype::FloatElem;
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::kinds::UnaryOp;
use crate::Device;
use crate::Error;

fn map<T: FloatElem + CpuElem>(src: &[T], layout: &Layout, f: impl Fn(T) -> T + Sync) -> Vec<T> {
    let mut out = pool::take::<T>(layout.numel());
    let rows = Rows::new(layout.shape(), [layout]);
    let [s] = rows.inner_strides();
    rows.fill(&mut out, |o, [off]| {
        if s == 1 {
            let n = o.len();
            for (d, &x) in o.iter_mut().zip(&src[off..off + n]) {
                *d = f(x);
            }
        } else {
            for (i, d) in o.iter_mut().enumerate() {
                *d = f(src[off + i * s]);
            }
        }
    });
    out
}

const SQRT_2: f64 = std::f64::consts::SQRT_2;
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

fn apply<T: FloatElem + CpuElem>(op: UnaryOp, src: &[T], l: &Layout) -> Vec<T> {
    let c = |v: f64| T::from_f64(v);
    let (zero, one, half) = (c(0.0), c(1.0), c(0.5));
    match op {
        UnaryOp::Neg => map(src, l, |x| -x),
        UnaryOp::Exp => map(src, l, |x| x.exp()),
        UnaryOp::Log => map(src, l, |x| x.ln()),
        UnaryOp::Sqrt => map(src, l, |x| x.sqrt()),
        UnaryOp::Abs => map(src, l, |x| x.abs()),
        UnaryOp::Sin => map(src, l, |x| x.sin()),
        UnaryOp::Cos => map(src, l, |x| x.cos()),
        UnaryOp::Tanh => map(src, l, |x| x.tanh()),
        UnaryOp::Sigmoid => map(src, l, |x| {
            // Stable on both tails.
            if x >= zero {
                one / (one + (-x).exp())
            } else {
                let e = x.exp();
                e / (one + e)
            }
        }),
        UnaryOp::Relu => map(src, l, |x| if x > zero { x } else { zero }),
        UnaryOp::Gelu => {
            let inv = c(1.0 / SQRT_2);
            map(src, l, |x| half * x * (one + (x * inv).erf()))
        }
        UnaryOp::GeluDeriv => {
            let (inv, k) = (c(1.0 / SQRT_2), c(INV_SQRT_2PI));
            map(src, l, |x| half * (one + (x * inv).erf()) + x * k * (-half * x * x).exp())
        }
        UnaryOp::Sqr => map(src, l, |x| x * x),
        UnaryOp::Recip => map(src, l, |x| one / x),
        UnaryOp::Sign => map(src, l, |x| {
            if x > zero {
                one
            } else if x < zero {
                -one
            } else {
                zero
            }
        }),
        UnaryOp::Step => map(src, l, |x| if x > zero { one } else { zero }),
        UnaryOp::Erf => map(src, l, |x| x.erf()),
        UnaryOp::Floor => map(src, l, |x| x.floor()),
        UnaryOp::Ceil => map(src, l, |x| x.ceil()),
        UnaryOp::Round => map(src, l, |x| x.round()),
        UnaryOp::Affine { mul, add } => {
            let (m, a) = (c(mul), c(add));
            map(src, l, |x| x * m + a)
        }
        UnaryOp::Powf(e) => {
            let e = c(e);
            map(src, l, |x| x.powf(e))
        }
        UnaryOp::LeakyRelu(a) => {
            let a = c(a);
            map(src, l, |x| if x > zero { x } else { x * a })
        }
        UnaryOp::LeakyReluDeriv(a) => {
            let a = c(a);
            map(src, l, |x| if x > zero { one } else { a })
        }
        UnaryOp::Clamp(lo, hi) => {
            let (lo, hi) = (c(lo), c(hi));
            map(src, l, |x| {
                if x < lo {
                    lo
                } else if x > hi {
                    hi
                } else {
                    x
                }
            })
        }
        UnaryOp::ClampMask(lo, hi) => {
            let (lo, hi) = (c(lo), c(hi));
            map(src, l, |x| if x >= lo && x <= hi { one } else { zero })
        }
    }
}

pub fn unary(op: UnaryOp, s: &CpuStorage, l: &Layout) -> Result<CpuStorage> {
    Ok(match s {
        CpuStorage::F32(v) => f32::wrap(apply(op, v, l)),
        CpuStorage::F64(v) => f64::wrap(apply(op, v, l)),
        other => return Err(Error::unsupported_dtype(op.name(), other.dtype(), Device::Cpu)),
    })
}
