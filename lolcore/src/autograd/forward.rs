//! Forward-mode autodiff with dual tensors: a tensor may carry a tangent (the ε part of
//! a dual number), and every op that sees one computes its output's tangent by its own
//! JVP rule, next to its backward rule. `jvp` is the entry point.

use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;
use std::cell::Cell;

thread_local! {
    static FORWARD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

pub(crate) fn is_forward_enabled() -> bool {
    FORWARD_ENABLED.with(|f| f.get())
}

struct Restore(bool);
impl Drop for Restore {
    fn drop(&mut self) {
        FORWARD_ENABLED.with(|f| f.set(self.0));
    }
}

/// Runs `f` without tangent propagation (JVP rules themselves are first-order).
pub(crate) fn without_forward<R>(f: impl FnOnce() -> R) -> R {
    let _r = Restore(FORWARD_ENABLED.with(|c| c.replace(false)));
    f()
}

impl Tensor {
    /// A dual tensor: these values with tangent `t` (same shape), which ops propagate.
    pub fn with_tangent(&self, t: &Tensor) -> Result<Tensor> {
        if t.shape() != self.shape() {
            bail!(Error::shape(
                "with_tangent",
                format!("tangent shape {:?} differs from primal shape {:?}", t.shape(), self.shape())
            ));
        }
        self.same_device("with_tangent", t)?;
        let t = t.to_dtype(self.dtype())?.detach();
        // Same id and graph position: the dual is the same tensor, plus a tangent.
        Ok(self.with_autograd_id(self.id(), clone_grad(self), Some(t)))
    }
    /// The forward-mode tangent this tensor carries, if any.
    pub fn tangent(&self) -> Option<&Tensor> {
        self.0.tangent.as_ref()
    }
    pub(crate) fn tangent_or_zeros(&self) -> Result<Tensor> {
        match &self.0.tangent {
            Some(t) => Ok(t.clone()),
            None => self.zeros_like(),
        }
    }
}

/// Jacobian-vector product by forward mode: evaluates `f` at `primals` with tangents
/// attached and returns `(outputs, output tangents)`; an output that does not depend on
/// the inputs gets a zero tangent.
pub fn jvp<F>(f: F, primals: &[Tensor], tangents: &[Tensor]) -> Result<(Vec<Tensor>, Vec<Tensor>)>
where
    F: FnOnce(&[Tensor]) -> Result<Vec<Tensor>>,
{
    if primals.len() != tangents.len() {
        bail!(Error::arg("jvp", format!("{} primals but {} tangents", primals.len(), tangents.len())));
    }
    let duals = primals.iter().zip(tangents).map(|(p, t)| p.with_tangent(t)).collect::<Result<Vec<_>>>()?;
    let outs = f(&duals)?;
    let mut values = Vec::with_capacity(outs.len());
    let mut dots = Vec::with_capacity(outs.len());
    for o in outs {
        dots.push(o.tangent_or_zeros()?);
        values.push(o.with_autograd_id(o.id(), clone_grad(&o), None));
    }
    Ok((values, dots))
}

fn clone_grad(t: &Tensor) -> crate::autograd::GradState {
    use crate::autograd::GradState;
    match t.grad_state() {
        GradState::None => GradState::None,
        GradState::Leaf => GradState::Leaf,
        GradState::Node(n) => GradState::Node(n.clone()),
    }
}
