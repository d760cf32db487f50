//! Save the weights during training.

use super::{monitored, Callback, Mode, TrainingModel};
use crate::logs::Logs;
use lolcore::Result;
use std::path::PathBuf;

/// Keras's `ModelCheckpoint`: saves the weights (safetensors, written atomically) after
/// every epoch, or only when `monitor` improves with `save_best_only`. `{epoch}` in the
/// path is replaced by the 1-based epoch number.
pub struct ModelCheckpoint {
    pub path: String,
    pub monitor: String,
    pub save_best_only: bool,
    pub mode: Mode,
    best: Option<f64>,
    /// Files written so far.
    pub saved: Vec<PathBuf>,
}

impl ModelCheckpoint {
    pub fn new(path: impl Into<String>) -> Self {
        ModelCheckpoint {
            path: path.into(),
            monitor: "val_loss".into(),
            save_best_only: false,
            mode: Mode::Auto,
            best: None,
            saved: vec![],
        }
    }
    pub fn monitor(mut self, m: &str) -> Self {
        self.monitor = m.into();
        self
    }
    pub fn save_best_only(mut self, on: bool) -> Self {
        self.save_best_only = on;
        self
    }
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
}

impl Callback for ModelCheckpoint {
    fn rank_zero_only(&self) -> bool {
        true
    }
    fn state(&self) -> Vec<(String, f64)> {
        self.best.map(|b| vec![("best".to_string(), b)]).unwrap_or_default()
    }
    fn set_state(&mut self, state: &[(String, f64)]) -> Result<()> {
        self.best = super::state_value(state, "best");
        Ok(())
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &mut dyn TrainingModel) -> Result<()> {
        if self.save_best_only {
            let v = monitored(logs, &self.monitor, "ModelCheckpoint")?;
            if let Some(b) = self.best {
                if !self.mode.better(&self.monitor, v, b, 0.0) {
                    return Ok(());
                }
            }
            self.best = Some(v);
        }
        let path = PathBuf::from(self.path.replace("{epoch}", &(epoch + 1).to_string()));
        model.save_weights_to(&path)?;
        self.saved.push(path);
        Ok(())
    }
}
