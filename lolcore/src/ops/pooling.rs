//! 2-D max and average pooling (NCHW).

use super::conv_params::{Pool2dParams, PoolGeom};
use crate::autograd::BackwardFn;
use crate::error::Result;
use crate::tensor::Tensor;

impl Pool2dParams {
    /// A square window of `k` with stride `k` and no padding (PyTorch's defaults).
    pub fn new(k: usize) -> Self {
        Pool2dParams { kernel: (k, k), stride: (k, k), padding: (0, 0) }
    }
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = (s, s);
        self
    }
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = (p, p);
        self
    }
}

impl Tensor {
    /// Max over each window; the gradient goes to the element that won.
    pub fn max_pool2d(&self, p: Pool2dParams) -> Result<Tensor> {
        let g = PoolGeom::new("max_pool2d", self.shape(), p)?;
        let (s, idx) = self.storage().max_pool2d(self.layout(), &g)?;
        let out_shape = [g.n, g.c, g.ho, g.wo];
        let y = Tensor::from_storage(s, &out_shape);
        if !self.tracks_grad() && self.tangent().is_none() {
            return Ok(y);
        }
        // Indices are flat positions within each (n, c) plane.
        let idx = Tensor::from_storage(idx, &[g.n * g.c, g.ho * g.wo]);
        let jidx = idx.clone();
        let (planes, plane_in, plane_out) = (g.n * g.c, g.h * g.w, g.ho * g.wo);
        let in_shape = self.shape().to_vec();
        y.record(
            "max_pool2d",
            &[self],
            move || -> BackwardFn {
                Box::new(move |gy| {
                    let flat = gy.reshape(&[planes, plane_out])?;
                    Ok(vec![Some(flat.scatter_add_into(&idx, 1, &[planes, plane_in])?.reshape(&in_shape)?)])
                })
            },
            move |t, _| t[0].reshape(&[planes, plane_in])?.gather(&jidx, 1)?.reshape(&out_shape),
        )
    }

    /// Mean over each window (padding counts towards the divisor, as PyTorch's default).
    pub fn avg_pool2d(&self, p: Pool2dParams) -> Result<Tensor> {
        let g = PoolGeom::new("avg_pool2d", self.shape(), p)?;
        let s = self.storage().avg_pool2d(self.layout(), &g)?;
        let y = Tensor::from_storage(s, &[g.n, g.c, g.ho, g.wo]);
        let in_shape = self.shape().to_vec();
        y.record(
            "avg_pool2d",
            &[self],
            move || -> BackwardFn {
                Box::new(move |gy| {
                    let s = gy.storage().avg_pool2d_backward(gy.layout(), &g)?;
                    Ok(vec![Some(Tensor::from_storage(s, &in_shape))])
                })
            },
            move |t, _| t[0].avg_pool2d(p),
        )
    }
}
