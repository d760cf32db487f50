//! Gradient buckets, as PyTorch's DDP Reducer keeps them: parameters grouped in reverse
//! registration order (roughly the order backward finishes them) into buckets of at most
//! `cap` bytes; a bucket is all-reduced as soon as its last gradient is final, while the
//! rest of backward still runs; buckets start strictly in index order, so every rank
//! issues the same collectives in the same order. Each bucket carries one extra value
//! per parameter, 1 where this rank produced its gradient: a parameter no rank used gets
//! no gradient (the optimizer then leaves it and its state alone, as in one process),
//! one that some ranks used gets their sum divided by the world size (PyTorch's rule).

use super::group::{ProcessGroup, Work};
use crate::error::{bail, Error, Result};
use crate::{DType, Gradients, Tensor, TensorId};
use std::collections::HashMap;

/// Parameters `params[i]` for `i` in `members`, laid out one after another.
pub(crate) struct Bucket {
    pub members: Vec<usize>,
    pub offsets: Vec<usize>,
    pub len: usize,
    /// f64 parameters travel as f64, in a blocking all-reduce after backward.
    pub f64: bool,
    /// The bucket stays on its device: gradients are joined into one tensor there and
    /// reduced by the group's tensor all-reduce (NCCL on GPUs), not through host memory.
    pub on_device: bool,
}

/// Splits parameters (registration order) into buckets of at most `cap_bytes` (a
/// parameter larger than the cap gets a bucket of its own), the first bucket capped at
/// `first_cap_bytes` so communication starts early (PyTorch: 1 MB, then 25 MB).
pub(crate) fn plan_buckets(
    params: &[Tensor],
    first_cap_bytes: usize,
    cap_bytes: usize,
    force_device_buckets: bool,
) -> Vec<Bucket> {
    let mut buckets: Vec<Bucket> = Vec::new();
    let mut cur: Option<(Bucket, usize)> = None;
    for i in (0..params.len()).rev() {
        let p = &params[i];
        let on_device = force_device_buckets || p.device().is_cuda();
        let is_f64 = p.dtype() == DType::F64 && !on_device;
        let bytes = p.numel() * p.dtype().size_in_bytes();
        let cap = if buckets.is_empty() { first_cap_bytes } else { cap_bytes };
        let full = matches!(&cur, Some((b, used))
            if b.f64 != is_f64 || b.on_device != on_device || used + bytes > cap
                || (on_device && params[b.members[0]].device() != p.device())
                || (on_device && params[b.members[0]].dtype() != p.dtype()));
        if full {
            if let Some((b, _)) = cur.take() {
                buckets.push(b);
            }
        }
        let (b, used) = cur.get_or_insert_with(|| (Bucket { f64: is_f64, on_device, ..empty_bucket() }, 0));
        b.offsets.push(b.len);
        b.members.push(i);
        b.len += p.numel();
        *used += bytes;
    }
    if let Some((b, _)) = cur {
        buckets.push(b);
    }
    buckets
}

fn empty_bucket() -> Bucket {
    Bucket { members: Vec::new(), offsets: Vec::new(), len: 0, f64: false, on_device: false }
}

/// One backward's progress through the buckets.
pub(crate) struct Step<'a> {
    pg: &'a dyn ProcessGroup,
    params: &'a [Tensor],
    buckets: &'a [Bucket],
    /// Which bucket and slot each parameter fills.
    place: &'a HashMap<TensorId, (usize, usize)>,
    bufs: Vec<Vec<f32>>,
    bufs_f64: Vec<Vec<f64>>,
    /// Device buckets: each member's gradient, flattened, until the bucket starts; then
    /// the reduced bucket.
    parts: Vec<Vec<Option<Tensor>>>,
    reduced: Vec<Option<Tensor>>,
    /// Which members this rank produced a gradient for.
    filled: Vec<Vec<bool>>,
    pending: Vec<usize>,
    work: Vec<Option<Box<dyn Work>>>,
    next: usize,
    /// Buckets started from inside backward (the overlap).
    pub started_during_backward: usize,
}

