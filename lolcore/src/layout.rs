//! Shape, strides and offset of a tensor over its storage. Views (transpose, narrow,
//! broadcast, ...) only make a new `Layout`; the data stays where it is.

use crate::error::{bail, Error, Result};

/// Row-major strides for a shape. (An empty tensor may have dims whose product
/// overflows; its strides are never followed, so they saturate.)
pub(crate) fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1usize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc = acc.saturating_mul(d);
    }
    strides
}

/// The element count of a shape whose count fits (every tensor's does; an empty one
/// counts 0 whatever its other dims).
pub(crate) fn numel(shape: &[usize]) -> usize {
    if shape.contains(&0) {
        0
    } else {
        shape.iter().product()
    }
}

/// The element count of `shape`, or an error naming `op` when it does not fit in a
/// `usize` (a shape a user typed, or the result of broadcasting two).
pub(crate) fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    if shape.contains(&0) {
        return Ok(0);
    }
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
        Error::shape(op, format!("shape {shape:?} has more elements than fit in memory addresses (overflow)"))
    })
}

/// How a tensor's elements sit in its storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Vec<usize>,
    strides: Vec<usize>,
    offset: usize,
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0 }
    }
    pub(crate) fn new(shape: Vec<usize>, strides: Vec<usize>, offset: usize) -> Self {
        Layout { shape, strides, offset }
    }
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }
    pub fn offset(&self) -> usize {
        self.offset
    }
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }
    /// Row-major and dense: element i lives at `offset + i`.
    pub fn is_contiguous(&self) -> bool {
        if self.shape.contains(&0) {
            // Nothing to lay out: as dense as can be.
            return true;
        }
        let mut acc = 1;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != acc {
                return false;
            }
            acc *= d;
        }
        true
    }
    /// The (start, end) range of storage a contiguous layout covers.
    pub(crate) fn contiguous_range(&self) -> Option<(usize, usize)> {
        if self.numel() == 0 {
            // An empty view may sit at any offset, even past its storage's end.
            return Some((0, 0));
        }
        self.is_contiguous().then(|| (self.offset, self.offset + self.numel()))
    }

    pub(crate) fn transpose(&self, d1: usize, d2: usize) -> Layout {
        let mut l = self.clone();
        l.shape.swap(d1, d2);
        l.strides.swap(d1, d2);
        l
    }
    pub(crate) fn permute(&self, perm: &[usize]) -> Layout {
        Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }
    pub(crate) fn narrow(&self, dim: usize, start: usize, len: usize) -> Layout {
        let mut l = self.clone();
        l.offset = l.offset.saturating_add(start.saturating_mul(self.strides[dim]));
        l.shape[dim] = len;
        l
    }
    /// Broadcast to `shape` (NumPy rules, leading dims added): stride 0 on repeated dims.
    pub(crate) fn broadcast_as(&self, shape: &[usize]) -> Option<Layout> {
        if shape.len() < self.rank() {
            return None;
        }
        let extra = shape.len() - self.rank();
        let mut strides = vec![0; shape.len()];
        for (i, &d) in shape.iter().enumerate().skip(extra) {
            let src = self.shape[i - extra];
            if src == d {
                strides[i] = self.strides[i - extra];
            } else if src != 1 {
                return None;
            }
        }
        Some(Layout { shape: shape.to_vec(), strides, offset: self.offset })
    }
    /// A view with a new shape over the same elements, if the strides allow one
    /// (always for contiguous layouts; merging/splitting compatible dims otherwise).
    pub(crate) fn reshape(&self, shape: &[usize]) -> Option<Layout> {
        if self.is_contiguous() {
            return Some(Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: self.offset });
        }
        // Split the old shape into runs of dims that are dense among themselves; a new
        // dim may not straddle two runs.
        let old: Vec<(usize, usize)> =
            self.shape.iter().zip(&self.strides).filter(|(&d, _)| d != 1).map(|(&d, &s)| (d, s)).collect();
        let mut new_strides = vec![0; shape.len()];
        let mut oi = 0;
        let mut ni = 0;
        while ni < shape.len() {
            if shape[ni] == 1 {
                new_strides[ni] = 1;
                ni += 1;
                continue;
            }
            if oi >= old.len() {
                return None;
            }
            // Gather a run of old dims whose product equals a run of new dims.
            let (mut oprod, mut nprod) = (old[oi].0, shape[ni]);
            let (ostart, nstart) = (oi, ni);
            while oprod != nprod {
                if oprod < nprod {
                    oi += 1;
                    if oi >= old.len() || old[oi - 1].1 != old[oi].1 * old[oi].0 {
                        return None;
                    }
                    oprod *= old[oi].0;
                } else {
                    ni += 1;
                    if ni >= shape.len() {
                        return None;
                    }
                    nprod *= shape[ni];
                }
            }
            let _ = ostart;
            // The run is dense with innermost stride old[oi].1: assign row-major strides.
            let mut acc = old[oi].1;
            for k in (nstart..=ni).rev() {
                new_strides[k] = acc;
                acc *= shape[k];
            }
            oi += 1;
            ni += 1;
        }
        if oi != old.len() {
            return None;
        }
        Some(Layout { shape: shape.to_vec(), strides: new_strides, offset: self.offset })
    }
    pub(crate) fn squeeze(&self, dim: usize) -> Layout {
        let mut l = self.clone();
        l.shape.remove(dim);
        l.strides.remove(dim);
        l
    }
    pub(crate) fn unsqueeze(&self, dim: usize) -> Layout {
        let mut l = self.clone();
        let stride = if dim < self.rank() { self.strides[dim].saturating_mul(self.shape[dim]) } else { 1 };
        l.shape.insert(dim, 1);
        l.strides.insert(dim, stride);
        l
    }
    /// The main diagonal of the last two dims as a view (`diag` of a matrix).
    pub(crate) fn diagonal(&self) -> Layout {
        let r = self.rank();
        let mut l = self.clone();
        let n = self.shape[r - 2].min(self.shape[r - 1]);
        let s = self.strides[r - 2].saturating_add(self.strides[r - 1]);
        l.shape.truncate(r - 2);
        l.strides.truncate(r - 2);
        l.shape.push(n);
        l.strides.push(s);
        l
    }
}

