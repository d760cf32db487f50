//! Learning-rate callbacks: a schedule per epoch, and reduction on a plateau.

use super::{monitored, Callback, TrainingModel};
use crate::logs::Logs;
use lolcore::optim::{self, LrSchedule, Plateau};
use lolcore::Result;

/// Keras's `LearningRateScheduler`: sets the learning rate at the start of each epoch,
/// from a function `(epoch, current lr) → lr` or from a schedule (`StepLr`, ...), which
/// scales each parameter group's initial rate.
pub struct LearningRateScheduler {
    rule: Rule,
    initial: Vec<f64>,
}

enum Rule {
    Function(Box<dyn FnMut(usize, f64) -> f64>),
    Schedule(Box<dyn LrSchedule>),
}

impl LearningRateScheduler {
    pub fn new(f: impl FnMut(usize, f64) -> f64 + 'static) -> Self {
        LearningRateScheduler { rule: Rule::Function(Box::new(f)), initial: vec![] }
    }
    pub fn from_schedule(s: impl LrSchedule + 'static) -> Self {
        LearningRateScheduler { rule: Rule::Schedule(Box::new(s)), initial: vec![] }
    }
}

impl Callback for LearningRateScheduler {
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut dyn TrainingModel) -> Result<()> {
        let Some(opt) = model.optimizer() else { return Ok(()) };
        match &mut self.rule {
            Rule::Function(f) => {
                let lr = f(epoch, opt.learning_rate());
                opt.set_learning_rate(lr);
            }
            Rule::Schedule(s) => optim::apply_schedule(s.as_ref(), opt, &mut self.initial, epoch),
        }
        Ok(())
    }
}

/// Keras's `ReduceLROnPlateau`: multiplies the learning rate by `factor` when `monitor`
/// has not improved for `patience` epochs.
pub struct ReduceLrOnPlateau {
    pub monitor: String,
    inner: optim::PlateauScheduler,
}

impl ReduceLrOnPlateau {
    /// Monitors `val_loss`; factor 0.1, patience 10 (Keras's defaults).
    pub fn new() -> Self {
        ReduceLrOnPlateau { monitor: "val_loss".into(), inner: optim::PlateauScheduler::new(Plateau::Min) }
    }
    /// The logged value to watch; accuracies and AUC are better larger, losses smaller
    /// (override with [`ReduceLrOnPlateau::mode`]).
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.into();
        self.inner.mode = if crate::metrics::higher_is_better(m) { Plateau::Max } else { Plateau::Min };
        self
    }
    /// Whether smaller (`Mode::Min`) or larger (`Mode::Max`) is better; `Mode::Auto`
    /// decides from the monitored name.
    pub fn mode(mut self, mode: super::Mode) -> Self {
        let max = match mode {
            super::Mode::Max => true,
            super::Mode::Min => false,
            super::Mode::Auto => crate::metrics::higher_is_better(&self.monitor),
        };
        self.inner.mode = if max { Plateau::Max } else { Plateau::Min };
        self
    }
    pub fn factor(mut self, f: f64) -> Self {
        self.inner = self.inner.factor(f);
        self
    }
    pub fn patience(mut self, p: usize) -> Self {
        self.inner = self.inner.patience(p);
        self
    }
    pub fn min_lr(mut self, lr: f64) -> Self {
        self.inner = self.inner.min_lr(lr);
        self
    }
    pub fn cooldown(mut self, c: usize) -> Self {
        self.inner = self.inner.cooldown(c);
        self
    }
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

impl Callback for ReduceLrOnPlateau {
    fn state(&self) -> Vec<(String, f64)> {
        let (best, bad, cooldown) = self.inner.progress();
        let mut s = vec![("bad_epochs".to_string(), bad as f64), ("cooldown_left".to_string(), cooldown as f64)];
        s.extend(best.map(|b| ("best".to_string(), b)));
        s
    }
    fn set_state(&mut self, state: &[(String, f64)]) -> Result<()> {
        let get = |n| super::state_value(state, n);
        self.inner.set_progress(
            get("best"),
            get("bad_epochs").unwrap_or(0.0) as usize,
            get("cooldown_left").unwrap_or(0.0) as usize,
        );
        Ok(())
    }
    fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs, model: &mut dyn TrainingModel) -> Result<()> {
        let v = monitored(logs, &self.monitor, "ReduceLROnPlateau")?;
        if let Some(opt) = model.optimizer() {
            self.inner.step(v, opt);
        }
        Ok(())
    }
}
