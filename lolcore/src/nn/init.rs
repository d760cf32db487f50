//! Parameter initialisers: He (Kaiming) and Glorot (Xavier), uniform and normal, constants,
//! and PyTorch's default for Linear/Conv layers. All draw from the global generator.

use crate::error::{bail, Error, Result};
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
    /// A fresh f32 CPU tensor of `shape` for a layer with the given fans. Never fails:
    /// reversed uniform bounds and negative standard deviations are taken as given
    /// (the distribution is symmetric in them).
    pub fn cpu_tensor(&self, shape: &[usize], fan_in: usize, fan_out: usize) -> Tensor {
        let init = match *self {
            Init::Uniform(lo, hi) if lo > hi => Init::Uniform(hi, lo),
            Init::Normal { mean, std } => Init::Normal { mean, std: std.abs() },
            other => other,
        };
        // On the CPU with the arguments normalised above this cannot fail.
        init.tensor(shape, fan_in, fan_out, &Device::Cpu)
            .unwrap_or_else(|_| Tensor::full_cpu(0.0, shape, crate::DType::F32))
    }

    /// A fresh f32 tensor of `shape` for a layer with the given fans.
    pub fn tensor(&self, shape: &[usize], fan_in: usize, fan_out: usize, device: &Device) -> Result<Tensor> {
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        match *self {
            Init::TorchDefault => {
                let b = 1.0 / fi.sqrt();
                Tensor::uniform(-b, b, shape, device)
            }
            Init::HeUniform => {
                let b = (6.0 / fi).sqrt();
                Tensor::uniform(-b, b, shape, device)
            }
            Init::HeNormal => Tensor::normal(0.0, (2.0 / fi).sqrt(), shape, device),
            Init::GlorotUniform => {
                let b = (6.0 / (fi + fo)).sqrt();
                Tensor::uniform(-b, b, shape, device)
            }
            Init::GlorotNormal => Tensor::normal(0.0, (2.0 / (fi + fo)).sqrt(), shape, device),
            Init::Zeros => Tensor::zeros(shape, device),
            Init::Ones => Tensor::ones(shape, device),
            Init::Constant(v) => Tensor::full(v, shape, device),
            Init::Uniform(lo, hi) => {
                if lo > hi || !lo.is_finite() || !hi.is_finite() {
                    bail!(Error::arg("init", format!("uniform bounds {lo}..{hi} are not a finite range")));
                }
                Tensor::uniform(lo, hi, shape, device)
            }
            Init::Normal { mean, std } => {
                if std < 0.0 || !std.is_finite() {
                    bail!(Error::arg("init", format!("normal std {std} must be finite and non-negative")));
                }
                Tensor::normal(mean, std, shape, device)
            }
        }
    }
}
