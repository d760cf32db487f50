//! Dropout: zero each element with probability p and scale the rest by 1/(1−p).

use crate::error::{bail, Error, Result};
use crate::rng::{current_generator, Generator};
use crate::tensor::Tensor;

impl Tensor {
    /// Inverted dropout with drop probability `p`, active only when `train` is true.
    /// The mask comes from the current generator (see `manual_seed`, `with_generator`).
    pub fn dropout(&self, p: f64, train: bool) -> Result<Tensor> {
        self.dropout_with(p, train, &current_generator())
    }

    /// `dropout` with the mask drawn from `g`.
    pub fn dropout_with(&self, p: f64, train: bool, g: &Generator) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&p) {
            bail!(Error::arg("dropout", format!("probability must be in [0, 1], got {p}")));
        }
        if !train || p == 0.0 {
            return Ok(self.clone());
        }
        if p == 1.0 {
            return self.mul(&self.zeros_like()?);
        }
        let keep = Tensor::rand_with(self.shape(), &self.device(), g)?.ge_scalar(p)?.to_dtype(self.dtype())?;
        self.mul(&keep.affine(1.0 / (1.0 - p), 0.0)?)
    }
}
