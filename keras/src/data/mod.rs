//! Datasets and the DataLoader: mini-batches, shuffling, worker threads; and the readers
//! a Keras user expects: image folders (`image_dataset_from_directory`), CSV files and
//! text lines (`tf.data.TextLineDataset`).

mod batch_source;
mod csv_dataset;
mod csv_table;
mod dataset;
mod image_folder;
mod loader;
mod text_lines;

pub use batch_source::BatchSource;
pub use csv_dataset::{Column, CsvDataset, CsvDatasetBuilder, CsvOptions, LabelKind, MISSING_VALUES};
pub use csv_table::{read_csv, CsvTable};
pub use dataset::{Dataset, TensorDataset};
pub use image_folder::{
    image_dataset_from_directory, ColorMode, ImageFolder, ImageFolderBuilder, ImageFolderOptions, LabelMode, Subset,
    IMAGE_EXTENSIONS,
};
pub use loader::{Batches, DataLoader};
pub use text_lines::{MappedLines, TextLineDataset};
