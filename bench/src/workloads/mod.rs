//! Benchmark workloads, each the twin of one in `torch_twin.py` (same name, same sizes).

pub mod core_cpu;
pub mod fit_cpu;
pub mod gpu;
pub mod load;
pub mod seq_cpu;
pub mod zoo_cpu;
