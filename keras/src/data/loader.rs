//! `DataLoader`: batches of a dataset in (optionally shuffled) order, prepared ahead by
//! worker threads. Worker w builds batches w, w + n, w + 2n, ... into its own bounded
//! channel, so batches arrive in order without a reorder buffer and at most `prefetch`
//! per worker wait in memory.

use super::dataset::Dataset;
use lolcore::{rng, Error, Result, Tensor};
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
}

impl<D: Dataset + 'static> DataLoader<D> {
    /// Batches in order, no workers (batches built on the calling thread).
    pub fn new(dataset: D, batch_size: usize) -> Self {
        DataLoader { dataset: Arc::new(dataset), batch_size, shuffle: false, drop_last: false, workers: 0, prefetch: 2 }
    }
    /// A new order every epoch (from the global generator: see `manual_seed`).
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
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
    /// One epoch of batches (a fresh order when shuffling).
    pub fn iter(&self) -> Result<Batches> {
        if self.batch_size == 0 {
            return Err(Error::arg("DataLoader", "batch_size must be at least 1"));
        }
        let n = self.dataset.len();
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            rng::with_rng(|r| r.shuffle(&mut order));
        }
        let batches: Vec<Vec<usize>> = order.chunks(self.batch_size).take(self.len()).map(|c| c.to_vec()).collect();
        let batches = Arc::new(batches);
        if self.workers == 0 {
            let ds: Arc<dyn Dataset> = self.dataset.clone();
            return Ok(Batches { source: Source::Inline { ds, batches, next: 0 } });
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
                        if tx.send(ds.get_batch(&bs[k])).is_err() {
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

enum Source<D: Dataset + ?Sized> {
    Inline {
        ds: Arc<D>,
        batches: Arc<Vec<Vec<usize>>>,
        next: usize,
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
            Source::Inline { ds, batches, next } => {
                let b = batches.get(*next)?;
                *next += 1;
                Some(ds.get_batch(b))
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
