//! `BatchSource`: what `Model::fit_loader`, `evaluate_loader` and `predict_loader` read,
//! a loader of any dataset seen without its type (so training and validation loaders of
//! different datasets can sit in one `FitOptions`).

use super::dataset::Dataset;
use super::loader::{Batches, DataLoader};
use lolcore::{Generator, Result};

/// Epochs of `(x, y)` batches.
pub trait BatchSource {
    /// One epoch of batches (a fresh order when the source shuffles).
    fn epoch(&self) -> Result<Batches>;
    /// Batches per epoch.
    fn batches_per_epoch(&self) -> usize;
    /// The generator the source shuffles with, when it has its own (saved in training
    /// checkpoints so a resumed run draws the same orders).
    fn generator(&self) -> Option<&Generator> {
        None
    }
}

impl<D: Dataset + 'static> BatchSource for DataLoader<D> {
    fn epoch(&self) -> Result<Batches> {
        self.iter()
    }
    fn batches_per_epoch(&self) -> usize {
        self.len()
    }
    fn generator(&self) -> Option<&Generator> {
        self.own_generator()
    }
}
