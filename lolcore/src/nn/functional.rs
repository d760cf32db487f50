//! The functional form of every layer: the same computation as the module, with the
//! tensors passed in (`linear(x, &w, Some(&b))` equals `Dense`'s forward).

use crate::error::{bail, Error, Result};
use crate::layout::Dim;
use crate::ops::conv_params::Conv2dParams;
use crate::ops::pool_params::Pool2dParams;
use crate::tensor::Tensor;
use crate::DType;

/// `x · wᵀ + b` with PyTorch's `[out, in]` weight.
///
/// # Shapes
/// - x: `[.., in]`, w: `[out, in]`, b: `[out]` → `[.., out]`
pub fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
    if w.rank() != 2 {
        bail!(Error::shape("linear", format!("weight must be [out, in], got {:?}", w.shape())));
    }
    let fin = *x.shape().last().unwrap_or(&0);
    if x.rank() == 0 || fin != w.shape()[1] {
        bail!(Error::shape(
            "linear",
            format!("input {:?} has {fin} features, weight {:?} expects {}", x.shape(), w.shape(), w.shape()[1])
        ));
    }
    let y = x.matmul(&w.t()?)?;
    match b {
        Some(b) => y.add(b),
        None => Ok(y),
    }
}

/// 2-D convolution plus an optional per-channel bias.
///
/// # Shapes
/// - x: `[n, c, h, w]`, w: `[o, c/groups, kh, kw]`, b: `[o]` → `[n, o, ho, wo]`
pub fn conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: Conv2dParams) -> Result<Tensor> {
    x.conv2d_bias(w, b, p)
}

pub fn max_pool2d(x: &Tensor, p: Pool2dParams) -> Result<Tensor> {
    x.max_pool2d(p)
}

pub fn avg_pool2d(x: &Tensor, p: Pool2dParams) -> Result<Tensor> {
    x.avg_pool2d(p)
}

/// Mean over the spatial dims: `[n, c, h, w] → [n, c]`.
pub fn global_avg_pool2d(x: &Tensor) -> Result<Tensor> {
    if x.rank() != 4 {
        bail!(Error::shape("global_avg_pool2d", format!("input {:?} must be 4-D (NCHW)", x.shape())));
    }
    x.mean(3)?.mean(2)
}

pub fn dropout(x: &Tensor, p: f64, training: bool) -> Result<Tensor> {
    x.dropout(p, training)
}

pub fn embedding(ids: &Tensor, table: &Tensor) -> Result<Tensor> {
    table.embedding(ids)
}

/// Batch normalisation over every dim but the channel dim 1. In training it normalises
/// with the batch's statistics and moves the running ones towards them by `momentum`
/// (the variance update uses the unbiased estimate, as PyTorch does); otherwise it uses
/// the running statistics.
///
/// # Shapes
/// - x: `[n, c]`, `[n, c, l]` or `[n, c, h, w]`; statistics, weight, bias: `[c]`
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    if x.rank() < 2 || x.shape()[1] != running_mean.numel() {
        bail!(Error::shape(
            "batch_norm",
            format!("input {:?} must be [n, {}, ...] (channels in dim 1)", x.shape(), running_mean.numel())
        ));
    }
    let c = x.shape()[1];
    let mut stat = vec![1; x.rank()];
    stat[1] = c;
    let dims: Vec<usize> = (0..x.rank()).filter(|&d| d != 1).collect();
    let (mean, var) = if training {
        let count = x.numel() / c.max(1);
        if count < 2 {
            bail!(Error::shape(
                "batch_norm",
                format!("training needs more than one value per channel, input {:?}", x.shape())
            ));
        }
        let mean = x.mean_dims_keepdim(&dims)?;
        let var = x.sub(&mean)?.sqr()?.mean_dims_keepdim(&dims)?;
        crate::no_grad(|| -> Result<()> {
            let unbiased = var.affine(count as f64 / (count - 1) as f64, 0.0)?;
            let rm = running_mean.affine(1.0 - momentum, 0.0)?.add(&mean.reshape(&[c])?.affine(momentum, 0.0)?)?;
            let rv = running_var.affine(1.0 - momentum, 0.0)?.add(&unbiased.reshape(&[c])?.affine(momentum, 0.0)?)?;
            running_mean.copy_from(&rm)?;
            running_var.copy_from(&rv)
        })?;
        (mean, var)
    } else {
        // Inference: one scale and one shift per channel, two passes over x (PyTorch's
        // CPU kernel folds the same way).
        let inv = running_var.add_scalar(eps)?.sqrt()?.recip()?;
        let scale = match weight {
            Some(w) => w.mul(&inv)?,
            None => inv,
        };
        let moved = running_mean.mul(&scale)?.mul_scalar(-1.0)?;
        let shift = match bias {
            Some(b) => b.add(&moved)?,
            None => moved,
        };
        return x.mul(&scale.reshape(&stat)?)?.add(&shift.reshape(&stat)?);
    };
    let mut y = x.sub(&mean)?.div(&var.add_scalar(eps)?.sqrt()?)?;
    if let Some(w) = weight {
        y = y.mul(&w.reshape(&stat)?)?;
    }
    if let Some(b) = bias {
        y = y.add(&b.reshape(&stat)?)?;
    }
    Ok(y)
}

