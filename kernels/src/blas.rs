//! cuBLAS GEMMs for row-major tensors. A row-major `C[m, n] = A[m, k]·B[k, n]` is the
//! column-major `Cᵀ = Bᵀ·Aᵀ`, so cuBLAS gets B first, no copies.

use crate::device::GpuDevice;
use crate::Result;
use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cublasOperation_t, cudaDataType};
use std::ffi::c_void;

/// Element type of a GEMM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GemmType {
    F32,
    F64,
    F16,
    BF16,
}

/// One row-major operand: base pointer, whether it is stored transposed (column-major:
/// unit row stride), its leading dimension, and its batch stride (0 = shared).
#[derive(Clone, Copy, Debug)]
pub struct Operand {
    pub ptr: u64,
    pub transposed: bool,
    pub ld: usize,
    pub batch_stride: usize,
}

/// The output of a GEMM: row-major with `ldc = n`, images `batch_stride` apart.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub ptr: u64,
    pub batch_stride: usize,
}

/// `C[b] (+)= A[b]·B[b]` for `batch` row-major products of `m × k` by `k × n`;
/// `accumulate` adds to C instead of overwriting it.
#[allow(clippy::too_many_arguments)]
pub fn gemm_batched(
    dev: &GpuDevice,
    ty: GemmType,
    m: usize,
    n: usize,
    k: usize,
    a: Operand,
    b: Operand,
    out: Output,
    batch: usize,
    accumulate: bool,
) -> Result<()> {
    let c = out.ptr;
    let beta_v = if accumulate { 1.0 } else { 0.0 };
    let op = |t: bool| if t { cublasOperation_t::CUBLAS_OP_T } else { cublasOperation_t::CUBLAS_OP_N };
    let int =
        |v: usize, what: &str| i32::try_from(v).map_err(|_| format!("gemm: {what} {v} exceeds cuBLAS's 32-bit sizes"));
    let (mi, ni, ki) = (int(n, "n")?, int(m, "m")?, int(k, "k")?);
    let (lda, ldb, ldc) = (int(b.ld, "ld")?, int(a.ld, "ld")?, int(n, "ldc")?);
    let batch = int(batch, "batch")?;
    let (ta, tb) = (op(b.transposed), op(a.transposed));
    let (sa, sb, sc) = (b.batch_stride as i64, a.batch_stride as i64, out.batch_stride as i64);
    // cuBLAS runs in the calling thread's current context: make it ours.
    dev.ctx.bind_to_thread().map_err(|e| format!("binding the CUDA context: {e:?}"))?;
    let handle = *dev.blas.handle();
    let fail =
        |e: cudarc::cublas::result::CublasError| format!("cuBLAS gemm ({ty:?}, {m}×{k}·{k}×{n}, batch {batch}): {e:?}");
    // SAFETY: the pointers are live device buffers sized by the caller for these shapes;
    // alpha/beta live on the host for the duration of the call.
    unsafe {
        match ty {
            GemmType::F32 => {
                let (alpha, beta) = (1f32, beta_v as f32);
                cudarc::cublas::result::sgemm_strided_batched(
                    handle,
                    ta,
                    tb,
                    mi,
                    ni,
                    ki,
                    &alpha,
                    b.ptr as *const f32,
                    lda,
                    sa,
                    a.ptr as *const f32,
                    ldb,
                    sb,
                    &beta,
                    c as *mut f32,
                    ldc,
                    sc,
                    batch,
                )
                .map_err(fail)
            }
            GemmType::F64 => {
                let (alpha, beta) = (1f64, beta_v);
                cudarc::cublas::result::dgemm_strided_batched(
                    handle,
                    ta,
                    tb,
                    mi,
                    ni,
                    ki,
                    &alpha,
                    b.ptr as *const f64,
                    lda,
                    sa,
                    a.ptr as *const f64,
                    ldb,
                    sb,
                    &beta,
                    c as *mut f64,
                    ldc,
                    sc,
                    batch,
                )
                .map_err(fail)
            }
            GemmType::F16 | GemmType::BF16 => {
                // Half inputs and outputs, f32 accumulation.
                let dt = if ty == GemmType::F16 { cudaDataType::CUDA_R_16F } else { cudaDataType::CUDA_R_16BF };
                let (alpha, beta) = (1f32, beta_v as f32);
                cudarc::cublas::result::gemm_strided_batched_ex(
                    handle,
                    ta,
                    tb,
                    mi,
                    ni,
                    ki,
                    &alpha as *const f32 as *const c_void,
                    b.ptr as *const c_void,
                    dt,
                    lda,
                    sa,
                    a.ptr as *const c_void,
                    dt,
                    ldb,
                    sb,
                    &beta as *const f32 as *const c_void,
                    c as *mut c_void,
                    dt,
                    ldc,
                    sc,
                    batch,
                    cublasComputeType_t::CUBLAS_COMPUTE_32F,
                    cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
                )
                .map_err(fail)
            }
        }
    }
}
