//! Optimizers for hand-written loops and for `Model::fit`: SGD (momentum, dampening,
//! Nesterov, weight decay), Adam, AdamW, RMSprop, Adagrad, with PyTorch's formulas;
//! parameter groups with their own learning rates; LR schedules; gradient clipping.
//! Every update is applied in place, in one fused pass per tensor, outside autograd.
//!
//! ```
//! use lolcore::optim::{Optimizer, Sgd};
//! use lolcore::{Device, Tensor};
//! let w = Tensor::ones(&[3], &Device::Cpu)?.requires_grad(true);
//! let mut opt = Sgd::new(0.1).momentum(0.9).params(vec![w.clone()]);
//! let grads = w.sqr()?.sum_all()?.backward()?;
//! opt.step(&grads)?;
//! assert_eq!(w.to_vec::<f32>()?, vec![0.8; 3]);
//! # Ok::<(), lolcore::Error>(())
//! ```

mod adagrad;
mod adam;
mod apply;
mod clip;
mod grad_transform;
mod rmsprop;
mod rule;
mod schedule;
mod sgd;
mod state_dict;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub(crate) use grad_transform::grad_transform_builders;
use grad_transform::GradTransform;
pub use rmsprop::RmsProp;
pub(crate) use rule::UpdateRule;
pub use schedule::{apply_schedule, CosineAnnealingLr, ExponentialLr, LrSchedule, Plateau, PlateauScheduler, StepLr};
pub use sgd::Sgd;

use crate::autograd::Gradients;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorId};
use std::collections::{HashMap, HashSet};

/// Parameters that share a learning rate.
#[derive(Clone, Debug)]
pub struct ParamGroup {
    pub params: Vec<Tensor>,
    pub lr: f64,
}

/// What every optimizer offers (object-safe, so a model can hold `Box<dyn Optimizer>`).
pub trait Optimizer: Send {
    /// Updates every parameter that has a gradient in `grads`, in place. A parameter
    /// that gets no gradient is left as it is and reported once on stderr (it is not
    /// used by the loss, was detached, or does not require grad).
    fn step(&mut self, grads: &Gradients) -> Result<()>;
    fn param_groups(&self) -> &[ParamGroup];
    fn param_groups_mut(&mut self) -> &mut [ParamGroup];
    /// Adds parameters; `lr: None` uses the optimizer's default learning rate. A
    /// parameter already in a group (or listed twice) is an error, as in PyTorch: it
    /// would be stepped twice per step.
    fn add_param_group(&mut self, params: Vec<Tensor>, lr: Option<f64>) -> Result<()>;
    /// The default learning rate (for groups added without one).
    fn default_lr(&self) -> f64;
    /// Short name for summaries and logs ("Adam", "SGD", ...).
    fn name(&self) -> &'static str;
    /// Forgets parameters and state.
    fn clear(&mut self);
    /// Points the groups at new handles of the same parameters, matched by id, after a
    /// module was moved or cast (`Module::move_to` / `cast_to` keep each parameter's
    /// id): groups and learning rates are kept, and lol's optimizers move and convert
    /// their state alongside (this default, for optimizers written elsewhere, swaps the
    /// handles only). Parameters in `params` that no group holds are ignored.
    fn rebind(&mut self, params: &[Tensor]) -> Result<()> {
        rebind_handles(self.param_groups_mut(), params);
        Ok(())
    }
    /// Gives parameters names for messages (`Model` passes the module's dotted names).
    fn name_parameters(&mut self, _names: &[(String, Tensor)]) {}
    /// The state (learning rates, step counts, moments, accumulated gradients) as named
    /// tensors, for a training checkpoint. Parameters are numbered in group order.
    fn state_dict(&self) -> Result<Vec<(String, Tensor)>> {
        Err(Error::arg("state_dict", format!("the {} optimizer cannot save its state", self.name())))
    }
    /// Restores a `state_dict` of the same optimizer over parameters of the same shapes.
    fn load_state_dict(&mut self, _state: &[(String, Tensor)]) -> Result<()> {
        Err(Error::arg("load_state_dict", format!("the {} optimizer cannot load a state", self.name())))
    }

