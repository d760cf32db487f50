//! Parameters made by layer constructors, which cannot return an error (`Dense::new(..)`
//! returns the layer, as in Keras and PyTorch): what goes wrong there (an initialiser
//! with a NaN bound, a shape too large to allocate) is kept, and the layer's forward
//! returns it, naming the layer, before anything runs on an empty placeholder.

use lolcore::nn::Init;
use lolcore::{DType, Device, Error, Result, Tensor};

/// The error met building each of a layer's tensors, by tensor name: re-creating a
/// tensor (`Dense::init` with a valid initialiser after a bad one) clears its entry.
#[derive(Clone, Debug, Default)]
pub(crate) struct InitErrors(Vec<(&'static str, String)>);

impl InitErrors {
    /// The trainable parameter `name`, drawn from `init` on the CPU (from the current
    /// generator).
    pub(crate) fn param(
        &mut self,
        name: &'static str,
        init: Init,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
    ) -> Tensor {
        self.keep(name, init.tensor(shape, fan_in, fan_out, &Device::Cpu)).requires_grad(true)
    }
    /// The buffer `name` (running statistics, counters), filled with `value`.
    pub(crate) fn buffer(&mut self, name: &'static str, value: f64, shape: &[usize], dtype: DType) -> Tensor {
        self.keep(name, Tensor::full_dtype(value, shape, dtype, &Device::Cpu))
    }
    fn keep(&mut self, name: &'static str, t: Result<Tensor>) -> Tensor {
        self.0.retain(|(n, _)| *n != name);
        t.unwrap_or_else(|e| {
            self.0.push((name, e.to_string()));
            Tensor::new::<f32>(&[])
        })
    }
    /// Forgets the entry of a tensor the layer dropped (`Dense::bias(false)`).
    pub(crate) fn forget(&mut self, name: &'static str) {
        self.0.retain(|(n, _)| *n != name);
    }
    /// Ok, or the first error as `layer`'s.
    pub(crate) fn check(&self, layer: &'static str) -> Result<()> {
        match self.0.first() {
            Some((n, m)) => Err(Error::arg(layer, format!("its {n} could not be created: {m}"))),
            None => Ok(()),
        }
    }
}
