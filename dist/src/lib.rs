//! lol-dist: process groups for data-parallel training on the engines the field trusts.
//!
//! - Feature `mpi`: [`MpiGroup`], a [`ProcessGroup`] over the system's MPI (OpenMPI or
//!   MPICH) for CPU tensors, and [`run`], which wraps a program's body with the failure
//!   behaviour a job needs (an erroring rank ends the job; a hung collective times out).
//!   Start the program with `mpirun -np N program` (or a hostfile for several hosts).
//!
//! - Feature `nccl`: [`NcclGroup`], whose tensor collectives run on the GPU through NCCL
//!   (one GPU per rank), started over MPI. NCCL is loaded at run time.
//!
//! The training side (`DataParallel`, sharding, `LocalGroup`) is in `lolcore::dist`, and
//! Keras's `fit` takes any group with `FitOptions::distributed(pg)`. The default build
//! of this crate needs no MPI: it is only a re-export then.

pub use lolcore::dist::{BufferSync, DataParallel, DdpOptions, LocalGroup, ProcessGroup, ReduceOp, Work};

#[cfg(feature = "mpi")]
mod mpi_group;
#[cfg(feature = "nccl")]
mod nccl_group;
#[cfg(feature = "mpi")]
mod run;
#[cfg(feature = "mpi")]
mod watchdog;

#[cfg(feature = "mpi")]
pub use mpi_group::{MpiGroup, DEFAULT_TIMEOUT};

/// Writes one line to stderr in a single write, so that mpirun, which tags what each
/// rank prints chunk by chunk, keeps the line whole.
#[cfg(feature = "mpi")]
pub(crate) fn report(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}
#[cfg(feature = "nccl")]
pub use nccl_group::NcclGroup;
#[cfg(feature = "mpi")]
pub use run::run;