impl<'a> Step<'a> {
    pub fn new(
        pg: &'a dyn ProcessGroup,
        params: &'a [Tensor],
        buckets: &'a [Bucket],
        place: &'a HashMap<TensorId, (usize, usize)>,
    ) -> Self {
        Step {
            pg,
            params,
            buckets,
            place,
            bufs: buckets
                .iter()
                .map(|b| if b.f64 || b.on_device { Vec::new() } else { vec![0f32; b.len + b.members.len()] })
                .collect(),
            bufs_f64: buckets
                .iter()
                .map(|b| if b.f64 { vec![0f64; b.len + b.members.len()] } else { Vec::new() })
                .collect(),
            filled: buckets.iter().map(|b| vec![false; b.members.len()]).collect(),
            parts: buckets.iter().map(|b| vec![None; if b.on_device { b.members.len() } else { 0 }]).collect(),
            reduced: buckets.iter().map(|_| None).collect(),
            pending: buckets.iter().map(|b| b.members.len()).collect(),
            work: buckets.iter().map(|_| None).collect(),
            next: 0,
            started_during_backward: 0,
        }
    }

    /// The autograd hook: copies a final gradient into its bucket and starts every
    /// complete bucket that is next in line.
    pub fn on_ready(&mut self, id: TensorId, g: &Tensor, overlap: bool) -> Result<()> {
        let Some(&(b, k)) = self.place.get(&id) else { return Ok(()) };
        if self.pending[b] == 0 {
            return Ok(()); // already filled (a gradient reported twice)
        }
        self.fill(b, k, g)?;
        self.pending[b] -= 1;
        if overlap {
            let before = self.next;
            self.start_ready()?;
            self.started_during_backward += self.next - before;
        }
        Ok(())
    }

    fn fill(&mut self, b: usize, k: usize, g: &Tensor) -> Result<()> {
        let bucket = &self.buckets[b];
        let p = &self.params[bucket.members[k]];
        if g.shape() != p.shape() {
            bail!(Error::shape(
                "data-parallel",
                format!("gradient of shape {:?} for a parameter of shape {:?}", g.shape(), p.shape())
            ));
        }
        let (off, n) = (bucket.offsets[k], p.numel());
        if bucket.on_device {
            self.parts[b][k] = Some(g.to_dtype(p.dtype())?.reshape(&[n])?);
        } else if bucket.f64 {
            self.bufs_f64[b][off..off + n].copy_from_slice(&g.to_vec::<f64>()?);
            self.bufs_f64[b][bucket.len + k] = 1.0;
        } else {
            self.bufs[b][off..off + n].copy_from_slice(&g.to_vec::<f32>()?);
            self.bufs[b][bucket.len + k] = 1.0;
        }
        self.filled[b][k] = true;
        Ok(())
    }

    /// Starts buckets in index order while the next one is complete.
    fn start_ready(&mut self) -> Result<()> {
        while self.next < self.buckets.len() && self.pending[self.next] == 0 {
            let b = self.next;
            if self.buckets[b].on_device {
                // Missing gradients (unused parameters) are zeros, as in the host path;
                // the flags follow the gradients.
                let first = &self.params[self.buckets[b].members[0]];
                let mut parts: Vec<Tensor> = self.buckets[b]
                    .members
                    .iter()
                    .zip(std::mem::take(&mut self.parts[b]))
                    .map(|(&i, g)| match g {
                        Some(g) => Ok(g),
                        None => Tensor::zeros(&[self.params[i].numel()], &self.params[i].device())?
                            .to_dtype(self.params[i].dtype()),
                    })
                    .collect::<Result<_>>()?;
                let flags: Vec<f32> = self.filled[b].iter().map(|&f| if f { 1.0 } else { 0.0 }).collect();
                parts.push(Tensor::from_vec(flags, &[self.filled[b].len()], &first.device())?.to_dtype(first.dtype())?);
                let flat = Tensor::cat(&parts, 0)?;
                self.reduced[b] = Some(self.pg.all_reduce(&flat, super::ReduceOp::Sum)?);
            } else if !self.buckets[b].f64 {
                self.work[b] = Some(self.pg.all_reduce_async(std::mem::take(&mut self.bufs[b]))?);
            }
            self.next += 1;
        }
        Ok(())
    }

