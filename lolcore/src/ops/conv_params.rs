//! Geometry of 2-D convolution and pooling, shared by every backend.

use crate::error::{bail, Error, Result};

/// Stride, padding, dilation (each `(h, w)`) and groups of a conv2d.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams { stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1 }
    }
}

/// Every size a conv2d kernel needs: input `[n, c, h, w]`, weight `[o, c/groups, kh, kw]`,
/// output `[n, o, ho, wo]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) o: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) ho: usize,
    pub(crate) wo: usize,
    pub(crate) p: Conv2dParams,
}

/// Output length of a sliding window along one dim, if at least one window fits (and
/// the sizes do not overflow).
pub(crate) fn out_len(input: usize, kernel: usize, stride: usize, pad: usize, dilation: usize) -> Option<usize> {
    let span = dilation.checked_mul(kernel.checked_sub(1)?)?.checked_add(1)?;
    let padded = input.checked_add(pad.checked_mul(2)?)?;
    (padded >= span && stride > 0).then(|| (padded - span) / stride + 1)
}

/// Checks that a geometry's buffers (output, unfolded columns of one image, padded
/// input) have element counts that fit, naming `op` otherwise.
fn check_sizes(op: &'static str, sizes: &[&[usize]]) -> Result<()> {
    for s in sizes {
        crate::layout::checked_numel(op, s)?;
    }
    Ok(())
}

impl ConvGeom {
    pub(crate) fn new(x: &[usize], w: &[usize], p: Conv2dParams) -> Result<Self> {
        let op = "conv2d";
        if x.len() != 4 || w.len() != 4 {
            bail!(Error::shape(
                op,
                format!("input {x:?} and weight {w:?} must both be 4-D (NCHW, [out, in/groups, kh, kw])")
            ));
        }
        if p.groups == 0 || p.stride.0 == 0 || p.stride.1 == 0 || p.dilation.0 == 0 || p.dilation.1 == 0 {
            bail!(Error::arg(
                op,
                format!("stride {:?}, dilation {:?} and groups {} must be positive", p.stride, p.dilation, p.groups)
            ));
        }
        let (n, c, h, wd) = (x[0], x[1], x[2], x[3]);
        let (o, cg, kh, kw) = (w[0], w[1], w[2], w[3]);
        if c % p.groups != 0 || o % p.groups != 0 {
            bail!(Error::shape(
                op,
                format!("input channels {c} and output channels {o} must both divide by groups {}", p.groups)
            ));
        }
        if cg * p.groups != c {
            bail!(Error::shape(op, format!("input {x:?} has {c} channels, weight {w:?} expects {}", cg * p.groups)));
        }
        if kh == 0 || kw == 0 {
            bail!(Error::shape(op, format!("weight {w:?} has an empty kernel")));
        }
        if c == 0 || h == 0 || wd == 0 {
            // As PyTorch: only the batch may be empty.
            bail!(Error::shape(
                op,
                format!("input {x:?} has an empty channel or spatial dim (only the batch may be 0)")
            ));
        }
        let ho = out_len(h, kh, p.stride.0, p.padding.0, p.dilation.0);
        let wo = out_len(wd, kw, p.stride.1, p.padding.1, p.dilation.1);
        let (Some(ho), Some(wo)) = (ho, wo) else {
            bail!(Error::shape(
                op,
                format!("input {x:?} (padding {:?}) is smaller than the dilated kernel {kh}×{kw}", p.padding)
            ))
        };
        check_sizes(op, &[&[n, o, ho, wo], &[c, kh, kw, ho, wo]])?;
        Ok(ConvGeom { n, c, h, w: wd, o, kh, kw, ho, wo, p })
    }
    pub(crate) fn out_shape(&self) -> [usize; 4] {
        [self.n, self.o, self.ho, self.wo]
    }
}

/// Kernel, stride and padding of a 2-D pooling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dParams {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
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
        if kh == 0 || kw == 0 || p.stride.0 == 0 || p.stride.1 == 0 {
            bail!(Error::arg(op, format!("kernel {:?} and stride {:?} must be positive", p.kernel, p.stride)));
        }
        if p.padding.0 > kh / 2 || p.padding.1 > kw / 2 {
            bail!(Error::arg(op, format!("padding {:?} must be at most half the kernel {:?}", p.padding, p.kernel)));
        }
        let ho = out_len(x[2], kh, p.stride.0, p.padding.0, 1);
        let wo = out_len(x[3], kw, p.stride.1, p.padding.1, 1);
        let (Some(ho), Some(wo)) = (ho, wo) else {
            bail!(Error::shape(op, format!("input {x:?} is smaller than the kernel {:?}", p.kernel)))
        };
        check_sizes(op, &[&[x[0], x[1], ho, wo]])?;
        Ok(PoolGeom { n: x[0], c: x[1], h: x[2], w: x[3], ho, wo, p })
    }
}
