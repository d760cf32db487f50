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
mod rmsprop;
mod rule;
mod schedule;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use rmsprop::RmsProp;
pub use rule::UpdateRule;
pub use schedule::{apply_schedule, CosineAnnealingLr, ExponentialLr, LrSchedule, Plateau, ReduceLrOnPlateau, StepLr};
pub use sgd::Sgd;

use crate::autograd::Gradients;
use crate::error::Result;
use crate::tensor::{Tensor, TensorId};
use std::collections::HashMap;

/// Parameters that share a learning rate.
#[derive(Clone, Debug)]
pub struct ParamGroup {
    pub params: Vec<Tensor>,
    pub lr: f64,
}

/// What every optimizer offers (object-safe, so a model can hold `Box<dyn Optimizer>`).
pub trait Optimizer: Send {
    /// Updates every parameter that has a gradient in `grads`, in place.
    fn step(&mut self, grads: &Gradients) -> Result<()>;
    fn param_groups(&self) -> &[ParamGroup];
    fn param_groups_mut(&mut self) -> &mut [ParamGroup];
    /// Adds parameters; `lr: None` uses the optimizer's default learning rate.
    fn add_param_group(&mut self, params: Vec<Tensor>, lr: Option<f64>);
    /// The default learning rate (for groups added without one).
    fn default_lr(&self) -> f64;
    /// Short name for summaries and logs ("Adam", "SGD", ...).
    fn name(&self) -> &'static str;
    /// Forgets parameters and state (a model re-binds after moving devices).
    fn clear(&mut self);

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

/// Groups and per-parameter state shared by the optimizer implementations.
#[derive(Default)]
pub(crate) struct State {
    pub groups: Vec<ParamGroup>,
    /// Per parameter: its state buffers (shaped like it) and its step count.
    pub per_param: HashMap<TensorId, (Vec<Tensor>, u64)>,
}

impl State {
    pub fn add(&mut self, params: Vec<Tensor>, lr: f64) {
        self.groups.push(ParamGroup { params, lr });
    }
    /// Runs `rule_for(lr, step)` on every parameter with a gradient.
    pub fn step(&mut self, grads: &Gradients, rule_for: impl Fn(f64, u64) -> UpdateRule) -> Result<()> {
        for g in &self.groups {
            let mut items = Vec::with_capacity(g.params.len());
            for p in &g.params {
                let Some(grad) = grads.get(p) else { continue };
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
        fn add_param_group(&mut self, params: Vec<crate::Tensor>, lr: Option<f64>) {
            let lr = lr.unwrap_or(self.lr);
            self.state.add(params, lr)
        }
        fn default_lr(&self) -> f64 {
            self.lr
        }
        fn clear(&mut self) {
            self.state = Default::default();
        }
    };
}
pub(crate) use delegate_groups;
