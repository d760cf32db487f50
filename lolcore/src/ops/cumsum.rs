//! Cumulative sum along a dim (PyTorch's `cumsum`), as a blocked scan built from matmul:
//! blocks of 64 are summed by a product with a lower-triangular matrix of ones, and the
//! blocks' totals are scanned the same way (recursively) and added back. Memory stays
//! O(n·64), every device runs it at GEMM speed, and the backward (a reversed cumsum) and
//! forward mode come from matmul's.

use crate::error::Result;
use crate::layout::Dim;
use crate::tensor::Tensor;

const BLOCK: usize = 64;

impl Tensor {
    /// `y[..., i, ...] = Σ_{j ≤ i} x[..., j, ...]` along `dim`.
    pub fn cumsum<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "cumsum")?;
        if self.numel() == 0 {
            return self.mul_scalar(1.0);
        }
        let last = self.rank() - 1;
        let moved = if d == last { self.clone() } else { self.transpose(d, last)? };
        let y = moved.cumsum_last()?;
        if d == last {
            Ok(y)
        } else {
            y.transpose(d, last)
        }
    }

    /// cumsum over the last dim.
    fn cumsum_last(&self) -> Result<Tensor> {
        let n = self.shape()[self.rank() - 1];
        if n <= BLOCK {
            return self.matmul(&Tensor::ones_upper(n, self)?);
        }
        // Pad to whole blocks, scan inside blocks, then add the scanned block totals.
        let blocks = n.div_ceil(BLOCK);
        let mut pads = vec![0; 2];
        pads[1] = blocks * BLOCK - n;
        let x = self.pad(&pads, super::pad::PadMode::Constant(0.0))?;
        let mut shape = self.shape().to_vec();
        shape.splice(self.rank() - 1.., [blocks, BLOCK]);
        let inner = x.reshape(&shape)?.matmul(&Tensor::ones_upper(BLOCK, self)?)?;
        let totals = inner.narrow(self.rank(), BLOCK - 1, 1)?.squeeze(self.rank())?;
        // Totals of the blocks before each block: an exclusive scan.
        let before = totals.cumsum_last()?.sub(&totals)?;
        let y = inner.add(&before.unsqueeze(self.rank())?)?;
        let mut flat = self.shape().to_vec();
        flat[self.rank() - 1] = blocks * BLOCK;
        y.reshape(&flat)?.narrow(self.rank() - 1, 0, n)
    }

    /// `[n, n]` with ones where row ≤ column: `x @ it` is the inclusive scan of `x`.
    fn ones_upper(n: usize, like: &Tensor) -> Result<Tensor> {
        let m = (0..n * n).map(|k| if k / n <= k % n { 1.0 } else { 0.0 }).collect();
        Tensor::constant_like(m, &[n, n], like)
    }
}
