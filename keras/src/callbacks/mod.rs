//! Callbacks: hooks into `fit` with Keras's names, given access to the model through
//! `TrainingModel` (weights, learning rate, stopping).

mod backup_and_restore;
mod csv_logger;
mod early_stopping;
mod lambda;
mod lr;
mod model_checkpoint;
mod tensorboard;
mod terminate_on_nan;

pub use backup_and_restore::BackupAndRestore;
pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use lambda::LambdaCallback;
pub use lr::{LearningRateScheduler, ReduceLrOnPlateau};
pub use model_checkpoint::ModelCheckpoint;
pub use tensorboard::TensorBoard;
pub use terminate_on_nan::TerminateOnNaN;

use crate::logs::Logs;
use lolcore::optim::Optimizer;
use lolcore::{Result, Tensor};
use std::path::Path;

/// What a callback may do to the model being trained.
pub trait TrainingModel {
    /// Writes the weights to a safetensors file (atomically).
    fn save_weights_to(&self, path: &Path) -> Result<()>;
    /// A deep copy of every parameter and buffer.
    fn snapshot_weights(&self) -> Result<Vec<(String, Tensor)>>;
    /// Writes a snapshot back into the weights in place.
    fn restore_weights(&mut self, snapshot: &[(String, Tensor)]) -> Result<()>;
    fn optimizer(&mut self) -> Option<&mut dyn Optimizer>;
    /// Asks `fit` to stop after the current batch.
    fn stop_training(&mut self);
    fn stop_requested(&self) -> bool;
    /// Every parameter and buffer by name (shared tensors, not copies: read, don't keep).
    fn named_weights(&self) -> Vec<(String, Tensor)>;
}

/// Per-batch values, read from the device only when asked for (a host sync).
pub struct BatchLogs<'a> {
    pub(crate) loss: &'a Tensor,
    pub batch_size: usize,
    /// Optimizer steps taken since `fit` started, this one included (across epochs).
    pub global_step: usize,
    /// This batch's gradients by parameter name; present only when a callback's
    /// `wants_gradients` returned true (collecting them costs a little every batch).
    pub(crate) gradients: Option<&'a [(String, Tensor)]>,
}

impl BatchLogs<'_> {
    /// The gradients of this batch by parameter name (see `Callback::wants_gradients`).
    pub fn gradients(&self) -> Option<&[(String, Tensor)]> {
        self.gradients
    }
    /// This batch's loss (waits for the device).
    pub fn loss(&self) -> Result<f64> {
        self.loss.to_dtype(lolcore::DType::F64)?.to_scalar::<f64>()
    }
}

/// Hooks called by `fit`, with Keras's names. Every hook has a default that does nothing.
#[allow(unused_variables)]
pub trait Callback {
    /// True when `on_train_batch_end` needs `BatchLogs::gradients`.
    fn wants_gradients(&self) -> bool {
        false
    }
    fn on_train_begin(&mut self, model: &mut dyn TrainingModel) -> Result<()> {
        Ok(())
    }
    fn on_train_end(&mut self, model: &mut dyn TrainingModel) -> Result<()> {
        Ok(())
    }
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut dyn TrainingModel) -> Result<()> {
        Ok(())
    }
    /// `logs` hold the epoch's loss, metrics, validation values and `lr`.
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut dyn TrainingModel) -> Result<()> {
        Ok(())
    }
    fn on_train_batch_begin(&mut self, batch: usize, model: &mut dyn TrainingModel) -> Result<()> {
        Ok(())
    }
    fn on_train_batch_end(&mut self, batch: usize, logs: &BatchLogs<'_>, model: &mut dyn TrainingModel) -> Result<()> {
        Ok(())
    }
    /// Values to keep in a training checkpoint (bests, patience counters); `fit` gives
    /// them back through `set_state` when `BackupAndRestore` resumes a run.
    fn state(&self) -> Vec<(String, f64)> {
        vec![]
    }
    fn set_state(&mut self, state: &[(String, f64)]) -> Result<()> {
        Ok(())
    }
    /// True for callbacks that write files or print (checkpoints, logs): in distributed
    /// training only rank 0 runs them. Callbacks that decide (EarlyStopping, schedules)
    /// run on every rank, on the same averaged logs, so every rank decides alike.
    fn rank_zero_only(&self) -> bool {
        false
    }
    /// `Some` for `BackupAndRestore` only: how `fit` finds it among the callbacks.
    fn as_backup(&mut self) -> Option<&mut BackupAndRestore> {
        None
    }
}

/// Whether a smaller or larger monitored value is better, or decided from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// `max` for names containing `acc`, `auc`, `precision` or `recall`; else `min`.
    #[default]
    Auto,
    Min,
    Max,
}

impl Mode {
    /// True when `a` improves on `b` by more than `min_delta`.
    pub(crate) fn better(self, monitor: &str, a: f64, b: f64, min_delta: f64) -> bool {
        let max = match self {
            Mode::Max => true,
            Mode::Min => false,
            Mode::Auto => crate::metrics::higher_is_better(monitor),
        };
        if max {
            a > b + min_delta
        } else {
            a < b - min_delta
        }
    }
}

/// A named value of a callback's saved state.
pub(crate) fn state_value(state: &[(String, f64)], name: &str) -> Option<f64> {
    state.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// The monitored value, or an error naming what the logs do have.
pub(crate) fn monitored(logs: &Logs, monitor: &str, who: &str) -> Result<f64> {
    logs.get(monitor).ok_or_else(|| {
        let have: Vec<&str> = logs.iter().map(|(n, _)| n).collect();
        lolcore::Error::arg(
            "callback",
            format!("{who} monitors {monitor:?}, but the logs have {have:?} (validation values need validation data)"),
        )
    })
}
