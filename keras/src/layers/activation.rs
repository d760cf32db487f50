//! Activation layers, and `Activation` for layers that apply one after themselves
//! (`Dense::new(784, 256).activation(Activation::Relu)`, Keras's `activation='relu'`).

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{Probabilities, Result, Tensor};

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
    /// Log-softmax over the last dim.
    LogSoftmax,
    Elu(f64),
    Selu,
    /// `x·σ(x)` (Keras's "swish").
    Silu,
    Mish,
    /// `log(1 + eˣ)`.
    Softplus,
    Relu6,
    Hardsigmoid,
    Hardswish,
}

impl Activation {
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        match *self {
            Activation::Linear => Ok(x.clone()),
            Activation::Relu => x.relu(),
            Activation::Sigmoid => Ok(x.sigmoid()?.with_logits(Probabilities::Sigmoid, x)),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => x.gelu(),
            Activation::LeakyRelu(s) => x.leaky_relu(s),
            Activation::Softmax => Ok(x.softmax(-1)?.with_logits(Probabilities::Softmax, x)),
            Activation::LogSoftmax => x.log_softmax(-1),
            Activation::Elu(a) => x.elu(a),
            Activation::Selu => x.selu(),
            Activation::Silu => x.silu(),
            Activation::Mish => x.mish(),
            Activation::Softplus => x.softplus(1.0, 20.0),
            Activation::Relu6 => x.relu6(),
            Activation::Hardsigmoid => x.hardsigmoid(),
            Activation::Hardswish => x.hardswish(),
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
    /// `1 / (1 + e^−x)`. Its output remembers `x`, so a binary cross-entropy after it is
    /// computed from the logits (see `Loss::from_logits`).
    Sigmoid,
    |x| Ok(x.sigmoid()?.with_logits(Probabilities::Sigmoid, x))
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
    /// Over the last dim, the output remembers `x`, so a cross-entropy after it is
    /// computed from the logits (see `Loss::from_logits`).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let p = x.softmax(self.dim)?;
        let last = self.dim == -1 || (x.rank() > 0 && self.dim == x.rank() as i64 - 1);
        Ok(if last { p.with_logits(Probabilities::Softmax, x) } else { p })
    }
}
stateless_module!(Softmax);

activation_layer!(
    /// `scale·elu(x, α)` with PyTorch's constants (α ≈ 1.6733, scale ≈ 1.0507).
    Selu,
    |x| x.selu()
);
activation_layer!(
    /// `x·σ(x)` (swish).
    Silu,
    |x| x.silu()
);
activation_layer!(
    /// `x·tanh(softplus(x))`.
    Mish,
    |x| x.mish()
);
activation_layer!(
    /// `min(max(x, 0), 6)`.
    Relu6,
    |x| x.relu6()
);
activation_layer!(
    /// `relu6(x + 3) / 6`.
    Hardsigmoid,
    |x| x.hardsigmoid()
);
activation_layer!(
    /// `x·relu6(x + 3) / 6`.
    Hardswish,
    |x| x.hardswish()
);

/// `x` where positive, `alpha·(eˣ − 1)` elsewhere (alpha 1 by default, as PyTorch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    pub alpha: f64,
}

/// `Elu` with alpha 1, usable as a value.
#[allow(non_upper_case_globals)]
pub const Elu: Elu = Elu { alpha: 1.0 };

impl Elu {
    pub fn new(alpha: f64) -> Self {
        Elu { alpha }
    }
}

impl Forward for Elu {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.elu(self.alpha)
    }
}
stateless_module!(Elu);

/// `log(1 + e^{βx}) / β`, linear where `βx > threshold` (β 1, threshold 20 by default).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus {
    pub beta: f64,
    pub threshold: f64,
}

/// `Softplus` with PyTorch's defaults, usable as a value.
#[allow(non_upper_case_globals)]
pub const Softplus: Softplus = Softplus { beta: 1.0, threshold: 20.0 };

impl Softplus {
    pub fn new(beta: f64, threshold: f64) -> Self {
        Softplus { beta, threshold }
    }
}

impl Forward for Softplus {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softplus(self.beta, self.threshold)
    }
}
stateless_module!(Softplus);

/// `log(softmax(x))` over a dim (the last by default), computed stably.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSoftmax {
    pub dim: i64,
}

/// `LogSoftmax` over the last dim, usable as a value.
#[allow(non_upper_case_globals)]
pub const LogSoftmax: LogSoftmax = LogSoftmax { dim: -1 };

impl LogSoftmax {
    pub fn new(dim: i64) -> Self {
        LogSoftmax { dim }
    }
}

impl Forward for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.log_softmax(self.dim)
    }
}
stateless_module!(LogSoftmax);
