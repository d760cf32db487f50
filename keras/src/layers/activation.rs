//! Activation layers, and `Activation` for layers that apply one after themselves
//! (`Dense::new(784, 256).activation(Activation::Relu)`, Keras's `activation='relu'`).

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{Result, Tensor};

/// An activation applied by a layer to its output.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Activation {
    #[default]
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    Gelu,
    LeakyRelu(f64),
    /// Softmax over the last dim.
    Softmax,
}

impl Activation {
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        match *self {
            Activation::Linear => Ok(x.clone()),
            Activation::Relu => x.relu(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => x.gelu(),
            Activation::LeakyRelu(s) => x.leaky_relu(s),
            Activation::Softmax => x.softmax(-1),
        }
    }
}

macro_rules! activation_layer {
    ($(#[$m:meta])* $name:ident, $f:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct $name;
        impl Forward for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                let f: fn(&Tensor) -> Result<Tensor> = $f;
                f(x)
            }
        }
        stateless_module!($name);
    };
}

activation_layer!(
    /// `max(x, 0)`.
    Relu,
    |x| x.relu()
);
activation_layer!(
    /// `1 / (1 + e^−x)`.
    Sigmoid,
    |x| x.sigmoid()
);
activation_layer!(
    /// Hyperbolic tangent.
    Tanh,
    |x| x.tanh()
);
activation_layer!(
    /// Exact GELU (PyTorch's default).
    Gelu,
    |x| x.gelu()
);

/// `x` where positive, `slope·x` elsewhere (default slope 0.01, as PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    pub slope: f64,
}

/// `LeakyRelu` with the default slope, usable as a value: `sequential![.., LeakyRelu, ..]`.
#[allow(non_upper_case_globals)]
pub const LeakyRelu: LeakyRelu = LeakyRelu { slope: 0.01 };

impl LeakyRelu {
    pub fn new(slope: f64) -> Self {
        LeakyRelu { slope }
    }
}

impl Forward for LeakyRelu {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.leaky_relu(self.slope)
    }
}
stateless_module!(LeakyRelu);

/// Softmax over a dim (the last by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    pub dim: i64,
}

/// `Softmax` over the last dim, usable as a value.
#[allow(non_upper_case_globals)]
pub const Softmax: Softmax = Softmax { dim: -1 };

impl Softmax {
    pub fn new(dim: i64) -> Self {
        Softmax { dim }
    }
}

impl Forward for Softmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softmax(self.dim)
    }
}
stateless_module!(Softmax);
