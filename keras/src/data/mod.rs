//! Datasets and the DataLoader: mini-batches, shuffling, worker threads.

mod csv;
mod dataset;
mod loader;

pub use csv::{read_csv, CsvDataset, CsvTable};
pub use dataset::{Dataset, TensorDataset};
pub use loader::{Batches, DataLoader};
