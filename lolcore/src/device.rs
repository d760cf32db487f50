//! Where a tensor lives.

use crate::error::Result;
use std::fmt;

/// A compute device: the host CPU or a CUDA GPU by ordinal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Device {
    #[default]
    Cpu,
    Cuda(usize),
}

impl Device {
    /// CUDA device `ordinal`, initialised on first use; an error naming the reason when
    /// there is no driver, no GPU, or the libraries cannot be loaded.
    pub fn cuda(ordinal: usize) -> Result<Device> {
        crate::cuda::init_device(ordinal)?;
        Ok(Device::Cuda(ordinal))
    }
    /// CUDA device 0 when a usable GPU is present, else the CPU.
    pub fn best() -> Device {
        Device::cuda(0).unwrap_or(Device::Cpu)
    }
    /// Whether a CUDA device can be used in this process (without failing).
    pub fn cuda_is_available() -> bool {
        Device::cuda(0).is_ok()
    }
    pub fn is_cpu(&self) -> bool {
        matches!(self, Device::Cpu)
    }
    pub fn is_cuda(&self) -> bool {
        matches!(self, Device::Cuda(_))
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}
