//! Walking strided operands in rows. Dims that are dense in every operand are merged
//! first, so a contiguous tensor is one long row and `[N, C] + [C]` is N rows of C:
//! kernels then run tight loops over rows, whatever the views were.

use super::thread_pool::{num_threads, par_chunks_mut, par_for, SyncPtr};
use crate::layout::Layout;

/// Below this many elements an op runs on the calling thread: a fork costs more.
pub const PAR_THRESHOLD: usize = 1 << 15;

/// N operand layouts over one iteration shape, with dims merged where all allow it.
pub struct Rows<const N: usize> {
    /// Outer dims (all but the innermost), outermost first.
    outer_shape: Vec<usize>,
    outer_strides: [Vec<usize>; N],
    offsets: [usize; N],
    inner_len: usize,
    inner_strides: [usize; N],
}

impl<const N: usize> Rows<N> {
    /// `layouts` must all have `shape` (broadcast them first).
    pub fn new(shape: &[usize], layouts: [&Layout; N]) -> Self {
        let (mut dims, mut strides) = crate::layout::coalesce(shape, std::array::from_fn(|k| layouts[k].strides()));
        let offsets = std::array::from_fn(|k| layouts[k].offset());
        if dims.is_empty() {
            let empty = shape.contains(&0);
            return Rows {
                outer_shape: vec![],
                outer_strides: std::array::from_fn(|_| vec![]),
                offsets,
                inner_len: if empty { 0 } else { 1 },
                inner_strides: [0; N],
            };
        }
        let inner_len = dims.pop().unwrap_or(1);
        let inner_strides = std::array::from_fn(|k| strides[k].pop().unwrap_or(0));
        Rows { outer_shape: dims, outer_strides: strides, offsets, inner_len, inner_strides }
    }

    pub fn inner_len(&self) -> usize {
        self.inner_len
    }
    pub fn inner_strides(&self) -> [usize; N] {
        self.inner_strides
    }
    pub fn row_count(&self) -> usize {
        if self.inner_len == 0 {
            0
        } else {
            self.outer_shape.iter().product()
        }
    }

    /// Calls `f(row, offsets)` for rows `start..end` in order, where `offsets[k]` is where
    /// operand k's row starts in its storage.
    #[allow(clippy::needless_range_loop)]
    pub fn for_rows(&self, start: usize, end: usize, mut f: impl FnMut(usize, [usize; N])) {
        if start >= end {
            return;
        }
        let rank = self.outer_shape.len();
        let mut idx = vec![0; rank];
        let mut rem = start;
        for d in (0..rank).rev() {
            idx[d] = rem % self.outer_shape[d];
            rem /= self.outer_shape[d];
        }
        let mut offs = self.offsets;
        for k in 0..N {
            for d in 0..rank {
                offs[k] += idx[d] * self.outer_strides[k][d];
            }
        }
        for row in start..end {
            f(row, offs);
            // Advance the multi-index by one, carrying.
            for d in (0..rank).rev() {
                idx[d] += 1;
                for (k, off) in offs.iter_mut().enumerate() {
                    *off += self.outer_strides[k][d];
                }
                if idx[d] < self.outer_shape[d] {
                    break;
                }
                for (k, off) in offs.iter_mut().enumerate() {
                    *off -= self.outer_strides[k][d] * self.outer_shape[d];
                }
                idx[d] = 0;
            }
        }
    }

    /// Fills a contiguous `out` (row-major over the iteration shape) row by row, in
    /// parallel when it is large: `f(out_row, offsets)`, where a long row may arrive in
    /// pieces (with offsets advanced to the piece's start).
    pub fn fill<T: Send>(&self, out: &mut [T], f: impl Fn(&mut [T], [usize; N]) + Sync) {
        let n = self.inner_len;
        let rows = self.row_count();
        if rows == 0 {
            return;
        }
        if out.len() < PAR_THRESHOLD || num_threads() == 1 {
            self.for_rows(0, rows, |r, offs| f(&mut out[r * n..(r + 1) * n], offs));
            return;
        }
        let tasks = num_threads() * 4;
        if rows < tasks {
            // Few long rows (a contiguous tensor is one row): split each row into pieces.
            let pieces = tasks.div_ceil(rows);
            let piece = n.div_ceil(pieces).max(1);
            let strides = self.inner_strides;
            let starts: Vec<[usize; N]> = {
                let mut v = Vec::with_capacity(rows);
                self.for_rows(0, rows, |_, offs| v.push(offs));
                v
            };
            let per_row = n.div_ceil(piece);
            let base = SyncPtr(out.as_mut_ptr());
            par_for(rows * per_row, |t| {
                let (r, p) = (t / per_row, t % per_row);
                let (start, len) = (r * n + p * piece, piece.min(n - p * piece));
                let mut offs = starts[r];
                for k in 0..N {
                    offs[k] += p * piece * strides[k];
                }
                let b = base;
                // SAFETY: task t owns elements start..start+len of `out`, which lie in
                // row r and no other task's range.
                f(unsafe { std::slice::from_raw_parts_mut(b.0.add(start), len) }, offs);
            });
            return;
        }
        let rows_per = rows.div_ceil(tasks);
        par_chunks_mut(out, rows_per * n, |t, chunk| {
            let start = t * rows_per;
            self.for_rows(start, start + chunk.len() / n, |r, offs| {
                let local = r - start;
                f(&mut chunk[local * n..(local + 1) * n], offs)
            });
        });
    }
}

/// Gathers a strided view into a new contiguous vector.
pub fn gather_contiguous<T: crate::cpu::buffer_pool::PoolElem>(src: &[T], layout: &Layout) -> Vec<T> {
    let mut out = crate::cpu::buffer_pool::take::<T>(layout.numel());
    copy_into(src, layout, &mut out);
    out
}

/// Copies a strided view into a contiguous `out` of the same element count.
pub fn copy_into<T: Copy + Send + Sync>(src: &[T], layout: &Layout, out: &mut [T]) {
    if let Some((a, b)) = layout.contiguous_range() {
        out.copy_from_slice(&src[a..b]);
        return;
    }
    let rows = Rows::new(layout.shape(), [layout]);
    let [s] = rows.inner_strides();
    rows.fill(out, |o, [off]| {
        if s == 1 {
            o.copy_from_slice(&src[off..off + o.len()]);
        } else {
            for (i, v) in o.iter_mut().enumerate() {
                *v = src[off + i * s];
            }
        }
    });
}

/// A view's elements in row-major order: borrowed when the view is already contiguous,
/// else gathered into a pooled buffer (returned to the pool on drop).
pub enum RowMajor<'a, T: crate::cpu::buffer_pool::PoolElem> {
    Borrowed(&'a [T]),
    Owned(crate::cpu::buffer_pool::Buf<T>),
}

impl<T: crate::cpu::buffer_pool::PoolElem> std::ops::Deref for RowMajor<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            RowMajor::Borrowed(s) => s,
            RowMajor::Owned(b) => b,
        }
    }
}

/// The elements of `layout` over `src`, copying only when they are not contiguous.
pub fn row_major<'a, T: crate::cpu::buffer_pool::PoolElem>(src: &'a [T], layout: &Layout) -> RowMajor<'a, T> {
    match layout.contiguous_range() {
        Some((a, b)) => RowMajor::Borrowed(&src[a..b]),
        None => RowMajor::Owned(crate::cpu::buffer_pool::Buf::new(gather_contiguous(src, layout))),
    }
}
