//! Where `fit`'s batches come from: tensors held by the model (shuffled rows, staged on
//! its device when small enough) or a loader (any dataset, prepared by worker threads);
//! and the per-sample weights that Keras's `class_weight`/`sample_weight` give them.

use crate::data::{BatchSource, Batches};
use lolcore::{rng, DType, Device, Error, Result, Tensor};

/// Above this many bytes a dataset is moved to the GPU batch by batch, not at once.
const WHOLE_UPLOAD_LIMIT: usize = 1 << 30;

/// A new order of `n` samples (shuffled when asked, from the current generator), of
/// which this rank keeps its shard (`(rank, world)`; everything when `world` is 1).
fn new_pass(order: &mut Vec<u32>, n: usize, shuffle: bool, (rank, world): (usize, usize)) {
    *order = (0..n as u32).collect();
    if shuffle {
        rng::with_rng(|r| r.shuffle(order));
    }
    if world > 1 {
        *order = lolcore::dist::shard(order, rank, world);
    }
}

/// One training batch.
pub(super) struct Batch {
    pub x: Tensor,
    pub y: Tensor,
    pub weight: Option<Tensor>,
    pub len: usize,
}

pub(super) fn check_xy(op: &'static str, x: &Tensor, y: Option<&Tensor>, batch_size: usize) -> Result<usize> {
    if x.rank() == 0 {
        return Err(Error::shape(op, "x needs a leading sample dim, got a 0-d tensor"));
    }
    let n = x.dims()[0];
    if let Some(y) = y {
        if y.rank() == 0 || y.dims()[0] != n {
            return Err(Error::shape(
                op,
                format!(
                    "x has {n} samples ({:?}) but y has {} ({:?})",
                    x.dims(),
                    y.dims().first().copied().unwrap_or(0),
                    y.dims()
                ),
            ));
        }
    }
    if n == 0 {
        return Err(Error::shape(op, "no samples: x is empty"));
    }
    if n > u32::MAX as usize {
        return Err(Error::shape(op, format!("x has {n} samples; at most {} are supported", u32::MAX)));
    }
    if batch_size == 0 {
        return Err(Error::arg(op, "batch_size must be at least 1"));
    }
    Ok(n)
}

/// Rows `idx` of `t` (on the host), moved to `device`.
fn rows(t: &Tensor, idx: &[u32], device: &Device) -> Result<Tensor> {
    let ids = Tensor::from_vec(idx.to_vec(), &[idx.len()], &t.device())?;
    t.index_select(&ids, 0)?.to_device(device)
}

/// The data on the model's device, whole when it is small enough.
pub(super) fn staged(t: &Tensor, device: &Device) -> Result<Tensor> {
    if t.device() == *device || t.numel() * t.dtype().size_in_bytes() > WHOLE_UPLOAD_LIMIT {
        Ok(t.clone())
    } else {
        t.to_device(device)
    }
}

/// The training data of one `fit`.
pub(super) enum Feed<'d> {
    Tensors {
        x: Tensor,
        y: Tensor,
        w: Option<Tensor>,
        n: usize,
        batch_size: usize,
        shuffle: bool,
        device: Device,
        order: Vec<u32>,
        /// Where the next batch starts in `order`.
        cursor: usize,
        /// Whether epochs carry on through the data (steps_per_epoch) instead of each
        /// starting a new pass.
        repeat: bool,
        /// `(rank, world)` of data-parallel training: this rank reads its shard of each
        /// pass, `batch_size` samples at a time (the per-rank batch).
        shard: (usize, usize),
    },
    Loader {
        source: &'d dyn BatchSource,
        current: Option<Batches>,
        /// Whether an epoch may run past the end of a pass (steps_per_epoch).
        repeat: bool,
        shard: (usize, usize),
    },
}

