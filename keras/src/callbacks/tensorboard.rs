//! Keras's `TensorBoard` callback: epoch (and optionally batch) scalars and weight and
//! gradient histograms, written as event files that TensorBoard reads.

mod event_file;
mod proto;

use super::{BatchLogs, Callback, TrainingModel};
use crate::logs::Logs;
use event_file::EventWriter;
use lolcore::{Error, Result, Tensor};
use std::path::{Path, PathBuf};

/// Keras's `keras.callbacks.TensorBoard`: logs training for `tensorboard --logdir <log_dir>`.
///
/// With Keras 3's tags and layout:
/// - `log_dir/train`: `epoch_loss`, `epoch_<metric>`, `epoch_learning_rate` at step
///   `epoch`; `batch_loss` at the global batch step when `update_freq_batches` is set;
///   with `histogram_freq`, `<weight>/histogram` for every parameter and buffer and
///   `<parameter>/gradient` for the gradients of the epoch's last batch.
/// - `log_dir/validation`: the `val_*` values as `epoch_<name>` (prefix dropped).
///
/// Each `fit` starts new event files; they are flushed at each epoch end and closed at
/// train end.
///
/// ```no_run
/// use keras::prelude::*;
/// # fn main() -> Result<()> {
/// let mut model = Model::new(sequential![Dense::new(2, 8), Relu, Dense::new(8, 2)]);
/// model.compile(Adam::new(1e-2), Loss::SparseCategoricalCrossentropy);
/// let (x, y) = (Tensor::randn(&[64, 2], &Device::Cpu)?, Tensor::zeros(&[64], &Device::Cpu)?.to_dtype(DType::U32)?);
/// let mut tb = TensorBoard::new("logs").histogram_freq(1);
/// model.fit_with(&x, &y, FitOptions::new(5, 16).validation_split(0.25).callback(&mut tb))?;
/// # Ok(()) }
/// ```
pub struct TensorBoard {
    log_dir: PathBuf,
    update_freq: Option<usize>,
    histogram_freq: usize,
    train: Option<EventWriter>,
    validation: Option<EventWriter>,
    histogram_epoch: bool,
    last_gradients: Vec<(String, Tensor)>,
}

impl TensorBoard {
    /// Logs under `log_dir` (created if missing), epoch values only, no histograms
    /// (Keras's defaults: `update_freq="epoch"`, `histogram_freq=0`).
    pub fn new(log_dir: impl Into<PathBuf>) -> Self {
        TensorBoard {
            log_dir: log_dir.into(),
            update_freq: None,
            histogram_freq: 0,
            train: None,
            validation: None,
            histogram_epoch: false,
            last_gradients: vec![],
        }
    }

    /// Also writes `batch_loss` every `n` batches (Keras's integer `update_freq`); 0 turns
    /// it off. Each one reads the loss back from the device.
    pub fn update_freq_batches(mut self, n: usize) -> Self {
        self.update_freq = (n > 0).then_some(n);
        self
    }

    /// Writes weight and gradient histograms every `n` epochs (epochs 0, n, 2n, ...), as
    /// Keras's `histogram_freq`; 0 (the default) turns them off. In those epochs `fit`
    /// collects each batch's gradients.
    pub fn histogram_freq(mut self, n: usize) -> Self {
        self.histogram_freq = n;
        self
    }

    /// The directory the run folders `train` and `validation` go in.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    fn writer<'a>(slot: &'a mut Option<EventWriter>, dir: &Path) -> Result<&'a mut EventWriter> {
        match slot {
            Some(w) => Ok(w),
            None => Ok(slot.insert(EventWriter::create(dir).map_err(context)?)),
        }
    }

    fn write_histograms(&mut self, epoch: i64, model: &dyn TrainingModel) -> Result<()> {
        let w = Self::writer(&mut self.train, &self.log_dir.join("train"))?;
        for (name, t) in model.named_weights() {
            w.histogram(&format!("{name}/histogram"), epoch, &t.to_vec::<f64>()?).map_err(context)?;
        }
        for (name, g) in std::mem::take(&mut self.last_gradients) {
            w.histogram(&format!("{name}/gradient"), epoch, &g.to_vec::<f64>()?).map_err(context)?;
        }
        Ok(())
    }
}

/// Names the callback in front of an I/O error (whose message names the path).
fn context(e: Error) -> Error {
    e.context("TensorBoard")
}

impl Callback for TensorBoard {
    fn rank_zero_only(&self) -> bool {
        true
    }
    fn wants_gradients(&self) -> bool {
        self.histogram_epoch
    }

    fn on_train_begin(&mut self, _model: &mut dyn TrainingModel) -> Result<()> {
        // New files for each run, as Keras; the validation one only once there is validation.
        self.validation = None;
        self.train = Some(EventWriter::create(&self.log_dir.join("train")).map_err(context)?);
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, _model: &mut dyn TrainingModel) -> Result<()> {
        self.histogram_epoch = self.histogram_freq > 0 && epoch.is_multiple_of(self.histogram_freq);
        self.last_gradients.clear();
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        logs: &BatchLogs<'_>,
        _model: &mut dyn TrainingModel,
    ) -> Result<()> {
        if self.histogram_epoch {
            if let Some(g) = logs.gradients() {
                // Shared handles: each batch's backward makes new gradient tensors.
                self.last_gradients = g.to_vec();
            }
        }
        if let Some(n) = self.update_freq {
            if logs.global_step.is_multiple_of(n) {
                let loss = logs.loss()?;
                let w = Self::writer(&mut self.train, &self.log_dir.join("train"))?;
                w.scalar("batch_loss", logs.global_step as i64, loss).map_err(context)?;
            }
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut dyn TrainingModel) -> Result<()> {
        let step = epoch as i64;
        let train = Self::writer(&mut self.train, &self.log_dir.join("train"))?;
        for (name, v) in logs.iter().filter(|(n, _)| !n.starts_with("val_")) {
            let name = if name == "lr" { "learning_rate" } else { name };
            train.scalar(&format!("epoch_{name}"), step, v).map_err(context)?;
        }
        let mut val = logs.iter().filter_map(|(n, v)| n.strip_prefix("val_").map(|n| (n, v))).peekable();
        if val.peek().is_some() {
            let w = Self::writer(&mut self.validation, &self.log_dir.join("validation"))?;
            for (name, v) in val {
                w.scalar(&format!("epoch_{name}"), step, v).map_err(context)?;
            }
        }
        if self.histogram_epoch {
            self.write_histograms(step, &*model)?;
        }
        for w in self.train.iter_mut().chain(self.validation.iter_mut()) {
            w.flush().map_err(context)?;
        }
        Ok(())
    }

    fn on_train_end(&mut self, _model: &mut dyn TrainingModel) -> Result<()> {
        self.histogram_epoch = false;
        self.last_gradients.clear();
        for w in self.train.iter_mut().chain(self.validation.iter_mut()) {
            w.flush().map_err(context)?;
        }
        self.train = None;
        self.validation = None;
        Ok(())
    }
}
