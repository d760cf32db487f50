//! Data-parallel training: several processes (ranks), each with a copy of the model and
//! a shard of every batch, averaging their gradients so the copies stay equal.
//!
//! - [`ProcessGroup`]: the ranks and the collectives (all-reduce, broadcast, all-gather,
//!   barrier). The MPI group (CPU nodes) and the NCCL group (GPUs) are in the `lol-dist`
//!   crate, behind its `mpi` and `nccl` features; [`LocalGroup`] runs the ranks as
//!   threads of one process (tests, and trying things out without MPI).
//! - [`DataParallel`]: PyTorch's DDP for a hand-written loop: structure check, rank 0's
//!   weights broadcast, gradient buckets all-reduced while backward runs.
//! - [`shard`]: `DistributedSampler`'s rule for which samples each rank reads.
//!
//! Keras's `fit` takes a group through `FitOptions::distributed`.

mod data_parallel;
mod group;
mod local;
#[cfg(feature = "nccl")]
pub mod nccl;
mod reducer;
mod sampler;
mod signature;
// In the library's test binary rather than tests/ (one link less in CI).
#[cfg(all(test, feature = "nccl"))]
mod nccl_tests;
#[cfg(test)]
mod tests;

pub use data_parallel::{BufferSync, DataParallel, DdpOptions};
pub use group::{Done, ProcessGroup, ReduceOp, Work};
pub use local::LocalGroup;
pub use sampler::{shard, shard_len};
pub use signature::check_same_structure;
