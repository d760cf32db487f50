//! Index ops on the CPU: index_select, gather and scatter_add. Index values are checked
//! against the indexed dim; an out-of-range label is an error, never an out-of-bounds read.

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::{row_major, Rows};
use crate::dtype::NumElem;
use crate::error::{bail, Error, Result};
use crate::layout::{contiguous_strides, Layout};
use crate::Device;

/// Reads index values (u8, u32 or i64) as a contiguous vector, each checked `< bound`.
pub fn read_indices(op: &'static str, ids: &CpuStorage, l: &Layout, bound: usize) -> Result<Vec<usize>> {
    fn go<T: CpuElem>(
        op: &'static str,
        v: &[T],
        l: &Layout,
        bound: usize,
        to: impl Fn(T) -> Option<usize>,
    ) -> Result<Vec<usize>> {
        let c = row_major(v, l);
        let mut out = Vec::with_capacity(c.len());
        for &x in c.iter() {
            match to(x) {
                Some(i) if i < bound => out.push(i),
                _ => bail!(Error::index(op, format!("index {x} is out of range for a dim of size {bound}"))),
            }
        }
        Ok(out)
    }
    match ids {
        CpuStorage::U32(v) => go(op, v, l, bound, |x| Some(x as usize)),
        CpuStorage::I64(v) => go(op, v, l, bound, |x| usize::try_from(x).ok()),
        CpuStorage::U8(v) => go(op, v, l, bound, |x| Some(x as usize)),
        other => bail!(Error::dtype(op, format!("indices must be u32, i64 or u8, got {}", other.dtype()))),
    }
}

/// Selects entries `ids` along `dim`: out shape is the input's with `dim` → `ids.len()`.
pub fn index_select(s: &CpuStorage, l: &Layout, ids: &[usize], dim: usize) -> CpuStorage {
    fn go<T: CpuElem>(v: &[T], l: &Layout, ids: &[usize], dim: usize) -> Vec<T> {
        let src = row_major(v, l);
        let shape = l.shape();
        let pre: usize = shape[..dim].iter().product();
        let post: usize = shape[dim + 1..].iter().product();
        let n = shape[dim];
        let mut out = pool::take::<T>(pre * ids.len() * post);
        for p in 0..pre {
            for (j, &id) in ids.iter().enumerate() {
                let s0 = (p * n + id) * post;
                let d0 = (p * ids.len() + j) * post;
                out[d0..d0 + post].copy_from_slice(&src[s0..s0 + post]);
            }
        }
        out
    }
    crate::cpu::storage::cpu_dispatch!(s, v => CpuElem::wrap(go(v, l, ids, dim)))
}

/// `out[i][j][k] = src[i][ids[i][j][k]][k]` (for dim 1): out has the ids' shape.
pub fn gather(s: &CpuStorage, l: &Layout, ids: &[usize], ids_shape: &[usize], dim: usize) -> CpuStorage {
    fn go<T: CpuElem>(v: &[T], l: &Layout, ids: &[usize], ids_shape: &[usize], dim: usize) -> Vec<T> {
        let mut strides = l.strides().to_vec();
        let dstride = strides[dim];
        strides[dim] = 0;
        let view = Layout::new(ids_shape.to_vec(), strides, l.offset());
        let mut out = pool::take::<T>(ids.len());
        let rows = Rows::new(ids_shape, [&view]);
        let [s] = rows.inner_strides();
        let n = rows.inner_len();
        rows.for_rows(0, rows.row_count(), |r, [off]| {
            for i in 0..n {
                let e = r * n + i;
                out[e] = v[off + i * s + ids[e] * dstride];
            }
        });
        out
    }
    crate::cpu::storage::cpu_dispatch!(s, v => CpuElem::wrap(go(v, l, ids, ids_shape, dim)))
}

/// A zero tensor of `out_shape` with `src` added at the positions `ids` name along `dim`
/// (the adjoint of gather). `src` and `ids` share a shape.
pub fn scatter_add(out_shape: &[usize], ids: &[usize], s: &CpuStorage, l: &Layout, dim: usize) -> Result<CpuStorage> {
    fn go<T: CpuElem + NumElem>(out_shape: &[usize], ids: &[usize], v: &[T], l: &Layout, dim: usize) -> Vec<T> {
        let src = row_major(v, l);
        let r = out_shape.len();
        if dim == r - 1 && r >= 2 && l.shape()[..r - 1] == out_shape[..r - 1] {
            // Scatter within rows (max-pool backward, gather backward along the last dim):
            // rows are independent, so they run in parallel. (A source with fewer rows
            // than the output takes the general path.)
            let (n_in, n_out) = (l.shape()[r - 1], out_shape[r - 1]);
            let mut out = pool::filled::<T>(crate::layout::numel(out_shape), T::zero());
            let rows_per = (super::strided::PAR_THRESHOLD / n_out.max(1)).max(1);
            super::thread_pool::par_chunks_mut(&mut out, rows_per * n_out, |t, chunk| {
                for (k, row) in chunk.chunks_mut(n_out).enumerate() {
                    let base = (t * rows_per + k) * n_in;
                    for (&id, &s) in ids[base..base + n_in].iter().zip(&src[base..base + n_in]) {
                        row[id] = row[id].add(s);
                    }
                }
            });
            return out;
        }
        let mut strides = contiguous_strides(out_shape);
        let dstride = strides[dim];
        strides[dim] = 0;
        let view = Layout::new(l.shape().to_vec(), strides, 0);
        let mut out = pool::filled::<T>(crate::layout::numel(out_shape), T::zero());
        let rows = Rows::new(l.shape(), [&view]);
        let [s] = rows.inner_strides();
        let n = rows.inner_len();
        rows.for_rows(0, rows.row_count(), |r, [off]| {
            for i in 0..n {
                let e = r * n + i;
                let d = &mut out[off + i * s + ids[e] * dstride];
                *d = d.add(src[e]);
            }
        });
        out
    }
    Ok(match s {
        CpuStorage::F32(v) => f32::wrap(go(out_shape, ids, v, l, dim)),
        CpuStorage::F64(v) => f64::wrap(go(out_shape, ids, v, l, dim)),
        CpuStorage::U32(v) => u32::wrap(go(out_shape, ids, v, l, dim)),
        CpuStorage::I64(v) => i64::wrap(go(out_shape, ids, v, l, dim)),
        other => return Err(Error::unsupported_dtype("scatter_add", other.dtype(), Device::Cpu)),
    })
}