    /// After backward: parameters that got no gradient here contribute zeros; the
    /// remaining buckets start; every bucket is waited for and averaged over the ranks;
    /// a parameter no rank used gets no gradient.
    pub fn finish(mut self) -> Result<Gradients> {
        for b in 0..self.buckets.len() {
            // Unfilled slots already hold zeros: just count them done.
            self.pending[b] = 0;
        }
        self.start_ready()?;
        let world = self.pg.world_size() as f64;
        let mut grads = Gradients::new();
        for (b, bucket) in self.buckets.iter().enumerate() {
            if bucket.on_device {
                let flat = self.reduced[b].take().ok_or_else(|| Error::msg("internal: a bucket was never started"))?;
                // The flags are read back (a device sync) only when this rank left some
                // parameter unused: otherwise every flag is at least 1.
                let used: Vec<bool> = if self.filled[b].iter().all(|&f| f) {
                    vec![true; bucket.members.len()]
                } else {
                    let flags = flat.narrow(0, bucket.len, bucket.members.len())?.to_vec::<f32>()?;
                    flags.iter().map(|&f| f > 0.0).collect()
                };
                let flat = flat.affine(1.0 / world, 0.0)?;
                for (k, &i) in bucket.members.iter().enumerate() {
                    let p = &self.params[i];
                    if used[k] {
                        grads.insert(p, flat.narrow(0, bucket.offsets[k], p.numel())?.reshape(p.shape())?);
                    }
                }
                continue;
            }
            let values: Vec<f32>;
            let values64: Vec<f64>;
            if bucket.f64 {
                let mut v = std::mem::take(&mut self.bufs_f64[b]);
                self.pg.all_reduce_f64(&mut v, super::ReduceOp::Sum)?;
                v.iter_mut().for_each(|x| *x /= world);
                values64 = v;
                values = Vec::new();
            } else {
                let work = self.work[b].take().ok_or_else(|| Error::msg("internal: a bucket was never started"))?;
                let mut v = work.wait()?;
                let w = world as f32;
                v.iter_mut().for_each(|x| *x /= w);
                values = v;
                values64 = Vec::new();
            }
            for (k, &i) in bucket.members.iter().enumerate() {
                let p = &self.params[i];
                let (off, n) = (bucket.offsets[k], p.numel());
                let used = if bucket.f64 { values64[bucket.len + k] > 0.0 } else { values[bucket.len + k] > 0.0 };
                if !used {
                    continue;
                }
                let g = if bucket.f64 {
                    Tensor::from_slice(&values64[off..off + n], p.shape(), &p.device())?
                } else {
                    Tensor::from_slice(&values[off..off + n], p.shape(), &p.device())?.to_dtype(p.dtype())?
                };
                grads.insert(p, g);
            }
        }
        Ok(grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Device;

    #[test]
    fn buckets_run_in_reverse_order_under_the_cap() -> Result<()> {
        let dev = Device::Cpu;
        let p: Vec<Tensor> = [10, 20, 5, 40].iter().map(|&n| Tensor::zeros(&[n], &dev)).collect::<Result<_>>()?;
        // First cap 64 bytes (16 floats), then 100 bytes (25 floats).
        let b = plan_buckets(&p, 64, 100, false);
        let members: Vec<Vec<usize>> = b.iter().map(|b| b.members.clone()).collect();
        assert_eq!(members, vec![vec![3], vec![2, 1], vec![0]]);
        assert_eq!(b[1].offsets, vec![0, 5]);
        assert_eq!(b[1].len, 25);
        Ok(())
    }
}
