//! Conv1D (PyTorch's `Conv1d`): NCL input, weight `[out, in/groups, k]`.

use super::conv_builders::{conv_builders, lazy_conv_builders};
use super::lazy::{file_shape, input_size, Lazy, Shapes};
use super::param_init::InitErrors;
use super::Activation;
use crate::Module;
use lolcore::nn::{Forward, Init};
use lolcore::{Conv1dParams, Padding, Result, Tensor};

/// A 1-D convolution layer: the cross-correlation of each sample with `out_channels`
/// filters over time, plus a bias.
///
/// # Shapes
/// - input `[n, in_channels, l]` → output `[n, out_channels, lo]`, with
///   `lo = ⌊(l + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1`
/// - `weight`: `[out_channels, in_channels / groups, k]`, `bias`: `[out_channels]`,
///   both drawn from U(−1/√fan_in, 1/√fan_in) as in PyTorch
#[derive(Module)]
pub struct Conv1D {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub params: Conv1dParams,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    shape: (usize, usize, usize),
    #[module(skip)]
    init: (Init, Option<Init>),
    #[module(skip)]
    init_errors: InitErrors,
}

impl Conv1D {
    /// A convolution with `filters` output channels whose `in_channels` is dim 1 of its
    /// first input (Keras's `Conv1D(filters, kernel_size)`, PyTorch's `LazyConv1d`).
    /// It becomes `Conv1D::new(in_channels, filters, kernel)` with the options chained
    /// here, when first run (see `Lazy`).
    pub fn filters(filters: usize, kernel: usize) -> Lazy<Conv1D> {
        Lazy::new(
            move |dims| Ok(Conv1D::new(input_size("Conv1D", dims, &[3], 1, "[n, in_channels, l]")?, filters, kernel)),
            |prefix, shapes| lazy_input_dims(1, prefix, shapes),
        )
    }
    /// A convolution with a kernel of `kernel`, stride 1, no padding.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Conv1D {
        Conv1D {
            weight: Tensor::new::<f32>(&[]),
            bias: None,
            params: Conv1dParams::default(),
            activation: Activation::Linear,
            shape: (in_channels, out_channels, kernel),
            init: (Init::TorchDefault, Some(Init::TorchDefault)),
            init_errors: InitErrors::default(),
        }
        .rebuild()
    }

    fn rebuild(mut self) -> Self {
        let (cin, cout, k) = self.shape;
        let g = self.params.groups.max(1);
        let (fan_in, fan_out) = ((cin / g).saturating_mul(k), (cout / g).saturating_mul(k));
        let mut errs = InitErrors::default();
        self.weight = errs.param("weight", self.init.0, &[cout, cin / g, k], fan_in, fan_out);
        self.bias = self.init.1.map(|i| errs.param("bias", i, &[cout], fan_in, fan_out));
        self.init_errors = errs;
        self
    }
    /// Zero padding on both ends: `p`, or `"same"` / `"valid"`.
    pub fn padding(mut self, p: impl Into<Padding>) -> Self {
        self.params.padding = p.into();
        self
    }
    pub fn stride(mut self, s: usize) -> Self {
        self.params.stride = s;
        self
    }
    pub fn dilation(mut self, d: usize) -> Self {
        self.params.dilation = d;
        self
    }
    conv_builders!();
}

impl Forward for Conv1D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("Conv1D")?;
        let y = x.conv1d_bias(&self.weight, self.bias.as_ref(), self.params).map_err(|e| e.context("Conv1D"))?;
        self.activation.apply(&y)
    }
}

/// The input dims of a lazy `Conv1D` whose checkpoint weight is `[out, in/groups, ..]`.
fn lazy_input_dims(groups: usize, prefix: &str, shapes: &Shapes<'_>) -> Result<Vec<usize>> {
    let w = file_shape("Conv1D", prefix, shapes, &["weight"], 3)?;
    let mut dims = vec![1; 3];
    dims[1] = w[1].saturating_mul(groups.max(1));
    Ok(dims)
}

/// The builders of `Conv1D`, recorded until the layer is built.
impl Lazy<Conv1D> {
    /// Zero padding: `p`, or `"same"` / `"valid"`.
    pub fn padding(self, p: impl Into<Padding>) -> Self {
        let p = p.into();
        self.map(move |l| l.padding(p))
    }
    pub fn stride(self, s: usize) -> Self {
        self.map(move |l| l.stride(s))
    }
    pub fn dilation(self, d: usize) -> Self {
        self.map(move |l| l.dilation(d))
    }
    /// Grouped convolution (the inferred `in_channels` must divide by `groups`).
    pub fn groups(self, g: usize) -> Self {
        self.map(move |l| l.groups(g)).with_infer(move |prefix, shapes| lazy_input_dims(g, prefix, shapes))
    }
    lazy_conv_builders!();
}
