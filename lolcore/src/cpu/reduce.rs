//! Reductions on the CPU. When the reduced dims form a dense trailing block (a softmax
//! row, `sum(-1)`, `sum_all` of a contiguous tensor) each output is one tight loop and
//! outputs run in parallel; otherwise the input is walked in memory order and folded
//! into the output (`sum(0)` of `[N, C]` becomes N vector adds of C).

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::{Rows, PAR_THRESHOLD};
use super::thread_pool::par_chunks_mut;
use crate::dtype::NumElem;
use crate::error::{Error, Result};
use crate::layout::{contiguous_strides, Layout};
use crate::ops::kinds::{ArgReduceOp, ReduceOp};
use crate::Device;

fn fold_slice<T: NumElem>(op: ReduceOp, xs: &[T]) -> T {
    match op {
        ReduceOp::Sum => {
            // Eight partial sums: vectorises, and rounds better than one long chain.
            let mut acc = [T::zero(); 8];
            let chunks = xs.chunks_exact(8);
            let rest = chunks.remainder();
            for c in chunks {
                for k in 0..8 {
                    acc[k] = acc[k].add(c[k]);
                }
            }
            let mut s = T::zero();
            for &v in rest {
                s = s.add(v);
            }
            let pairs = [acc[0].add(acc[4]), acc[1].add(acc[5]), acc[2].add(acc[6]), acc[3].add(acc[7])];
            s.add(pairs[0].add(pairs[2]).add(pairs[1].add(pairs[3])))
        }
        ReduceOp::Max => xs.iter().fold(T::lowest(), |a, &b| a.maximum(b)),
        ReduceOp::Min => xs.iter().fold(T::highest(), |a, &b| a.minimum(b)),
    }
}

fn identity<T: NumElem>(op: ReduceOp) -> T {
    match op {
        ReduceOp::Sum => T::zero(),
        ReduceOp::Max => T::lowest(),
        ReduceOp::Min => T::highest(),
    }
}

fn combine<T: NumElem>(op: ReduceOp, a: T, b: T) -> T {
    match op {
        ReduceOp::Sum => a.add(b),
        ReduceOp::Max => a.maximum(b),
        ReduceOp::Min => a.minimum(b),
    }
}

/// Splits a layout into the kept dims (outer) and the reduced dims (inner).
fn split(layout: &Layout, dims: &[usize]) -> (Layout, Layout) {
    let kept: Vec<usize> = (0..layout.rank()).filter(|d| !dims.contains(d)).collect();
    let pick = |ds: &[usize]| {
        Layout::new(
            ds.iter().map(|&d| layout.shape()[d]).collect(),
            ds.iter().map(|&d| layout.strides()[d]).collect(),
            layout.offset(),
        )
    };
    (pick(&kept), pick(dims))
}

