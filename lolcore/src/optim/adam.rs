//! Adam and AdamW.

use super::{delegate_groups, grad_transform_builders, Optimizer, State, UpdateRule};
use crate::autograd::Gradients;
use crate::error::Result;
use crate::tensor::Tensor;

macro_rules! adam_like {
    ($(#[$m:meta])* $name:ident, $label:literal, $decoupled:expr, $default_wd:expr) => {
        $(#[$m])*
        pub struct $name {
            lr: f64,
            betas: (f64, f64),
            eps: f64,
            weight_decay: f64,
            state: State,
        }

        impl $name {
            /// betas (0.9, 0.999), eps 1e-8 (PyTorch's defaults).
            pub fn new(lr: f64) -> Self {
                $name { lr, betas: (0.9, 0.999), eps: 1e-8, weight_decay: $default_wd, state: State::default() }
            }
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.betas = (beta1, beta2);
                self
            }
            pub fn eps(mut self, eps: f64) -> Self {
                self.eps = eps;
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

        impl Optimizer for $name {
            fn step(&mut self, grads: &Gradients) -> Result<()> {
                let ((b1, b2), eps, wd) = (self.betas, self.eps, self.weight_decay);
                self.state.step(self.name(), grads, |lr, step| UpdateRule::Adam {
                    lr,
                    beta1: b1,
                    beta2: b2,
                    eps,
                    weight_decay: wd,
                    decoupled: $decoupled,
                    step,
                })
            }
            fn name(&self) -> &'static str {
                $label
            }
            delegate_groups!();
        }
    };
}

adam_like!(
    /// `torch.optim.Adam` (weight decay, if any, added to the gradient).
    Adam,
    "Adam",
    false,
    0.0
);
adam_like!(
    /// `torch.optim.AdamW`: weight decay applied to the weights directly (default 0.01).
    AdamW,
    "AdamW",
    true,
    0.01
);
