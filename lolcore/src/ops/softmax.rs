//! softmax and log_softmax along a dim: one fused kernel over rows (the dim is moved
//! last first when it is not), backward in tensor ops.

use crate::autograd::{BackwardFn, Saved};
use crate::error::Result;
use crate::layout::Dim;
use crate::tensor::Tensor;

impl Tensor {
    fn softmax_raw(&self, d: usize, log: bool) -> Result<Tensor> {
        self.require_float(if log { "log_softmax" } else { "softmax" })?;
        let last = self.rank() - 1;
        let x = if d == last { self.detach() } else { self.detach().transpose(d, last)? };
        let s = x.storage().softmax_last(x.layout(), log)?;
        let y = Tensor::from_storage(s, x.shape());
        if d == last {
            Ok(y)
        } else {
            y.transpose(d, last)
        }
    }

    /// `exp(x) / sum(exp(x))` along `dim`.
    pub fn softmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.ones_like();
        }
        let d = dim.to_index(self.rank(), "softmax")?;
        let y = self.softmax_raw(d, false)?;
        let (out, jout) = (Saved::new("softmax", "output", &y), y.clone());
        y.record(
            "softmax",
            &[self],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let out = out.get()?;
                    let dot = g.mul(out)?.sum_keepdim(d)?;
                    Ok(vec![Some(out.mul(&g.sub(&dot)?)?)])
                })
            },
            move |t, _| jout.mul(&t[0].sub(&t[0].mul(&jout)?.sum_keepdim(d)?)?),
        )
    }

    /// `x − log(sum(exp(x)))` along `dim`, computed stably.
    pub fn log_softmax<D: Dim>(&self, dim: D) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.zeros_like();
        }
        let d = dim.to_index(self.rank(), "log_softmax")?;
        let y = self.softmax_raw(d, true)?;
        let (out, jout) = (Saved::new("log_softmax", "output", &y), y.clone());
        y.record(
            "log_softmax",
            &[self],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let out = out.get()?;
                    let total = g.sum_keepdim(d)?;
                    Ok(vec![Some(g.sub(&out.exp()?.mul(&total)?)?)])
                })
            },
            move |t, _| t[0].sub(&jout.exp()?.mul(&t[0])?.sum_keepdim(d)?),
        )
    }

    /// `log(sum(exp(x)))` along `dim`, dropping it (stable).
    pub fn logsumexp<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.rank(), "logsumexp")?;
        let m = self.max_keepdim(d)?.detach();
        let m_safe = m.clamp(-1e30, 1e30)?;
        self.sub(&m_safe)?.exp()?.sum_keepdim(d)?.log()?.add(&m_safe)?.squeeze(d)
    }
}
