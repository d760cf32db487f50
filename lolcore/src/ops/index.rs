//! Index ops: index_select, gather, scatter_add (and embedding lookup on top). Index
//! tensors may be u32, i64 or u8; every index is checked against the dim it indexes.

use crate::autograd::{BackwardFn, Saved};
use crate::error::{bail, Error, Result};
use crate::layout::Dim;
use crate::tensor::Tensor;

impl Tensor {
    fn check_index_dtype(op: &'static str, ids: &Tensor) -> Result<()> {
        if ids.dtype().is_float() {
            bail!(Error::dtype(op, format!("indices must be an integer tensor (u32, i64, u8), got {}", ids.dtype())));
        }
        Ok(())
    }

    /// Entries `ids` (a 1-D index tensor) along `dim`.
    pub fn index_select<D: Dim>(&self, ids: &Tensor, dim: D) -> Result<Tensor> {
        let op = "index_select";
        let d = dim.to_index(self.rank(), op)?;
        Self::check_index_dtype(op, ids)?;
        self.same_device(op, ids)?;
        if ids.rank() != 1 {
            bail!(Error::shape(op, format!("indices must be 1-D, got shape {:?}", ids.shape())));
        }
        let s = self.storage().index_select(self.layout(), &ids.storage(), ids.layout(), d)?;
        let mut shape = self.shape().to_vec();
        shape[d] = ids.numel();
        let y = Tensor::from_storage(s, &shape);
        let in_shape = self.shape().to_vec();
        let (bids, jids) = (Saved::new(op, "indices", ids), ids.clone());
        y.record(
            op,
            &[self],
            move || -> BackwardFn {
                Box::new(move |g| {
                    // index_select is gather with the ids repeated across the other dims.
                    let bids = bids.get()?;
                    let mut s1 = vec![1; g.rank()];
                    s1[d] = bids.numel();
                    let full = bids.reshape(&s1)?.broadcast_as(g.shape())?;
                    Ok(vec![Some(g.scatter_add_into(&full, d, &in_shape)?)])
                })
            },
            move |t, _| t[0].index_select(&jids, d),
        )
    }

    /// `out[i][j][k] = self[i][ids[i][j][k]][k]` for dim 1 (PyTorch's `gather`): the output
    /// has the ids' shape.
    pub fn gather<D: Dim>(&self, ids: &Tensor, dim: D) -> Result<Tensor> {
        let op = "gather";
        let d = dim.to_index(self.rank(), op)?;
        Self::check_index_dtype(op, ids)?;
        self.same_device(op, ids)?;
        if ids.rank() != self.rank()
            || ids.shape().iter().zip(self.shape()).enumerate().any(|(i, (a, b))| i != d && a > b)
        {
            bail!(Error::shape(
                op,
                format!("indices of shape {:?} do not fit input {:?} along dim {d}", ids.shape(), self.shape())
            ));
        }
        let s = self.storage().gather(self.layout(), &ids.storage(), ids.layout(), d)?;
        let y = Tensor::from_storage(s, ids.shape());
        let in_shape = self.shape().to_vec();
        let (bids, jids) = (Saved::new(op, "indices", ids), ids.clone());
        y.record(
            op,
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.scatter_add_into(bids.get()?, d, &in_shape)?)])) },
            move |t, _| t[0].gather(&jids, d),
        )
    }

    /// Zeros of `out_shape` with this tensor's values added at `ids` along `dim`
    /// (the adjoint of `gather`; `ids` has this tensor's shape).
    pub fn scatter_add_into(&self, ids: &Tensor, dim: usize, out_shape: &[usize]) -> Result<Tensor> {
        let op = "scatter_add";
        Self::check_index_dtype(op, ids)?;
        self.same_device(op, ids)?;
        if ids.shape() != self.shape()
            || dim >= out_shape.len()
            || out_shape.len() != self.rank()
            || self.shape().iter().zip(out_shape).enumerate().any(|(i, (a, b))| i != dim && a > b)
        {
            bail!(Error::shape(
                op,
                format!(
                    "source {:?} and indices {:?} do not fit output {out_shape:?} along dim {dim}",
                    self.shape(),
                    ids.shape()
                )
            ));
        }
        let s = self.storage().scatter_add(self.layout(), &ids.storage(), ids.layout(), dim, out_shape)?;
        let y = Tensor::from_storage(s, out_shape);
        let (bids, jids) = (Saved::new(op, "indices", ids), ids.clone());
        let out = out_shape.to_vec();
        y.record(
            op,
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.gather(bids.get()?, dim)?)])) },
            move |t, _| t[0].scatter_add_into(&jids, dim, &out),
        )
    }

    /// `self` plus `src` added at `ids` along `dim` (PyTorch's `scatter_add`).
    pub fn scatter_add<D: Dim>(&self, ids: &Tensor, src: &Tensor, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "scatter_add")?;
        self.add(&src.scatter_add_into(ids, d, self.shape())?)
    }

    /// Rows of this `[vocab, dim]` table for each id: output `ids.shape + [dim]`.
    pub fn embedding(&self, ids: &Tensor) -> Result<Tensor> {
        if self.rank() != 2 {
            bail!(Error::shape("embedding", format!("table must be [vocab, dim], got {:?}", self.shape())));
        }
        let rows = self.index_select(&ids.flatten_all()?, 0)?;
        let mut shape = ids.shape().to_vec();
        shape.push(self.shape()[1]);
        rows.reshape(&shape)
    }
}
