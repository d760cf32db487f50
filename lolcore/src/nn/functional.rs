//! The functional form of every layer: the same computation as the module, with the
//! tensors passed in (`linear(x, &w, Some(&b))` equals `Dense`'s forward).

use crate::error::{bail, Error, Result};
use crate::layout::Dim;
use crate::ops::conv_params::{Conv2dParams, Pool2dParams};
use crate::tensor::Tensor;

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
        (running_mean.reshape(&stat)?, running_var.reshape(&stat)?)
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
