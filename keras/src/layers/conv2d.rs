//! Conv2D (PyTorch's `Conv2d`): NCHW input, weight `[out, in/groups, kh, kw]`.

use super::conv_builders::{conv_builders, lazy_conv_builders};
use super::lazy::{file_shape, input_size, Lazy, Shapes};
use super::param_init::InitErrors;
use super::Activation;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Conv2dParams, IntoPair, Padding, Result, Tensor};

/// A 2-D convolution layer.
///
/// # Shapes
/// - input `[n, in_channels, h, w]` → output `[n, out_channels, ho, wo]`
/// - `weight`: `[out_channels, in_channels / groups, kh, kw]`, `bias`: `[out_channels]`
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
    /// A convolution with `filters` output channels whose `in_channels` is dim 1 of its
    /// first input (Keras's `Conv2D(filters, kernel_size)`, PyTorch's `LazyConv2d`).
    /// It becomes `Conv2D::new(in_channels, filters, kernel)` with the options chained
    /// here, when first run (see `Lazy`).
    pub fn filters(filters: usize, kernel: impl IntoPair) -> Lazy<Conv2D> {
        let kernel = kernel.into_pair();
        Lazy::new(
            move |dims| {
                Ok(Conv2D::new(input_size("Conv2D", dims, &[4], 1, "[n, in_channels, h, w]")?, filters, kernel))
            },
            |prefix, shapes| lazy_input_dims(1, prefix, shapes),
        )
    }
    /// A convolution with a `kernel` of `k` or `(kh, kw)`, stride 1, no padding,
    /// PyTorch's initialisation.
    pub fn new(in_channels: usize, out_channels: usize, kernel: impl IntoPair) -> Conv2D {
        let (kh, kw) = kernel.into_pair();
        Conv2D {
            weight: Tensor::new::<f32>(&[]),
            bias: None,
            params: Conv2dParams::default(),
            activation: Activation::Linear,
            shape: (in_channels, out_channels, kh, kw),
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
    /// Zero padding: `p`, `(ph, pw)`, or `"same"` / `"valid"` (`Padding::Same`, ...).
    pub fn padding(mut self, p: impl Into<Padding>) -> Self {
        self.params.padding = p.into();
        self
    }
    pub fn stride(mut self, s: impl IntoPair) -> Self {
        self.params.stride = s.into_pair();
        self
    }
    pub fn dilation(mut self, d: impl IntoPair) -> Self {
        self.params.dilation = d.into_pair();
        self
    }
    conv_builders!();
}

impl Forward for Conv2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("Conv2D")?;
        let y = functional::conv2d(x, &self.weight, self.bias.as_ref(), self.params)?;
        self.activation.apply(&y)
    }
}

/// The input dims of a lazy `Conv2D` whose checkpoint weight is `[out, in/groups, ..]`.
fn lazy_input_dims(groups: usize, prefix: &str, shapes: &Shapes<'_>) -> Result<Vec<usize>> {
    let w = file_shape("Conv2D", prefix, shapes, &["weight"], 4)?;
    let mut dims = vec![1; 4];
    dims[1] = w[1].saturating_mul(groups.max(1));
    Ok(dims)
}

/// The builders of `Conv2D`, recorded until the layer is built.
impl Lazy<Conv2D> {
    /// Zero padding: `p`, or `"same"` / `"valid"`.
    pub fn padding(self, p: impl Into<Padding>) -> Self {
        let p = p.into();
        self.map(move |l| l.padding(p))
    }
    pub fn stride(self, s: impl IntoPair) -> Self {
        let s = s.into_pair();
        self.map(move |l| l.stride(s))
    }
    pub fn dilation(self, d: impl IntoPair) -> Self {
        let d = d.into_pair();
        self.map(move |l| l.dilation(d))
    }
    /// Grouped convolution (the inferred `in_channels` must divide by `groups`).
    pub fn groups(self, g: usize) -> Self {
        self.map(move |l| l.groups(g)).with_infer(move |prefix, shapes| lazy_input_dims(g, prefix, shapes))
    }
    lazy_conv_builders!();
}
