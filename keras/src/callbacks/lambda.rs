//! A callback made of closures.

use super::{Callback, TrainingModel};
use crate::logs::Logs;
use lolcore::Result;

type EpochFn = Box<dyn FnMut(usize, &Logs) -> Result<()>>;
type TrainFn = Box<dyn FnMut() -> Result<()>>;

/// Keras's `LambdaCallback`: closures for the hooks you need.
#[derive(Default)]
pub struct LambdaCallback {
    on_epoch_begin: Option<Box<dyn FnMut(usize) -> Result<()>>>,
    on_epoch_end: Option<EpochFn>,
    on_train_begin: Option<TrainFn>,
    on_train_end: Option<TrainFn>,
}

impl LambdaCallback {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn on_epoch_begin(mut self, f: impl FnMut(usize) -> Result<()> + 'static) -> Self {
        self.on_epoch_begin = Some(Box::new(f));
        self
    }
    pub fn on_epoch_end(mut self, f: impl FnMut(usize, &Logs) -> Result<()> + 'static) -> Self {
        self.on_epoch_end = Some(Box::new(f));
        self
    }
    pub fn on_train_begin(mut self, f: impl FnMut() -> Result<()> + 'static) -> Self {
        self.on_train_begin = Some(Box::new(f));
        self
    }
    pub fn on_train_end(mut self, f: impl FnMut() -> Result<()> + 'static) -> Self {
        self.on_train_end = Some(Box::new(f));
        self
    }
}

impl Callback for LambdaCallback {
    fn on_train_begin(&mut self, _m: &mut dyn TrainingModel) -> Result<()> {
        self.on_train_begin.as_mut().map(|f| f()).unwrap_or(Ok(()))
    }
    fn on_train_end(&mut self, _m: &mut dyn TrainingModel) -> Result<()> {
        self.on_train_end.as_mut().map(|f| f()).unwrap_or(Ok(()))
    }
    fn on_epoch_begin(&mut self, epoch: usize, _m: &mut dyn TrainingModel) -> Result<()> {
        self.on_epoch_begin.as_mut().map(|f| f(epoch)).unwrap_or(Ok(()))
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, _m: &mut dyn TrainingModel) -> Result<()> {
        self.on_epoch_end.as_mut().map(|f| f(epoch, logs)).unwrap_or(Ok(()))
    }
}
