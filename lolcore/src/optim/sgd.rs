//! Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

use super::{delegate_groups, grad_transform_builders, Optimizer, State, UpdateRule};
use crate::autograd::Gradients;
use crate::error::Result;
use crate::tensor::Tensor;

/// `torch.optim.SGD`: `p −= lr·(g + wd·p)`, with momentum `buf = m·buf + (1−dampening)·g`.
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    weight_decay: f64,
    state: State,
}

impl Sgd {
    pub fn new(lr: f64) -> Self {
        Sgd { lr, momentum: 0.0, dampening: 0.0, nesterov: false, weight_decay: 0.0, state: State::default() }
    }
    pub fn momentum(mut self, m: f64) -> Self {
        self.momentum = m;
        self
    }
    pub fn dampening(mut self, d: f64) -> Self {
        self.dampening = d;
        self
    }
    pub fn nesterov(mut self, on: bool) -> Self {
        self.nesterov = on;
        self
    }
    pub fn weight_decay(mut self, w: f64) -> Self {
        self.weight_decay = w;
        self
    }
    grad_transform_builders!();
    /// Adds `params` as a group at the default learning rate.
    pub fn params(mut self, params: Vec<Tensor>) -> Self {
        // A duplicate parameter is reported by the first `step`.
        self.state.add_or_defer(params, self.lr);
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, grads: &Gradients) -> Result<()> {
        let (m, d, n, wd) = (self.momentum, self.dampening, self.nesterov, self.weight_decay);
        self.state.step(self.name(), grads, |lr, step| UpdateRule::Sgd {
            lr,
            momentum: m,
            dampening: d,
            nesterov: n,
            weight_decay: wd,
            first: step == 1,
        })
    }
    fn name(&self) -> &'static str {
        "SGD"
    }
    delegate_groups!();
}
