//! Dropout: active in training mode only.

use crate::Module;
use lolcore::nn::{functional, Forward};
use lolcore::{Result, Tensor};

/// Zeroes each element with probability `p` in training, scaling the rest by 1/(1−p).
#[derive(Module, Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    #[module(skip)]
    pub p: f64,
    #[module(training)]
    training: bool,
}

impl Dropout {
    /// `p` is checked (0 ≤ p ≤ 1) when the layer runs.
    pub fn new(p: f64) -> Self {
        Dropout { p, training: true }
    }
}

impl Forward for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        functional::dropout(x, self.p, self.training)
    }
}