    /// The learning rate of the first group (or the default when there is none).
    fn learning_rate(&self) -> f64 {
        self.param_groups().first().map(|g| g.lr).unwrap_or_else(|| self.default_lr())
    }
    /// Sets the learning rate of every group.
    fn set_learning_rate(&mut self, lr: f64) {
        for g in self.param_groups_mut() {
            g.lr = lr;
        }
    }
}

/// Replaces each grouped parameter by its handle in `params` (same id); returns the
/// replaced ones whose device or dtype changed.
fn rebind_handles(groups: &mut [ParamGroup], params: &[Tensor]) -> Vec<Tensor> {
    let by_id: HashMap<TensorId, &Tensor> = params.iter().map(|p| (p.id(), p)).collect();
    let mut changed = Vec::new();
    for g in groups {
        for p in g.params.iter_mut() {
            if let Some(&n) = by_id.get(&p.id()) {
                if p.device() != n.device() || p.dtype() != n.dtype() {
                    changed.push(n.clone());
                }
                *p = n.clone();
            }
        }
    }
    changed
}

/// Groups and per-parameter state shared by the optimizer implementations.
#[derive(Default)]
pub(crate) struct State {
    pub groups: Vec<ParamGroup>,
    /// Per parameter: its state buffers (shaped like it) and its step count.
    pub per_param: HashMap<TensorId, (Vec<Tensor>, u64)>,
    /// An error from a builder (`.params(..)`), reported by the next `step`.
    pending: Option<String>,
    names: HashMap<TensorId, String>,
    /// Parameters already reported as getting no gradient.
    warned: HashSet<TensorId>,
    /// Clipping and accumulation applied to the gradients before the update.
    pub transform: GradTransform,
}

impl State {
    /// Adds a group; errors on a parameter that some group (or this one) already holds.
    pub fn add(&mut self, params: Vec<Tensor>, lr: f64) -> Result<()> {
        let mut seen: HashMap<TensorId, usize> = HashMap::new();
        for (gi, g) in self.groups.iter().enumerate() {
            for p in &g.params {
                seen.insert(p.id(), gi);
            }
        }
        let new_group = self.groups.len();
        for (i, p) in params.iter().enumerate() {
            if let Some(gi) = seen.insert(p.id(), new_group) {
                let where_ =
                    if gi == new_group { "earlier in this group".to_string() } else { format!("in group {gi}") };
                let msg = format!(
                    "parameter {i} of the new group ({}, shape {:?}) is already {where_}: it would be stepped twice \
                     per step",
                    self.label(p),
                    p.shape()
                );
                return Err(Error::arg("add_param_group", msg));
            }
        }
        self.groups.push(ParamGroup { params, lr });
        Ok(())
    }

    /// `add` for builders, which cannot return an error: the first `step` reports it.
    pub fn add_or_defer(&mut self, params: Vec<Tensor>, lr: f64) {
        if let Err(e) = self.add(params, lr) {
            self.pending.get_or_insert(e.to_string());
        }
    }

    fn label(&self, p: &Tensor) -> String {
        self.names.get(&p.id()).cloned().unwrap_or_else(|| "unnamed".into())
    }

    pub fn name_parameters(&mut self, names: &[(String, Tensor)]) {
        for (n, t) in names {
            self.names.insert(t.id(), n.clone());
        }
    }

    /// New handles for the same parameters (by id); state follows them to their device
    /// and dtype.
    pub fn rebind(&mut self, params: &[Tensor]) -> Result<()> {
        for n in rebind_handles(&mut self.groups, params) {
            if let Some((states, _)) = self.per_param.get_mut(&n.id()) {
                for s in states.iter_mut() {
                    *s = s.to_device(&n.device())?.to_dtype(n.dtype())?.deep_copy()?;
                }
            }
            if let Some(sum) = self.transform.sums.get_mut(&n.id()) {
                *sum = sum.to_device(&n.device())?.to_dtype(n.dtype())?.deep_copy()?;
            }
        }
        Ok(())
    }

