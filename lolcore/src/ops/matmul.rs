//! Matrix products: 2-D, batched with broadcast batch dims, matrix-vector and dot,
//! following `torch.matmul`'s rules for 1-D operands.

use crate::autograd::{sum_to, BackwardFn, Saved};
use crate::error::{bail, Error, Result};
use crate::layout::broadcast_shape;
use crate::tensor::Tensor;

impl Tensor {
    /// Dim `d` multiplied by `m` (`[len, out]`): the sum over `d` weighted per output,
    /// for resampling and pooling with a constant matrix.
    pub(crate) fn matmul_dim(&self, d: usize, m: &Tensor) -> Result<Tensor> {
        let last = self.rank() - 1;
        if d == last {
            self.matmul(m)
        } else {
            self.transpose(d, last)?.matmul(m)?.transpose(d, last)
        }
    }

    /// `self · rhs` (see `torch.matmul`): 1-D operands are treated as a row (left) or a
    /// column (right) and that dim is removed from the result.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let op = "matmul";
        if self.rank() == 0 || rhs.rank() == 0 {
            bail!(Error::shape(
                op,
                format!("{:?} × {:?}: both operands need at least one dim", self.shape(), rhs.shape())
            ));
        }
        match (self.rank(), rhs.rank()) {
            (1, 1) => self.unsqueeze(0)?.matmul_nd(&rhs.unsqueeze(1)?)?.reshape(&[]),
            (_, 1) => self.matmul_nd(&rhs.unsqueeze(1)?)?.squeeze(-1),
            (1, _) => self.unsqueeze(0)?.matmul_nd(rhs)?.squeeze(-2),
            _ => self.matmul_nd(rhs),
        }
    }

    /// Both operands at least 2-D: `[.., m, k] · [.., k, n] → [.., m, n]`.
    fn matmul_nd(&self, rhs: &Tensor) -> Result<Tensor> {
        let op = "matmul";
        self.same_device(op, rhs)?;
        self.same_dtype(op, rhs)?;
        let (ra, rb) = (self.rank(), rhs.rank());
        let (m, k) = (self.shape()[ra - 2], self.shape()[ra - 1]);
        let (k2, n) = (rhs.shape()[rb - 2], rhs.shape()[rb - 1]);
        if k != k2 {
            bail!(Error::shape(op, format!("{:?} × {:?}: inner dims {k} and {k2} differ", self.shape(), rhs.shape())));
        }
        let batch = broadcast_shape(op, &self.shape()[..ra - 2], &rhs.shape()[..rb - 2])?;
        let full = |t: &Tensor, r: usize, c: usize| {
            let mut s = batch.clone();
            s.extend([r, c]);
            t.layout().broadcast_as(&s).ok_or_else(|| Error::msg("internal: broadcast"))
        };
        let (la, lb) = (full(self, m, k)?, full(rhs, k, n)?);
        let s = self.storage().matmul(&la, &rhs.storage(), &lb, (m, n, k))?;
        let mut shape = batch.clone();
        shape.extend([m, n]);
        let y = Tensor::from_storage(s, &shape);
        let (na, nb) = (self.tracks_grad(), rhs.tracks_grad());
        let (a, b) = (self.detach(), rhs.detach());
        let (ja, jb) = (a.clone(), b.clone());
        y.record(
            op,
            &[self, rhs],
            move || -> BackwardFn {
                let a_saved = nb.then(|| Saved::new("matmul", "input 0", &a));
                let b_saved = na.then(|| Saved::new("matmul", "input 1", &b));
                let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
                Box::new(move |g| {
                    let ga = match &b_saved {
                        Some(b) => Some(sum_to(&g.matmul_nd(&b.get()?.t()?)?, &sa)?),
                        None => None,
                    };
                    let gb = match &a_saved {
                        Some(a) => Some(sum_to(&a.get()?.t()?.matmul_nd(g)?, &sb)?),
                        None => None,
                    };
                    Ok(vec![ga, gb])
                })
            },
            move |t, _| t[0].matmul_nd(&jb)?.add(&ja.matmul_nd(&t[1])?),
        )
    }
}
