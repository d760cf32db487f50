//! dtype conversion and device moves (both differentiable), and in-place writes.

use crate::autograd::BackwardFn;
use crate::error::{bail, Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{DType, Device};

impl Tensor {
    /// The values converted to `dtype` (a copy; this tensor when the dtype already matches).
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let s = self.storage().to_dtype(self.layout(), dtype)?;
        let y = Tensor::from_storage(s, self.shape());
        if !(dtype.is_float() && self.dtype().is_float()) {
            return Ok(y);
        }
        let from = self.dtype();
        y.record(
            "to_dtype",
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.to_dtype(from)?)])) },
            move |t, _| t[0].to_dtype(dtype),
        )
    }

    /// A copy on `device` (this tensor when it is already there). Gradients flow back
    /// to the original device.
    pub fn to_device(&self, device: &Device) -> Result<Tensor> {
        if *device == self.device() {
            return Ok(self.clone());
        }
        let host = self.storage().to_cpu(self.layout())?;
        let y = Tensor::from_storage(Storage::from_cpu(host, device)?, self.shape());
        let (from, to) = (self.device(), *device);
        y.record(
            "to_device",
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.to_device(&from)?)])) },
            move |t, _| t[0].to_device(&to),
        )
    }

    /// Overwrites this tensor's elements with `src`'s (same shape, or broadcastable to it),
    /// in place and outside autograd: for parameter updates and running statistics.
    /// Every view sharing the storage sees the new values. The source may overlap the
    /// destination (`b.narrow(0, 0, n - 1)?.copy_from(&b.narrow(0, 1, n - 1)?)` shifts
    /// by one): it is read in full before anything is written, so the result is the
    /// source's values as they were (NumPy's rule for overlapping assignment).
    pub fn copy_from(&self, src: &Tensor) -> Result<()> {
        let op = "copy_from";
        self.check_writable(op)?;
        self.same_device(op, src)?;
        let src = src.to_dtype(self.dtype())?;
        let Some(ls) = src.layout().broadcast_as(self.shape()) else {
            bail!(Error::shape(op, format!("cannot write shape {:?} into shape {:?}", src.shape(), self.shape())));
        };
        if self.same_storage(&src) {
            // Reading and writing one buffer: take a copy of the source first.
            let tmp = src.deep_copy()?;
            let tl = tmp.layout().broadcast_as(self.shape()).ok_or_else(|| Error::msg("internal: broadcast"))?;
            return self.write_reading(&tmp, |d, s| d.copy_into_view(self.layout(), s, &tl));
        }
        self.write_reading(&src, |d, s| d.copy_into_view(self.layout(), s, &ls))
    }
}

impl Tensor {
    /// An in-place write needs every element of the destination at its own place in
    /// memory: a broadcast view (stride 0 over a dim of size > 1) would have several
    /// elements written through one location, in an order that differs by device.
    pub(crate) fn check_writable(&self, op: &'static str) -> Result<()> {
        let dims = self.shape().iter().zip(self.stride());
        if let Some(d) = dims.clone().position(|(&n, &s)| n > 1 && s == 0) {
            bail!(Error::arg(
                op,
                format!(
                    "the destination {:?} is a broadcast view (dim {d} has stride 0), so several of its elements share \
                     one memory location; write into a tensor of its own (contiguous() or deep_copy())",
                    self.shape()
                )
            ));
        }
        Ok(())
    }

    /// `self += alpha · other` in place, outside autograd (PyTorch's `add_(other, alpha=…)`).
    /// `other` broadcasts to this tensor's shape.
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        let op = "add_scaled_";
        self.check_writable(op)?;
        self.same_device(op, other)?;
        self.same_dtype(op, other)?;
        let Some(lo) = other.layout().broadcast_as(self.shape()) else {
            bail!(Error::shape(op, format!("cannot add shape {:?} into shape {:?}", other.shape(), self.shape())));
        };
        if self.same_storage(other) {
            let sum = crate::no_grad(|| self.add(&other.affine(alpha, 0.0)?))?;
            return self.copy_from(&sum);
        }
        self.write_reading(other, |d, s| d.axpy(self.layout(), alpha, s, &lo))
    }
}
