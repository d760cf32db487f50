//! `DataParallel`: data-parallel training as PyTorch's `DistributedDataParallel`
//! promises it, for a hand-written loop (Keras's `fit` uses the same object through
//! `FitOptions::distributed`).
//!
//! ```no_run
//! # use lolcore::{Module, Tensor, Result};
//! # use lolcore::dist::{DataParallel, DdpOptions, ProcessGroup};
//! # fn demo(pg: std::sync::Arc<dyn ProcessGroup>, model: &impl Module, loss: Tensor) -> Result<()> {
//! // Every rank: build the same model, then
//! let ddp = DataParallel::new(pg, model, DdpOptions::default())?; // checks and broadcasts rank 0's weights
//! // per step, on this rank's shard of the batch:
//! let grads = ddp.backward(&loss)?; // averaged over the ranks
//! // optimizer.step(&grads)?  — identical on every rank, so the weights stay equal
//! # Ok(()) }
//! ```

use super::group::{ProcessGroup, ReduceOp};
use super::reducer::{plan_buckets, Bucket, Step};
use super::signature::check_same_structure;
use crate::error::{bail, Error, Result};
use crate::nn::Module;
use crate::{Gradients, Tensor, TensorId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What happens to buffers (BatchNorm's running statistics) across ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferSync {
    /// After every step each rank takes rank 0's buffers (PyTorch's
    /// `broadcast_buffers=True`, its default).
    Broadcast,
    /// After every step the float buffers are averaged over the ranks, so the
    /// statistics reflect every rank's data.
    Average,
    /// Each rank keeps its own statistics (they drift apart; evaluate on one rank).
    PerRank,
}

/// Options of [`DataParallel`] (PyTorch's DDP arguments, same defaults).
#[derive(Clone, Debug)]
pub struct DdpOptions {
    /// Size of a gradient bucket in MiB (PyTorch: 25).
    pub bucket_cap_mb: f64,
    /// Size of the first bucket in MiB, small so communication starts early (PyTorch: 1).
    pub first_bucket_cap_mb: f64,
    /// Start each bucket's all-reduce while backward still runs. Off: all buckets start
    /// after backward (the same numbers; only the timing differs).
    pub overlap: bool,
    pub buffers: BufferSync,
    /// Keeps CPU buckets as tensors and reduces them with the group's tensor all-reduce,
    /// as CUDA buckets always are (so that path is tested without a GPU).
    #[doc(hidden)]
    pub device_buckets: bool,
}

impl Default for DdpOptions {
    fn default() -> Self {
        DdpOptions {
            bucket_cap_mb: 25.0,
            first_bucket_cap_mb: 1.0,
            overlap: true,
            buffers: BufferSync::Broadcast,
            device_buckets: false,
        }
    }
}

impl DdpOptions {
    pub fn bucket_cap_mb(mut self, mb: f64) -> Self {
        self.bucket_cap_mb = mb;
        self
    }
    pub fn first_bucket_cap_mb(mut self, mb: f64) -> Self {
        self.first_bucket_cap_mb = mb;
        self
    }
    pub fn overlap(mut self, on: bool) -> Self {
        self.overlap = on;
        self
    }
    pub fn buffers(mut self, sync: BufferSync) -> Self {
        self.buffers = sync;
        self
    }
}

/// The gradient side of data-parallel training over a [`ProcessGroup`].
pub struct DataParallel {
    pg: Arc<dyn ProcessGroup>,
    options: DdpOptions,
    params: Vec<Tensor>,
    buffers: Vec<Tensor>,
    buckets: Vec<Bucket>,
    place: HashMap<TensorId, (usize, usize)>,
    started_during_backward: AtomicUsize,
}

impl DataParallel {
    /// Checks that every rank holds the same parameters and buffers (an error names the
    /// first that differs), then gives every rank rank 0's values. Call it on every rank
    /// at the same point, with the model built (lazy layers need a first forward or
    /// `build`).
    pub fn new(pg: Arc<dyn ProcessGroup>, model: &(impl Module + ?Sized), options: DdpOptions) -> Result<Self> {
        if !model.is_built() {
            bail!(Error::msg(
                "DataParallel::new: the model has lazy layers that are not built yet; build it first (model.build(&input_shape) or one forward)"
            ));
        }
        if !(options.bucket_cap_mb > 0.0 && options.first_bucket_cap_mb > 0.0) {
            bail!(Error::arg(
                "DataParallel",
                format!(
                    "bucket sizes must be positive, got {} and {} MiB",
                    options.first_bucket_cap_mb, options.bucket_cap_mb
                )
            ));
        }
        let named_params = model.named_parameters();
        let named_buffers = model.named_buffers();
        check_same_structure(pg.as_ref(), &named_params, &named_buffers)?;
        let params: Vec<Tensor> = named_params.into_iter().map(|(_, t)| t).collect();
        let buffers: Vec<Tensor> = named_buffers.into_iter().map(|(_, t)| t).collect();
        broadcast_all(pg.as_ref(), params.iter().chain(&buffers))?;
        let mib = |m: f64| ((m * 1048576.0) as usize).max(1);
        let buckets =
            plan_buckets(&params, mib(options.first_bucket_cap_mb), mib(options.bucket_cap_mb), options.device_buckets);
        let mut place = HashMap::new();
        for (b, bucket) in buckets.iter().enumerate() {
            for (k, &i) in bucket.members.iter().enumerate() {
                place.insert(params[i].id(), (b, k));
            }
        }
        Ok(DataParallel { pg, options, params, buffers, buckets, place, started_during_backward: AtomicUsize::new(0) })
    }

    pub fn process_group(&self) -> &Arc<dyn ProcessGroup> {
        &self.pg
    }
    pub fn options(&self) -> &DdpOptions {
        &self.options
    }
    /// Whether `params` are the parameters this object reduces (same tensors, in
    /// order): false after something replaced them.
    pub fn tracks(&self, params: &[Tensor]) -> bool {
        params.len() == self.params.len() && params.iter().zip(&self.params).all(|(a, b)| a.id() == b.id())
    }
    /// How many buckets the gradients travel in.
    pub fn num_buckets(&self) -> usize {
        self.buckets.len()
    }
    /// How many buckets the last `backward` started before backward ended (the overlap).
    pub fn buckets_started_during_backward(&self) -> usize {
        self.started_during_backward.load(Ordering::Relaxed)
    }

    /// Backward of this rank's loss, with the gradients averaged over the ranks (each
    /// bucket all-reduced as soon as it is complete), then the buffers synchronised as
    /// `options.buffers` says. Every rank gets the same gradients.
    pub fn backward(&self, loss: &Tensor) -> Result<Gradients> {
        let mut step = Step::new(self.pg.as_ref(), &self.params, &self.buckets, &self.place);
        let overlap = self.options.overlap;
        loss.backward_with_hook(&mut |id, g| step.on_ready(id, g, overlap))?;
        self.started_during_backward.store(step.started_during_backward, Ordering::Relaxed);
        let grads = step.finish()?;
        self.sync_buffers()?;
        Ok(grads)
    }

    /// Averages gradients computed by a plain `backward` over the ranks (no overlap):
    /// for custom loops that combine several backward passes.
    pub fn all_reduce_gradients(&self, grads: &Gradients) -> Result<Gradients> {
        let mut step = Step::new(self.pg.as_ref(), &self.params, &self.buckets, &self.place);
        for p in &self.params {
            if let Some(g) = grads.get(p) {
                step.on_ready(p.id(), g, false)?;
            }
        }
        step.finish()
    }

    /// Makes the buffers agree across ranks as `options.buffers` says (run by
    /// `backward`; call it yourself after forwards that had no backward).
    pub fn sync_buffers(&self) -> Result<()> {
        if self.buffers.is_empty() {
            return Ok(());
        }
        match self.options.buffers {
            BufferSync::PerRank => Ok(()),
            BufferSync::Broadcast => broadcast_all(self.pg.as_ref(), self.buffers.iter()),
            BufferSync::Average => {
                let floats: Vec<&Tensor> = self.buffers.iter().filter(|b| b.dtype().is_float()).collect();
                let mut flat = Vec::new();
                for b in &floats {
                    flat.extend(b.to_vec::<f64>()?);
                }
                self.pg.all_reduce_f64(&mut flat, ReduceOp::Mean)?;
                let mut off = 0;
                for b in floats {
                    let n = b.numel();
                    let v = Tensor::from_slice(&flat[off..off + n], b.shape(), &b.device())?;
                    b.copy_from(&v)?;
                    off += n;
                }
                Ok(())
            }
        }
    }
}

/// Gives every rank rank 0's values of `tensors`, in one broadcast.
fn broadcast_all<'a>(pg: &dyn ProcessGroup, tensors: impl Iterator<Item = &'a Tensor> + Clone) -> Result<()> {
    let mut bytes = Vec::new();
    if pg.rank() == 0 {
        for t in tensors.clone() {
            bytes.extend(crate::safetensors::le_bytes(t)?);
        }
    }
    pg.broadcast_bytes(&mut bytes, 0)?;
    let mut off = 0;
    for t in tensors {
        let n = t.numel() * t.dtype().size_in_bytes();
        let Some(chunk) = bytes.get(off..off + n) else {
            bail!(Error::msg(format!(
                "data-parallel: rank 0 sent {} bytes of weights, fewer than this rank's model holds",
                bytes.len()
            )));
        };
        t.assign_le_bytes(chunk, t.dtype())?;
        off += n;
    }
    Ok(())
}
