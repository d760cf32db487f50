//! ConvTranspose1D / ConvTranspose2D (PyTorch's `ConvTranspose1d/2d`): the gradient of a
//! convolution with respect to its input, used to upsample in decoders and generators.
//! Weight `[in, out/groups, k...]` (note: `in` first, as in PyTorch).

use super::conv_builders::conv_builders;
use super::param_init::InitErrors;
use super::Activation;
use crate::Module;
use lolcore::nn::{Forward, Init};
use lolcore::{ConvTranspose1dParams, ConvTranspose2dParams, IntoPair, Result, Tensor};

/// A 2-D transposed convolution layer.
///
/// # Shapes
/// - input `[n, in_channels, h, w]` → output `[n, out_channels, ho, wo]`, with
///   `ho = (h − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1`
/// - `weight`: `[in_channels, out_channels / groups, kh, kw]`, `bias`: `[out_channels]`;
///   drawn from U(−1/√fan_in, 1/√fan_in) with `fan_in = out_channels / groups · kh · kw`,
///   as PyTorch computes it from the weight's second dim
#[derive(Module)]
pub struct ConvTranspose2D {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub params: ConvTranspose2dParams,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    shape: (usize, usize, usize, usize),
    #[module(skip)]
    init: (Init, Option<Init>),
    #[module(skip)]
    init_errors: InitErrors,
}

/// Weight and bias of a transposed convolution of `kernel` (product of its sizes).
fn make_params(
    init: (Init, Option<Init>),
    cin: usize,
    cout: usize,
    groups: usize,
    kernel: &[usize],
) -> (Tensor, Option<Tensor>, InitErrors) {
    let g = groups.max(1);
    let k = kernel.iter().fold(1usize, |a, &d| a.saturating_mul(d));
    let (fan_in, fan_out) = ((cout / g).saturating_mul(k), (cin / g).saturating_mul(k));
    let mut shape = vec![cin, cout / g];
    shape.extend_from_slice(kernel);
    let mut errs = InitErrors::default();
    let w = errs.param("weight", init.0, &shape, fan_in, fan_out);
    let b = init.1.map(|i| errs.param("bias", i, &[cout], fan_in, fan_out));
    (w, b, errs)
}

macro_rules! transposed_builders {
    ($pair:ty) => {
        pub fn stride(mut self, s: $pair) -> Self {
            self.params = self.params.stride(s);
            self
        }
        pub fn padding(mut self, p: $pair) -> Self {
            self.params = self.params.padding(p);
            self
        }
        /// Extra size added to one side of the output (smaller than stride or dilation).
        pub fn output_padding(mut self, p: $pair) -> Self {
            self.params = self.params.output_padding(p);
            self
        }
        pub fn dilation(mut self, d: $pair) -> Self {
            self.params = self.params.dilation(d);
            self
        }
        conv_builders!();
    };
}

impl ConvTranspose2D {
    /// A transposed convolution with a kernel of `k` or `(kh, kw)`, stride 1.
    pub fn new(in_channels: usize, out_channels: usize, kernel: impl IntoPair) -> Self {
        let (kh, kw) = kernel.into_pair();
        ConvTranspose2D {
            weight: Tensor::new::<f32>(&[]),
            bias: None,
            params: ConvTranspose2dParams::default(),
            activation: Activation::Linear,
            shape: (in_channels, out_channels, kh, kw),
            init: (Init::TorchDefault, Some(Init::TorchDefault)),
            init_errors: InitErrors::default(),
        }
        .rebuild()
    }
    fn rebuild(mut self) -> Self {
        let (cin, cout, kh, kw) = self.shape;
        (self.weight, self.bias, self.init_errors) = make_params(self.init, cin, cout, self.params.groups, &[kh, kw]);
        self
    }
    transposed_builders!(impl IntoPair);
}

impl Forward for ConvTranspose2D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("ConvTranspose2D")?;
        let y = x
            .conv_transpose2d(&self.weight, self.bias.as_ref(), self.params)
            .map_err(|e| e.context("ConvTranspose2D"))?;
        self.activation.apply(&y)
    }
}

/// A 1-D transposed convolution layer.
///
/// # Shapes
/// - input `[n, in_channels, l]` → output `[n, out_channels, lo]`, with
///   `lo = (l − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1`
/// - `weight`: `[in_channels, out_channels / groups, k]`, `bias`: `[out_channels]`
#[derive(Module)]
pub struct ConvTranspose1D {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    #[module(skip)]
    pub params: ConvTranspose1dParams,
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    shape: (usize, usize, usize),
    #[module(skip)]
    init: (Init, Option<Init>),
    #[module(skip)]
    init_errors: InitErrors,
}

impl ConvTranspose1D {
    /// A transposed convolution with a kernel of `kernel`, stride 1.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        ConvTranspose1D {
            weight: Tensor::new::<f32>(&[]),
            bias: None,
            params: ConvTranspose1dParams::default(),
            activation: Activation::Linear,
            shape: (in_channels, out_channels, kernel),
            init: (Init::TorchDefault, Some(Init::TorchDefault)),
            init_errors: InitErrors::default(),
        }
        .rebuild()
    }
    fn rebuild(mut self) -> Self {
        let (cin, cout, k) = self.shape;
        (self.weight, self.bias, self.init_errors) = make_params(self.init, cin, cout, self.params.groups, &[k]);
        self
    }
    transposed_builders!(usize);
}

impl Forward for ConvTranspose1D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("ConvTranspose1D")?;
        let y = x
            .conv_transpose1d(&self.weight, self.bias.as_ref(), self.params)
            .map_err(|e| e.context("ConvTranspose1D"))?;
        self.activation.apply(&y)
    }
}
