//! 1-D convolution (NCL input, `[out, in/groups, k]` weight, PyTorch's layout): a 2-D
//! convolution over a height of 1, so it shares conv2d's kernels on every device and
//! its backward and forward-mode rules.

use super::conv_params::{Conv2dParams, Padding};
use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;

/// Stride, padding, dilation and groups of a conv1d.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dParams {
    pub stride: usize,
    pub padding: Padding,
    pub dilation: usize,
    pub groups: usize,
}

impl Default for Conv1dParams {
    fn default() -> Self {
        Conv1dParams { stride: 1, padding: Padding::Explicit(0, 0), dilation: 1, groups: 1 }
    }
}

impl Conv1dParams {
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    /// Zero padding on both ends: `p`, or `"same"` / `"valid"`.
    pub fn padding(mut self, p: impl Into<Padding>) -> Self {
        self.padding = p.into();
        self
    }
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = d;
        self
    }
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    /// The same convolution over `[n, c, 1, l]`.
    pub(crate) fn as_2d(self) -> Conv2dParams {
        let padding = match self.padding {
            Padding::Explicit(_, p) => Padding::Explicit(0, p),
            other => other,
        };
        Conv2dParams { stride: (1, self.stride), padding, dilation: (1, self.dilation), groups: self.groups }
    }
}

impl Tensor {
    /// Cross-correlation of `[n, c, l]` with `[o, c/groups, k]` → `[n, o, lo]`.
    pub fn conv1d(&self, w: &Tensor, p: Conv1dParams) -> Result<Tensor> {
        self.conv1d_bias(w, None, p)
    }

    /// conv1d plus a per-channel bias `[o]`.
    pub fn conv1d_bias(&self, w: &Tensor, bias: Option<&Tensor>, p: Conv1dParams) -> Result<Tensor> {
        let op = "conv1d";
        if self.rank() != 3 || w.rank() != 3 {
            bail!(Error::shape(
                op,
                format!("input {:?} must be [n, c, l] and weight {:?} [out, in/groups, k]", self.shape(), w.shape())
            ));
        }
        self.unsqueeze(2)?.conv2d_bias(&w.unsqueeze(2)?, bias, p.as_2d())?.squeeze(2)
    }
}
