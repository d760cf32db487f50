//! NCCL between GPUs (feature `nccl`): collectives on CUDA tensors in place, queued on
//! the device's one stream like every other op, so they never block the host. The
//! library is loaded at run time (cudarc's `nccl`, dynamic loading); ranks agree on a
//! 128-byte unique id first (`lol_dist::NcclGroup` sends it over MPI).

use super::ReduceOp;
use crate::cuda::{gpu, CudaStorage};
use crate::error::{bail, Error, Result};
use crate::storage::Storage;
use crate::{DType, Device, Tensor};
use lol_kernels::cudarc::nccl::{result, sys};
use lol_kernels::GpuDevice;
use std::sync::{Arc, Mutex};

fn nccl_err(what: &str, e: result::NcclError) -> Error {
    Error::Cuda(format!("NCCL {what}: {e:?}"))
}

/// Whether libnccl can be opened: cudarc panics on first use without it.
pub fn library_present() -> Result<()> {
    // SAFETY: only tries to open a shared library.
    if unsafe { sys::is_culib_present() } {
        Ok(())
    } else {
        Err(Error::Cuda(
            "NCCL was not found: install libnccl2, or `pip install nvidia-nccl-cu13` and put a `libnccl.so` \
             link to its `libnccl.so.2` in a directory on LD_LIBRARY_PATH"
                .into(),
        ))
    }
}

/// A new unique id (on one rank; the others receive its bytes).
pub fn unique_id() -> Result<Vec<u8>> {
    library_present()?;
    let id = result::get_uniqueid().map_err(|e| nccl_err("ncclGetUniqueId", e))?;
    Ok(id.internal.iter().map(|&c| c as u8).collect())
}

/// One rank's NCCL communicator on one GPU.
pub struct NcclComm {
    comm: Mutex<sys::ncclComm_t>,
    dev: Arc<GpuDevice>,
    rank: usize,
    world: usize,
}

// SAFETY: the communicator is used under its mutex, one call at a time, as NCCL asks
// of a communicator shared between threads.
unsafe impl Send for NcclComm {}
unsafe impl Sync for NcclComm {}

fn nccl_dtype(dt: DType) -> sys::ncclDataType_t {
    match dt {
        DType::F32 => sys::ncclDataType_t::ncclFloat32,
        DType::F64 => sys::ncclDataType_t::ncclFloat64,
        DType::F16 => sys::ncclDataType_t::ncclFloat16,
        DType::BF16 => sys::ncclDataType_t::ncclBfloat16,
        DType::U8 => sys::ncclDataType_t::ncclUint8,
        DType::U32 => sys::ncclDataType_t::ncclUint32,
        DType::I64 => sys::ncclDataType_t::ncclInt64,
    }
}

impl NcclComm {
    /// Joins the communicator `id` as `rank` of `world`, on `device` (a CUDA device;
    /// one rank per GPU).
    pub fn new(device: &Device, rank: usize, world: usize, id: &[u8]) -> Result<Self> {
        let Device::Cuda(ordinal) = device else {
            bail!(Error::arg("NcclComm", format!("NCCL needs a CUDA device, got {device}")))
        };
        if id.len() != 128 || rank >= world {
            bail!(Error::arg(
                "NcclComm",
                format!("rank {rank} of {world} with an id of {} bytes (128 needed)", id.len())
            ));
        }
        library_present()?;
        let dev = gpu(*ordinal)?;
        dev.ctx.bind_to_thread().map_err(|e| Error::Cuda(format!("cuda:{ordinal}: {e:?}")))?;
        let mut raw = sys::ncclUniqueId { internal: [0; 128] };
        for (d, s) in raw.internal.iter_mut().zip(id) {
            *d = *s as _;
        }
        let mut comm: sys::ncclComm_t = std::ptr::null_mut();
        // SAFETY: `comm` is a valid out-pointer; the id came from ncclGetUniqueId.
        unsafe { result::comm_init_rank(&mut comm, world as i32, raw, rank as i32) }
            .map_err(|e| nccl_err("ncclCommInitRank", e))?;
        Ok(NcclComm { comm: Mutex::new(comm), dev, rank, world })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }
    pub fn world_size(&self) -> usize {
        self.world
    }

    /// The device address of `t`'s first element (a contiguous tensor on this GPU).
    fn address(&self, op: &'static str, t: &Tensor) -> Result<u64> {
        if !t.is_contiguous() {
            bail!(Error::arg(op, "NCCL needs a contiguous tensor (call .contiguous())"));
        }
        let s = t.storage();
        match &*s {
            Storage::Cuda(c) if c.dev.ordinal == self.dev.ordinal => {
                Ok(c.ptr() + (t.layout().offset() * t.dtype().size_in_bytes()) as u64)
            }
            _ => bail!(Error::DeviceMismatch { op, lhs: t.device(), rhs: Device::Cuda(self.dev.ordinal) }),
        }
    }

    fn stream(&self) -> sys::cudaStream_t {
        self.dev.stream.cu_stream() as _
    }

    /// Sum (or mean) of `t` over the ranks, written into `t`.
    pub fn all_reduce_(&self, t: &Tensor, op: ReduceOp) -> Result<()> {
        let p = self.address("all_reduce", t)?;
        let red = match op {
            ReduceOp::Sum => sys::ncclRedOp_t::ncclSum,
            ReduceOp::Mean => sys::ncclRedOp_t::ncclAvg,
        };
        let comm = self.comm.lock().unwrap_or_else(|e| e.into_inner());
        let _write = t.storage_mut();
        // SAFETY: in place over `numel` elements of a live buffer, on the device's stream.
        unsafe { result::all_reduce(p as _, p as _, t.numel(), nccl_dtype(t.dtype()), red, *comm, self.stream()) }
            .map(|_| ())
            .map_err(|e| nccl_err("ncclAllReduce", e))
    }

    /// `root`'s values of `t` on every rank, written into `t`.
    pub fn broadcast_(&self, t: &Tensor, root: usize) -> Result<()> {
        let p = self.address("broadcast", t)?;
        let comm = self.comm.lock().unwrap_or_else(|e| e.into_inner());
        let _write = t.storage_mut();
        // SAFETY: as in all_reduce_.
        unsafe {
            result::broadcast(p as _, p as _, t.numel(), nccl_dtype(t.dtype()), root as i32, *comm, self.stream())
        }
        .map(|_| ())
        .map_err(|e| nccl_err("ncclBroadcast", e))
    }

    /// Every rank's `t` (same shape on all) stacked along a new leading dim of size
    /// `world`.
    pub fn all_gather(&self, t: &Tensor) -> Result<Tensor> {
        let src = self.address("all_gather", t)?;
        let out = CudaStorage::alloc(&self.dev, t.dtype(), t.numel() * self.world)?;
        let dst = out.ptr();
        let comm = self.comm.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `out` holds world × numel elements; both live on this device.
        unsafe { result::all_gather(src as _, dst as _, t.numel(), nccl_dtype(t.dtype()), *comm, self.stream()) }
            .map_err(|e| nccl_err("ncclAllGather", e))?;
        let mut shape = vec![self.world];
        shape.extend_from_slice(t.shape());
        Ok(Tensor::from_storage(Storage::Cuda(out), &shape))
    }
}

impl Drop for NcclComm {
    fn drop(&mut self) {
        let comm = *self.comm.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the communicator is not used after this. Abort (not destroy) returns
        // even when a peer died mid-collective.
        let _ = unsafe { result::comm_abort(comm) };
    }
}
