//! `fit`'s options, Keras's keyword arguments as a builder.

use crate::callbacks::Callback;
use crate::progress::Verbosity;
use lolcore::Tensor;

/// Options for `Model::fit_with`:
/// `FitOptions::new(10, 128).validation_split(0.1).callback(&mut early_stopping)`.
pub struct FitOptions<'a> {
    pub epochs: usize,
    pub batch_size: usize,
    /// Fraction of the samples (the last ones, before shuffling, as Keras) held out.
    pub validation_split: f64,
    pub validation_data: Option<(Tensor, Tensor)>,
    /// Reshuffle the training samples every epoch (seeded by `manual_seed`).
    pub shuffle: bool,
    /// Borrowed, so their state (`stopped_epoch`, `saved` ...) can be read after `fit`.
    pub callbacks: Vec<&'a mut dyn Callback>,
    pub verbose: Verbosity,
    /// The epoch to start at (resuming a run).
    pub initial_epoch: usize,
}

impl<'a> FitOptions<'a> {
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        FitOptions {
            epochs,
            batch_size,
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            callbacks: vec![],
            verbose: Verbosity::ProgressBar,
            initial_epoch: 0,
        }
    }
    pub fn validation_split(mut self, f: f64) -> Self {
        self.validation_split = f;
        self
    }
    pub fn validation_data(mut self, x: &Tensor, y: &Tensor) -> Self {
        self.validation_data = Some((x.clone(), y.clone()));
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
}
