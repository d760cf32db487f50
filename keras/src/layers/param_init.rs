//! Parameters made by layer constructors, which cannot return an error (`Dense::new(..)`
//! returns the layer, as in Keras and PyTorch): what goes wrong there (an initialiser
//! with a NaN bound, a shape too large to allocate) is kept, and the layer's forward
//! returns it, naming the layer, before anything runs on an empty placeholder.

use lolcore::nn::Init;
use lolcore::{DType, Device, Error, Result, Tensor};

/// The first error met while building a layer's tensors, if any.
#[derive(Clone, Debug, Default)]
pub(crate) struct InitErrors(Option<String>);

impl InitErrors {
    /// A trainable parameter drawn from `init` on the CPU (from the current generator).
    pub(crate) fn param(&mut self, init: Init, shape: &[usize], fan_in: usize, fan_out: usize) -> Tensor {
        self.keep(init.tensor(shape, fan_in, fan_out, &Device::Cpu)).requires_grad(true)
    }
    /// A buffer (running statistics, counters) filled with `value`.
    pub(crate) fn buffer(&mut self, value: f64, shape: &[usize], dtype: DType) -> Tensor {
        self.keep(Tensor::full_dtype(value, shape, dtype, &Device::Cpu))
    }
    fn keep(&mut self, t: Result<Tensor>) -> Tensor {
        t.unwrap_or_else(|e| {
            self.0.get_or_insert(e.to_string());
            Tensor::new::<f32>(&[])
        })
    }
    /// Ok, or the first error as `layer`'s.
    pub(crate) fn check(&self, layer: &'static str) -> Result<()> {
        match &self.0 {
            Some(m) => Err(Error::arg(layer, format!("its parameters could not be created: {m}"))),
            None => Ok(()),
        }
    }
}
