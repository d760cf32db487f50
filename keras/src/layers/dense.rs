//! Dense (PyTorch's `Linear`): `y = x·Wᵀ + b`, weight `[out, in]`.

use super::Activation;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Result, Tensor};

/// A fully connected layer.
///
/// # Shapes
/// - input `[.., in_features]` → output `[.., out_features]`
/// - `weight`: `[out_features, in_features]`, `bias`: `[out_features]`
#[derive(Module)]
pub struct Dense {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    in_features: usize,
    #[module(skip)]
    out_features: usize,
}

impl Dense {
    /// PyTorch's initialisation: weight and bias U(−1/√in, 1/√in).
    pub fn new(in_features: usize, out_features: usize) -> Dense {
        let w = Init::TorchDefault.cpu_tensor(&[out_features, in_features], in_features, out_features);
        let b = Init::TorchDefault.cpu_tensor(&[out_features], in_features, out_features);
        Dense {
            weight: w.requires_grad(true),
            bias: Some(b.requires_grad(true)),
            activation: Activation::Linear,
            in_features,
            out_features,
        }
    }
    /// Applies `activation` to the output (Keras's `activation=`).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    /// With or without a bias (`use_bias`).
    pub fn bias(mut self, on: bool) -> Self {
        self.bias =
            if on { Some(Init::Zeros.cpu_tensor(&[self.out_features], 0, 0).requires_grad(true)) } else { None };
        self
    }
    /// Re-initialises the weight (`kernel_initializer`).
    pub fn init(mut self, init: Init) -> Self {
        self.weight = init
            .cpu_tensor(&[self.out_features, self.in_features], self.in_features, self.out_features)
            .requires_grad(true);
        self
    }
    /// Re-initialises the bias (`bias_initializer`).
    pub fn bias_init(mut self, init: Init) -> Self {
        if self.bias.is_some() {
            self.bias =
                Some(init.cpu_tensor(&[self.out_features], self.in_features, self.out_features).requires_grad(true));
        }
        self
    }
    pub fn in_features(&self) -> usize {
        self.in_features
    }
    pub fn out_features(&self) -> usize {
        self.out_features
    }
}

impl Forward for Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = functional::linear(x, &self.weight, self.bias.as_ref())?;
        self.activation.apply(&y)
    }
}
