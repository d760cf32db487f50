//! Embedding: a lookup table of `[vocab, dim]` rows.

use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Result, Tensor};

/// Maps integer ids `[..]` to rows `[.., dim]`; weight N(0, 1) as PyTorch.
#[derive(Module)]
pub struct Embedding {
    pub weight: Tensor,
}

impl Embedding {
    pub fn new(vocab: usize, dim: usize) -> Self {
        Embedding {
            weight: Init::Normal { mean: 0.0, std: 1.0 }.cpu_tensor(&[vocab, dim], vocab, dim).requires_grad(true),
        }
    }
}

impl Forward for Embedding {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        functional::embedding(ids, &self.weight)
    }
}
