//! CUDA kernels
