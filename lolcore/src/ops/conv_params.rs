//! Arguments and geometry of 2-D convolution, shared by every backend: sizes given once
//! or per dim, PyTorch's padding modes, and the output size rule.

use crate::error::{bail, Error, Result};

/// A size given once for both spatial dims (`3`) or as an `(h, w)` pair (`(5, 1)`).
pub trait IntoPair {
    fn into_pair(self) -> (usize, usize);
}
impl IntoPair for usize {
    fn into_pair(self) -> (usize, usize) {
        (self, self)
    }
}
impl IntoPair for (usize, usize) {
    fn into_pair(self) -> (usize, usize) {
        self
    }
}
impl IntoPair for [usize; 2] {
    fn into_pair(self) -> (usize, usize) {
        (self[0], self[1])
    }
}

/// A convolution's zero padding: explicit `(h, w)` amounts, or PyTorch's modes:
/// `Same` keeps the spatial size (stride 1 only; an odd total puts the extra row or
/// column at the bottom or right, as PyTorch does) and `Valid` is no padding. Builders
/// take `2`, `(2, 0)`, `Padding::Same`, or the strings `"same"` / `"valid"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Explicit(usize, usize),
    Same,
    Valid,
    /// A mode given by name that is not one of the above (reported when the op runs).
    Named(&'static str),
}

impl From<usize> for Padding {
    fn from(p: usize) -> Self {
        Padding::Explicit(p, p)
    }
}
impl From<(usize, usize)> for Padding {
    fn from((h, w): (usize, usize)) -> Self {
        Padding::Explicit(h, w)
    }
}
impl From<&'static str> for Padding {
    fn from(s: &'static str) -> Self {
        match s {
            "same" => Padding::Same,
            "valid" => Padding::Valid,
            other => Padding::Named(other),
        }
    }
}

/// Zero padding per side: `[(top, bottom), (left, right)]`.
pub(crate) type Sides = [(usize, usize); 2];

impl Padding {
    /// The padding of each side for a kernel spanning `span` (dilated) input elements.
    pub(crate) fn sides(self, op: &'static str, stride: (usize, usize), span: (usize, usize)) -> Result<Sides> {
        Ok(match self {
            Padding::Explicit(h, w) => [(h, h), (w, w)],
            Padding::Valid => [(0, 0), (0, 0)],
            Padding::Same => {
                if stride != (1, 1) {
                    bail!(Error::arg(op, format!("padding \"same\" needs stride 1, got {stride:?} (as in PyTorch)")));
                }
                let split = |span: usize| {
                    let total = span.saturating_sub(1);
                    (total / 2, total - total / 2)
                };
                [split(span.0), split(span.1)]
            }
            Padding::Named(s) => bail!(Error::arg(op, format!("padding {s:?} is not \"same\" or \"valid\""))),
        })
    }
}

/// Stride, padding, dilation (each `(h, w)`) and groups of a conv2d.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: (usize, usize),
    pub padding: Padding,
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams { stride: (1, 1), padding: Padding::Explicit(0, 0), dilation: (1, 1), groups: 1 }
    }
}

impl Conv2dParams {
    pub fn stride(mut self, s: impl IntoPair) -> Self {
        self.stride = s.into_pair();
        self
    }
    pub fn padding(mut self, p: impl Into<Padding>) -> Self {
        self.padding = p.into();
        self
    }
    pub fn dilation(mut self, d: impl IntoPair) -> Self {
        self.dilation = d.into_pair();
        self
    }
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
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
    /// Zero padding, the same on both sides of a dim (`Same` with an odd total pads the
    /// input explicitly first).
    pub(crate) pad: (usize, usize),
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
pub(crate) fn check_sizes(op: &'static str, sizes: &[&[usize]]) -> Result<()> {
    for s in sizes {
        crate::layout::checked_numel(op, s)?;
    }
    Ok(())
}

impl ConvGeom {
    /// The geometry of `x ⋆ w` with symmetric zero padding `pad`.
    pub(crate) fn new(x: &[usize], w: &[usize], p: Conv2dParams, pad: (usize, usize)) -> Result<Self> {
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
        let ho = out_len(h, kh, p.stride.0, pad.0, p.dilation.0);
        let wo = out_len(wd, kw, p.stride.1, pad.1, p.dilation.1);
        let (Some(ho), Some(wo)) = (ho, wo) else {
            bail!(Error::shape(
                op,
                format!(
                    "input {x:?} (padding {pad:?}) is smaller than the kernel {kh}×{kw} dilated by {:?}",
                    p.dilation
                )
            ))
        };
        check_sizes(op, &[&[n, o, ho, wo], &[c, kh, kw, ho, wo]])?;
        Ok(ConvGeom { n, c, h, w: wd, o, kh, kw, ho, wo, pad, p })
    }
    pub(crate) fn out_shape(&self) -> [usize; 4] {
        [self.n, self.o, self.ho, self.wo]
    }
}
