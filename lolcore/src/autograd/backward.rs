//! The reverse pass: topological order, then each node's backward closure, with
//! gradients summed where paths meet and handed out per leaf.

use super::{Edge, Node};
use crate::error::{bail, Error, Result};
use crate::tensor::{Tensor, TensorId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Gradients of the leaves (parameters) reached by a backward pass.
#[derive(Default, Clone)]
pub struct Gradients {
    map: HashMap<TensorId, Tensor>,
}

impl std::fmt::Debug for Gradients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.map.iter().map(|(k, v)| (k, v.shape()))).finish()
    }
}

impl Gradients {
    pub fn new() -> Self {
        Self::default()
    }
    /// The gradient for a leaf tensor, if it was reached.
    pub fn get(&self, t: &Tensor) -> Option<&Tensor> {
        self.map.get(&t.id())
    }
    pub fn get_id(&self, id: TensorId) -> Option<&Tensor> {
        self.map.get(&id)
    }
    pub fn remove(&mut self, t: &Tensor) -> Option<Tensor> {
        self.map.remove(&t.id())
    }
    pub fn insert(&mut self, t: &Tensor, g: Tensor) -> Option<Tensor> {
        self.map.insert(t.id(), g)
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&TensorId, &Tensor)> {
        self.map.iter()
    }
}

/// Nodes reachable from `root`, each after all nodes that consume its output.
fn reverse_topo(root: &Arc<Node>) -> Vec<Arc<Node>> {
    let mut order = Vec::new();
    let mut seen: HashSet<*const Node> = HashSet::new();
    // Iterative post-order DFS: deep graphs (long dynamic loops) must not overflow.
    let mut stack: Vec<(Arc<Node>, usize)> = vec![(root.clone(), 0)];
    seen.insert(Arc::as_ptr(root));
    while let Some((node, next)) = stack.pop() {
        let child = node.inputs[next..].iter().enumerate().find_map(|(k, e)| match e {
            Edge::Node(c) if !seen.contains(&Arc::as_ptr(c)) => Some((next + k, c.clone())),
            _ => None,
        });
        match child {
            Some((k, c)) => {
                seen.insert(Arc::as_ptr(&c));
                stack.push((node, k + 1));
                stack.push((c, 0));
            }
            None => order.push(node),
        }
    }
    order.reverse();
    order
}

fn accumulate(grads: &mut HashMap<TensorId, Tensor>, id: TensorId, g: Tensor) -> Result<()> {
    match grads.remove(&id) {
        Some(prev) => {
            grads.insert(id, prev.add(&g)?);
        }
        None => {
            grads.insert(id, g);
        }
    }
    Ok(())
}

/// Called once per leaf, as soon as its gradient is final (no later node adds to it).
pub type GradReadyHook<'a> = dyn FnMut(TensorId, &Tensor) -> Result<()> + 'a;

/// How many leaf edges point at each leaf over the whole pass: a leaf's gradient is
/// final when the last of them has been processed.
fn pending_leaf_edges(order: &[Arc<Node>]) -> HashMap<TensorId, u32> {
    let mut pending = HashMap::new();
    for n in order {
        for e in &n.inputs {
            if let Edge::Leaf(id) = e {
                *pending.entry(*id).or_insert(0) += 1;
            }
        }
    }
    pending
}

