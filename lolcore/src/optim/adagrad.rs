//! Adagrad.

use super::{delegate_groups, grad_transform_builders, Optimizer, State, UpdateRule};
use crate::autograd::Gradients;
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.Adagrad`: eps 1e-10, optional learning-rate decay.
pub struct Adagrad {
    lr: f64,
    eps: f64,
    weight_decay: f64,
    lr_decay: f64,
    state: State,
}

impl Adagrad {
    pub fn new(lr: f64) -> Self {
        Adagrad { lr, eps: 1e-10, weight_decay: 0.0, lr_decay: 0.0, state: State::default() }
    }
    pub fn eps(mut self, e: f64) -> Self {
        self.eps = e;
        self
    }
    pub fn weight_decay(mut self, w: f64) -> Self {
        self.weight_decay = w;
        self
    }
    pub fn lr_decay(mut self, d: f64) -> Self {
        self.lr_decay = d;
        self
    }
    grad_transform_builders!();
    pub fn params(mut self, params: Vec<Tensor>) -> Self {
        // A duplicate parameter is reported by the first `step`.
        self.state.add_or_defer(params, self.lr);
        self
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self, grads: &Gradients) -> Result<()> {
        let (eps, wd, decay) = (self.eps, self.weight_decay, self.lr_decay);
        self.state.step(self.name(), grads, |lr, step| UpdateRule::Adagrad {
            lr,
            eps,
            weight_decay: wd,
            lr_decay: decay,
            step,
        })
    }
    fn name(&self) -> &'static str {
        "Adagrad"
    }
    delegate_groups!();
}
