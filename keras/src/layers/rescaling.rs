//! Rescaling: `x * scale + offset`, Keras's `layers.Rescaling`.

use super::stateless_module;
use lolcore::nn::Forward;
use lolcore::{Result, Tensor};

/// `y = x * scale + offset` elementwise, no parameters (Keras's
/// `layers.Rescaling(scale, offset=0.0)`). `Rescaling::new(1.0 / 255.0)` maps the
/// [0, 255] images of `data::ImageFolder` to [0, 1]; `.offset(-1.0)` with a scale of
/// `1.0 / 127.5` maps them to [-1, 1].
///
/// # Shapes
/// - input: any
/// - output: the input's
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rescaling {
    /// Multiplies the input.
    pub scale: f64,
    /// Added after scaling.
    pub offset: f64,
}

impl Rescaling {
    /// `x * scale`, offset 0.
    pub fn new(scale: f64) -> Self {
        Rescaling { scale, offset: 0.0 }
    }
    /// Adds `offset` after scaling.
    pub fn offset(mut self, offset: f64) -> Self {
        self.offset = offset;
        self
    }
}

impl Forward for Rescaling {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.affine(self.scale, self.offset)
    }
}
stateless_module!(Rescaling);
