//! LayerNorm (PyTorch's `LayerNorm`): normalises over the last dims.

use super::lazy::{file_shape, input_size, Lazy};
use super::param_init::InitErrors;
use crate::Module;
use lolcore::nn::{functional, Forward, Init};
use lolcore::{Result, Tensor};

/// Normalises each sample over `normalized_shape` (its last dims), then scales and shifts.
#[derive(Module, Clone)]
pub struct LayerNorm {
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    #[module(skip)]
    normalized_shape: Vec<usize>,
    #[module(skip)]
    eps: f64,
    #[module(skip)]
    init_errors: InitErrors,
}

impl LayerNorm {
    /// Layer normalisation over the last dim, whose size is taken from the first input
    /// (Keras's `LayerNormalization()`). It becomes `LayerNorm::new(n)` with the options
    /// chained here, when first run (see `Lazy`).
    pub fn lazy() -> Lazy<LayerNorm> {
        Lazy::new(
            |dims| Ok(LayerNorm::new(input_size("LayerNorm", dims, &[], -1, "[.., features]")?)),
            |prefix, shapes| Ok(vec![file_shape("LayerNorm", prefix, shapes, &["weight", "bias"], 1)?[0]]),
        )
    }
    /// Over the last dim of size `n`, eps 1e-5.
    pub fn new(n: usize) -> Self {
        LayerNorm::with_shape(&[n])
    }
    /// Over the last `shape.len()` dims.
    pub fn with_shape(shape: &[usize]) -> Self {
        let n = shape.iter().fold(1usize, |a, &d| a.saturating_mul(d));
        let mut errs = InitErrors::default();
        LayerNorm {
            weight: Some(errs.param("weight", Init::Ones, shape, n, n)),
            bias: Some(errs.param("bias", Init::Zeros, shape, n, n)),
            normalized_shape: shape.to_vec(),
            eps: 1e-5,
            init_errors: errs,
        }
    }
    pub fn eps(mut self, e: f64) -> Self {
        self.eps = e;
        self
    }
}

impl Forward for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.init_errors.check("LayerNorm")?;
        functional::layer_norm(x, &self.normalized_shape, self.weight.as_ref(), self.bias.as_ref(), self.eps)
    }
}

/// The builders, recorded until the layer is built.
impl Lazy<LayerNorm> {
    pub fn eps(self, e: f64) -> Self {
        self.map(move |l| l.eps(e))
    }
}
