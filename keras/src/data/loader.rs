//! `DataLoader`: batches of a dataset in (optionally shuffled) order, prepared ahead by
//! worker threads. Worker w builds batches w, w + n, w + 2n, ... into its own bounded
//! channel, so batches arrive in order without a reorder buffer and at most `prefetch`
//! per worker wait in memory.
//!
//! Randomness is reproducible whatever the worker count: each epoch draws one seed from
//! the loader's generator (or the current one), and batch k is built with its own stream
//! derived from that seed and k as the current generator, so a dataset that augments
//! with `Tensor::rand`/`randn` gives the same batches with 0, 1 or 8 workers.

use super::dataset::Dataset;
use lolcore::rng::{current_generator, derive_seed, with_generator, Generator};
use lolcore::{Error, Result, Tensor};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Mini-batches over a dataset (PyTorch's `DataLoader`).
pub struct DataLoader<D: Dataset + 'static> {
    dataset: Arc<D>,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    workers: usize,
    prefetch: usize,
    generator: Option<Generator>,
}

impl<D: Dataset + 'static> DataLoader<D> {
    /// Batches in order, no workers (batches built on the calling thread).
    pub fn new(dataset: D, batch_size: usize) -> Self {
        DataLoader {
            dataset: Arc::new(dataset),
            batch_size,
            shuffle: false,
            drop_last: false,
            workers: 0,
            prefetch: 2,
            generator: None,
        }
    }
    /// A new order every epoch (from the loader's generator, else the current one:
    /// see `manual_seed`).
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }
    /// Draws the shuffle and each epoch's batch streams from `g` (PyTorch's
    /// `generator=`), apart from every other draw.
    pub fn generator(mut self, g: &Generator) -> Self {
        self.generator = Some(g.clone());
        self
    }
    /// Skip the last batch when it would be smaller than `batch_size`.
    pub fn drop_last(mut self, on: bool) -> Self {
        self.drop_last = on;
        self
    }
    /// Threads that build batches ahead of the consumer.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }
    /// Batches each worker may have ready ahead of time.
    pub fn prefetch(mut self, n: usize) -> Self {
        self.prefetch = n.max(1);
        self
    }
    /// The generator given with `generator(..)`, if any.
    pub fn own_generator(&self) -> Option<&Generator> {
        self.generator.as_ref()
    }
    pub fn dataset(&self) -> &D {
        &self.dataset
    }
    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.batch_size == 0 {
            0
        } else if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Batches per epoch on each of `world` ranks (see [`DataLoader::iter_shard`]).
    pub fn len_shard(&self, world: usize) -> usize {
        let per_rank = self.batch_size / world.max(1);
        if per_rank == 0 {
            return 0;
        }
        if self.drop_last {
            self.dataset.len() / world.max(1) / per_rank
        } else {
            let n = lolcore::dist::shard_len(self.dataset.len(), world.max(1));
            n.div_ceil(per_rank)
        }
    }
    fn per_rank_batch(&self, rank: usize, world: usize) -> Result<usize> {
        if self.batch_size == 0 {
            return Err(Error::arg("DataLoader", "batch_size must be at least 1"));
        }
        if world == 0 || rank >= world {
            return Err(Error::arg("DataLoader", format!("rank {rank} is not a rank of a world of {world}")));
        }
        if !self.batch_size.is_multiple_of(world) {
            return Err(Error::arg(
                "DataLoader",
                format!(
                    "batch_size {} is the global batch of {world} ranks and must be a multiple of {world}",
                    self.batch_size
                ),
            ));
        }
        Ok(self.batch_size / world)
    }
    /// One epoch of batches (a fresh order when shuffling).
    pub fn iter(&self) -> Result<Batches> {
        self.iter_shard(0, 1)
    }

    /// Rank `rank`'s part of one epoch when `world` ranks train data-parallel: the
    /// epoch's order is drawn as `iter` draws it (the same on every rank with the same
    /// seed), padded to a multiple of `world` by repeating its start (with `drop_last`,
    /// cut down to one instead) and dealt out (`DistributedSampler`), and each of this
    /// rank's batches holds `batch_size / world` samples, so the ranks' k-th batches
    /// together are the single-process k-th batch (the last one may differ by the
    /// padding).
    pub fn iter_shard(&self, rank: usize, world: usize) -> Result<Batches> {
        let per_rank = self.per_rank_batch(rank, world)?;
        let n = self.dataset.len();
        let mut order: Vec<usize> = (0..n).collect();
        let g = self.generator.clone().unwrap_or_else(current_generator);
        if self.shuffle {
            g.with(|r| r.shuffle(&mut order));
        }
        let mut seed = g.next_seed();
        if world > 1 {
            // Each rank augments its own samples with its own streams.
            seed = derive_seed(seed, rank as u64);
        }
        if self.drop_last && world > 1 {
            // As DistributedSampler(drop_last=True): drop the tail instead of padding.
            order.truncate(n / world * world);
        }
        let order = lolcore::dist::shard(&order, rank, world);
        let batches: Vec<Vec<usize>> = order.chunks(per_rank).take(self.len_shard(world)).map(|c| c.to_vec()).collect();
        let batches = Arc::new(batches);
        if self.workers == 0 {
            let ds: Arc<dyn Dataset> = self.dataset.clone();
            return Ok(Batches { source: Source::Inline { ds, batches, next: 0, seed } });
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut receivers = Vec::with_capacity(self.workers);
        let mut handles = Vec::with_capacity(self.workers);
        for w in 0..self.workers {
            let (tx, rx) = sync_channel::<Result<(Tensor, Tensor)>>(self.prefetch);
            let (ds, bs, stop) = (self.dataset.clone(), batches.clone(), stop.clone());
            let workers = self.workers;
            let h = std::thread::Builder::new()
                .name(format!("lol-loader-{w}"))
                .spawn(move || {
                    let mut k = w;
                    while k < bs.len() && !stop.load(Ordering::Relaxed) {
                        if tx.send(batch(ds.as_ref(), &bs[k], seed, k)).is_err() {
                            break;
                        }
                        k += workers;
                    }
                })
                .map_err(|e| Error::msg(format!("DataLoader: could not start a worker thread: {e}")))?;
            receivers.push(rx);
            handles.push(h);
        }
        Ok(Batches { source: Source::Workers { receivers, handles, stop, total: batches.len(), next: 0 } })
    }
}

