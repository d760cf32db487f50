//! Datasets and the DataLoader: mini-batches, shuffling, worker threads.

mod batch_source;
mod csv;
mod dataset;
mod loader;

pub use batch_source::BatchSource;
pub use csv::{read_csv, CsvDataset, CsvTable};
pub use dataset::{Dataset, TensorDataset};
pub use loader::{Batches, DataLoader};
