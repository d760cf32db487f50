//! `CsvDataset`: a CSV file as `(features, label)` samples, with the choices pandas and
//! `tf.data.experimental.make_csv_dataset` offer: header or not, which column is the
//! label, which are features, string labels as class ids, missing values.

use super::csv_table::{csv_error, open_reader, read_csv};
use super::dataset::{Dataset, TensorDataset};
use lolcore::{Device, Error, Result, Tensor};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const OP: &str = "CsvDataset";

/// Integer labels at or above this are not taken as class ids (they would make that many
/// classes) but as names, like strings.
const MAX_INTEGER_CLASS: u32 = 1 << 16;

/// Fields read as a missing value: empty, `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`
/// (a subset of pandas' `na_values`).
pub const MISSING_VALUES: [&str; 7] = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"];

/// A column, by header name or 0-based index (`"species".into()`, `4.into()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// The column whose header field is this name.
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::Name(name.to_string())
    }
}
impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::Name(name)
    }
}
impl From<usize> for Column {
    fn from(index: usize) -> Self {
        Column::Index(index)
    }
}

/// How the label column becomes a tensor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LabelKind {
    /// `Float` when every label is a number, else `Class` (the default).
    #[default]
    Auto,
    /// The number itself, f32 `[1]` per sample: regression or a 0/1 binary target.
    Float,
    /// A class id, u32 `[]` per sample (a batch is `[B]`, as
    /// `SparseCategoricalCrossentropy` wants). When every label is an integer in
    /// 0..65536 the id is that integer and class `k` is named `"k"`; otherwise the ids
    /// index the distinct strings sorted (`class_names()`).
    Class,
}

/// The settings of [`CsvDataset::with_options`]; [`CsvDataset::builder`] sets them one
/// at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// The first line names the columns (default true).
    pub header: bool,
    /// The label column; `None` is the last column.
    pub label_column: Option<Column>,
    /// The feature columns in order; `None` is every column but the label.
    pub feature_columns: Option<Vec<Column>>,
    /// How the label becomes a tensor (default: float when every label is a number).
    pub label_kind: LabelKind,
    /// Replaces missing feature values (see [`MISSING_VALUES`]); without it they are an
    /// error. A missing label is always an error.
    pub fill_missing: Option<f32>,
    /// Field separator, `b','` by default.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            label_column: None,
            feature_columns: None,
            label_kind: LabelKind::Auto,
            fill_missing: None,
            delimiter: b',',
        }
    }
}

/// Builds a [`CsvDataset`] option by option (`CsvDataset::builder(path)....build()`).
#[derive(Clone, Debug)]
pub struct CsvDatasetBuilder {
    path: PathBuf,
    options: CsvOptions,
}

impl CsvDatasetBuilder {
    /// Whether the first line names the columns (default true).
    pub fn header(mut self, on: bool) -> Self {
        self.options.header = on;
        self
    }
    /// The label column, by name (`"species"`) or 0-based index (default: the last).
    pub fn label_column(mut self, column: impl Into<Column>) -> Self {
        self.options.label_column = Some(column.into());
        self
    }
    /// The feature columns, in this order (default: all but the label).
    pub fn feature_columns<C: Into<Column> + Clone>(mut self, columns: &[C]) -> Self {
        self.options.feature_columns = Some(columns.iter().cloned().map(Into::into).collect());
        self
    }
    /// Float or class-id labels (default: decided from the values, see [`LabelKind`]).
    pub fn label_kind(mut self, kind: LabelKind) -> Self {
        self.options.label_kind = kind;
        self
    }
    /// Replaces missing feature values with `value` instead of failing.
    pub fn fill_missing(mut self, value: f32) -> Self {
        self.options.fill_missing = Some(value);
        self
    }
    /// Field separator (default `b','`; `b'\t'` for TSV).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.options.delimiter = delimiter;
        self
    }
    /// Reads the file.
    pub fn build(self) -> Result<CsvDataset> {
        CsvDataset::with_options(self.path, self.options)
    }
}