/// Batch `k` of an epoch, built with its own random stream as the current generator.
fn batch<D: Dataset + ?Sized>(ds: &D, idx: &[usize], seed: u64, k: usize) -> Result<(Tensor, Tensor)> {
    with_generator(&Generator::new(derive_seed(seed, k as u64)), || ds.get_batch(idx))
}

enum Source<D: Dataset + ?Sized> {
    Inline {
        ds: Arc<D>,
        batches: Arc<Vec<Vec<usize>>>,
        next: usize,
        seed: u64,
    },
    Workers {
        receivers: Vec<Receiver<Result<(Tensor, Tensor)>>>,
        handles: Vec<JoinHandle<()>>,
        stop: Arc<AtomicBool>,
        total: usize,
        next: usize,
    },
}

/// One epoch of `(x, y)` batches.
pub struct Batches {
    source: Source<dyn Dataset>,
}

impl Iterator for Batches {
    type Item = Result<(Tensor, Tensor)>;
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Inline { ds, batches, next, seed } => {
                let b = batches.get(*next)?;
                *next += 1;
                Some(batch(ds.as_ref(), b, *seed, *next - 1))
            }
            Source::Workers { receivers, total, next, .. } => {
                if *next >= *total {
                    return None;
                }
                let w = *next % receivers.len();
                *next += 1;
                Some(
                    receivers[w]
                        .recv()
                        .unwrap_or_else(|_| Err(Error::msg("DataLoader: a worker thread stopped early"))),
                )
            }
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        if let Source::Workers { receivers, handles, stop, .. } = &mut self.source {
            stop.store(true, Ordering::Relaxed);
            receivers.clear(); // unblocks workers waiting to send
            for h in handles.drain(..) {
                let _ = h.join();
            }
        }
    }
}
