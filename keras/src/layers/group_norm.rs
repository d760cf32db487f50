//! GroupNorm, InstanceNorm1D/2D and RmsNorm (PyTorch's `GroupNorm`, `InstanceNorm1d/2d`,
//! `RMSNorm`): normalisations that use no batch statistics, so they behave the same in
//! training and evaluation.

use super::param_init::InitErrors;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Result, Tensor};

/// Splits the `num_channels` channels into `num_groups` groups and normalises each group
/// of each sample over its channels and positions, then applies a per-channel affine.
///
/// - input `[n, num_channels, ...]` → same shape
/// - `weight` (ones) and `bias` (zeros): `[num_channels]`, unless `affine(false)`
#[derive(Module)]
pub struct GroupNorm {
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub num_groups: usize,
    #[module(skip)]
    pub eps: f64,
    #[module(skip)]
    init_errors: InitErrors,
}

fn affine_params(errs: &mut InitErrors, c: usize, on: bool) -> (Option<Tensor>, Option<Tensor>) {
    if on {
        (Some(errs.param("weight", Init::Ones, &[c], c, c)), Some(errs.param("bias", Init::Zeros, &[c], c, c)))
    } else {
        errs.forget("weight");
        errs.forget("bias");
        (None, None)
    }
}

impl GroupNorm {
    /// eps 1e-5, affine.
    pub fn new(num_groups: usize, num_channels: usize) -> Self {
        let mut errs = InitErrors::default();
        let (weight, bias) = affine_params(&mut errs, num_channels, true);
        GroupNorm { weight, bias, num_groups, eps: 1e-5, init_errors: errs }
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    /// Without the learned per-channel scale and shift.
    pub fn affine(mut self, on: bool) -> Self {
        let c = self.weight.as_ref().map(|w| w.numel()).unwrap_or(0);
        (self.weight, self.bias) = affine_params(&mut self.init_errors, c, on && c > 0);
        self
    }
}

impl Forward for GroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("GroupNorm")?;
        functional::group_norm(x, self.num_groups, self.weight.as_ref(), self.bias.as_ref(), self.eps)
            .map_err(|e| e.context("GroupNorm"))
    }
}

macro_rules! instance_norm_layer {
    ($(#[$m:meta])* $name:ident, $rank:expr) => {
        $(#[$m])*
        #[derive(Module)]
        pub struct $name {
            pub weight: Option<Tensor>,
            pub bias: Option<Tensor>,
            #[module(skip)]
            pub num_features: usize,
            #[module(skip)]
            pub eps: f64,
            #[module(skip)]
            init_errors: InitErrors,
        }

        impl $name {
            /// eps 1e-5, no affine (PyTorch's defaults).
            pub fn new(num_features: usize) -> Self {
                $name { weight: None, bias: None, num_features, eps: 1e-5, init_errors: InitErrors::default() }
            }
            pub fn eps(mut self, eps: f64) -> Self {
                self.eps = eps;
                self
            }
            /// With a learned per-channel scale (ones) and shift (zeros).
            pub fn affine(mut self, on: bool) -> Self {
                (self.weight, self.bias) = affine_params(&mut self.init_errors, self.num_features, on);
                self
            }
        }

        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                self.init_errors.check(stringify!($name))?;
                if x.rank() != $rank || x.shape()[1] != self.num_features {
                    return Err(lolcore::Error::shape(
                        stringify!($name),
                        format!("input {:?} must be rank {} with {} channels (dim 1)", x.shape(), $rank, self.num_features),
                    ));
                }
                functional::instance_norm(x, self.weight.as_ref(), self.bias.as_ref(), self.eps)
            }
        }
    };
}

instance_norm_layer!(
    /// Normalises each channel of each sample of `[n, c, l]` over time.
    InstanceNorm1D,
    3
);
instance_norm_layer!(
    /// Normalises each channel of each sample of `[n, c, h, w]` over the image.
    InstanceNorm2D,
    4
);

/// Root-mean-square normalisation over the last dims: `x / sqrt(mean(x²) + eps) · weight`.
///
/// - `weight` (ones): `normalized_shape`; eps `None` is the dtype's machine epsilon
#[derive(Module)]
pub struct RmsNorm {
    pub weight: Option<Tensor>,
    #[module(skip)]
    normalized_shape: Vec<usize>,
    #[module(skip)]
    pub eps: Option<f64>,
    #[module(skip)]
    init_errors: InitErrors,
}

impl RmsNorm {
    /// Over the last dim of size `n`.
    pub fn new(n: usize) -> Self {
        RmsNorm::with_shape(&[n])
    }
    /// Over the last `shape.len()` dims.
    pub fn with_shape(shape: &[usize]) -> Self {
        let n = shape.iter().fold(1usize, |a, &d| a.saturating_mul(d));
        let mut errs = InitErrors::default();
        let weight = Some(errs.param("weight", Init::Ones, shape, n, n));
        RmsNorm { weight, normalized_shape: shape.to_vec(), eps: None, init_errors: errs }
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = Some(eps);
        self
    }
    /// Without the learned scale.
    pub fn elementwise_affine(mut self, on: bool) -> Self {
        let n = self.normalized_shape.iter().product();
        self.weight =
            if on { Some(self.init_errors.param("weight", Init::Ones, &self.normalized_shape, n, n)) } else { None };
        if !on {
            self.init_errors.forget("weight");
        }
        self
    }
}

impl Forward for RmsNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("RmsNorm")?;
        functional::rms_norm(x, &self.normalized_shape, self.weight.as_ref(), self.eps)
            .map_err(|e| e.context("RmsNorm"))
    }
}