/// Layer normalisation over the last `normalized` dims (biased variance, as PyTorch).
pub fn layer_norm(
    x: &Tensor,
    normalized: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let r = x.rank();
    if normalized.is_empty() || normalized.len() > r || x.shape()[r - normalized.len()..] != *normalized {
        bail!(Error::shape(
            "layer_norm",
            format!("input {:?} does not end in the normalized shape {normalized:?}", x.shape())
        ));
    }
    let dims: Vec<usize> = (r - normalized.len()..r).collect();
    let mean = x.mean_dims_keepdim(&dims)?;
    let centered = x.sub(&mean)?;
    let var = centered.sqr()?.mean_dims_keepdim(&dims)?;
    let mut y = centered.div(&var.add_scalar(eps)?.sqrt()?)?;
    if let Some(w) = weight {
        y = y.mul(w)?;
    }
    if let Some(b) = bias {
        y = y.add(b)?;
    }
    Ok(y)
}

pub fn relu(x: &Tensor) -> Result<Tensor> {
    x.relu()
}
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    x.sigmoid()
}
pub fn tanh(x: &Tensor) -> Result<Tensor> {
    x.tanh()
}
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    x.gelu()
}
pub fn leaky_relu(x: &Tensor, slope: f64) -> Result<Tensor> {
    x.leaky_relu(slope)
}
pub fn softmax<D: Dim>(x: &Tensor, dim: D) -> Result<Tensor> {
    x.softmax(dim)
}
pub fn log_softmax<D: Dim>(x: &Tensor, dim: D) -> Result<Tensor> {
    x.log_softmax(dim)
}

/// Group normalisation (PyTorch's `group_norm`): the channels of `[n, c, ...]` split into
/// `groups` groups, each normalised over its channels and all positions (biased
/// variance), then an optional per-channel affine `weight`, `bias` `[c]`.
pub fn group_norm(
    x: &Tensor,
    groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let op = "group_norm";
    if x.rank() < 2 || groups == 0 || !x.shape()[1].is_multiple_of(groups) {
        bail!(Error::shape(
            op,
            format!("input {:?} must be [n, c, ...] with c divisible by {groups} groups", x.shape())
        ));
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let grouped = x.reshape(&[n, groups, x.numel() / (n * groups).max(1)])?;
    let mean = grouped.mean_keepdim(2)?;
    let centered = grouped.sub(&mean)?;
    let var = centered.sqr()?.mean_keepdim(2)?;
    let y = centered.div(&var.add_scalar(eps)?.sqrt()?)?.reshape(x.shape())?;
    channel_affine(op, y, c, weight, bias)
}

/// `y · weight + bias` with `[c]` vectors broadcast over dim 1 of `y`.
fn channel_affine(
    op: &'static str,
    mut y: Tensor,
    c: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
) -> Result<Tensor> {
    let mut s = vec![1; y.rank()];
    s[1] = c;
    for (t, is_weight) in [(weight, true), (bias, false)] {
        if let Some(t) = t {
            if t.shape() != [c] {
                bail!(Error::shape(
                    op,
                    format!("{} {:?} must be [{c}]", if is_weight { "weight" } else { "bias" }, t.shape())
                ));
            }
            y = if is_weight { y.mul(&t.reshape(&s)?)? } else { y.add(&t.reshape(&s)?)? };
        }
    }
    Ok(y)
}

/// Instance normalisation (PyTorch's `instance_norm` without running statistics): each
/// channel of each sample of `[n, c, ...]` normalised over its positions.
pub fn instance_norm(x: &Tensor, weight: Option<&Tensor>, bias: Option<&Tensor>, eps: f64) -> Result<Tensor> {
    if x.rank() < 3 {
        bail!(Error::shape("instance_norm", format!("input {:?} must be [n, c, l] or [n, c, h, w]", x.shape())));
    }
    group_norm(x, x.shape()[1], weight, bias, eps).map_err(|e| e.context("instance_norm"))
}

/// RMS normalisation (PyTorch's `rms_norm`): `x / sqrt(mean(x²) + eps) · weight` over the
/// last dims `normalized`. `eps` `None` is the dtype's machine epsilon, as PyTorch.
pub fn rms_norm(x: &Tensor, normalized: &[usize], weight: Option<&Tensor>, eps: Option<f64>) -> Result<Tensor> {
    let r = x.rank();
    if normalized.is_empty() || normalized.len() > r || x.shape()[r - normalized.len()..] != *normalized {
        bail!(Error::shape(
            "rms_norm",
            format!("input {:?} does not end in the normalized shape {normalized:?}", x.shape())
        ));
    }
    let eps = eps.unwrap_or(match x.dtype() {
        DType::F64 => f64::EPSILON,
        DType::F16 => 9.765_625e-4,
        DType::BF16 => 0.007_812_5,
        _ => f32::EPSILON as f64,
    });
    let dims: Vec<usize> = (r - normalized.len()..r).collect();
    let y = x.div(&x.sqr()?.mean_dims_keepdim(&dims)?.add_scalar(eps)?.sqrt()?)?;
    match weight {
        Some(w) if w.shape() != normalized => {
            bail!(Error::shape("rms_norm", format!("weight {:?} must be {normalized:?}", w.shape())))
        }
        Some(w) => y.mul(w),
        None => Ok(y),
    }
}
