//! Dropout: active in training mode only.

use crate::Module;
use lolcore::nn::{trace, Forward};
use lolcore::rng::{current_generator, Generator};
use lolcore::{Result, Tensor};

/// Zeroes each element with probability `p` in training, scaling the rest by 1/(1−p).
/// Masks come from the current generator (`manual_seed`, `with_generator`) or from the
/// one given with [`Dropout::generator`].
#[derive(Module, Clone, Debug)]
pub struct Dropout {
    #[module(skip)]
    pub p: f64,
    #[module(training)]
    training: bool,
    #[module(skip)]
    generator: Option<Generator>,
}

impl Dropout {
    /// `p` is checked (0 ≤ p ≤ 1) when the layer runs.
    pub fn new(p: f64) -> Self {
        Dropout { p, training: true, generator: None }
    }
    /// Draws masks from `g` (PyTorch's `generator=`), independent of every other draw.
    pub fn generator(mut self, g: &Generator) -> Self {
        self.generator = Some(g.clone());
        self
    }
}

impl Forward for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let training = trace::effective_training(self.training);
        match &self.generator {
            Some(g) => x.dropout_with(self.p, training, g),
            None => x.dropout_with(self.p, training, &current_generator()),
        }
    }
}