/// A CSV file as `(features, label)` samples, held in memory.
///
/// Parsing follows RFC 4180 (the `csv` crate): fields may be quoted and then hold
/// commas, doubled quotes and newlines; fields are trimmed; empty lines are skipped.
/// Errors name the file, the line and the column: a missing value, a non-number in a
/// feature column, a row of the wrong width.
///
/// # Shapes
/// - features: f32 `[features]`
/// - label: f32 `[1]` ([`LabelKind::Float`]) or u32 `[]` ([`LabelKind::Class`])
///
/// ```no_run
/// use keras::data::CsvDataset;
/// let iris = CsvDataset::builder("iris.csv").label_column("species").build()?;
/// println!("{:?} -> {:?}", iris.feature_names(), iris.class_names());
/// # Ok::<(), keras::Error>(())
/// ```
#[derive(Debug)]
pub struct CsvDataset {
    inner: TensorDataset,
    feature_names: Vec<String>,
    label_name: String,
    class_names: Option<Vec<String>>,
}

impl CsvDataset {
    /// A numeric CSV file, as [`read_csv`] reads it (header when the first line is not
    /// numbers): the features are every column but the last, the label is the last, f32
    /// `[1]`.
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
        let names = table.header.unwrap_or_else(|| (0..=f).map(unnamed).collect());
        Ok(CsvDataset {
            inner: TensorDataset::new(
                &Tensor::from_vec(x, &[n, f], &Device::Cpu)?,
                &Tensor::from_vec(y, &[n, 1], &Device::Cpu)?,
            )?,
            feature_names: names[..f].to_vec(),
            label_name: names[f].clone(),
            class_names: None,
        })
    }

    /// A builder with the defaults of [`CsvOptions`] (header, last column the label).
    pub fn builder<P: AsRef<Path>>(path: P) -> CsvDatasetBuilder {
        CsvDatasetBuilder { path: path.as_ref().to_path_buf(), options: CsvOptions::default() }
    }

    /// Reads `path` with `options`.
    pub fn with_options<P: AsRef<Path>>(path: P, options: CsvOptions) -> Result<Self> {
        let path = path.as_ref();
        let mut reader = open_reader(path, options.delimiter)?;
        let mut records = reader.records();
        let Some(first) = records.next() else { return Err(Error::format(path, format!("{OP}: the file is empty"))) };
        let first = first.map_err(|e| csv_error(path, e))?;
        let names: Vec<String> = if options.header {
            first.iter().map(str::to_string).collect()
        } else {
            (0..first.len()).map(unnamed).collect()
        };
        let cols = Columns { path, names: &names, header: options.header };
        let label = match &options.label_column {
            Some(c) => cols.resolve(c)?,
            None => names.len().checked_sub(1).ok_or_else(|| Error::format(path, format!("{OP}: no columns")))?,
        };
        let features: Vec<usize> = match &options.feature_columns {
            Some(fs) => fs.iter().map(|c| cols.resolve(c)).collect::<Result<_>>()?,
            None => (0..names.len()).filter(|&c| c != label).collect(),
        };
        if features.is_empty() {
            return Err(Error::arg(OP, format!("{}: no feature columns (columns: {names:?})", path.display())));
        }
        if features.contains(&label) {
            return Err(Error::arg(
                OP,
                format!("{}: {} is both a feature and the label", path.display(), cols.describe(label)),
            ));
        }

        let mut x = Vec::new();
        let mut labels: Vec<(u64, String)> = Vec::new();
        let data = (!options.header).then_some(Ok(first)).into_iter().chain(records);
        for record in data {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != names.len() {
                return Err(Error::format(
                    path,
                    format!("{OP}: line {line} has {} fields, expected {}", record.len(), names.len()),
                ));
            }
            for &c in &features {
                let field = &record[c];
                let v = if MISSING_VALUES.contains(&field) {
                    options.fill_missing.ok_or_else(|| {
                        Error::format(
                            path,
                            format!(
                                "{OP}: line {line}, {}: missing value {field:?} (set fill_missing to replace it)",
                                cols.describe(c)
                            ),
                        )
                    })?
                } else {
                    field.parse::<f32>().map_err(|_| {
                        Error::format(
                            path,
                            format!("{OP}: line {line}, {}: {field:?} is not a number", cols.describe(c)),
                        )
                    })?
                };
                x.push(v);
            }
            let l = &record[label];
            if MISSING_VALUES.contains(&l) {
                return Err(Error::format(
                    path,
                    format!("{OP}: line {line}, {} (the label): missing value {l:?}", cols.describe(label)),
                ));
            }
            labels.push((line, l.to_string()));
        }
        let n = labels.len();
        if n == 0 {
            return Err(Error::format(path, format!("{OP}: no data rows")));
        }
        let x = Tensor::from_vec(x, &[n, features.len()], &Device::Cpu)?;
        let (y, class_names) = encode_labels(&labels, options.label_kind, &cols, label)?;
        Ok(CsvDataset {
            inner: TensorDataset::new(&x, &y)?,
            feature_names: features.iter().map(|&c| names[c].clone()).collect(),
            label_name: names[label].clone(),
            class_names,
        })
    }

    /// Number of feature columns.
    pub fn features(&self) -> usize {
        self.feature_names.len()
    }
    /// The feature columns' names (`"column 3"` without a header), in feature order.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }
    /// The label column's name.
    pub fn label_name(&self) -> &str {
        &self.label_name
    }
    /// For class labels, the name of each class id; `None` for float labels.
    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }
}

