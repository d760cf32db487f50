//! Masking: `masked_fill` (attention masks) and the triangles `tril` / `triu` (causal
//! masks). All are a `where_cond` against a mask, so they run on every device and the
//! gradient flows only through the kept elements.

use crate::dtype::DType;
use crate::error::{bail, Error, Result};
use crate::layout::broadcast_shape;
use crate::tensor::Tensor;

impl Tensor {
    /// `value` where `mask` is non-zero, `self` elsewhere. The mask (u8 / bool-like, or
    /// any dtype: non-zero is true) broadcasts to `self`'s shape, as in PyTorch.
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        let op = "masked_fill";
        self.same_device(op, mask)?;
        let shape = broadcast_shape(op, self.shape(), mask.shape())?;
        if shape != self.shape() {
            bail!(Error::shape(
                op,
                format!("mask {:?} does not broadcast to the input {:?}", mask.shape(), self.shape())
            ));
        }
        mask.where_cond(&self.scalar_like(value)?, self)
    }

    /// The lower triangle of the last two dims: elements with `col − row ≤ diagonal`
    /// are kept, the rest are zero (`diagonal` 0 is the main diagonal, 1 above, −1 below).
    pub fn tril(&self, diagonal: i64) -> Result<Tensor> {
        self.triangle("tril", diagonal, true)
    }

    /// The upper triangle of the last two dims: elements with `col − row ≥ diagonal` kept.
    pub fn triu(&self, diagonal: i64) -> Result<Tensor> {
        self.triangle("triu", diagonal, false)
    }

    fn triangle(&self, op: &'static str, diagonal: i64, lower: bool) -> Result<Tensor> {
        if self.rank() < 2 {
            bail!(Error::shape(op, format!("input {:?} needs at least 2 dims", self.shape())));
        }
        let (r, c) = (self.shape()[self.rank() - 2], self.shape()[self.rank() - 1]);
        let mut keep = Vec::with_capacity(r.saturating_mul(c));
        for i in 0..r {
            for j in 0..c {
                let off = j as i128 - i as i128;
                keep.push(u8::from(if lower { off <= diagonal as i128 } else { off >= diagonal as i128 }));
            }
        }
        let keep = Tensor::from_vec(keep, &[r, c], &crate::Device::Cpu)?.to_device(&self.device())?;
        debug_assert_eq!(keep.dtype(), DType::U8);
        keep.where_cond(self, &self.scalar_like(0.0)?)
    }
}
