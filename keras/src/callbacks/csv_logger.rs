//! Log every epoch's values to a CSV file.

use super::{Callback, TrainingModel};
use crate::logs::Logs;
use lolcore::safetensors::write_atomically;
use lolcore::Result;
use std::io::Write;
use std::path::PathBuf;

/// Keras's `CSVLogger`: one row per epoch (`epoch,loss,...`). The file is rewritten
/// atomically after each epoch, so it is never seen half-written.
pub struct CsvLogger {
    path: PathBuf,
    columns: Vec<String>,
    rows: Vec<String>,
}

impl CsvLogger {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger { path: path.into(), columns: vec![], rows: vec![] }
    }
}

impl Callback for CsvLogger {
    fn rank_zero_only(&self) -> bool {
        true
    }
    fn on_train_begin(&mut self, _model: &mut dyn TrainingModel) -> Result<()> {
        self.columns.clear();
        self.rows.clear();
        Ok(())
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, _model: &mut dyn TrainingModel) -> Result<()> {
        if self.columns.is_empty() {
            self.columns = logs.iter().map(|(n, _)| n.to_string()).collect();
        }
        let mut row = vec![epoch.to_string()];
        row.extend(self.columns.iter().map(|c| logs.get(c).map(|v| v.to_string()).unwrap_or_default()));
        self.rows.push(row.join(","));
        let header =
            std::iter::once("epoch".to_string()).chain(self.columns.iter().cloned()).collect::<Vec<_>>().join(",");
        let rows = &self.rows;
        write_atomically(&self.path, |w| {
            writeln!(w, "{header}")?;
            for r in rows {
                writeln!(w, "{r}")?;
            }
            Ok(())
        })
    }
}
