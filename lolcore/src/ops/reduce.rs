//! Reductions: sum, mean, max, min, argmax, argmin, var — over one dim (dropped, or kept
//! with size 1 by the `_keepdim` forms), over several, or over all elements.

use super::kinds::{ArgReduceOp, ReduceOp};
use crate::autograd::BackwardFn;
use crate::error::{bail, Error, Result};
use crate::layout::Dim;
use crate::tensor::Tensor;
use crate::DType;

fn keepdim_shape(shape: &[usize], dims: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(i, &d)| if dims.contains(&i) { 1 } else { d }).collect()
}

impl Tensor {
    fn check_dims(&self, op: &'static str, dims: &[usize]) -> Result<Vec<usize>> {
        let mut ds = dims.to_vec();
        ds.sort_unstable();
        ds.dedup();
        if let Some(&d) = ds.iter().find(|&&d| d >= self.rank()) {
            bail!(Error::index(op, format!("dim {d} is out of range for shape {:?}", self.shape())));
        }
        Ok(ds)
    }

    /// Reduces `dims` keeping them with size 1; no graph.
    fn reduce_raw(&self, op: ReduceOp, dims: &[usize]) -> Result<Tensor> {
        let s = self.storage().reduce(op, self.layout(), dims)?;
        Ok(Tensor::from_storage(s, &keepdim_shape(self.shape(), dims)))
    }