fn reduce_typed<T: NumElem + CpuElem>(op: ReduceOp, src: &[T], layout: &Layout, dims: &[usize]) -> Vec<T> {
    let (kept, red) = split(layout, dims);
    let n_out = kept.numel();
    let red_len = red.numel();
    let mut out = pool::take::<T>(n_out);
    if red_len == 0 {
        out.fill(identity(op));
        return out;
    }
    let red_dense = Layout::new(red.shape().to_vec(), red.strides().to_vec(), 0).is_contiguous();
    if red_dense {
        // Each output folds one dense run of `red_len` elements starting at its base.
        let rows = Rows::new(kept.shape(), [&kept]);
        let [s] = rows.inner_strides();
        let n = rows.inner_len();
        let mut bases = Vec::with_capacity(n_out);
        rows.for_rows(0, rows.row_count(), |_, [off]| bases.extend((0..n).map(|i| off + i * s)));
        let fold = |(d, &b): (&mut T, &usize)| *d = fold_slice(op, &src[b..b + red_len]);
        if n_out * red_len >= PAR_THRESHOLD && n_out > 1 {
            let per = (PAR_THRESHOLD / red_len).max(1);
            par_chunks_mut(&mut out, per, |t, o| o.iter_mut().zip(&bases[t * per..]).for_each(fold));
        } else {
            out.iter_mut().zip(bases.iter()).for_each(fold);
        }
        return out;
    }
    if red_len >= 4096 && n_out * red_len >= PAR_THRESHOLD && n_out > 1 {
        // Few outputs over large strided blocks (a conv bias gradient, sum over N, H, W):
        // each output folds its own block in contiguous runs, outputs in parallel.
        let rows = Rows::new(kept.shape(), [&kept]);
        let [s] = rows.inner_strides();
        let n = rows.inner_len();
        let mut bases = Vec::with_capacity(n_out);
        rows.for_rows(0, rows.row_count(), |_, [off]| bases.extend((0..n).map(|i| off + i * s)));
        let block = Layout::new(red.shape().to_vec(), red.strides().to_vec(), 0);
        let runs = Rows::new(block.shape(), [&block]);
        let ([rs], rn) = (runs.inner_strides(), runs.inner_len());
        let mut starts = Vec::with_capacity(runs.row_count());
        runs.for_rows(0, runs.row_count(), |_, [off]| starts.push(off));
        par_chunks_mut(&mut out, 1, |i, o| {
            let mut acc = identity(op);
            for &st in &starts {
                let b = bases[i] + st;
                acc = if rs == 1 {
                    combine(op, acc, fold_slice(op, &src[b..b + rn]))
                } else {
                    (0..rn).fold(acc, |a, j| combine(op, a, src[b + j * rs]))
                };
            }
            o[0] = acc;
        });
        return out;
    }
    // General case: walk the input in memory order, folding into the output.
    out.fill(identity(op));
    let mut out_strides = contiguous_strides(kept.shape());
    let mut full = vec![0usize; layout.rank()];
    let mut k = 0;
    for (d, f) in full.iter_mut().enumerate() {
        if !dims.contains(&d) {
            *f = out_strides[k];
            k += 1;
        }
    }
    out_strides.clear();
    let out_layout = Layout::new(layout.shape().to_vec(), full, 0);
    let rows = Rows::new(layout.shape(), [layout, &out_layout]);
    let [si, so] = rows.inner_strides();
    let n = rows.inner_len();
    rows.for_rows(0, rows.row_count(), |_, [oi, oo]| {
        if so == 0 {
            let mut acc = out[oo];
            for i in 0..n {
                acc = combine(op, acc, src[oi + i * si]);
            }
            out[oo] = acc;
        } else {
            for i in 0..n {
                let d = &mut out[oo + i * so];
                *d = combine(op, *d, src[oi + i * si]);
            }
        }
    });
    out
}

/// Reduces `dims` of the layout; the result is contiguous with the kept dims' shape.
pub fn reduce(op: ReduceOp, s: &CpuStorage, l: &Layout, dims: &[usize]) -> Result<CpuStorage> {
    use CpuStorage as S;
    Ok(match s {
        S::F32(v) => f32::wrap(reduce_typed(op, v, l, dims)),
        S::F64(v) => f64::wrap(reduce_typed(op, v, l, dims)),
        S::U8(v) => u8::wrap(reduce_typed(op, v, l, dims)),
        S::U32(v) => u32::wrap(reduce_typed(op, v, l, dims)),
        S::I64(v) => i64::wrap(reduce_typed(op, v, l, dims)),
        other => return Err(Error::unsupported_dtype("reduce", other.dtype(), Device::Cpu)),
    })
}

fn arg_typed<T: CpuElem>(op: ArgReduceOp, src: &[T], layout: &Layout, dim: usize) -> Vec<u32> {
    let (kept, _) = split(layout, &[dim]);
    let (len, stride) = (layout.shape()[dim], layout.strides()[dim]);
    let mut out = pool::take::<u32>(kept.numel());
    let rows = Rows::new(kept.shape(), [&kept]);
    let [s] = rows.inner_strides();
    let better = |v: T, best: T| -> bool {
        // NaN counts as the extreme, as in PyTorch.
        #[allow(clippy::eq_op)]
        let v_nan = v != v;
        #[allow(clippy::eq_op)]
        let b_nan = best != best;
        if b_nan {
            return false;
        }
        v_nan
            || match op {
                ArgReduceOp::ArgMax => v > best,
                ArgReduceOp::ArgMin => v < best,
            }
    };
    rows.fill(&mut out, |o, [off]| {
        for (i, d) in o.iter_mut().enumerate() {
            let base = off + i * s;
            let (mut best, mut at) = (src[base], 0u32);
            for j in 1..len {
                let v = src[base + j * stride];
                if better(v, best) {
                    best = v;
                    at = j as u32;
                }
            }
            *d = at;
        }
    });
    out
}

/// Index of the max/min along `dim` (u32, first occurrence on ties).
pub fn arg_reduce(op: ArgReduceOp, s: &CpuStorage, l: &Layout, dim: usize) -> Result<CpuStorage> {
    let v = crate::cpu::storage::cpu_dispatch!(s, v => arg_typed(op, v, l, dim));
    Ok(u32::wrap(v))
}
