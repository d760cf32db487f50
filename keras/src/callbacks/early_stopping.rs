//! Stop when a monitored value stops improving.

use super::{monitored, Callback, Mode, TrainingModel};
use crate::logs::Logs;
use lolcore::{Result, Tensor};

/// Keras's `EarlyStopping`: after `patience` epochs without an improvement larger than
/// `min_delta` in `monitor`, stop; optionally put back the best epoch's weights.
pub struct EarlyStopping {
    pub monitor: String,
    pub min_delta: f64,
    pub patience: usize,
    pub mode: Mode,
    pub restore_best_weights: bool,
    best: Option<f64>,
    best_weights: Option<Vec<(String, Tensor)>>,
    wait: usize,
    /// The epoch at which training stopped, if it did.
    pub stopped_epoch: Option<usize>,
    pub best_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Monitors `val_loss` with patience 0.
    pub fn new() -> Self {
        EarlyStopping {
            monitor: "val_loss".into(),
            min_delta: 0.0,
            patience: 0,
            mode: Mode::Auto,
            restore_best_weights: false,
            best: None,
            best_weights: None,
            wait: 0,
            stopped_epoch: None,
            best_epoch: None,
        }
    }
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.into();
        self
    }
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    pub fn min_delta(mut self, d: f64) -> Self {
        self.min_delta = d.abs();
        self
    }
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    pub fn restore_best_weights(mut self, on: bool) -> Self {
        self.restore_best_weights = on;
        self
    }
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self::new()
    }
}

impl Callback for EarlyStopping {
    fn state(&self) -> Vec<(String, f64)> {
        let mut s = vec![("wait".to_string(), self.wait as f64)];
        if let (Some(b), Some(e)) = (self.best, self.best_epoch) {
            s.push(("best".into(), b));
            s.push(("best_epoch".into(), e as f64));
        }
        s
    }
    fn set_state(&mut self, state: &[(String, f64)]) -> Result<()> {
        self.wait = super::state_value(state, "wait").unwrap_or(0.0) as usize;
        self.best = super::state_value(state, "best");
        self.best_epoch = super::state_value(state, "best_epoch").map(|e| e as usize);
        Ok(())
    }
    fn on_train_begin(&mut self, _model: &mut dyn TrainingModel) -> Result<()> {
        self.best = None;
        self.best_weights = None;
        self.wait = 0;
        self.stopped_epoch = None;
        Ok(())
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut dyn TrainingModel) -> Result<()> {
        let v = monitored(logs, &self.monitor, "EarlyStopping")?;
        let improved = match self.best {
            None => true,
            Some(b) => self.mode.better(&self.monitor, v, b, self.min_delta),
        };
        if improved {
            self.best = Some(v);
            self.best_epoch = Some(epoch);
            self.wait = 0;
            if self.restore_best_weights {
                self.best_weights = Some(model.snapshot_weights()?);
            }
            return Ok(());
        }
        self.wait += 1;
        // Keras stops once `patience` epochs in a row have not improved.
        if self.wait >= self.patience {
            self.stopped_epoch = Some(epoch);
            model.stop_training();
            if let Some(w) = &self.best_weights {
                model.restore_weights(w)?;
            }
        }
        Ok(())
    }
}
