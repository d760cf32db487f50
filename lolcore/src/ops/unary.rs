//! Elementwise functions of one tensor. Each op's derivative f'(x) is written once, in
//! tensor ops, and serves both modes: backward multiplies it by the output gradient,
//! forward mode by the input tangent.

use super::kinds::UnaryOp;
use crate::autograd::{BackwardFn, Saved};
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

/// What the derivative is computed from: the op's input or its output.
#[derive(Clone, Copy)]
enum Saves {
    Input,
    Output,
}

const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

impl Tensor {
    /// The primal op alone: no graph, no tangent.
    pub(crate) fn unary_raw(&self, op: UnaryOp) -> Result<Tensor> {
        self.require_float(op.name())?;
        let s = self.storage().unary(op, self.layout())?;
        Ok(Tensor::from_storage(s, self.shape()))
    }

    /// f'(x) for `op`, from the saved input or output.
    fn derivative(op: UnaryOp, saved: &Tensor) -> Result<Tensor> {
        let d = |o: UnaryOp| saved.unary_raw(o);
        match op {
            UnaryOp::Exp => Ok(saved.clone()),
            UnaryOp::Log => d(UnaryOp::Recip),
            UnaryOp::Sqrt => saved.recip()?.affine(0.5, 0.0),
            UnaryOp::Abs => d(UnaryOp::Sign),
            UnaryOp::Sin => d(UnaryOp::Cos),
            UnaryOp::Cos => d(UnaryOp::Sin)?.neg(),
            UnaryOp::Tanh => saved.sqr()?.affine(-1.0, 1.0),
            UnaryOp::Sigmoid => saved.mul(&saved.affine(-1.0, 1.0)?),
            UnaryOp::Relu => d(UnaryOp::Step),
            UnaryOp::Gelu => d(UnaryOp::GeluDeriv),
            UnaryOp::Sqr => saved.affine(2.0, 0.0),
            UnaryOp::Recip => saved.sqr()?.neg(),
            UnaryOp::Erf => saved.sqr()?.affine(-1.0, 0.0)?.exp()?.affine(TWO_OVER_SQRT_PI, 0.0),
            UnaryOp::Powf(e) => saved.powf(e - 1.0)?.affine(e, 0.0),
            UnaryOp::LeakyRelu(a) => d(UnaryOp::LeakyReluDeriv(a)),
            UnaryOp::Clamp(lo, hi) => d(UnaryOp::ClampMask(lo, hi)),
            other => bail!(Error::msg(format!("internal: {} has no derivative rule", other.name()))),
        }
    }

    fn saves(op: UnaryOp) -> Option<Saves> {
        match op {
            UnaryOp::Exp | UnaryOp::Sqrt | UnaryOp::Tanh | UnaryOp::Sigmoid | UnaryOp::Recip => Some(Saves::Output),
            UnaryOp::Log
            | UnaryOp::Abs
            | UnaryOp::Sin
            | UnaryOp::Cos
            | UnaryOp::Relu
            | UnaryOp::Gelu
            | UnaryOp::Sqr
            | UnaryOp::Erf
            | UnaryOp::Powf(_)
            | UnaryOp::LeakyRelu(_)
            | UnaryOp::Clamp(..) => Some(Saves::Input),
            // Piecewise-constant results (sign, step, floor, ...) carry no gradient;
            // Neg and Affine are handled as constant scalings.
            _ => None,
        }
    }

    fn unary(&self, op: UnaryOp) -> Result<Tensor> {
        let y = self.unary_raw(op)?;
        match op {
            UnaryOp::Neg => return self.scaled_result(y, -1.0, op.name()),
            UnaryOp::Affine { mul, .. } => return self.scaled_result(y, mul, op.name()),
            _ => {}
        }
        let Some(saves) = Self::saves(op) else {
            return Ok(y);
        };
        let saved_jvp = match saves {
            Saves::Input => self.detach(),
            Saves::Output => y.clone(),
        };
        let role = if matches!(saves, Saves::Input) { "input" } else { "output" };
        let saved = Saved::new(op.name(), role, &saved_jvp);
        y.record(
            op.name(),
            &[self],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let saved = saved.get()?;
                    if op == UnaryOp::Relu {
                        // One pass instead of step-then-multiply.
                        return Ok(vec![Some(g.binary_raw(super::kinds::BinaryOp::MaskPositive, saved)?)]);
                    }
                    Ok(vec![Some(g.mul(&Self::derivative(op, saved)?)?)])
                })
            },
            move |t, _| t[0].mul(&Self::derivative(op, &saved_jvp)?),
        )
    }

    /// Attaches autograd for `y = x·c (+ constant)`.
    fn scaled_result(&self, y: Tensor, c: f64, name: &'static str) -> Result<Tensor> {
        y.record(
            name,
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.affine(c, 0.0)?)])) },
            move |t, _| t[0].affine(c, 0.0),
        )
    }

    pub fn neg(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Neg)
    }
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp)
    }
    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log)
    }
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt)
    }
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs)
    }
    pub fn sin(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sin)
    }
    pub fn cos(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Cos)
    }
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tanh)
    }
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sigmoid)
    }
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Relu)
    }
    /// Exact GELU, `x·Φ(x)` (PyTorch's default, not the tanh approximation).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Gelu)
    }
    /// `x` where positive, `slope·x` elsewhere.
    pub fn leaky_relu(&self, slope: f64) -> Result<Tensor> {
        self.unary(UnaryOp::LeakyRelu(slope))
    }
    pub fn sqr(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqr)
    }
    pub fn recip(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Recip)
    }
    pub fn erf(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Erf)
    }
    /// -1, 0 or 1 (no gradient).
    pub fn sign(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sign)
    }
    pub fn floor(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Floor)
    }
    pub fn ceil(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Ceil)
    }
    pub fn round(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Round)
    }
    /// `x^e` for a constant exponent.
    pub fn powf(&self, e: f64) -> Result<Tensor> {
        self.unary(UnaryOp::Powf(e))
    }
    /// Limits every value to `[min, max]`.
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min > max || min.is_nan() || max.is_nan() {
            bail!(Error::arg("clamp", format!("min {min} must not exceed max {max}")));
        }
        self.unary(UnaryOp::Clamp(min, max))
    }
    /// `x·mul + add` in one pass.
    pub fn affine(&self, mul: f64, add: f64) -> Result<Tensor> {
        self.unary(UnaryOp::Affine { mul, add })
    }
    pub fn add_scalar(&self, v: f64) -> Result<Tensor> {
        self.affine(1.0, v)
    }
    pub fn sub_scalar(&self, v: f64) -> Result<Tensor> {
        self.affine(1.0, -v)
    }
    pub fn mul_scalar(&self, v: f64) -> Result<Tensor> {
        self.affine(v, 0.0)
    }
    pub fn div_scalar(&self, v: f64) -> Result<Tensor> {
        self.affine(1.0 / v, 0.0)
    }
}
