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
    /// Rank `rank`'s part of one epoch among `world` data-parallel ranks (the batch is
    /// global: each rank's batches hold `batch / world` samples). Sources that cannot
    /// be dealt out refuse.
    fn shard_epoch(&self, rank: usize, world: usize) -> Result<Batches> {
        let _ = (rank, world);
        Err(lolcore::Error::arg("fit_loader", "this batch source cannot be split between data-parallel ranks"))
    }
    /// Batches per epoch on each of `world` ranks (the batch being global, as many as
    /// one process has).
    fn shard_batches_per_epoch(&self, world: usize) -> usize {
        let _ = world;
        self.batches_per_epoch()
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
    fn shard_epoch(&self, rank: usize, world: usize) -> Result<Batches> {
        self.iter_shard(rank, world)
    }
    fn shard_batches_per_epoch(&self, world: usize) -> usize {
        self.len_shard(world)
    }
}
