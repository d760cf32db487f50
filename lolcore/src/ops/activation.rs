//! The activations PyTorch users reach for beyond relu/gelu/tanh/sigmoid, composed from
//! elementwise ops so every device runs them and their gradients follow. Branches that
//! are masked out are computed on clamped inputs, so an `exp` that would overflow there
//! cannot put `inf · 0 = NaN` into a gradient.

use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

impl Tensor {
    /// `x` where positive, `alpha·(eʸ − 1)` elsewhere (PyTorch's `elu`, alpha 1 there).
    pub fn elu(&self, alpha: f64) -> Result<Tensor> {
        let neg = self.clamp(f64::NEG_INFINITY, 0.0)?.exp()?.affine(alpha, -alpha)?;
        self.gt_scalar(0.0)?.where_cond(self, &neg)
    }

    /// `scale · elu(x, alpha)` with the self-normalising constants.
    pub fn selu(&self) -> Result<Tensor> {
        self.elu(SELU_ALPHA)?.mul_scalar(SELU_SCALE)
    }

    /// `x · σ(x)` (also called swish).
    pub fn silu(&self) -> Result<Tensor> {
        self.mul(&self.sigmoid()?)
    }

    /// `log(1 + e^{βx}) / β`, and `x` itself where `βx > threshold` (PyTorch's
    /// defaults: β 1, threshold 20).
    pub fn softplus(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        if !(beta.is_finite() && beta != 0.0) || threshold.is_nan() {
            bail!(Error::arg(
                "softplus",
                format!("beta {beta} must be finite and non-zero, threshold {threshold} a number")
            ));
        }
        let bx = self.mul_scalar(beta)?;
        // Stable: relu(bx) + log(1 + e^{−|bx|}).
        let soft = bx.relu()?.add(&bx.abs()?.neg()?.exp()?.add_scalar(1.0)?.log()?)?.mul_scalar(1.0 / beta)?;
        bx.gt_scalar(threshold)?.where_cond(self, &soft)
    }

    /// `x · tanh(softplus(x))`.
    pub fn mish(&self) -> Result<Tensor> {
        self.mul(&self.softplus(1.0, 20.0)?.tanh()?)
    }

    /// `min(max(x, 0), 6)`.
    pub fn relu6(&self) -> Result<Tensor> {
        self.clamp(0.0, 6.0)
    }

    /// `relu6(x + 3) / 6`: 0 below −3, 1 above 3, linear between.
    pub fn hardsigmoid(&self) -> Result<Tensor> {
        self.affine(1.0 / 6.0, 0.5)?.clamp(0.0, 1.0)
    }

    /// `x · hardsigmoid(x)`.
    pub fn hardswish(&self) -> Result<Tensor> {
        self.mul(&self.hardsigmoid()?)
    }

    /// `x` where positive, `weight·x` elsewhere, with a learned `weight` of one value or
    /// one per channel (dim 1), as PyTorch's `prelu`.
    pub fn prelu(&self, weight: &Tensor) -> Result<Tensor> {
        let op = "prelu";
        let n = weight.numel();
        let w = if n == 1 || self.rank() < 2 {
            if n != 1 {
                bail!(Error::shape(
                    op,
                    format!("weight {:?} needs an input with channels (dim 1), got {:?}", weight.shape(), self.shape())
                ));
            }
            weight.reshape(&[])?
        } else {
            if self.shape()[1] != n {
                bail!(Error::shape(
                    op,
                    format!(
                        "weight has {n} values but the input {:?} has {} channels (dim 1)",
                        self.shape(),
                        self.shape()[1]
                    )
                ));
            }
            let mut s = vec![1; self.rank()];
            s[1] = n;
            weight.reshape(&s)?
        };
        self.gt_scalar(0.0)?.where_cond(self, &self.mul(&w)?)
    }
}
