//! Everything a model file needs: `use keras::prelude::*;`.

pub use crate::layers::Activation;
pub use crate::layers::*;
pub use crate::sequential;
// The trait and its derive share the name, as with serde's traits.
pub use crate::callbacks::{
    Callback, CsvLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint, ReduceLrOnPlateau,
    TerminateOnNaN,
};
pub use crate::data::{DataLoader, Dataset, TensorDataset};
pub use crate::losses::{Loss, Reduction};
pub use crate::metrics::Metric;
pub use crate::{FitOptions, History, Logs, Model, Scores, Verbosity};
pub use lol_macros::Module;
pub use lolcore::nn::{Forward, Init, Module};
pub use lolcore::optim::{Adagrad, Adam, AdamW, CosineAnnealingLr, ExponentialLr, Optimizer, RmsProp, Sgd, StepLr};
pub use lolcore::{manual_seed, no_grad, Conv2dParams, DType, Device, Error, Pool2dParams, Result, Tensor};
