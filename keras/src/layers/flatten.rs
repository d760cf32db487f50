//! Flatten: every dim after the batch dim into one.

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{Error, Result, Tensor};

/// `[n, d1, d2, ...] → [n, d1·d2·...]`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flatten;

impl Forward for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() == 0 {
            return Err(Error::shape("flatten", "needs a batch dim, got a 0-d tensor"));
        }
        if x.rank() == 1 {
            return Ok(x.clone());
        }
        x.flatten(1, -1)
    }
}
stateless_module!(Flatten);
