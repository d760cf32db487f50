//! Batched matmul through cuBLAS's strided-batched GEMM. Operands are passed as they lie
//! when cuBLAS can read them (row- or column-major matrices, batch dims that flatten to
//! one stride, broadcast batches as stride 0); anything else is copied dense first.

use super::CudaStorage;
use crate::error::{bail, Error, Result};
use crate::layout::{coalesce, Layout};
use crate::DType;
use lol_kernels::blas::{gemm_batched, GemmType, Operand, Output};

/// How cuBLAS reads a `[batch.., rows, cols]` view, if it can.
fn operand(l: &Layout, rows: usize, cols: usize, elem: usize, base: u64) -> Option<Operand> {
    let r = l.rank();
    let (rs, cs) = (l.strides()[r - 2], l.strides()[r - 1]);
    let (transposed, ld) = if (cs == 1 || cols == 1) && (rs >= cols.max(1) || rows == 1) {
        (false, if rows == 1 { cols.max(1) } else { rs })
    } else if (rs == 1 || rows == 1) && (cs >= rows.max(1) || cols == 1) {
        (true, if cols == 1 { rows.max(1) } else { cs })
    } else {
        return None;
    };
    let (bd, [bs]) = coalesce(&l.shape()[..r - 2], [&l.strides()[..r - 2]]);
    let batch_stride = match bd.len() {
        0 => 0,
        1 => bs[0],
        _ => return None,
    };
    Some(Operand { ptr: base + (l.offset() * elem) as u64, transposed, ld, batch_stride })
}

impl CudaStorage {
    pub fn matmul(&self, la: &Layout, rhs: &Self, lb: &Layout, (m, n, k): (usize, usize, usize)) -> Result<Self> {
        super::elementwise::same_gpu("matmul", self, rhs)?;
        let ty = match self.dtype {
            DType::F32 => GemmType::F32,
            DType::F64 => GemmType::F64,
            DType::F16 => GemmType::F16,
            DType::BF16 => GemmType::BF16,
            other => bail!(Error::unsupported_dtype("matmul", other, self.device())),
        };
        let r = la.rank();
        let batch: usize = la.shape()[..r - 2].iter().product();
        let out = self.alloc_like(self.dtype, batch * m * n)?;
        if out.len == 0 {
            return Ok(out);
        }
        if k == 0 {
            out.fill(0.0)?;
            return Ok(out);
        }
        let elem = self.dtype.size_in_bytes();
        // Operands cuBLAS cannot read in place are made dense (batch and all).
        let (a_dense, b_dense);
        let a = match operand(la, m, k, elem, self.ptr()) {
            Some(o) => o,
            None => {
                a_dense = self.contiguous(la)?;
                operand(&Layout::contiguous(la.shape()), m, k, elem, a_dense.ptr())
                    .ok_or_else(|| Error::msg("internal: dense operand"))?
            }
        };
        let b = match operand(lb, k, n, elem, rhs.ptr()) {
            Some(o) => o,
            None => {
                b_dense = rhs.contiguous(lb)?;
                operand(&Layout::contiguous(lb.shape()), k, n, elem, b_dense.ptr())
                    .ok_or_else(|| Error::msg("internal: dense operand"))?
            }
        };
        gemm_batched(&self.dev, ty, m, n, k, a, b, Output { ptr: out.ptr(), batch_stride: m * n }, batch, false)
            .map_err(Error::Cuda)?;
        Ok(out)
    }
}
