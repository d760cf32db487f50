//! Embedding: a lookup table of `[vocab, dim]` rows.

use super::param_init::InitErrors;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Result, Tensor};

/// Maps integer ids `[..]` to rows `[.., dim]`; weight N(0, 1) as PyTorch.
#[derive(Module)]
pub struct Embedding {
    pub weight: Tensor,
    #[module(skip)]
    init_errors: InitErrors,
}

impl Embedding {
    pub fn new(vocab: usize, dim: usize) -> Self {
        let mut errs = InitErrors::default();
        let weight = errs.param("weight", Init::Normal { mean: 0.0, std: 1.0 }, &[vocab, dim], vocab, dim);
        Embedding { weight, init_errors: errs }
    }
}

impl Forward for Embedding {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.init_errors.check("Embedding")?;
        functional::embedding(ids, &self.weight)
    }
}
