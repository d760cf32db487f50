//! The update rules, as plain data a backend applies in one fused pass per tensor.

/// One optimizer step's arithmetic for a parameter (PyTorch's formulas).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpdateRule {
    /// State: `[momentum_buffer]` when momentum ≠ 0. `first`: the buffer starts as the gradient.
    Sgd { lr: f64, momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64, first: bool },
    /// State: `[exp_avg, exp_avg_sq]`. `decoupled`: AdamW's weight decay. `step` counts from 1.
    Adam { lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, decoupled: bool, step: u64 },
    /// State: `[square_avg]`, then `[momentum_buffer]` if momentum > 0, then `[grad_avg]` if centered.
    RmsProp { lr: f64, alpha: f64, eps: f64, weight_decay: f64, momentum: f64, centered: bool },
    /// State: `[sum]`. `step` counts from 1.
    Adagrad { lr: f64, eps: f64, weight_decay: f64, lr_decay: f64, step: u64 },
}

impl UpdateRule {
    /// How many state buffers (each shaped like the parameter) the rule keeps.
    pub fn state_count(&self) -> usize {
        match *self {
            UpdateRule::Sgd { momentum, .. } => usize::from(momentum != 0.0),
            UpdateRule::Adam { .. } => 2,
            UpdateRule::RmsProp { momentum, centered, .. } => 1 + usize::from(momentum > 0.0) + usize::from(centered),
            UpdateRule::Adagrad { .. } => 1,
        }
    }
}
