//! Elementwise arithmetic of two tensors with NumPy broadcasting. Gradients of a
//! broadcast input are summed back to its shape; an input that does not track gradients
//! gets none computed (and nothing saved for it).

use super::kinds::BinaryOp;
use crate::autograd::{sum_to, BackwardFn, Saved};
use crate::error::Result;
use crate::layout::broadcast_shape;
use crate::tensor::Tensor;

impl Tensor {
    /// The primal op alone: checks, broadcasting, the kernel; no graph.
    pub(crate) fn binary_raw(&self, op: BinaryOp, rhs: &Tensor) -> Result<Tensor> {
        let name = op.name();
        self.same_device(name, rhs)?;
        self.same_dtype(name, rhs)?;
        let shape = broadcast_shape(name, self.shape(), rhs.shape())?;
        let la = self.layout().broadcast_as(&shape).ok_or_else(|| crate::Error::msg("internal: broadcast"))?;
        let lb = rhs.layout().broadcast_as(&shape).ok_or_else(|| crate::Error::msg("internal: broadcast"))?;
        let s = self.storage().binary(op, &la, &rhs.storage(), &lb)?;
        Ok(Tensor::from_storage(s, &shape))
    }

    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        let y = self.binary_raw(BinaryOp::Add, rhs)?;
        let (sa, sb) = (self.shape().to_vec(), rhs.shape().to_vec());
        let (na, nb) = (self.tracks_grad(), rhs.tracks_grad());
        y.record(
            "add",
            &[self, rhs],
            move || -> BackwardFn {
                Box::new(move |g| {
                    Ok(vec![na.then(|| sum_to(g, &sa)).transpose()?, nb.then(|| sum_to(g, &sb)).transpose()?])
                })
            },
            |t, _| t[0].add(&t[1]),
        )
    }

    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        let y = self.binary_raw(BinaryOp::Sub, rhs)?;
        let (sa, sb) = (self.shape().to_vec(), rhs.shape().to_vec());
        let (na, nb) = (self.tracks_grad(), rhs.tracks_grad());
        y.record(
            "sub",
            &[self, rhs],
            move || -> BackwardFn {
                Box::new(move |g| {
                    Ok(vec![na.then(|| sum_to(g, &sa)).transpose()?, nb.then(|| sum_to(&g.neg()?, &sb)).transpose()?])
                })
            },
            |t, _| t[0].sub(&t[1]),
        )
    }

    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        let y = self.binary_raw(BinaryOp::Mul, rhs)?;
        let (na, nb) = (self.tracks_grad(), rhs.tracks_grad());
        let (a, b) = (self.detach(), rhs.detach());
        let (ja, jb) = (a.clone(), b.clone());
        y.record(
            "mul",
            &[self, rhs],
            move || -> BackwardFn {
                // Save only what the other input's gradient needs.
                let a_saved = nb.then(|| Saved::new("mul", "input 0", &a));
                let b_saved = na.then(|| Saved::new("mul", "input 1", &b));
                let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
                Box::new(move |g| {
                    let ga = match &b_saved {
                        Some(b) => Some(sum_to(&g.mul(b.get()?)?, &sa)?),
                        None => None,
                    };
                    let gb = match &a_saved {
                        Some(a) => Some(sum_to(&g.mul(a.get()?)?, &sb)?),
                        None => None,
                    };
                    Ok(vec![ga, gb])
                })
            },
            move |t, _| t[0].mul(&jb)?.add(&ja.mul(&t[1])?),
        )
    }

    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        let y = self.binary_raw(BinaryOp::Div, rhs)?;
        let (na, nb) = (self.tracks_grad(), rhs.tracks_grad());
        let (jb, jout) = (rhs.detach(), y.clone());
        let (b, out) = (Saved::new("div", "input 1", &jb), Saved::new("div", "output", &jout));
        let (sa, sb) = (self.shape().to_vec(), rhs.shape().to_vec());
        y.record(
            "div",
            &[self, rhs],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let gb_over = g.div(b.get()?)?;
                    let ga = na.then(|| sum_to(&gb_over, &sa)).transpose()?;
                    // d(a/b)/db = -(a/b)/b
                    let gb = nb.then(|| sum_to(&gb_over.mul(out.get()?)?.neg()?, &sb)).transpose()?;
                    Ok(vec![ga, gb])
                })
            },
            move |t, _| t[0].sub(&jout.mul(&t[1])?)?.div(&jb),
        )
    }

    /// Elementwise maximum (ties split the gradient evenly, as in PyTorch).
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.extremum(rhs, BinaryOp::Maximum)
    }
    /// Elementwise minimum.
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.extremum(rhs, BinaryOp::Minimum)
    }

    fn extremum(&self, rhs: &Tensor, op: BinaryOp) -> Result<Tensor> {
        let y = self.binary_raw(op, rhs)?;
        let (a, b) = (self.detach(), rhs.detach());
        // Weight of `a` in the result: 1 where it wins, ½ on ties, 0 where it loses.
        let weight_a = move |a: &Tensor, b: &Tensor| -> Result<Tensor> {
            let wins = if op == BinaryOp::Maximum { a.gt(b)? } else { a.lt(b)? };
            wins.to_dtype(a.dtype())?.add(&a.eq(b)?.to_dtype(a.dtype())?.affine(0.5, 0.0)?)
        };
        let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
        let (sva, svb) = (Saved::new(op.name(), "input 0", &a), Saved::new(op.name(), "input 1", &b));
        let (ja, jb) = (a, b);
        y.record(
            op.name(),
            &[self, rhs],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let wa = weight_a(sva.get()?, svb.get()?)?;
                    let ga = sum_to(&g.mul(&wa)?, &sa)?;
                    let gb = sum_to(&g.mul(&wa.affine(-1.0, 1.0)?)?, &sb)?;
                    Ok(vec![Some(ga), Some(gb)])
                })
            },
            move |t, _| {
                let wa = weight_a(&ja, &jb)?;
                t[0].mul(&wa)?.add(&t[1].mul(&wa.affine(-1.0, 1.0)?)?)
            },
        )
    }

    /// `self ^ rhs` elementwise (float).
    pub fn pow(&self, rhs: &Tensor) -> Result<Tensor> {
        let y = self.binary_raw(BinaryOp::Pow, rhs)?;
        let (ja, jb, jout) = (self.detach(), rhs.detach(), y.clone());
        let (a, b, out) =
            (Saved::new("pow", "input 0", &ja), Saved::new("pow", "input 1", &jb), Saved::new("pow", "output", &jout));
        // ∂/∂a = b·a^(b-1);  ∂/∂b = a^b·ln(a), taken as 0 where a ≤ 0 (PyTorch's choice at 0).
        let partials = |a: &Tensor, b: &Tensor, out: &Tensor| -> Result<(Tensor, Tensor)> {
            let da = b.mul(&a.pow(&b.add_scalar(-1.0)?)?)?;
            let pos = a.gt(&a.zeros_like()?)?;
            let safe = pos.where_cond(a, &a.ones_like()?)?;
            let db = out.mul(&safe.log()?)?.mul(&pos.to_dtype(a.dtype())?)?;
            Ok((da, db))
        };
        let (sa, sb) = (self.shape().to_vec(), rhs.shape().to_vec());
        y.record(
            "pow",
            &[self, rhs],
            move || -> BackwardFn {
                Box::new(move |g| {
                    let (da, db) = partials(a.get()?, b.get()?, out.get()?)?;
                    Ok(vec![Some(sum_to(&g.mul(&da)?, &sa)?), Some(sum_to(&g.mul(&db)?, &sb)?)])
                })
            },
            move |t, _| {
                let (da, db) = partials(&ja, &jb, &jout)?;
                t[0].mul(&da)?.add(&t[1].mul(&db)?)
            },
        )
    }
}
