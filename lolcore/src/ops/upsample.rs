//! Upsampling (PyTorch's `F.interpolate` with `size=`): nearest neighbour, linear (1-D)
//! and bilinear (2-D), with or without `align_corners`. Each spatial dim is resampled
//! separately: nearest by an `index_select`, (bi)linear by a product with a constant
//! interpolation matrix, so every device runs it and the gradients follow.

use super::conv_params::IntoPair;
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

fn check_sizes(op: &'static str, len: usize, out: usize) -> Result<()> {
    if len == 0 || out == 0 {
        bail!(Error::shape(op, format!("input size {len} and output size {out} must be positive")));
    }
    Ok(())
}

/// Source position of output `o` along a dim of `len` resampled to `out`.
fn source(o: usize, len: usize, out: usize, align_corners: bool) -> f64 {
    if align_corners {
        if out > 1 {
            o as f64 * (len - 1) as f64 / (out - 1) as f64
        } else {
            0.0
        }
    } else {
        ((o as f64 + 0.5) * len as f64 / out as f64 - 0.5).max(0.0)
    }
}

impl Tensor {
    fn nearest_dim(&self, op: &'static str, d: usize, out: usize) -> Result<Tensor> {
        let len = self.shape()[d];
        check_sizes(op, len, out)?;
        // PyTorch's "nearest": floor(o · len / out), computed in f32 as it does.
        let scale = len as f32 / out as f32;
        let ids = (0..out).map(|o| ((o as f32 * scale).floor() as usize).min(len - 1) as u32).collect();
        self.index_select(&Tensor::indices_like(ids, self)?, d)
    }

    fn linear_dim(&self, op: &'static str, d: usize, out: usize, align_corners: bool) -> Result<Tensor> {
        let len = self.shape()[d];
        check_sizes(op, len, out)?;
        let mut m = vec![0.0; len * out];
        for o in 0..out {
            let src = source(o, len, out, align_corners);
            let i0 = (src.floor() as usize).min(len - 1);
            let i1 = (i0 + 1).min(len - 1);
            let l = src - i0 as f64;
            m[i0 * out + o] += 1.0 - l;
            m[i1 * out + o] += l;
        }
        let m = Tensor::constant_like(m, &[len, out], self)?;
        self.matmul_dim(d, &m)
    }

    /// Nearest-neighbour resize of `[n, c, l]` to `[n, c, size]`.
    pub fn upsample_nearest1d(&self, size: usize) -> Result<Tensor> {
        let op = "upsample_nearest1d";
        self.require_rank(op, 3, "[n, c, l]")?;
        self.nearest_dim(op, 2, size)
    }

    /// Nearest-neighbour resize of `[n, c, h, w]` to `[n, c, size.0, size.1]`.
    pub fn upsample_nearest2d(&self, size: impl IntoPair) -> Result<Tensor> {
        let op = "upsample_nearest2d";
        let (h, w) = size.into_pair();
        self.require_rank(op, 4, "[n, c, h, w]")?;
        self.nearest_dim(op, 3, w)?.nearest_dim(op, 2, h)
    }

    /// Linear resize of `[n, c, l]` to `[n, c, size]`.
    pub fn upsample_linear1d(&self, size: usize, align_corners: bool) -> Result<Tensor> {
        let op = "upsample_linear1d";
        self.require_rank(op, 3, "[n, c, l]")?;
        self.linear_dim(op, 2, size, align_corners)
    }

    /// Bilinear resize of `[n, c, h, w]` to `[n, c, size.0, size.1]`. `align_corners`
    /// maps the corner pixels' centres onto each other; without it (PyTorch's
    /// default) pixels are areas and the edges are clamped.
    pub fn upsample_bilinear2d(&self, size: impl IntoPair, align_corners: bool) -> Result<Tensor> {
        let op = "upsample_bilinear2d";
        let (h, w) = size.into_pair();
        self.require_rank(op, 4, "[n, c, h, w]")?;
        self.linear_dim(op, 3, w, align_corners)?.linear_dim(op, 2, h, align_corners)
    }
}
