//! Conv2D (PyTorch's `Conv2d`): NCHW input, weight `[out, in/groups, kh, kw]`.

use super::param_init::InitErrors;
use super::Activation;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Conv2dParams, Result, Tensor};

/// A 2-D convolution layer.
///
/// # Shapes
/// - input `[n, in_channels, h, w]` → output `[n, out_channels, ho, wo]`
/// - `weight`: `[out_channels, in_channels / groups, k, k]`, `bias`: `[out_channels]`
#[derive(Module)]
pub struct Conv2D {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub params: Conv2dParams,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    shape: (usize, usize, usize, usize),
    #[module(skip)]
    init: (Init, Option<Init>),
    #[module(skip)]
    init_errors: InitErrors,
}

impl Conv2D {
    /// A `kernel × kernel` convolution, stride 1, no padding, PyTorch's initialisation.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Conv2D {
        Conv2D {
            weight: Tensor::new::<f32>(&[]),
            bias: None,
            params: Conv2dParams::default(),
            activation: Activation::Linear,
            shape: (in_channels, out_channels, kernel, kernel),
            init: (Init::TorchDefault, Some(Init::TorchDefault)),
            init_errors: InitErrors::default(),
        }
        .rebuild()
    }

    /// (Re)creates the weight and bias for the current configuration.
    fn rebuild(mut self) -> Self {
        let (cin, cout, kh, kw) = self.shape;
        let g = self.params.groups.max(1);
        let fan_in = (cin / g).saturating_mul(kh).saturating_mul(kw);
        let fan_out = (cout / g).saturating_mul(kh).saturating_mul(kw);
        let mut errs = InitErrors::default();
        self.weight = errs.param("weight", self.init.0, &[cout, cin / g, kh, kw], fan_in, fan_out);
        self.bias = self.init.1.map(|i| errs.param("bias", i, &[cout], fan_in, fan_out));
        self.init_errors = errs;
        self
    }
    pub fn padding(mut self, p: usize) -> Self {
        self.params.padding = (p, p);
        self
    }
    pub fn stride(mut self, s: usize) -> Self {
        self.params.stride = (s, s);
        self
    }
    pub fn dilation(mut self, d: usize) -> Self {
        self.params.dilation = (d, d);
        self
    }
    /// Grouped convolution; `in_channels` and `out_channels` must divide by `groups`
    /// (checked when the layer runs).
    pub fn groups(mut self, g: usize) -> Self {
        self.params.groups = g;
        self.rebuild()
    }
    pub fn bias(mut self, on: bool) -> Self {
        self.init.1 = if on { Some(self.init.1.unwrap_or(Init::TorchDefault)) } else { None };
        self.rebuild()
    }
    pub fn init(mut self, init: Init) -> Self {
        self.init.0 = init;
        self.rebuild()
    }
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }
}

impl Forward for Conv2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("Conv2D")?;
        let y = functional::conv2d(x, &self.weight, self.bias.as_ref(), self.params)?;
        self.activation.apply(&y)
    }
}
