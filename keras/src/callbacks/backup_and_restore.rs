//! BackupAndRestore (Keras's `keras.callbacks.BackupAndRestore`): a training checkpoint
//! at the end of every epoch, so that a run that was killed resumes where it stopped.

use super::Callback;
use crate::model::TrainingProgress;
use lolcore::{Error, Result};
use std::path::{Path, PathBuf};

/// Backs up the whole training state (weights, optimizer state, epoch, step, random
/// streams, the other callbacks' bests) to `backup_dir/training_state.safetensors` after
/// every epoch, atomically. When `fit` starts and a backup exists, the run resumes from
/// it: the epochs already done are skipped, and the result is the same as if the run had
/// never stopped (the same seed gives the same weights). The backup is deleted when
/// training ends normally (`delete_checkpoint(false)` keeps it).
///
/// A run killed in the middle of an epoch repeats that epoch from its start. Not part
/// of the backup: `EarlyStopping`'s best weights, generators handed to layers
/// (`Dropout::generator`) or to a validation loader, and, with `steps_per_epoch`, the
/// position inside a pass over the data (a resumed run starts a new pass, so its
/// weights differ from an uninterrupted run's).
pub struct BackupAndRestore {
    backup_dir: PathBuf,
    delete_checkpoint: bool,
    /// The progress the last `fit` resumed from (`None` when it started fresh).
    pub resumed_from: Option<TrainingProgress>,
}

impl BackupAndRestore {
    pub fn new<P: AsRef<Path>>(backup_dir: P) -> Self {
        BackupAndRestore { backup_dir: backup_dir.as_ref().to_path_buf(), delete_checkpoint: true, resumed_from: None }
    }
    /// Whether to delete the backup once training ends normally (default true).
    pub fn delete_checkpoint(mut self, on: bool) -> Self {
        self.delete_checkpoint = on;
        self
    }
    /// Where the backup is written.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.backup_dir.join("training_state.safetensors")
    }
    pub(crate) fn resumed(&mut self, p: TrainingProgress) {
        self.resumed_from = Some(p);
    }
    pub(crate) fn training_finished(&mut self) -> Result<()> {
        if !self.delete_checkpoint {
            return Ok(());
        }
        let path = self.checkpoint_path();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&path, e)),
            _ => Ok(()),
        }
    }
}

impl Callback for BackupAndRestore {
    fn as_backup(&mut self) -> Option<&mut BackupAndRestore> {
        Some(self)
    }
    fn on_train_begin(&mut self, _model: &mut dyn super::TrainingModel) -> Result<()> {
        self.resumed_from = None;
        if self.backup_dir.is_file() {
            return Err(Error::arg(
                "BackupAndRestore",
                format!("backup_dir {} is a file, not a directory", self.backup_dir.display()),
            ));
        }
        Ok(())
    }
}
