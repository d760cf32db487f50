//! Max and average pooling, 2-D (NCHW) and 1-D (NCL, a 2-D pool over a height of 1).

use super::pool_params::{Pool1dParams, Pool2dParams, PoolGeom};
use crate::autograd::BackwardFn;
use crate::error::Result;
use crate::error::{bail, Error};
use crate::tensor::Tensor;

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
        if p.dilation != (1, 1) {
            bail!(Error::arg(
                "avg_pool2d",
                format!("dilation {:?}: average pooling has none (PyTorch's neither)", p.dilation)
            ));
        }
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

    /// 1-D max pooling of `[n, c, l]` → `[n, c, lo]`.
    pub fn max_pool1d(&self, p: Pool1dParams) -> Result<Tensor> {
        self.require_rank("max_pool1d", 3, "[n, c, l]")?;
        self.unsqueeze(2)?.max_pool2d(p.as_2d())?.squeeze(2)
    }

    /// 1-D average pooling of `[n, c, l]` → `[n, c, lo]`.
    pub fn avg_pool1d(&self, p: Pool1dParams) -> Result<Tensor> {
        self.require_rank("avg_pool1d", 3, "[n, c, l]")?;
        self.unsqueeze(2)?.avg_pool2d(p.as_2d())?.squeeze(2)
    }
}