    /// Runs `rule_for(lr, step)` on every parameter with a gradient.
    pub fn step(
        &mut self,
        opt: &'static str,
        grads: &Gradients,
        rule_for: impl Fn(f64, u64) -> UpdateRule,
    ) -> Result<()> {
        if let Some(msg) = &self.pending {
            return Err(Error::msg(msg.clone()));
        }
        let params: Vec<Tensor> = self.groups.iter().flat_map(|g| g.params.iter().cloned()).collect();
        let Some(transformed) = self.transform.apply(grads, &params)? else {
            return Ok(()); // accumulating: the update comes at the k-th step
        };
        let grads = &transformed;
        // Every check first: a step that fails changes nothing (no parameter updated, no
        // step count advanced), so fixing the cause and stepping again is safe.
        for g in &self.groups {
            if let Some(q) = g.params.iter().find(|q| q.device() != g.params[0].device()) {
                return Err(Error::DeviceMismatch { op: "optimizer", lhs: g.params[0].device(), rhs: q.device() });
            }
        }
        for p in self.groups.iter().flat_map(|g| &g.params) {
            if let Some(grad) = grads.get(p) {
                if grad.device() != p.device() || grad.dtype() != p.dtype() {
                    return Err(Error::arg(
                        "optimizer",
                        format!(
                            "parameter {} ({:?}, {} on {}) has its gradient in {} on {}: the module was moved or \
                             cast after the optimizer was built; call optimizer.rebind(&module.parameters())",
                            self.label(p),
                            p.shape(),
                            p.dtype(),
                            p.device(),
                            grad.dtype(),
                            grad.device()
                        ),
                    ));
                }
                apply::check(p, grad)?;
            }
        }
        let mut missing = Vec::new();
        for g in &self.groups {
            let mut items = Vec::with_capacity(g.params.len());
            for p in &g.params {
                let Some(grad) = grads.get(p) else {
                    if self.warned.insert(p.id()) {
                        missing.push(p.clone());
                    }
                    continue;
                };
                let entry = self.per_param.entry(p.id()).or_insert_with(|| (Vec::new(), 0));
                entry.1 += 1;
                let rule = rule_for(g.lr, entry.1);
                while entry.0.len() < rule.state_count() {
                    entry.0.push(p.zeros_like()?);
                }
                items.push((p, grad, rule, entry.0.clone()));
            }
            apply::apply_all(&items)?;
        }
        if !missing.is_empty() {
            let list: Vec<String> = missing
                .iter()
                .map(|p| {
                    let why = if p.is_leaf_param() { "" } else { ", does not require grad" };
                    format!("{} {:?}{why}", self.label(p), p.shape())
                })
                .collect();
            eprintln!(
                "warning: {opt}: no gradient reached {} of its parameters ({}), so they were not updated: they are \
                 not used by the loss, were detached, or do not require grad. (Reported once per parameter.)",
                missing.len(),
                list.join("; ")
            );
        }
        Ok(())
    }
}

/// The trait methods every optimizer forwards to its `State`.
macro_rules! delegate_groups {
    () => {
        fn param_groups(&self) -> &[crate::optim::ParamGroup] {
            &self.state.groups
        }
        fn param_groups_mut(&mut self) -> &mut [crate::optim::ParamGroup] {
            &mut self.state.groups
        }
        fn add_param_group(&mut self, params: Vec<crate::Tensor>, lr: Option<f64>) -> crate::Result<()> {
            let lr = lr.unwrap_or(self.lr);
            self.state.add(params, lr)
        }
        fn default_lr(&self) -> f64 {
            self.lr
        }
        fn clear(&mut self) {
            // Clipping and accumulation are settings, not state: they stay.
            let mut transform = std::mem::take(&mut self.state.transform);
            transform.sums.clear();
            transform.pending = 0;
            self.state = crate::optim::State { transform, ..Default::default() };
        }
        fn rebind(&mut self, params: &[crate::Tensor]) -> crate::Result<()> {
            self.state.rebind(params)
        }
        fn name_parameters(&mut self, names: &[(String, crate::Tensor)]) {
            self.state.name_parameters(names)
        }
        fn state_dict(&self) -> crate::Result<Vec<(String, crate::Tensor)>> {
            self.state.state_dict()
        }
        fn load_state_dict(&mut self, state: &[(String, crate::Tensor)]) -> crate::Result<()> {
            self.state.load_state_dict("load_state_dict", state)
        }
    };
}
pub(crate) use delegate_groups;
