//! Launch geometry and the fixed-size arrays kernels take by value.

use cudarc::driver::LaunchConfig;

/// The most dims a strided kernel handles.
pub const MAX_RANK: usize = 8;

/// Shape or strides passed by value (the kernels' `struct Dims`).
pub type Dims = [u64; MAX_RANK];

/// `values` padded to `MAX_RANK` (callers check the rank first).
pub fn dims(values: &[usize]) -> Dims {
    let mut d = [0u64; MAX_RANK];
    for (o, &v) in d.iter_mut().zip(values) {
        *o = v as u64;
    }
    d
}

/// Threads per block for elementwise kernels.
pub const BLOCK: u32 = 256;

/// A 1-D grid covering `n` elements (grid-stride loops cover the rest).
pub fn grid_1d(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).clamp(1, 65_535 * 8) as u32;
    LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 }
}

/// One block per row (capped), `BLOCK` threads each: row reductions and softmax.
pub fn grid_rows(rows: usize) -> LaunchConfig {
    let blocks = rows.clamp(1, 65_535) as u32;
    LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 }
}
