//! The CPU backend: pooled buffers, strided loops, a packed AVX2 GEMM, and a fork-join
//! thread pool above a size threshold.

pub mod attention;
pub mod binary;
pub mod buffer_pool;
pub mod cast;
pub mod conv;
pub mod gemm;
pub mod index;
pub mod inplace;
pub mod matmul;
pub mod optim;
pub mod pooling;
pub mod reduce;
pub mod softmax;
pub mod storage;
pub mod strided;
pub mod thread_pool;
pub mod unary;
pub mod unfold;

pub use storage::{CpuElem, CpuStorage};
