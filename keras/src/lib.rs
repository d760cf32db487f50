//! keras: the user-facing half of lol. Layers with PyTorch's layouts and Keras-style
//! builders, `sequential!` and `#[derive(Module)]`, and `Model` with
//! `compile` / `fit` / `evaluate` / `predict`, losses, metrics, callbacks and datasets.
//!
//! ```
//! use keras::prelude::*;
//! let net = sequential![Dense::new(4, 8), Relu, Dense::new(8, 2)];
//! let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
//! let y = net.forward(&Tensor::zeros(&[3, 4], &Device::Cpu)?)?;
//! assert_eq!(y.shape(), &[3, 2]);
//! # Ok::<(), Error>(())
//! ```

// The macros name items as `::keras::...`; this makes that path work inside this crate.
extern crate self as keras;

pub mod applications;
pub mod callbacks;
pub mod data;
pub mod datasets;
mod history_plot;
pub mod layers;
mod logs;
pub mod losses;
pub mod metrics;
mod model;
mod one_hot;
pub mod prelude;
mod progress;
pub mod vision;

pub use logs::{History, Logs};
pub use lolcore;
/// Data-parallel training: process groups, `DataParallel`, sharding (see `FitOptions::distributed`).
pub use lolcore::dist;
pub use lolcore::nn::functional;
pub use lolcore::{sequential, Module};
pub use lolcore::{DType, Device, Error, Result, Tensor};
pub use model::{FitOptions, Model, Scores, TrainingProgress};
pub use one_hot::to_categorical;
pub use progress::Verbosity;

/// What generated code refers to. Not a public API.
#[doc(hidden)]
pub use lolcore::__private;
