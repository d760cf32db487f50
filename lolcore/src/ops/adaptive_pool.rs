//! Adaptive pooling (PyTorch's `adaptive_{avg,max}_pool{1,2}d`): the output size is
//! given and each output element pools the bin `[⌊i·L/O⌋, ⌈(i+1)·L/O⌉)` of its dim.
//! Both are separable, one dim at a time: the average is a product with a constant
//! averaging matrix and the max a gather of each bin (short bins repeat their last
//! element) followed by a max, so they run on every device and differentiate through
//! matmul, index_select and max.

use super::conv_params::IntoPair;
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

/// The bins of an adaptive pool: `(start, end)` per output element.
fn bins(op: &'static str, len: usize, out: usize) -> Result<Vec<(usize, usize)>> {
    if len == 0 || out == 0 {
        bail!(Error::shape(op, format!("input length {len} and output size {out} must be positive")));
    }
    let edge = |i: usize, up: bool| -> Result<usize> {
        let num = i.checked_mul(len).ok_or_else(|| Error::shape(op, "bin bounds overflow"))?;
        Ok(if up { num.div_ceil(out) } else { num / out })
    };
    (0..out).map(|i| Ok((edge(i, false)?, edge(i + 1, true)?))).collect()
}

impl Tensor {
    /// Adaptive average over dim `d` to `out` elements.
    fn adaptive_avg_dim(&self, op: &'static str, d: usize, out: usize) -> Result<Tensor> {
        let len = self.shape()[d];
        let b = bins(op, len, out)?;
        let mut m = vec![0.0; len * out];
        for (o, &(s, e)) in b.iter().enumerate() {
            for l in s..e {
                m[l * out + o] = 1.0 / (e - s) as f64;
            }
        }
        let m = Tensor::constant_like(m, &[len, out], self)?;
        self.matmul_dim(d, &m)
    }

    /// Adaptive max over dim `d` to `out` elements.
    fn adaptive_max_dim(&self, op: &'static str, d: usize, out: usize) -> Result<Tensor> {
        let b = bins(op, self.shape()[d], out)?;
        let k = b.iter().map(|(s, e)| e - s).max().unwrap_or(1);
        let ids: Vec<u32> = b.iter().flat_map(|&(s, e)| (0..k).map(move |j| (s + j).min(e - 1) as u32)).collect();
        let picked = self.index_select(&Tensor::indices_like(ids, self)?, d)?;
        let mut shape = self.shape().to_vec();
        shape.splice(d..=d, [out, k]);
        picked.reshape(&shape)?.max(d + 1)
    }

    /// Average pooling of `[n, c, l]` to `[n, c, out]`.
    pub fn adaptive_avg_pool1d(&self, out: usize) -> Result<Tensor> {
        let op = "adaptive_avg_pool1d";
        self.require_rank(op, 3, "[n, c, l]")?;
        self.adaptive_avg_dim(op, 2, out)
    }

    /// Average pooling of `[n, c, h, w]` to `[n, c, oh, ow]` (`out`: `7` or `(7, 5)`).
    pub fn adaptive_avg_pool2d(&self, out: impl IntoPair) -> Result<Tensor> {
        let op = "adaptive_avg_pool2d";
        let (oh, ow) = out.into_pair();
        self.require_rank(op, 4, "[n, c, h, w]")?;
        self.adaptive_avg_dim(op, 3, ow)?.adaptive_avg_dim(op, 2, oh)
    }

    /// Max pooling of `[n, c, l]` to `[n, c, out]`.
    pub fn adaptive_max_pool1d(&self, out: usize) -> Result<Tensor> {
        let op = "adaptive_max_pool1d";
        self.require_rank(op, 3, "[n, c, l]")?;
        self.adaptive_max_dim(op, 2, out)
    }

    /// Max pooling of `[n, c, h, w]` to `[n, c, oh, ow]`.
    pub fn adaptive_max_pool2d(&self, out: impl IntoPair) -> Result<Tensor> {
        let op = "adaptive_max_pool2d";
        let (oh, ow) = out.into_pair();
        self.require_rank(op, 4, "[n, c, h, w]")?;
        self.adaptive_max_dim(op, 3, ow)?.adaptive_max_dim(op, 2, oh)
    }
}
