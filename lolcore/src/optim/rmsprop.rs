//! RMSprop.

use super::{delegate_groups, grad_transform_builders, Optimizer, State, UpdateRule};
use crate::autograd::Gradients;
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.RMSprop`: alpha 0.99, eps 1e-8, optional momentum and centering.
pub struct RmsProp {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    state: State,
}

impl RmsProp {
    pub fn new(lr: f64) -> Self {
        RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            state: State::default(),
        }
    }
    pub fn alpha(mut self, a: f64) -> Self {
        self.alpha = a;
        self
    }
    pub fn eps(mut self, e: f64) -> Self {
        self.eps = e;
        self
    }
    pub fn weight_decay(mut self, w: f64) -> Self {
        self.weight_decay = w;
        self
    }
    pub fn momentum(mut self, m: f64) -> Self {
        self.momentum = m;
        self
    }
    pub fn centered(mut self, on: bool) -> Self {
        self.centered = on;
        self
    }
    grad_transform_builders!();
    pub fn params(mut self, params: Vec<Tensor>) -> Self {
        // A duplicate parameter is reported by the first `step`.
        self.state.add_or_defer(params, self.lr);
        self
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, grads: &Gradients) -> Result<()> {
        let (alpha, eps, wd, momentum, centered) =
            (self.alpha, self.eps, self.weight_decay, self.momentum, self.centered);
        self.state.step(self.name(), grads, |lr, _| UpdateRule::RmsProp {
            lr,
            alpha,
            eps,
            weight_decay: wd,
            momentum,
            centered,
        })
    }
    fn name(&self) -> &'static str {
        "RMSprop"
    }
    delegate_groups!();
}