pub(crate) fn run_backward(
    root: &Tensor,
    seed: Tensor,
    retain_graph: bool,
    mut hook: Option<&mut GradReadyHook<'_>>,
) -> Result<Gradients> {
    if seed.shape() != root.shape() {
        bail!(Error::Autograd(format!(
            "gradient of shape {:?} given for a tensor of shape {:?}",
            seed.shape(),
            root.shape()
        )));
    }
    let mut out = Gradients::new();
    let node = match root.grad_state() {
        super::GradState::None => bail!(Error::Autograd(
            "this tensor does not require grad: no input of the ops that made it was marked requires_grad(true) (or it was made under no_grad)".into()
        )),
        super::GradState::Leaf => {
            if let Some(h) = hook.as_mut() {
                h(root.id(), &seed)?;
            }
            out.map.insert(root.id(), seed);
            return Ok(out);
        }
        super::GradState::Node(n) => n.clone(),
    };
    super::no_grad(|| {
        let mut grads: HashMap<TensorId, Tensor> = HashMap::new();
        grads.insert(node.out_id, seed);
        let order = reverse_topo(&node);
        let mut pending = if hook.is_some() { pending_leaf_edges(&order) } else { HashMap::new() };
        for n in &order {
            let Some(g) = grads.remove(&n.out_id) else {
                // A dead branch still counts down its leaves, or they would never be final.
                if let Some(h) = hook.as_mut() {
                    fire_final_leaves(n, &mut pending, &out, h)?;
                }
                continue;
            };
            let input_grads = {
                let mut slot = n.backward.lock().unwrap_or_else(|e| e.into_inner());
                let Some(f) = slot.as_ref() else {
                    bail!(Error::Autograd(format!(
                        "the graph through `{}` was already freed by an earlier backward; use backward_retain_graph to go through it twice",
                        n.name
                    )))
                };
                let r = f(&g)?;
                if !retain_graph {
                    *slot = None;
                }
                r
            };
            if input_grads.len() != n.inputs.len() {
                bail!(Error::Autograd(format!(
                    "internal: `{}` returned {} gradients for {} inputs",
                    n.name,
                    input_grads.len(),
                    n.inputs.len()
                )));
            }
            for (edge, ig) in n.inputs.iter().zip(input_grads) {
                let Some(ig) = ig else { continue };
                match edge {
                    Edge::None => {}
                    Edge::Leaf(id) => accumulate(&mut out.map, *id, ig)?,
                    Edge::Node(c) => accumulate(&mut grads, c.out_id, ig)?,
                }
            }
            if let Some(h) = hook.as_mut() {
                fire_final_leaves(n, &mut pending, &out, h)?;
            }
        }
        Ok(out)
    })
}

/// Counts down `n`'s leaf edges and hands each leaf whose count reached zero to the hook.
fn fire_final_leaves(
    n: &Node,
    pending: &mut HashMap<TensorId, u32>,
    out: &Gradients,
    hook: &mut GradReadyHook<'_>,
) -> Result<()> {
    for e in &n.inputs {
        let Edge::Leaf(id) = e else { continue };
        let Some(c) = pending.get_mut(id) else { continue };
        *c -= 1;
        if *c == 0 {
            pending.remove(id);
            if let Some(g) = out.map.get(id) {
                hook(*id, g)?;
            }
        }
    }
    Ok(())
}

impl Tensor {
    /// Gradients of this scalar with respect to every leaf that requires grad.
    /// Frees the graph it walked (as PyTorch does without `retain_graph`).
    pub fn backward(&self) -> Result<Gradients> {
        if self.numel() != 1 {
            bail!(Error::Autograd(format!(
                "backward() needs a scalar (one element), got shape {:?}; reduce it (sum_all/mean_all) or use backward_with(grad)",
                self.shape()
            )));
        }
        run_backward(self, self.ones_like()?, false, None)
    }
    /// Like `backward`, and calls `hook(leaf_id, grad)` for each leaf as soon as its
    /// gradient is final, while the rest of the pass still runs (PyTorch's
    /// `register_post_accumulate_grad_hook`, given per call). Data-parallel training
    /// uses it to start all-reducing a bucket of gradients before backward ends.
    /// Leaves that get no gradient never reach the hook.
    pub fn backward_with_hook(&self, hook: &mut GradReadyHook<'_>) -> Result<Gradients> {
        if self.numel() != 1 {
            bail!(Error::Autograd(format!(
                "backward_with_hook() needs a scalar (one element), got shape {:?}",
                self.shape()
            )));
        }
        run_backward(self, self.ones_like()?, false, Some(hook))
    }
    /// Backward from a given output gradient (for non-scalar outputs).
    pub fn backward_with(&self, grad: &Tensor) -> Result<Gradients> {
        self.same_device("backward_with", grad)?;
        run_backward(self, grad.to_dtype(self.dtype())?.detach(), false, None)
    }
    /// Like `backward`, but keeps the graph so it can be walked again.
    pub fn backward_retain_graph(&self) -> Result<Gradients> {
        if self.numel() != 1 {
            bail!(Error::Autograd(format!("backward needs a scalar, got shape {:?}", self.shape())));
        }
        run_backward(self, self.ones_like()?, true, None)
    }
}
