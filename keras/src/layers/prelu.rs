//! PReLU (PyTorch's `PReLU`): a leaky ReLU whose negative slope is learned.

use super::param_init::InitErrors;
use crate::Module;
use lolcore::nn::{Forward, Init};
use lolcore::{Result, Tensor};

/// `x` where positive, `weight·x` elsewhere, with `weight` learned: one slope shared by
/// all channels (`num_parameters` 1) or one per channel (dim 1 of the input).
///
/// - `weight`: `[num_parameters]`, initialised to 0.25
#[derive(Module)]
pub struct PReLU {
    pub weight: Tensor,
    #[module(skip)]
    init_errors: InitErrors,
}

impl PReLU {
    pub fn new(num_parameters: usize) -> Self {
        PReLU::with_init(num_parameters, 0.25)
    }
    /// Slopes starting at `init` instead of 0.25.
    pub fn with_init(num_parameters: usize, init: f64) -> Self {
        let mut errs = InitErrors::default();
        let weight = errs.param("weight", Init::Constant(init), &[num_parameters], 1, 1);
        PReLU { weight, init_errors: errs }
    }
}

impl Forward for PReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("PReLU")?;
        x.prelu(&self.weight).map_err(|e| e.context("PReLU"))
    }
}