    /// Sum over `dims`, keeping them with size 1. Integer masks sum in i64 (like PyTorch),
    /// so counting never wraps.
    pub fn sum_dims_keepdim(&self, dims: &[usize]) -> Result<Tensor> {
        let dims = self.check_dims("sum", dims)?;
        if matches!(self.dtype(), DType::U8 | DType::U32) {
            return self.to_dtype(DType::I64)?.sum_dims_keepdim(&dims);
        }
        if matches!(self.dtype(), DType::F16 | DType::BF16) && self.device().is_cpu() {
            return self.to_dtype(DType::F32)?.sum_dims_keepdim(&dims)?.to_dtype(self.dtype());
        }
        let y = self.reduce_raw(ReduceOp::Sum, &dims)?;
        let in_shape = self.shape().to_vec();
        let jdims = dims.clone();
        y.record(
            "sum",
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.broadcast_as(&in_shape)?)])) },
            move |t, _| t[0].sum_dims_keepdim(&jdims),
        )
    }
    /// Sum over `dims`, dropping them.
    pub fn sum_dims(&self, dims: &[usize]) -> Result<Tensor> {
        let k = self.sum_dims_keepdim(dims)?;
        let shape: Vec<usize> =
            self.shape().iter().enumerate().filter(|(i, _)| !dims.contains(i)).map(|(_, &d)| d).collect();
        k.reshape(&shape)
    }
    /// Sum over one dim, dropping it.
    pub fn sum<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "sum")?;
        self.sum_dims(&[d])
    }
    pub fn sum_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "sum")?;
        self.sum_dims_keepdim(&[d])
    }
    /// Sum of all elements (a 0-d tensor).
    pub fn sum_all(&self) -> Result<Tensor> {
        let dims: Vec<usize> = (0..self.rank()).collect();
        self.sum_dims(&dims)
    }

    fn count(&self, dims: &[usize]) -> usize {
        dims.iter().fold(1usize, |n, &d| n.saturating_mul(self.shape()[d]))
    }
    /// Mean over one dim, dropping it.
    pub fn mean<D: Dim>(&self, dim: D) -> Result<Tensor> {
        self.require_float("mean")?;
        let d = dim.to_index(self.rank(), "mean")?;
        self.sum_dims(&[d])?.affine(1.0 / self.count(&[d]) as f64, 0.0)
    }
    pub fn mean_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        self.require_float("mean")?;
        let d = dim.to_index(self.rank(), "mean")?;
        self.sum_dims_keepdim(&[d])?.affine(1.0 / self.count(&[d]) as f64, 0.0)
    }
    /// Mean over `dims`, keeping them with size 1.
    pub fn mean_dims_keepdim(&self, dims: &[usize]) -> Result<Tensor> {
        self.require_float("mean")?;
        let dims = self.check_dims("mean", dims)?;
        self.sum_dims_keepdim(&dims)?.affine(1.0 / self.count(&dims) as f64, 0.0)
    }
    /// Mean of all elements (a 0-d tensor).
    pub fn mean_all(&self) -> Result<Tensor> {
        self.require_float("mean_all")?;
        if self.numel() == 0 {
            bail!(Error::shape("mean_all", "the mean of an empty tensor is undefined"));
        }
        self.sum_all()?.affine(1.0 / self.numel() as f64, 0.0)
    }

    /// Unbiased variance over one dim (PyTorch's default, divisor n − 1), dropping it.
    pub fn var<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "var")?;
        let v = self.var_keepdim(d)?;
        v.squeeze(d)
    }
    pub fn var_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        self.require_float("var")?;
        let d = dim.to_index(self.rank(), "var")?;
        let n = self.shape()[d];
        if n < 2 {
            bail!(Error::shape(
                "var",
                format!("unbiased variance needs at least 2 elements along dim {d}, shape {:?}", self.shape())
            ));
        }
        let centered = self.sub(&self.mean_keepdim(d)?)?;
        centered.sqr()?.sum_keepdim(d)?.affine(1.0 / (n - 1) as f64, 0.0)
    }

    fn extremum_keepdim(&self, dim: usize, op: ReduceOp) -> Result<Tensor> {
        let name = if op == ReduceOp::Max { "max" } else { "min" };
        if self.shape()[dim] == 0 {
            bail!(Error::shape(name, format!("cannot reduce empty dim {dim} of shape {:?}", self.shape())));
        }
        let y = self.reduce_raw(op, &[dim])?;
        if !self.tracks_grad() && self.tangent().is_none() {
            return Ok(y);
        }
        // The gradient goes to the element that won (the first on ties), as in PyTorch.
        let arg = if op == ReduceOp::Max { ArgReduceOp::ArgMax } else { ArgReduceOp::ArgMin };
        let idx = self.arg_reduce_keepdim(arg, dim)?;
        let in_shape = self.shape().to_vec();
        let jidx = idx.clone();
        y.record(
            name,
            &[self],
            move || -> BackwardFn { Box::new(move |g| Ok(vec![Some(g.scatter_add_into(&idx, dim, &in_shape)?)])) },
            move |t, _| t[0].gather(&jidx, dim),
        )
    }
    /// Max over one dim, dropping it.
    pub fn max<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "max")?;
        self.extremum_keepdim(d, ReduceOp::Max)?.squeeze(d)
    }
    pub fn max_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "max")?;
        self.extremum_keepdim(d, ReduceOp::Max)
    }
    pub fn min<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "min")?;
        self.extremum_keepdim(d, ReduceOp::Min)?.squeeze(d)
    }
    pub fn min_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "min")?;
        self.extremum_keepdim(d, ReduceOp::Min)
    }
    /// Largest element (a 0-d tensor).
    pub fn max_all(&self) -> Result<Tensor> {
        self.flatten_all()?.max(0)
    }
    /// Smallest element (a 0-d tensor).
    pub fn min_all(&self) -> Result<Tensor> {
        self.flatten_all()?.min(0)
    }

    fn arg_reduce_keepdim(&self, op: ArgReduceOp, dim: usize) -> Result<Tensor> {
        let name = if op == ArgReduceOp::ArgMax { "argmax" } else { "argmin" };
        if self.shape()[dim] == 0 {
            bail!(Error::shape(name, format!("cannot reduce empty dim {dim} of shape {:?}", self.shape())));
        }
        let s = self.storage().arg_reduce(op, self.layout(), dim)?;
        Ok(Tensor::from_storage(s, &keepdim_shape(self.shape(), &[dim])))
    }
    /// Index (u32) of the largest value along `dim`, dropping it; first on ties.
    pub fn argmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "argmax")?;
        self.arg_reduce_keepdim(ArgReduceOp::ArgMax, d)?.squeeze(d)
    }
    pub fn argmax_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "argmax")?;
        self.arg_reduce_keepdim(ArgReduceOp::ArgMax, d)
    }
    pub fn argmin<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "argmin")?;
        self.arg_reduce_keepdim(ArgReduceOp::ArgMin, d)?.squeeze(d)
    }
    pub fn argmin_keepdim<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "argmin")?;
        self.arg_reduce_keepdim(ArgReduceOp::ArgMin, d)
    }
}
