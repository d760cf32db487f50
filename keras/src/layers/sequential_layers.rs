//! `SequentialLayers`: layers applied in order and named `0`, `1`, `2`, ... as
//! `torch.nn.Sequential` names its children, built at run time (the `sequential!`
//! macro builds the same at compile time). Parameter-free layers (ReLU, pools) keep
//! their index, so a checkpoint's `features.3.weight` lands on the fourth layer.

use crate::Module;
use lolcore::nn::{join_name, Forward, Visit, VisitLazy, VisitLazyMut, VisitMut};
use lolcore::{Result, Tensor};

/// Anything that is a module and maps a tensor to a tensor.
pub trait Layer: Module + Forward {}
impl<T: Module + Forward> Layer for T {}

/// Layers applied in order, named by position (`torch.nn.Sequential`).
#[derive(Default)]
pub struct SequentialLayers {
    layers: Vec<Box<dyn Layer>>,
}

impl SequentialLayers {
    pub fn new() -> Self {
        SequentialLayers::default()
    }
    /// Appends a layer (builder form; `push` appends in place).
    pub fn with(mut self, layer: impl Layer + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }
    /// Appends a layer.
    pub fn push(&mut self, layer: impl Layer + 'static) {
        self.layers.push(Box::new(layer));
    }
    pub fn len(&self) -> usize {
        self.layers.len()
    }
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for SequentialLayers {
    fn visit(&self, prefix: &str, f: &mut Visit<'_>) {
        for (i, l) in self.layers.iter().enumerate() {
            l.visit(&lolcore::nn::join_name(prefix, &i.to_string()), f);
        }
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut VisitMut<'_>) -> Result<()> {
        for (i, l) in self.layers.iter_mut().enumerate() {
            l.visit_mut(&lolcore::nn::join_name(prefix, &i.to_string()), f)?;
        }
        Ok(())
    }
    fn set_training(&mut self, training: bool) {
        self.layers.iter_mut().for_each(|l| l.set_training(training))
    }
    fn visit_lazy(&self, prefix: &str, f: &mut VisitLazy<'_>) {
        for (i, l) in self.layers.iter().enumerate() {
            l.visit_lazy(&join_name(prefix, &i.to_string()), f);
        }
    }
    fn visit_lazy_mut(&mut self, prefix: &str, f: &mut VisitLazyMut<'_>) -> Result<()> {
        for (i, l) in self.layers.iter_mut().enumerate() {
            l.visit_lazy_mut(&join_name(prefix, &i.to_string()), f)?;
        }
        Ok(())
    }
}

impl Forward for SequentialLayers {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h)?;
        }
        Ok(h)
    }
}
