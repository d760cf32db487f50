//! Upsample (PyTorch's `nn.Upsample`): resizes `[n, c, l]` or `[n, c, h, w]` to a size or
//! by a scale factor, by nearest neighbour or (bi)linear interpolation.

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{Error, IntoPair, Result, Tensor};

/// How `Upsample` interpolates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpsampleMode {
    #[default]
    Nearest,
    /// Linear for `[n, c, l]`, bilinear for `[n, c, h, w]` (PyTorch's "linear" and
    /// "bilinear").
    Linear,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Size(usize, usize),
    Scale(f64, f64),
}

/// Resizes the spatial dims of its input.
///
/// `Upsample::scale_factor(2.0)` doubles them; `Upsample::size((32, 32))` sets them. The
/// output size from a scale factor is `⌊in · scale⌋`, and the sampling positions follow
/// from the sizes (PyTorch's `recompute_scale_factor=True`; for whole-number factors this
/// is the same as PyTorch's default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Upsample {
    target: Target,
    pub mode: UpsampleMode,
    pub align_corners: bool,
}

impl Upsample {
    /// Scales every spatial dim by `factor` (nearest neighbour).
    pub fn scale_factor(factor: f64) -> Self {
        Upsample { target: Target::Scale(factor, factor), mode: UpsampleMode::Nearest, align_corners: false }
    }
    /// Scales height and width by different factors.
    pub fn scale_factors(h: f64, w: f64) -> Self {
        Upsample { target: Target::Scale(h, w), mode: UpsampleMode::Nearest, align_corners: false }
    }
    /// Resizes to `size` (`l` for 1-D inputs; `s` or `(h, w)` for 2-D).
    pub fn size(size: impl IntoPair) -> Self {
        let (h, w) = size.into_pair();
        Upsample { target: Target::Size(h, w), mode: UpsampleMode::Nearest, align_corners: false }
    }
    pub fn mode(mut self, mode: UpsampleMode) -> Self {
        self.mode = mode;
        self
    }
    /// Linear modes only: map the corner pixels' centres onto each other.
    pub fn align_corners(mut self, on: bool) -> Self {
        self.align_corners = on;
        self
    }

    fn out_len(&self, len: usize, which: usize) -> Result<usize> {
        match self.target {
            Target::Size(h, w) => Ok(if which == 0 { h } else { w }),
            Target::Scale(h, w) => {
                let s = if which == 0 { h } else { w };
                let out = (len as f64 * s).floor();
                if !(s.is_finite() && s > 0.0 && out >= 1.0 && out <= u32::MAX as f64) {
                    return Err(Error::arg("Upsample", format!("scale factor {s} gives no valid size for {len}")));
                }
                Ok(out as usize)
            }
        }
    }
}

impl Forward for Upsample {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.shape();
        let y = match (x.rank(), self.mode) {
            (3, UpsampleMode::Nearest) => x.upsample_nearest1d(self.out_len(s[2], 1)?),
            (3, UpsampleMode::Linear) => x.upsample_linear1d(self.out_len(s[2], 1)?, self.align_corners),
            (4, mode) => {
                let size = (self.out_len(s[2], 0)?, self.out_len(s[3], 1)?);
                match mode {
                    UpsampleMode::Nearest => x.upsample_nearest2d(size),
                    UpsampleMode::Linear => x.upsample_bilinear2d(size, self.align_corners),
                }
            }
            _ => Err(Error::shape("Upsample", format!("input {s:?} must be [n, c, l] or [n, c, h, w]"))),
        };
        y.map_err(|e| e.context("Upsample"))
    }
}
stateless_module!(Upsample);
