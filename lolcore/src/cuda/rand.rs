//! Random tensors drawn on the GPU (Philox), seeded by the caller's generator, so
//! dropout masks and initialisers never cross the PCIe bus.

use super::{gpu, launch, CudaStorage};
use crate::error::Result;
use crate::DType;
use lol_kernels::cudarc::driver::PushKernelArg;
use lol_kernels::grid_1d;

/// `n` f32 samples, uniform in [lo, hi) or normal(mean, std), on CUDA device `ordinal`.
pub fn random(ordinal: usize, n: usize, normal: bool, a: f64, b: f64, seed: u64) -> Result<CudaStorage> {
    let dev = gpu(ordinal)?;
    let out = CudaStorage::alloc(&dev, DType::F32, n)?;
    if n == 0 {
        return Ok(out);
    }
    let name = if normal { "rand_normal_f32" } else { "rand_uniform_f32" };
    let f = out.function("rand", name)?;
    let offset = 0u64;
    let (n64, af, bf, y) = (n as u64, a as f32, b as f32, out.ptr());
    let mut l = dev.stream.launch_builder(&f);
    l.arg(&n64).arg(&seed).arg(&offset).arg(&af).arg(&bf).arg(&y);
    launch(l, grid_1d(n), name)?;
    Ok(out)
}
