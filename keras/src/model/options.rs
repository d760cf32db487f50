//! `fit`'s options, Keras's keyword arguments as a builder.

use crate::callbacks::Callback;
use crate::data::BatchSource;
use crate::progress::Verbosity;
use lolcore::dist::{DdpOptions, ProcessGroup};
use lolcore::Tensor;
use std::sync::Arc;

/// Options for `Model::fit_with` and `Model::fit_loader_with`:
/// `FitOptions::new(10, 128).validation_split(0.1).callback(&mut early_stopping)`.
pub struct FitOptions<'a> {
    pub epochs: usize,
    /// Samples per batch when fitting tensors (a loader has its own batch size).
    pub batch_size: usize,
    /// Fraction of the samples (the last ones, before shuffling, as Keras) held out.
    pub validation_split: f64,
    pub validation_data: Option<(Tensor, Tensor)>,
    /// Validation batches from a loader (Keras's `validation_data=dataset`).
    pub validation_loader: Option<&'a dyn BatchSource>,
    /// Reshuffle the training samples every epoch (seeded by `manual_seed`). A loader
    /// shuffles as it was built to.
    pub shuffle: bool,
    /// Borrowed, so their state (`stopped_epoch`, `saved` ...) can be read after `fit`.
    pub callbacks: Vec<&'a mut dyn Callback>,
    pub verbose: Verbosity,
    /// The epoch to start at (resuming a run).
    pub initial_epoch: usize,
    /// Batches per epoch. With a loader, batches continue from where the previous epoch
    /// stopped and a new pass over the data (reshuffled) starts when one runs out, as
    /// with a repeated `tf.data` dataset; with tensors, the epoch's order is cut short.
    pub steps_per_epoch: Option<usize>,
    /// Keras's `class_weight`: weight by class index, multiplying each training sample's
    /// loss by its class's weight.
    pub class_weight: Option<Vec<(usize, f64)>>,
    /// Keras's `sample_weight`: one weight per training sample `[n]` (tensors only).
    pub sample_weight: Option<Tensor>,
    /// Data-parallel training over these ranks (see [`FitOptions::distributed`]).
    pub distributed: Option<Arc<dyn ProcessGroup>>,
    /// Gradient buckets, overlap and buffer synchronisation when distributed.
    pub ddp: DdpOptions,
}

impl<'a> FitOptions<'a> {
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        FitOptions {
            epochs,
            batch_size,
            validation_split: 0.0,
            validation_data: None,
            validation_loader: None,
            shuffle: true,
            callbacks: vec![],
            verbose: Verbosity::ProgressBar,
            initial_epoch: 0,
            steps_per_epoch: None,
            class_weight: None,
            sample_weight: None,
            distributed: None,
            ddp: DdpOptions::default(),
        }
    }
    /// `new(epochs, 32)`: for `fit_loader_with`, where the loader sets the batch size.
    pub fn epochs(epochs: usize) -> Self {
        Self::new(epochs, 32)
    }
    pub fn validation_split(mut self, f: f64) -> Self {
        self.validation_split = f;
        self
    }
    pub fn validation_data(mut self, x: &Tensor, y: &Tensor) -> Self {
        self.validation_data = Some((x.clone(), y.clone()));
        self
    }
    /// Validates on a loader's batches after every epoch.
    pub fn validation_loader(mut self, loader: &'a dyn BatchSource) -> Self {
        self.validation_loader = Some(loader);
        self
    }
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }
    pub fn callback(mut self, cb: &'a mut dyn Callback) -> Self {
        self.callbacks.push(cb);
        self
    }
    pub fn verbose(mut self, v: Verbosity) -> Self {
        self.verbose = v;
        self
    }
    pub fn initial_epoch(mut self, e: usize) -> Self {
        self.initial_epoch = e;
        self
    }
    pub fn steps_per_epoch(mut self, steps: usize) -> Self {
        self.steps_per_epoch = Some(steps);
        self
    }
    /// `class_weight={0: 1.0, 1: 5.0}` is `.class_weight([(0, 1.0), (1, 5.0)])`. Every
    /// class that occurs must have a weight. Labels are read as Keras reads them:
    /// integer labels as they are, one-hot rows by their argmax, 0/1 floats rounded.
    pub fn class_weight(mut self, weights: impl IntoIterator<Item = (usize, f64)>) -> Self {
        self.class_weight = Some(weights.into_iter().collect());
        self
    }
    pub fn sample_weight(mut self, w: &Tensor) -> Self {
        self.sample_weight = Some(w.clone());
        self
    }
    /// Trains data-parallel over the ranks of `group` (Keras's distribution strategy,
    /// PyTorch's DDP): every rank runs the same program, and each rank's `fit`
    /// - checks that all ranks hold the same model and starts from rank 0's weights;
    /// - reads its shard of every epoch's shuffled order (`DistributedSampler`: the same
    ///   seed on every rank, padded to a multiple of the ranks);
    /// - takes `batch_size` as the **global** batch, as Keras does: each rank trains on
    ///   `batch_size / world` samples per step (it must divide). A loader's batch is
    ///   global too; the loader shuffles alike on every rank and each rank builds only
    ///   its part of each batch;
    /// - averages gradients over the ranks (buckets all-reduced while backward runs),
    ///   so the weights stay identical;
    /// - reports the loss and metrics of all ranks' samples in its logs and `History`;
    /// - prints the progress bar and runs writing callbacks (`ModelCheckpoint`,
    ///   `CsvLogger`, `TensorBoard`, `BackupAndRestore`'s writes) on rank 0 only.
    ///
    /// The group comes from `lol_dist::MpiGroup` (CPU nodes, `mpirun`), `lol_dist`'s
    /// NCCL group (GPUs) or `lolcore::dist::LocalGroup` (threads, for tests).
    pub fn distributed(mut self, group: Arc<dyn ProcessGroup>) -> Self {
        self.distributed = Some(group);
        self
    }
    /// Bucket size, overlap and buffer (BatchNorm statistics) synchronisation of
    /// distributed training; PyTorch DDP's defaults otherwise.
    pub fn ddp_options(mut self, options: DdpOptions) -> Self {
        self.ddp = options;
        self
    }
}
