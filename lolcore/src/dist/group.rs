//! A process group: the ranks of one data-parallel job and the collectives between
//! them (PyTorch's `torch.distributed` ProcessGroup). The MPI and NCCL groups live in
//! the `lol-dist` crate; `LocalGroup` (threads as ranks) lives here for tests.

use crate::error::{bail, Error, Result};
use crate::{DType, Tensor};

/// How an all-reduce combines the ranks' values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    /// The sum divided by the world size.
    Mean,
}

/// A collective started by [`ProcessGroup::all_reduce_async`]; `wait` gives the summed
/// buffer back, or the group's error (a rank that died, a timeout).
pub trait Work: Send {
    fn wait(self: Box<Self>) -> Result<Vec<f32>>;
}

/// A finished collective (for groups that run everything at once).
pub struct Done(pub Result<Vec<f32>>);

impl Work for Done {
    fn wait(self: Box<Self>) -> Result<Vec<f32>> {
        self.0
    }
}

/// The ranks of a job and the collectives between them. Every rank must call the same
/// collectives in the same order (as in MPI); a group bounds how long one may wait
/// (its timeout) and then fails with an error naming the op, rather than hanging.
pub trait ProcessGroup: Send + Sync {
    /// This process's rank, 0-based.
    fn rank(&self) -> usize;
    /// How many ranks the job has.
    fn world_size(&self) -> usize;
    /// The rank among the processes of this host (picks the GPU).
    fn local_rank(&self) -> usize {
        self.rank()
    }
    /// What carries the messages: `"mpi"`, `"nccl"`, `"local"`.
    fn backend(&self) -> &'static str;

    /// Element-wise sum (or mean) of `buf` over all ranks, in place.
    fn all_reduce_f32(&self, buf: &mut [f32], op: ReduceOp) -> Result<()>;
    /// `all_reduce_f32` for f64 (metric sums and counts).
    fn all_reduce_f64(&self, buf: &mut [f64], op: ReduceOp) -> Result<()>;
    /// Replaces `buf` with the root's bytes (any length) on every rank.
    fn broadcast_bytes(&self, buf: &mut Vec<u8>, root: usize) -> Result<()>;
    /// Every rank's bytes (any length each), in rank order.
    fn all_gather_bytes(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>>;
    /// Returns once every rank has called it.
    fn barrier(&self) -> Result<()>;
    /// Starts a sum all-reduce of `buf` and returns at once, so gradients can travel
    /// while backward still runs. Started ops complete in the order they were started.
    fn all_reduce_async(&self, mut buf: Vec<f32>) -> Result<Box<dyn Work>> {
        let r = self.all_reduce_f32(&mut buf, ReduceOp::Sum).map(|_| buf);
        Ok(Box::new(Done(r)))
    }

    /// The sum (or mean) of a float tensor over all ranks, as a new tensor on its device.
    fn all_reduce(&self, t: &Tensor, op: ReduceOp) -> Result<Tensor> {
        let dev = t.device();
        match t.dtype() {
            DType::F64 => {
                let mut v = t.to_vec::<f64>()?;
                self.all_reduce_f64(&mut v, op)?;
                Tensor::from_vec(v, t.shape(), &dev)
            }
            DType::F32 | DType::F16 | DType::BF16 => {
                let mut v = t.to_vec::<f32>()?;
                self.all_reduce_f32(&mut v, op)?;
                Tensor::from_vec(v, t.shape(), &dev)?.to_dtype(t.dtype())
            }
            d => bail!(Error::dtype("all_reduce", format!("needs a float tensor, got {d}"))),
        }
    }
    /// The root's values of `t` on every rank, written into `t` in place (any dtype).
    /// Every rank's `t` must have the root's shape and dtype.
    fn broadcast_(&self, t: &Tensor, root: usize) -> Result<()> {
        let mut bytes = if self.rank() == root { crate::safetensors::le_bytes(t)? } else { Vec::new() };
        self.broadcast_bytes(&mut bytes, root)?;
        if bytes.len() != t.numel() * t.dtype().size_in_bytes() {
            bail!(Error::shape(
                "broadcast",
                format!(
                    "rank {root} sent {} bytes; this rank's tensor {:?} {} holds {}",
                    bytes.len(),
                    t.shape(),
                    t.dtype(),
                    t.numel() * t.dtype().size_in_bytes()
                )
            ));
        }
        t.assign_le_bytes(&bytes, t.dtype())
    }
    /// Every rank's `t` (each rank's shape may differ in dim 0), concatenated in rank
    /// order along dim 0, like `torch.distributed.all_gather` followed by `cat`.
    fn all_gather(&self, t: &Tensor) -> Result<Tensor> {
        let mine = t.to_dtype(DType::F32)?.to_vec::<f32>()?;
        let bytes: Vec<u8> = mine.iter().flat_map(|x| x.to_le_bytes()).collect();
        let all = self.all_gather_bytes(&bytes)?;
        let row: usize = t.shape().iter().skip(1).product();
        let mut values = Vec::new();
        for (r, b) in all.iter().enumerate() {
            if b.len() % 4 != 0 || (row > 0 && (b.len() / 4) % row != 0) {
                bail!(Error::shape(
                    "all_gather",
                    format!("rank {r} sent {} values, not rows of {:?}", b.len() / 4, &t.shape()[1.min(t.rank())..])
                ));
            }
            values.extend(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        let mut shape = t.shape().to_vec();
        if shape.is_empty() {
            shape = vec![all.len()];
        } else {
            shape[0] = values.len().checked_div(row).unwrap_or(0);
        }
        Tensor::from_vec(values, &shape, &t.device())?.to_dtype(t.dtype())
    }
}
