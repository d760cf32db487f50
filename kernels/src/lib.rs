//! lol's CUDA kernels: CUDA C sources (`src/cu/*.cu`, kept readable and included as
//! strings), compiled at run time by NVRTC for the device's own compute capability
//! (once per device per process, cached on disk as CUBIN), launch helpers, and cuBLAS
//! wrappers. Knows nothing of tensors: callers pass device pointers, sizes and strides.
//!
//! Everything loads CUDA dynamically (cudarc's `dynamic-loading`): this crate builds
//! with no CUDA toolkit, and `GpuDevice::new` reports a missing driver or library as an
//! error instead of a panic.

pub mod blas;
pub mod compile;
pub mod cudnn;
pub mod device;
pub mod launch;
pub mod sources;

pub use device::GpuDevice;
pub use launch::{grid_1d, Dims, MAX_RANK};

/// CUDA errors, already formatted.
pub type Result<T> = std::result::Result<T, String>;

pub use cudarc;
