//! Stop cleanly when the loss becomes NaN or infinite.

use super::{BatchLogs, Callback, TrainingModel};
use lolcore::Result;

/// Keras's `TerminateOnNaN`: checks each batch's loss (a host read per batch) and stops
/// training at the first non-finite one.
#[derive(Default)]
pub struct TerminateOnNaN {
    /// The batch at which training was stopped, if it was.
    pub stopped_at_batch: Option<usize>,
}

impl TerminateOnNaN {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Callback for TerminateOnNaN {
    fn on_train_batch_end(&mut self, batch: usize, logs: &BatchLogs<'_>, model: &mut dyn TrainingModel) -> Result<()> {
        if !logs.loss()?.is_finite() {
            self.stopped_at_batch = Some(batch);
            model.stop_training();
        }
        Ok(())
    }
}
