//! Batched matmul on the CPU: one GEMM per batch element over strided views; small
//! matrices in large batches run one GEMM per thread, large ones share all threads.

use super::buffer_pool as pool;
use super::gemm::{dgemm, sgemm, MatRef};
use super::storage::{CpuElem, CpuStorage};
use super::thread_pool::par_chunks_mut;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::Device;

/// Storage offsets of every batch element of a layout whose last two dims are the matrix.
pub fn batch_offsets(l: &Layout, batch: &[usize]) -> Vec<usize> {
    let nb: usize = batch.iter().product();
    let mut out = Vec::with_capacity(nb);
    let mut idx = vec![0usize; batch.len()];
    for _ in 0..nb {
        out.push(l.offset() + idx.iter().zip(l.strides()).map(|(i, s)| i * s).sum::<usize>());
        for d in (0..batch.len()).rev() {
            idx[d] += 1;
            if idx[d] < batch[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// `[batch.., m, k] · [batch.., k, n]`, both layouts already broadcast over the batch.
pub fn matmul(
    a: &CpuStorage,
    la: &Layout,
    b: &CpuStorage,
    lb: &Layout,
    (m, n, k): (usize, usize, usize),
) -> Result<CpuStorage> {
    let r = la.rank();
    let batch = &la.shape()[..r - 2];
    let (oa, ob) = (batch_offsets(la, batch), batch_offsets(lb, batch));
    let (rsa, csa) = (la.strides()[r - 2], la.strides()[r - 1]);
    let (rsb, csb) = (lb.strides()[r - 2], lb.strides()[r - 1]);
    let nb = oa.len();
    let small = 2 * m * n * k < (1 << 22);
    macro_rules! run {
        ($t:ty, $x:expr, $y:expr, $gemm:expr) => {{
            let mut out = pool::take::<$t>(nb * m * n);
            if m * n > 0 {
                let one = |(i, c): (usize, &mut [$t])| {
                    let ar = MatRef { data: $x, offset: oa[i], rs: rsa, cs: csa };
                    let br = MatRef { data: $y, offset: ob[i], rs: rsb, cs: csb };
                    $gemm(ar, br, c, nb == 1 || !small)
                };
                if nb > 1 && small {
                    par_chunks_mut(&mut out, m * n, |i, c| one((i, c)));
                } else {
                    out.chunks_mut(m * n).enumerate().for_each(one);
                }
            }
            <$t>::wrap(out)
        }};
    }
    Ok(match (a, b) {
        (CpuStorage::F32(x), CpuStorage::F32(y)) => {
            run!(f32, x, y, |ar, br, c: &mut [f32], par| sgemm(m, n, k, ar, br, c, false, par))
        }
        (CpuStorage::F64(x), CpuStorage::F64(y)) => {
            run!(f64, x, y, |ar, br, c: &mut [f64], _par| dgemm(m, n, k, ar, br, c, false))
        }
        _ => return Err(Error::unsupported_dtype("matmul", a.dtype(), Device::Cpu)),
    })
}
