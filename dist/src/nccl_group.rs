//! `NcclGroup`: a process group whose tensor collectives run on the GPU through NCCL,
//! one GPU per rank, with MPI for the start (the NCCL unique id travels by broadcast)
//! and for the small host-side messages (structure check, logs, metric counts).

use crate::MpiGroup;
use lolcore::dist::nccl::{unique_id, NcclComm};
use lolcore::dist::{ProcessGroup, ReduceOp, Work};
use lolcore::{Device, Error, Result, Tensor};
use std::sync::Arc;

pub struct NcclGroup {
    mpi: Arc<MpiGroup>,
    comm: NcclComm,
    device: Device,
}

impl NcclGroup {
    /// An NCCL communicator on `cuda:<local rank>` over the ranks of `mpi` (start one
    /// rank per GPU of each host: `mpirun -np <GPUs>`). Inside `lol_dist::run`:
    /// `let pg = NcclGroup::on_local_gpu(mpi)?;`
    pub fn on_local_gpu(mpi: Arc<MpiGroup>) -> Result<Arc<NcclGroup>> {
        let device = Device::cuda(mpi.local_rank()).map_err(|e| {
            Error::msg(format!(
                "NcclGroup: rank {} (local rank {}) needs its own GPU cuda:{}: {e}",
                mpi.rank(),
                mpi.local_rank(),
                mpi.local_rank()
            ))
        })?;
        Self::new(mpi, device)
    }

    /// An NCCL communicator over the ranks of `mpi`, this rank on `device`.
    pub fn new(mpi: Arc<MpiGroup>, device: Device) -> Result<Arc<NcclGroup>> {
        // Rank 0 takes part in the broadcast even when it cannot make an id (no NCCL):
        // it sends nothing, and every rank fails instead of waiting for it.
        let made = if mpi.rank() == 0 { Some(unique_id()) } else { None };
        let mut id = match &made {
            Some(Ok(id)) => id.clone(),
            _ => Vec::new(),
        };
        mpi.broadcast_bytes(&mut id, 0)?;
        if let Some(Err(e)) = made {
            return Err(e);
        }
        if id.is_empty() {
            return Err(Error::msg("NcclGroup: rank 0 could not create an NCCL id (see its error)"));
        }
        let comm = NcclComm::new(&device, mpi.rank(), mpi.world_size(), &id)?;
        Ok(Arc::new(NcclGroup { mpi, comm, device }))
    }

    /// This rank's GPU.
    pub fn device(&self) -> Device {
        self.device
    }

    pub fn mpi(&self) -> &Arc<MpiGroup> {
        &self.mpi
    }
}

impl ProcessGroup for NcclGroup {
    fn rank(&self) -> usize {
        self.mpi.rank()
    }
    fn world_size(&self) -> usize {
        self.mpi.world_size()
    }
    fn local_rank(&self) -> usize {
        self.mpi.local_rank()
    }
    fn backend(&self) -> &'static str {
        "nccl"
    }
    fn all_reduce_f32(&self, buf: &mut [f32], op: ReduceOp) -> Result<()> {
        self.mpi.all_reduce_f32(buf, op)
    }
    fn all_reduce_f64(&self, buf: &mut [f64], op: ReduceOp) -> Result<()> {
        self.mpi.all_reduce_f64(buf, op)
    }
    fn broadcast_bytes(&self, buf: &mut Vec<u8>, root: usize) -> Result<()> {
        self.mpi.broadcast_bytes(buf, root)
    }
    fn all_gather_bytes(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.mpi.all_gather_bytes(mine)
    }
    fn barrier(&self) -> Result<()> {
        self.mpi.barrier()
    }
    fn all_reduce_async(&self, buf: Vec<f32>) -> Result<Box<dyn Work>> {
        self.mpi.all_reduce_async(buf)
    }
    fn all_reduce(&self, t: &Tensor, op: ReduceOp) -> Result<Tensor> {
        if t.device() != self.device {
            return self.mpi.all_reduce(t, op);
        }
        let out = t.deep_copy()?;
        self.comm.all_reduce_(&out, op)?;
        Ok(out)
    }
    fn broadcast_(&self, t: &Tensor, root: usize) -> Result<()> {
        if t.device() != self.device || !t.is_contiguous() {
            return self.mpi.broadcast_(t, root);
        }
        self.comm.broadcast_(t, root)
    }
    fn all_gather(&self, t: &Tensor) -> Result<Tensor> {
        // NCCL gathers equal counts only: compare shapes first (a small MPI message).
        let shape: Vec<u8> = t.shape().iter().flat_map(|d| (*d as u64).to_le_bytes()).collect();
        let shapes = self.mpi.all_gather_bytes(&shape)?;
        if t.device() != self.device || shapes.iter().any(|s| *s != shape) {
            return self.mpi.all_gather(t);
        }
        let stacked = self.comm.all_gather(&t.contiguous()?)?;
        let mut shape = t.shape().to_vec();
        match shape.first_mut() {
            Some(d0) => *d0 *= self.world_size(),
            None => shape.push(self.world_size()),
        }
        stacked.reshape(&shape)
    }
}
