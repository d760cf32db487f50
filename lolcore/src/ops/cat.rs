//! Joining tensors: cat along an existing dim, stack along a new one; and flip.

use crate::autograd::BackwardFn;
use crate::error::{bail, Error, Result};
use crate::layout::{checked_numel, Dim, Layout};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::DType;

impl AsRef<Tensor> for Tensor {
    fn as_ref(&self) -> &Tensor {
        self
    }
}

impl Tensor {
    /// Concatenates along `dim`; all other dims must match.
    pub fn cat<T: AsRef<Tensor>, D: Dim>(tensors: &[T], dim: D) -> Result<Tensor> {
        let op = "cat";
        let ts: Vec<&Tensor> = tensors.iter().map(|t| t.as_ref()).collect();
        let Some(first) = ts.first() else { bail!(Error::arg(op, "needs at least one tensor")) };
        let d = dim.to_index(first.rank(), op)?;
        for (i, t) in ts.iter().enumerate().skip(1) {
            first.same_device(op, t)?;
            first.same_dtype(op, t)?;
            let ok = t.rank() == first.rank()
                && t.shape().iter().zip(first.shape()).enumerate().all(|(k, (a, b))| k == d || a == b);
            if !ok {
                bail!(Error::shape(
                    op,
                    format!(
                        "tensor {i} has shape {:?}, tensor 0 has {:?}: all dims but {d} must match",
                        t.shape(),
                        first.shape()
                    )
                ));
            }
        }
        if ts.len() == 1 {
            return Ok((*first).clone());
        }
        let mut shape = first.shape().to_vec();
        shape[d] = ts
            .iter()
            .try_fold(0usize, |acc, t| acc.checked_add(t.shape()[d]))
            .ok_or_else(|| Error::shape(op, format!("the sizes along dim {d} overflow")))?;
        let mut out = Storage::filled(first.dtype(), checked_numel(op, &shape)?, 0.0, &first.device())?;
        let full = Layout::contiguous(&shape);
        let mut offset = 0;
        let mut pieces = Vec::with_capacity(ts.len());
        for t in &ts {
            let len = t.shape()[d];
            out.copy_into_view(&full.narrow(d, offset, len), &t.storage(), t.layout())?;
            pieces.push((offset, len));
            offset += len;
        }
        let y = Tensor::from_storage(out, &shape);
        y.record(
            op,
            &ts,
            move || -> BackwardFn {
                Box::new(move |g| pieces.iter().map(|&(o, l)| g.narrow(d, o, l).map(Some)).collect())
            },
            |t, _| Tensor::cat(t, d),
        )
    }

    /// Stacks equal-shaped tensors along a new dim `dim`.
    pub fn stack<T: AsRef<Tensor>, D: Dim>(tensors: &[T], dim: D) -> Result<Tensor> {
        let Some(first) = tensors.first() else { bail!(Error::arg("stack", "needs at least one tensor")) };
        let d = dim.to_index_plus_one(first.as_ref().rank(), "stack")?;
        for (i, t) in tensors.iter().enumerate() {
            if t.as_ref().shape() != first.as_ref().shape() {
                bail!(Error::shape(
                    "stack",
                    format!("tensor {i} has shape {:?}, tensor 0 has {:?}", t.as_ref().shape(), first.as_ref().shape())
                ));
            }
        }
        let parts = tensors.iter().map(|t| t.as_ref().unsqueeze(d)).collect::<Result<Vec<_>>>()?;
        Tensor::cat(&parts, d)
    }

    /// Reverses the order of elements along each of `dims`.
    pub fn flip(&self, dims: &[usize]) -> Result<Tensor> {
        let mut y = self.clone();
        for &d in dims {
            if d >= self.rank() {
                bail!(Error::index("flip", format!("dim {d} is out of range for shape {:?}", self.shape())));
            }
            let n = self.shape()[d];
            let rev: Vec<u32> = (0..n as u32).rev().collect();
            let ids = Tensor::from_vec(rev, &[n], &self.device())?;
            y = y.index_select(&ids, d)?;
        }
        Ok(y)
    }

    /// Repeats the tensor `repeats[i]` times along dim i (PyTorch's `repeat`): a
    /// broadcast of `[1, d0, 1, d1, ..]` to `[r0, d0, r1, d1, ..]`, made contiguous.
    pub fn repeat(&self, repeats: &[usize]) -> Result<Tensor> {
        if repeats.len() != self.rank() {
            bail!(Error::shape(
                "repeat",
                format!("{} repeat counts for a tensor of rank {}", repeats.len(), self.rank())
            ));
        }
        let out: Vec<usize> = self.shape().iter().zip(repeats).map(|(&d, &r)| d.saturating_mul(r)).collect();
        Tensor::check_new("repeat", &out, self.dtype(), &self.device())?;
        let split: Vec<usize> = self.shape().iter().flat_map(|&d| [1, d]).collect();
        let wide: Vec<usize> = self.shape().iter().zip(repeats).flat_map(|(&d, &r)| [r, d]).collect();
        self.reshape(&split)?.broadcast_as(&wide)?.contiguous()?.reshape(&out)
    }

    /// One-hot encoding of integer labels: `[..] → [.., classes]` as f32.
    pub fn one_hot(&self, classes: usize) -> Result<Tensor> {
        if self.dtype().is_float() {
            bail!(Error::dtype("one_hot", format!("labels must be integers, got {}", self.dtype())));
        }
        let mut shape = self.shape().to_vec();
        shape.push(classes);
        let ids = self.unsqueeze(self.rank())?;
        let ones = Tensor::ones_dtype(ids.shape(), DType::F32, &self.device())?;
        ones.scatter_add_into(&ids, self.rank(), &shape)
    }
}
