//! Arguments and geometry of 2-D pooling, shared by every backend.

use super::conv_params::{check_sizes, IntoPair};
use crate::error::{bail, Error, Result};

/// Kernel, stride, padding and dilation (each `(h, w)`) of a 2-D pooling window, and
/// `ceil_mode` (PyTorch's: the output size rounds up, so a last partial window counts
/// when it starts inside the input or its left padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dParams {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub ceil_mode: bool,
}

impl Pool2dParams {
    /// A window of `k` (`3` or `(3, 2)`) with stride `k` and no padding (PyTorch's
    /// defaults).
    pub fn new(k: impl IntoPair) -> Self {
        let kernel = k.into_pair();
        Pool2dParams { kernel, stride: kernel, padding: (0, 0), dilation: (1, 1), ceil_mode: false }
    }
    pub fn stride(mut self, s: impl IntoPair) -> Self {
        self.stride = s.into_pair();
        self
    }
    pub fn padding(mut self, p: impl IntoPair) -> Self {
        self.padding = p.into_pair();
        self
    }
    /// Spacing between window elements (max pooling only, as in PyTorch).
    pub fn dilation(mut self, d: impl IntoPair) -> Self {
        self.dilation = d.into_pair();
        self
    }
    pub fn ceil_mode(mut self, on: bool) -> Self {
        self.ceil_mode = on;
        self
    }
}

/// Kernel, stride, padding, dilation and `ceil_mode` of a 1-D pooling window (PyTorch's
/// `MaxPool1d` / `AvgPool1d` arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool1dParams {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub ceil_mode: bool,
}

impl Pool1dParams {
    /// A window of `k` with stride `k` and no padding.
    pub fn new(k: usize) -> Self {
        Pool1dParams { kernel: k, stride: k, padding: 0, dilation: 1, ceil_mode: false }
    }
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = p;
        self
    }
    /// Spacing between window elements (max pooling only).
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = d;
        self
    }
    pub fn ceil_mode(mut self, on: bool) -> Self {
        self.ceil_mode = on;
        self
    }
    /// The same window over `[n, c, 1, l]`.
    pub(crate) fn as_2d(self) -> Pool2dParams {
        Pool2dParams {
            kernel: (1, self.kernel),
            stride: (1, self.stride),
            padding: (0, self.padding),
            dilation: (1, self.dilation),
            ceil_mode: self.ceil_mode,
        }
    }
}

/// Output length of a pooling window along one dim (PyTorch's rule, with `ceil_mode`).
fn pool_out_len(input: usize, k: usize, stride: usize, pad: usize, dilation: usize, ceil: bool) -> Option<usize> {
    let span = dilation.checked_mul(k.checked_sub(1)?)?.checked_add(1)?;
    let padded = input.checked_add(pad.checked_mul(2)?)?;
    if padded < span || stride == 0 {
        return None;
    }
    let room = padded - span;
    let mut out = if ceil { room.div_ceil(stride) + 1 } else { room / stride + 1 };
    // The last window must start inside the input or its left padding.
    if ceil && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    Some(out)
}

/// Sizes of a pooling op: input `[n, c, h, w]` → `[n, c, ho, wo]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolGeom {
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) ho: usize,
    pub(crate) wo: usize,
    pub(crate) p: Pool2dParams,
}

impl PoolGeom {
    pub(crate) fn new(op: &'static str, x: &[usize], p: Pool2dParams) -> Result<Self> {
        if x.len() != 4 {
            bail!(Error::shape(op, format!("input {x:?} must be 4-D (NCHW)")));
        }
        let (kh, kw) = p.kernel;
        if x[1] == 0 || x[2] == 0 || x[3] == 0 {
            bail!(Error::shape(
                op,
                format!("input {x:?} has an empty channel or spatial dim (only the batch may be 0)")
            ));
        }
        if kh == 0 || kw == 0 || p.stride.0 == 0 || p.stride.1 == 0 || p.dilation.0 == 0 || p.dilation.1 == 0 {
            bail!(Error::arg(
                op,
                format!("kernel {:?}, stride {:?} and dilation {:?} must be positive", p.kernel, p.stride, p.dilation)
            ));
        }
        if p.padding.0 > kh / 2 || p.padding.1 > kw / 2 {
            bail!(Error::arg(op, format!("padding {:?} must be at most half the kernel {:?}", p.padding, p.kernel)));
        }
        let ho = pool_out_len(x[2], kh, p.stride.0, p.padding.0, p.dilation.0, p.ceil_mode);
        let wo = pool_out_len(x[3], kw, p.stride.1, p.padding.1, p.dilation.1, p.ceil_mode);
        let (Some(ho), Some(wo)) = (ho, wo) else {
            bail!(Error::shape(
                op,
                format!(
                    "input {x:?} (padding {:?}) is smaller than the kernel {:?} dilated by {:?}",
                    p.padding, p.kernel, p.dilation
                )
            ))
        };
        check_sizes(op, &[&[x[0], x[1], ho, wo]])?;
        Ok(PoolGeom { n: x[0], c: x[1], h: x[2], w: x[3], ho, wo, p })
    }
}
