//! Dense (PyTorch's `Linear`): `y = x·Wᵀ + b`, weight `[out, in]`.

use super::lazy::{file_shape, input_size, Lazy};
use super::param_init::InitErrors;
use super::Activation;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Result, Tensor};

/// A fully connected layer.
///
/// # Shapes
/// - input `[.., in_features]` → output `[.., out_features]`
/// - `weight`: `[out_features, in_features]`, `bias`: `[out_features]`
#[derive(Module, Clone)]
pub struct Dense {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    in_features: usize,
    #[module(skip)]
    out_features: usize,
    #[module(skip)]
    init_errors: InitErrors,
}

impl Dense {
    /// A Dense layer with `out_features` outputs whose `in_features` is the last dim of
    /// its first input (Keras's `Dense(units)`, PyTorch's `LazyLinear`). It becomes
    /// `Dense::new(in_features, units)` with the options chained here, when first run
    /// (see `Lazy`).
    pub fn units(units: usize) -> Lazy<Dense> {
        Lazy::new(
            move |dims| Ok(Dense::new(input_size("Dense", dims, &[], -1, "[.., in_features]")?, units)),
            |prefix, shapes| Ok(vec![file_shape("Dense", prefix, shapes, &["weight"], 2)?[1]]),
        )
    }
    /// PyTorch's initialisation: weight and bias U(−1/√in, 1/√in).
    pub fn new(in_features: usize, out_features: usize) -> Dense {
        let mut errs = InitErrors::default();
        let w = errs.param("weight", Init::TorchDefault, &[out_features, in_features], in_features, out_features);
        let b = errs.param("bias", Init::TorchDefault, &[out_features], in_features, out_features);
        Dense { weight: w, bias: Some(b), activation: Activation::Linear, in_features, out_features, init_errors: errs }
    }
    /// Applies `activation` to the output (Keras's `activation=`).
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
    /// With or without a bias (`use_bias`).
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = if on {
            Some(self.init_errors.param("bias", Init::Zeros, &[self.out_features], 0, 0))
        } else {
            self.init_errors.forget("bias");
            None
        };
        self
    }
    /// Re-initialises the weight (`kernel_initializer`). An invalid initialiser (a NaN
    /// bound) makes the layer's forward return that error.
    pub fn init(mut self, init: Init) -> Self {
        let (i, o) = (self.in_features, self.out_features);
        self.weight = self.init_errors.param("weight", init, &[o, i], i, o);
        self
    }
    /// Re-initialises the bias (`bias_initializer`).
    pub fn bias_init(mut self, init: Init) -> Self {
        if self.bias.is_some() {
            let (i, o) = (self.in_features, self.out_features);
            self.bias = Some(self.init_errors.param("bias", init, &[o], i, o));
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
        self.init_errors.check("Dense")?;
        let y = functional::linear(x, &self.weight, self.bias.as_ref())?;
        self.activation.apply(&y)
    }
}

/// The builders of `Dense`, recorded until the layer is built.
impl Lazy<Dense> {
    /// Applies `activation` to the output (Keras's `activation=`).
    pub fn activation(self, activation: Activation) -> Self {
        self.map(move |l| l.activation(activation))
    }
    /// With or without a bias (`use_bias`).
    pub fn bias(self, on: bool) -> Self {
        self.map(move |l| l.bias(on))
    }
    /// The weight's initialiser (`kernel_initializer`).
    pub fn init(self, init: Init) -> Self {
        self.map(move |l| l.init(init))
    }
    /// The bias's initialiser (`bias_initializer`).
    pub fn bias_init(self, init: Init) -> Self {
        self.map(move |l| l.bias_init(init))
    }
}
