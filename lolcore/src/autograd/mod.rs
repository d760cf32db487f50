//! Reverse-mode autodiff: ops record a node (their inputs' edges and a backward closure
//! written in tensor ops) when grad mode is on and an input tracks gradients; `backward`
//! walks the nodes in reverse topological order, summing gradients where paths meet.
//! Forward mode lives in `forward.rs` and is driven by the same ops.

mod backward;
pub mod forward;
pub mod function;
mod grad_mode;

pub use backward::{GradReadyHook, Gradients};
pub use grad_mode::{is_grad_enabled, no_grad, with_grad_enabled};

use crate::error::Result;
use crate::tensor::{Tensor, TensorId};
use std::sync::{Arc, Mutex};

/// Gradients of an op's inputs from the gradient of its output (`None`: no gradient).
pub(crate) type BackwardFn = Box<dyn Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// Where a tensor sits in the graph.
pub(crate) enum GradState {
    /// Constant: no gradient flows here.
    None,
    /// A parameter: gradients are collected for it.
    Leaf,
    /// Made by a differentiable op.
    Node(Arc<Node>),
}

/// How an op input connects back into the graph.
pub(crate) enum Edge {
    None,
    Leaf(TensorId),
    Node(Arc<Node>),
}

pub(crate) struct Node {
    pub(crate) name: &'static str,
    /// The id of the tensor this node produced (gradients are keyed by it).
    pub(crate) out_id: TensorId,
    pub(crate) inputs: Vec<Edge>,
    /// Taken (freed, with what it saved) by a backward pass unless the graph is retained.
    pub(crate) backward: Mutex<Option<BackwardFn>>,
}

impl Tensor {
    fn edge(&self) -> Edge {
        match self.grad_state() {
            GradState::None => Edge::None,
            GradState::Leaf => Edge::Leaf(self.id()),
            GradState::Node(n) => Edge::Node(n.clone()),
        }
    }

    /// Attaches autograd to the primal result `self` of op `name` on `inputs`:
    /// - a graph node, when grad mode is on and an input tracks gradients
    ///   (`backward` is only called then, so saved tensors are cloned only when needed);
    /// - a forward-mode tangent, when an input carries one (`jvp` gets each input's
    ///   tangent, zeros where it has none, and the primal output).
    pub(crate) fn record<B, J>(self, name: &'static str, inputs: &[&Tensor], backward: B, jvp: J) -> Result<Tensor>
    where
        B: FnOnce() -> BackwardFn,
        J: FnOnce(&[Tensor], &Tensor) -> Result<Tensor>,
    {
        let needs_grad = is_grad_enabled() && inputs.iter().any(|t| t.tracks_grad());
        let has_tangent = forward::is_forward_enabled() && inputs.iter().any(|t| t.0.tangent.is_some());
        if !needs_grad && !has_tangent {
            return Ok(self);
        }
        let tangent = if has_tangent {
            let ts = inputs.iter().map(|t| t.tangent_or_zeros()).collect::<Result<Vec<_>>>()?;
            Some(forward::without_forward(|| jvp(&ts, &self))?)
        } else {
            None
        };
        let grad = if needs_grad {
            let id = TensorId::new();
            let node = Node {
                name,
                out_id: id,
                inputs: inputs.iter().map(|t| t.edge()).collect(),
                backward: Mutex::new(Some(backward())),
            };
            return Ok(self.with_autograd_id(id, GradState::Node(Arc::new(node)), tangent));
        } else {
            GradState::None
        };
        Ok(self.with_autograd(grad, tangent))
    }
}

/// A tensor an op keeps for its backward, with the version its storage had then
/// (PyTorch's saved-variable check): if anything writes to that storage in place before
/// the backward runs, the gradient would silently use the new values, so reading it
/// back is an error naming the op and the tensor instead.
pub(crate) struct Saved {
    t: Tensor,
    version: u64,
    op: &'static str,
    role: &'static str,
}

impl Saved {
    /// Keeps `t` (detached) for op `op`, where `role` says which tensor it is ("input 0",
    /// "weight", "output", ...).
    pub(crate) fn new(op: &'static str, role: &'static str, t: &Tensor) -> Saved {
        Saved { t: t.detach(), version: t.version(), op, role }
    }
    /// The saved tensor, if its storage was not written since it was saved.
    pub(crate) fn get(&self) -> Result<&Tensor> {
        let now = self.t.version();
        if now != self.version {
            return Err(crate::Error::Autograd(format!(
                "`{}` saved its {} (shape {:?}, {}) for the backward pass, and it was modified in place afterwards \
                 (version {} when saved, {now} now): the gradient would be wrong. Modify a copy (deep_copy) instead, \
                 or run the forward pass again after the in-place write",
                self.op,
                self.role,
                self.t.shape(),
                self.t.dtype(),
                self.version
            )));
        }
        Ok(&self.t)
    }
}

/// Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting).
pub(crate) fn sum_to(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let extra = g.rank() - shape.len();
    let mut dims: Vec<usize> = (0..extra).collect();
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 && g.shape()[extra + i] != 1 {
            dims.push(extra + i);
        }
    }
    let s = g.sum_dims_keepdim(&dims)?;
    s.reshape(shape)
}