impl Feed<'_> {
    /// Batches in one epoch.
    pub fn steps(&self, steps_per_epoch: Option<usize>) -> usize {
        let natural = match self {
            Feed::Tensors { n, batch_size, shard, .. } => lolcore::dist::shard_len(*n, shard.1).div_ceil(*batch_size),
            Feed::Loader { source, shard: (_, 1), .. } => source.batches_per_epoch(),
            Feed::Loader { source, shard, .. } => source.shard_batches_per_epoch(shard.1),
        };
        steps_per_epoch.unwrap_or(natural)
    }

    /// Starts an epoch on `device`: a new order (tensors) or, unless batches carry over
    /// (`steps_per_epoch` with a loader), a new pass of the loader.
    pub fn begin_epoch(&mut self, device: &Device) -> Result<()> {
        match self {
            Feed::Tensors { x, y, w, n, shuffle, device: dev, order, cursor, repeat, shard, .. } => {
                if dev != device {
                    *dev = *device;
                    *x = staged(x, device)?;
                    *y = staged(y, device)?;
                    if let Some(w) = w {
                        *w = staged(w, device)?;
                    }
                }
                if order.is_empty() || !*repeat {
                    new_pass(order, *n, *shuffle, *shard);
                    *cursor = 0;
                }
                Ok(())
            }
            Feed::Loader { source, current, repeat, shard } => {
                if current.is_none() || !*repeat {
                    *current = Some(loader_pass(*source, *shard)?);
                }
                Ok(())
            }
        }
    }

    /// The next batch, or `None` when a pass ended (a loader's early).
    pub fn next_batch(&mut self, device: &Device) -> Result<Option<Batch>> {
        match self {
            Feed::Tensors { x, y, w, n, batch_size, order, cursor, shuffle, repeat, shard, .. } => {
                if *cursor >= order.len() {
                    if !*repeat {
                        return Ok(None);
                    }
                    new_pass(order, *n, *shuffle, *shard);
                    *cursor = 0;
                }
                let idx = &order[*cursor..(*cursor + *batch_size).min(order.len())];
                *cursor += idx.len();
                let weight = w.as_ref().map(|w| rows(w, idx, device)).transpose()?;
                Ok(Some(Batch { x: rows(x, idx, device)?, y: rows(y, idx, device)?, weight, len: idx.len() }))
            }
            Feed::Loader { source, current, repeat, shard } => {
                let mut next = current.as_mut().and_then(|b| b.next());
                if next.is_none() && *repeat {
                    let mut fresh = loader_pass(*source, *shard)?;
                    next = fresh.next();
                    *current = Some(fresh);
                    if next.is_none() {
                        return Err(Error::arg("fit_loader", "the loader gave no batches (an empty dataset?)"));
                    }
                }
                let Some(b) = next else { return Ok(None) };
                let (x, y) = b?;
                let len = x.dims().first().copied().unwrap_or(0);
                if len == 0 || y.dims().first() != Some(&len) {
                    return Err(Error::shape(
                        "fit",
                        format!("the loader gave a batch with x {:?} and y {:?}", x.dims(), y.dims()),
                    ));
                }
                Ok(Some(Batch { x: x.to_device(device)?, y: y.to_device(device)?, weight: None, len }))
            }
        }
    }
}

/// A new pass of a loader: the whole of it, or this rank's part.
fn loader_pass(source: &dyn BatchSource, (rank, world): (usize, usize)) -> Result<Batches> {
    if world > 1 {
        source.shard_epoch(rank, world)
    } else {
        source.epoch()
    }
}

/// The largest class count `class_weight` accepts (a table of this many weights).
const MAX_CLASSES: usize = 1 << 20;

/// Keras's `class_weight` as a table by class index.
pub(super) fn class_weight_table(weights: &[(usize, f64)]) -> Result<Vec<f32>> {
    let op = "fit (class_weight)";
    let Some(classes) = weights.iter().map(|(c, _)| c.saturating_add(1)).max() else {
        return Err(Error::arg(op, "class_weight is empty"));
    };
    if classes > MAX_CLASSES {
        return Err(Error::arg(
            op,
            format!("class {} is above the {MAX_CLASSES} classes class_weight takes", classes - 1),
        ));
    }
    let mut table = vec![f32::NAN; classes];
    for &(c, w) in weights {
        if !w.is_finite() || w < 0.0 {
            return Err(Error::arg(op, format!("class {c} has weight {w}; weights must be finite and ≥ 0")));
        }
        table[c] = w as f32;
    }
    if let Some(missing) = table.iter().position(|w| w.is_nan()) {
        return Err(Error::arg(
            op,
            format!("class {missing} has no weight (class_weight must give every class from 0 to {})", classes - 1),
        ));
    }
    Ok(table)
}

/// Each sample's class weight, from its label read as Keras reads it.
pub(super) fn class_weights_of(table: &[f32], y: &Tensor) -> Result<Tensor> {
    let n = y.dims().first().copied().unwrap_or(1);
    let classes = if !y.dtype().is_float() {
        y.reshape(&[n])?.to_dtype(DType::U32)?
    } else if y.rank() == 2 && y.dims()[1] > 1 {
        y.argmax(1)?.to_dtype(DType::U32)?
    } else {
        // Keras rounds float labels (0/1 targets, or class ids stored as floats).
        let r = y.reshape(&[n])?.round()?;
        let lo = r.to_dtype(DType::F64)?.min_all()?.to_scalar::<f64>()?;
        if lo < 0.0 {
            return Err(Error::arg("fit (class_weight)", format!("a sample has the negative label {lo}")));
        }
        r.to_dtype(DType::U32)?
    };
    let hi = classes.to_dtype(DType::I64)?.max_all()?.to_scalar::<i64>()?;
    if hi as usize >= table.len() {
        return Err(Error::arg(
            "fit (class_weight)",
            format!("a sample has label {hi}, but class_weight gives weights for classes 0..{}", table.len()),
        ));
    }
    let t = Tensor::from_vec(table.to_vec(), &[table.len()], &y.device())?;
    t.index_select(&classes, 0)
}
