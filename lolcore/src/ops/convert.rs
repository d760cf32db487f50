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
    /// Every view sharing the storage sees the new values.
    pub fn copy_from(&self, src: &Tensor) -> Result<()> {
        let op = "copy_from";
        self.same_device(op, src)?;
        let src = src.to_dtype(self.dtype())?;
        let Some(ls) = src.layout().broadcast_as(self.shape()) else {
            bail!(Error::shape(op, format!("cannot write shape {:?} into shape {:?}", src.shape(), self.shape())));
        };
        if self.same_storage(&src) {
            // Reading and writing one buffer: take a copy of the source first.
            let tmp = src.contiguous_raw()?;
            let tl = tmp.layout().broadcast_as(self.shape()).ok_or_else(|| Error::msg("internal: broadcast"))?;
            let guard = tmp.storage();
            return self.storage_mut().copy_into_view(self.layout(), &guard, &tl);
        }
        let guard = src.storage();
        self.storage_mut().copy_into_view(self.layout(), &guard, &ls)
    }
}

impl Tensor {
    /// `self += alpha · other` in place, outside autograd (PyTorch's `add_(other, alpha=…)`).
    /// `other` broadcasts to this tensor's shape.
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        let op = "add_scaled_";
        self.same_device(op, other)?;
        self.same_dtype(op, other)?;
        let Some(lo) = other.layout().broadcast_as(self.shape()) else {
            bail!(Error::shape(op, format!("cannot add shape {:?} into shape {:?}", other.shape(), self.shape())));
        };
        if self.same_storage(other) {
            let sum = crate::no_grad(|| self.add(&other.affine(alpha, 0.0)?))?;
            return self.copy_from(&sum);
        }
        let src = other.storage();
        self.storage_mut().axpy(self.layout(), alpha, &src, &lo)
    }
}
