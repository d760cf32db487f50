//! Everything a model file needs: `use keras::prelude::*;`.

pub use crate::callbacks::{
    BackupAndRestore, Callback, CsvLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
    ReduceLrOnPlateau, TensorBoard, TerminateOnNaN,
};
pub use crate::data::{
    image_dataset_from_directory, BatchSource, CsvDataset, DataLoader, Dataset, ImageFolder, TensorDataset,
    TextLineDataset,
};
pub use crate::layers::Activation;
pub use crate::layers::*;
pub use crate::losses::{Loss, Reduction};
pub use crate::metrics::Metric;
pub use crate::sequential;
pub use crate::to_categorical;
pub use crate::{FitOptions, History, Logs, Model, Scores, TrainingProgress, Verbosity};
// The trait and the derive macro, both named `Module` (as serde's `Serialize`).
pub use lolcore::nn::{Forward, Init};
pub use lolcore::optim::{Adagrad, Adam, AdamW, CosineAnnealingLr, ExponentialLr, Optimizer, RmsProp, Sgd, StepLr};
pub use lolcore::Module;
pub use lolcore::{
    manual_seed, no_grad, with_generator, Conv1dParams, Conv2dParams, ConvTranspose1dParams, ConvTranspose2dParams,
    DType, Device, Error, Generator, IntoPair, PadMode, Padding, Pool1dParams, Pool2dParams, Result, Tensor,
};
