//! Gradient clipping, by global norm and by value (PyTorch's `clip_grad_norm_` and
//! `clip_grad_value_`), applied to the gradients of `params` in `grads`.

use crate::autograd::Gradients;
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

/// Scales the gradients of `params` so their joint L2 norm is at most `max_norm`;
/// returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut Gradients, params: &[Tensor], max_norm: f64) -> Result<f64> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        bail!(Error::arg("clip_grad_norm", format!("max_norm must be positive, got {max_norm}")));
    }
    let mut total = 0.0;
    for p in params {
        if let Some(g) = grads.get(p) {
            total += g.sqr()?.sum_all()?.to_scalar::<f64>()?;
        }
    }
    let norm = total.sqrt();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for p in params {
            if let Some(g) = grads.get(p) {
                let scaled = g.affine(coef, 0.0)?;
                grads.insert(p, scaled);
            }
        }
    }
    Ok(norm)
}

/// Clamps every gradient element of `params` to `[-clip, clip]`.
pub fn clip_grad_value(grads: &mut Gradients, params: &[Tensor], clip: f64) -> Result<()> {
    if clip.is_nan() || clip < 0.0 {
        bail!(Error::arg("clip_grad_value", format!("clip must be non-negative, got {clip}")));
    }
    for p in params {
        if let Some(g) = grads.get(p) {
            let c = g.clamp(-clip, clip)?;
            grads.insert(p, c);
        }
    }
    Ok(())
}
