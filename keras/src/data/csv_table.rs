//! `read_csv`: a whole CSV file of numbers into memory, parsed by the `csv` crate
//! (RFC 4180: quoted fields, embedded commas, quotes and newlines).

use lolcore::{Error, Result};
use std::path::Path;

/// A numeric CSV file: its header (when the first line is not numbers) and its rows.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    pub header: Option<Vec<String>>,
    pub rows: Vec<Vec<f64>>,
}

/// A reader over `path` (headers left to the caller) that trims fields, skips empty lines and lets rows differ in
/// width (callers check widths to name the line).
pub(crate) fn open_reader(path: &Path, delimiter: u8) -> Result<csv::Reader<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file))
}

/// A `csv` crate error as a lol error naming the file and, where known, the line.
pub(crate) fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| format!("line {}: ", p.line())).unwrap_or_default();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => Error::format(path, format!("{line}not UTF-8 ({err})")),
        kind => Error::format(path, format!("{line}{kind:?}")),
    }
}

/// Reads a comma-separated file of numbers (pandas' `read_csv` for numeric data). The
/// first line is a header if any of its fields is not a number. Every row must have the
/// same number of fields; fields are trimmed and empty lines skipped.
pub fn read_csv<P: AsRef<Path>>(path: P) -> Result<CsvTable> {
    let path = path.as_ref();
    let mut reader = open_reader(path, b',')?;
    let mut header = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut width = None;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let parsed: Vec<Option<f64>> = record.iter().map(|f| f.parse::<f64>().ok()).collect();
        if rows.is_empty() && header.is_none() && width.is_none() && parsed.iter().any(Option::is_none) {
            header = Some(record.iter().map(str::to_string).collect::<Vec<_>>());
            width = Some(record.len());
            continue;
        }
        let w = *width.get_or_insert(record.len());
        if record.len() != w {
            return Err(Error::format(path, format!("line {line} has {} fields, expected {w}", record.len())));
        }
        let mut row = Vec::with_capacity(w);
        for (c, (f, p)) in record.iter().zip(parsed).enumerate() {
            match p {
                Some(v) => row.push(v),
                None => {
                    return Err(Error::format(path, format!("line {line}, column {}: {f:?} is not a number", c + 1)))
                }
            }
        }
        rows.push(row);
    }
    Ok(CsvTable { header, rows })
}
