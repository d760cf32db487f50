//! Layers: each a `Module` + `Forward` with PyTorch's parameter names, layouts and default
//! initialisation, and Keras-style builders (`Conv2D::new(1, 16, 3).padding(1)`).

mod activation;
mod batch_norm;
mod conv2d;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod layer_norm;
mod param_init;
mod pooling;

pub use activation::{Activation, Gelu, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
pub use batch_norm::{BatchNorm1D, BatchNorm2D};
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use layer_norm::LayerNorm;
pub use pooling::{AvgPool2D, GlobalAvgPool2D, MaxPool2D};

/// `Module` for a layer with no tensors.
macro_rules! stateless_module {
    ($t:ty) => {
        impl lolcore::nn::Module for $t {
            fn visit(&self, _prefix: &str, _f: &mut lolcore::nn::Visit<'_>) {}
            fn visit_mut(&mut self, _prefix: &str, _f: &mut lolcore::nn::VisitMut<'_>) -> lolcore::Result<()> {
                Ok(())
            }
        }
    };
}
pub(crate) use stateless_module;
