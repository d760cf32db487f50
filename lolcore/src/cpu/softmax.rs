//! Softmax and log-softmax over the last dim of contiguous rows, in one pass per row.

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::{row_major, PAR_THRESHOLD};
use super::thread_pool::par_chunks_mut;
use crate::dtype::FloatElem;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::Device;

fn rows<T: FloatElem + CpuElem>(x: &[T], n: usize, log: bool) -> Vec<T> {
    let mut out = pool::take::<T>(x.len());
    if n == 0 {
        return out;
    }
    let one = |(o, r): (&mut [T], &[T])| {
        let m = r.iter().fold(T::lowest(), |a, &b| a.maximum(b));
        // A row with no finite maximum (all −inf, or an inf) is not shifted; as in
        // PyTorch it comes out NaN (all −inf: 0/0), and so does its log-softmax.
        let m = if m.is_finite() { m } else { T::zero() };
        let mut s = T::zero();
        for (d, &v) in o.iter_mut().zip(r) {
            let e = (v - m).exp();
            *d = e;
            s = s + e;
        }
        if log {
            let ls = s.ln() + m;
            for (d, &v) in o.iter_mut().zip(r) {
                *d = v - ls;
            }
        } else {
            let inv = T::one() / s;
            for d in o.iter_mut() {
                *d = *d * inv;
            }
        }
    };
    if x.len() >= PAR_THRESHOLD {
        par_chunks_mut(&mut out, n * 8, |t, o| o.chunks_mut(n).zip(x[t * n * 8..].chunks(n)).for_each(one));
    } else {
        out.chunks_mut(n).zip(x.chunks(n)).for_each(one);
    }
    out
}

/// Softmax (or log-softmax) over the last dim.
pub fn softmax_last(x: &CpuStorage, l: &Layout, log: bool) -> Result<CpuStorage> {
    let n = l.shape().last().copied().unwrap_or(1);
    Ok(match x {
        CpuStorage::F32(v) => f32::wrap(rows(&row_major(v, l), n, log)),
        CpuStorage::F64(v) => f64::wrap(rows(&row_major(v, l), n, log)),
        other => return Err(Error::unsupported_dtype("softmax", other.dtype(), Device::Cpu)),
    })
}