fn unnamed(i: usize) -> String {
    format!("column {}", i + 1)
}

/// Column names and how to name a column in an error.
struct Columns<'a> {
    path: &'a Path,
    names: &'a [String],
    header: bool,
}

impl Columns<'_> {
    fn resolve(&self, c: &Column) -> Result<usize> {
        match c {
            Column::Index(i) if *i < self.names.len() => Ok(*i),
            Column::Index(i) => Err(Error::arg(
                OP,
                format!(
                    "{}: column index {i} out of range: the file has {} columns",
                    self.path.display(),
                    self.names.len()
                ),
            )),
            Column::Name(name) if !self.header => Err(Error::arg(
                OP,
                format!("{}: column {name:?} asked by name but header is off; use an index", self.path.display()),
            )),
            Column::Name(name) => self.names.iter().position(|n| n == name).ok_or_else(|| {
                Error::arg(OP, format!("{}: no column {name:?}; the columns are {:?}", self.path.display(), self.names))
            }),
        }
    }
    fn describe(&self, c: usize) -> String {
        if self.header {
            format!("column {:?}", self.names[c])
        } else {
            self.names[c].clone()
        }
    }
}

/// The label tensor (`[n, 1]` f32 or `[n]` u32) and, for classes, the class names.
fn encode_labels(
    labels: &[(u64, String)],
    kind: LabelKind,
    cols: &Columns,
    label: usize,
) -> Result<(Tensor, Option<Vec<String>>)> {
    let n = labels.len();
    let numbers: Option<Vec<f32>> = labels.iter().map(|(_, s)| s.parse::<f32>().ok()).collect();
    match (kind, numbers) {
        (LabelKind::Auto | LabelKind::Float, Some(v)) => Ok((Tensor::from_vec(v, &[n, 1], &Device::Cpu)?, None)),
        (LabelKind::Float, None) => {
            let (line, s) = labels.iter().find(|(_, s)| s.parse::<f32>().is_err()).map_or((0, ""), |(l, s)| (*l, s));
            Err(Error::format(
                cols.path,
                format!(
                    "{OP}: line {line}, {} (the label): {s:?} is not a number (use LabelKind::Class for class names)",
                    cols.describe(label)
                ),
            ))
        }
        _ => {
            let ints: Option<Vec<u32>> = labels.iter().map(|(_, s)| s.parse::<u32>().ok()).collect();
            let ints = ints.filter(|ids| ids.iter().all(|&i| i < MAX_INTEGER_CLASS));
            let (ids, names) = match ints {
                Some(ids) => {
                    let k = ids.iter().max().map_or(0, |m| *m as usize + 1);
                    (ids, (0..k).map(|i| i.to_string()).collect())
                }
                None => {
                    let names: Vec<String> =
                        labels.iter().map(|(_, s)| s.clone()).collect::<BTreeSet<_>>().into_iter().collect();
                    let ids = labels.iter().map(|(_, s)| names.binary_search(s).unwrap_or(0) as u32).collect();
                    (ids, names)
                }
            };
            Ok((Tensor::from_vec(ids, &[n], &Device::Cpu)?, Some(names)))
        }
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
