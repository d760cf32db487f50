//! Reading numeric CSV files: a table, and a dataset whose features are every column but
//! the last and whose label is the last.

use super::dataset::{Dataset, TensorDataset};
use lolcore::{Device, Error, Result, Tensor};
use std::path::Path;

/// A numeric CSV file: its header (when the first line is not numbers) and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    pub header: Option<Vec<String>>,
    pub rows: Vec<Vec<f64>>,
}

/// Reads a comma-separated file of numbers. The first line is a header if any of its
/// fields is not a number. Every row must have the same number of fields.
pub fn read_csv<P: AsRef<Path>>(path: P) -> Result<CsvTable> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut header = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut width = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: Vec<Option<f64>> = fields.iter().map(|f| f.parse::<f64>().ok()).collect();
        if i == 0 && rows.is_empty() && header.is_none() && parsed.iter().any(Option::is_none) {
            header = Some(fields.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            width = Some(fields.len());
            continue;
        }
        let w = *width.get_or_insert(fields.len());
        if fields.len() != w {
            return Err(Error::format(path, format!("line {} has {} fields, expected {w}", i + 1, fields.len())));
        }
        let mut row = Vec::with_capacity(w);
        for (c, (f, p)) in fields.iter().zip(parsed).enumerate() {
            match p {
                Some(v) => row.push(v),
                None => {
                    return Err(Error::format(path, format!("line {}, column {}: {f:?} is not a number", i + 1, c + 1)))
                }
            }
        }
        rows.push(row);
    }
    Ok(CsvTable { header, rows })
}

/// A dataset from a CSV file: features are all columns but the last (f32), the label is
/// the last column (f32, shape `[1]` per sample).
#[derive(Debug)]
pub struct CsvDataset {
    inner: TensorDataset,
    features: usize,
}

impl CsvDataset {
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Self> {
        let path = path.as_ref();
        let table = read_csv(path)?;
        let Some(first) = table.rows.first() else { return Err(Error::format(path, "no data rows")) };
        if first.len() < 2 {
            return Err(Error::format(
                path,
                format!("needs at least 2 columns (features and a label), has {}", first.len()),
            ));
        }
        let f = first.len() - 1;
        let n = table.rows.len();
        let mut x = Vec::with_capacity(n * f);
        let mut y = Vec::with_capacity(n);
        for r in &table.rows {
            x.extend(r[..f].iter().map(|&v| v as f32));
            y.push(r[f] as f32);
        }
        let inner = TensorDataset::new(
            &Tensor::from_vec(x, &[n, f], &Device::Cpu)?,
            &Tensor::from_vec(y, &[n, 1], &Device::Cpu)?,
        )?;
        Ok(CsvDataset { inner, features: f })
    }
    pub fn features(&self) -> usize {
        self.features
    }
}

impl Dataset for CsvDataset {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        self.inner.get(i)
    }
    fn get_batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        self.inner.get_batch(indices)
    }
}
