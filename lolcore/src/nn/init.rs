//! Parameter initialisers: He (Kaiming) and Glorot (Xavier), uniform and normal, constants,
//! and PyTorch's default for Linear/Conv layers. They draw from the current generator
//! (`rng::with_generator`, else the default one `manual_seed` seeds), or from one given.

use crate::error::{Error, Result};
use crate::rng::{current_generator, Generator};
use crate::tensor::Tensor;
use crate::Device;

/// How to fill a new parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// PyTorch's Linear/Conv default: U(−1/√fan_in, 1/√fan_in).
    TorchDefault,
    /// He/Kaiming uniform for ReLU: U(−√(6/fan_in), √(6/fan_in)).
    HeUniform,
    /// He/Kaiming normal: N(0, 2/fan_in).
    HeNormal,
    /// Glorot/Xavier uniform: U(−√(6/(fan_in+fan_out)), ...). Keras's default for Dense.
    GlorotUniform,
    /// Glorot/Xavier normal: N(0, 2/(fan_in+fan_out)).
    GlorotNormal,
    Zeros,
    Ones,
    Constant(f64),
    Uniform(f64, f64),
    Normal {
        mean: f64,
        std: f64,
    },
}

impl Init {
    /// Checks the arguments: bounds, means and deviations must be finite, uniform bounds
    /// in order, deviations non-negative. (PyTorch fills NaN weights silently; a NaN
    /// bound here is an error naming it.)
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::arg("init", msg));
        match *self {
            Init::Constant(v) if !v.is_finite() => bad(format!("constant {v} is not finite")),
            Init::Uniform(lo, hi) if !(lo.is_finite() && hi.is_finite() && lo <= hi) => {
                bad(format!("uniform bounds {lo}..{hi} are not a finite range (low ≤ high)"))
            }
            Init::Normal { mean, std } if !(mean.is_finite() && std.is_finite() && std >= 0.0) => {
                bad(format!("normal mean {mean} and std {std} must be finite, std non-negative"))
            }
            _ => Ok(()),
        }
    }

    /// A fresh f32 tensor of `shape` for a layer with the given fans, drawn from the
    /// current generator (see `rng::with_generator`).
    pub fn tensor(&self, shape: &[usize], fan_in: usize, fan_out: usize, device: &Device) -> Result<Tensor> {
        self.tensor_with(shape, fan_in, fan_out, device, &current_generator())
    }

    /// `tensor` drawing from the generator `g`.
    pub fn tensor_with(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        device: &Device,
        g: &Generator,
    ) -> Result<Tensor> {
        self.validate()?;
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        match *self {
            Init::TorchDefault => {
                let b = 1.0 / fi.sqrt();
                Tensor::uniform_with(-b, b, shape, device, g)
            }
            Init::HeUniform => {
                let b = (6.0 / fi).sqrt();
                Tensor::uniform_with(-b, b, shape, device, g)
            }
            Init::HeNormal => Tensor::normal_with(0.0, (2.0 / fi).sqrt(), shape, device, g),
            Init::GlorotUniform => {
                let b = (6.0 / (fi + fo)).sqrt();
                Tensor::uniform_with(-b, b, shape, device, g)
            }
            Init::GlorotNormal => Tensor::normal_with(0.0, (2.0 / (fi + fo)).sqrt(), shape, device, g),
            Init::Zeros => Tensor::zeros(shape, device),
            Init::Ones => Tensor::ones(shape, device),
            Init::Constant(v) => Tensor::full(v, shape, device),
            Init::Uniform(lo, hi) => Tensor::uniform_with(lo, hi, shape, device, g),
            Init::Normal { mean, std } => Tensor::normal_with(mean, std, shape, device, g),
        }
    }
}