/// Drops size-1 dims and merges neighbouring dims that are dense in every operand, so a
/// contiguous tensor becomes one dim and `[N, C] + [C]` stays two. Returns the merged
/// shape and each operand's strides over it.
pub(crate) fn coalesce<const N: usize>(shape: &[usize], strides: [&[usize]; N]) -> (Vec<usize>, [Vec<usize>; N]) {
    if shape.contains(&0) {
        // Nothing to walk (whatever the other dims are).
        return (vec![0], std::array::from_fn(|_| vec![0]));
    }
    let mut dims: Vec<usize> = Vec::with_capacity(shape.len());
    let mut out: [Vec<usize>; N] = std::array::from_fn(|_| Vec::with_capacity(shape.len()));
    for (i, &d) in shape.iter().enumerate().filter(|(_, &d)| d != 1) {
        let mergeable = !dims.is_empty() && (0..N).all(|k| out[k].last().copied() == strides[k][i].checked_mul(d));
        if mergeable {
            if let Some(last) = dims.last_mut() {
                *last *= d;
            }
            for k in 0..N {
                if let Some(s) = out[k].last_mut() {
                    *s = strides[k][i];
                }
            }
        } else {
            dims.push(d);
            for k in 0..N {
                out[k].push(strides[k][i]);
            }
        }
    }
    (dims, out)
}

/// NumPy broadcasting of two shapes.
pub(crate) fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => bail!(Error::shape(op, format!("shapes {a:?} and {b:?} cannot broadcast (dim {i}: {da} vs {db})"))),
        };
    }
    checked_numel(op, &out)?;
    Ok(out)
}

/// A dimension argument: `usize`, or a signed integer where -1 is the last dim (as in PyTorch).
pub trait Dim: Copy {
    fn to_index(self, rank: usize, op: &'static str) -> Result<usize>;
    /// For ops that insert a dim (`unsqueeze`, `stack`): valid range is 0..=rank.
    fn to_index_plus_one(self, rank: usize, op: &'static str) -> Result<usize>;
}

fn resolve_dim(d: i64, rank: usize, op: &'static str) -> Result<usize> {
    let r = rank as i64;
    let idx = if d < 0 { d + r } else { d };
    if idx < 0 || idx >= r {
        bail!(Error::index(op, format!("dim {d} is out of range for a tensor of rank {rank}")));
    }
    Ok(idx as usize)
}

macro_rules! impl_dim {
    ($t:ty) => {
        impl Dim for $t {
            fn to_index(self, rank: usize, op: &'static str) -> Result<usize> {
                resolve_dim(self as i64, rank, op)
            }
            fn to_index_plus_one(self, rank: usize, op: &'static str) -> Result<usize> {
                resolve_dim(self as i64, rank + 1, op)
            }
        }
    };
}
impl_dim!(usize);
impl_dim!(i32);
impl_dim!(i64);
impl_dim!(isize);
impl_dim!(u32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_of_transposed_needs_copy() {
        let l = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert!(l.reshape(&[6]).is_none());
        assert!(l.reshape(&[3, 2]).is_some());
    }

    #[test]
    fn reshape_splits_dense_runs() {
        // [4, 6] narrowed to [4, 3]: rows are dense in the last dim only.
        let l = Layout::contiguous(&[4, 6]).narrow(1, 0, 3);
        let r = l.reshape(&[4, 3, 1]).unwrap();
        assert_eq!(r.strides(), &[6, 1, 1]);
        assert!(l.reshape(&[12]).is_none());
        let p = Layout::contiguous(&[2, 3, 4]).permute(&[1, 0, 2]);
        let r = p.reshape(&[3, 2, 2, 2]).unwrap();
        assert_eq!(r.strides(), &[4, 12, 2, 1]);
    }

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shape("add", &[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
        assert!(broadcast_shape("add", &[2, 3], &[4]).is_err());
    }
}
