//! Everything a model file needs: `use keras::prelude::*;`.

pub use crate::layers::*;
pub use crate::sequential;
// The trait and its derive share the name, as with serde's traits.
pub use lol_macros::Module;
pub use lolcore::nn::{Forward, Init, Module};
pub use lolcore::optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};
pub use lolcore::{manual_seed, no_grad, Conv2dParams, DType, Device, Error, Pool2dParams, Result, Tensor};
