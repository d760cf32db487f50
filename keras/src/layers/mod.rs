//! Layers: each a `Module` + `Forward` with PyTorch's parameter names, layouts and default
//! initialisation, and Keras-style builders (`Conv2D::new(1, 16, 3).padding(1)`).

mod activation;
mod adaptive_pooling;
mod batch_norm;
mod conv1d;
mod conv2d;
mod conv_builders;
mod conv_transpose;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod group_norm;
mod layer_norm;
mod lazy;
mod multihead_attention;
mod padding;
mod param_init;
mod pooling;
mod prelu;
mod recurrent;
mod rescaling;
mod sequential_layers;
mod transformer;
mod upsample;

pub use activation::{
    Activation, Elu, Gelu, Hardsigmoid, Hardswish, LeakyRelu, LogSoftmax, Mish, Relu, Relu6, Selu, Sigmoid, Silu,
    Softmax, Softplus, Tanh,
};
pub use adaptive_pooling::{
    AdaptiveAvgPool1D, AdaptiveAvgPool2D, AdaptiveMaxPool1D, AdaptiveMaxPool2D, GlobalAvgPool1D, GlobalAvgPool2D,
    GlobalMaxPool1D, GlobalMaxPool2D,
};
pub use batch_norm::{BatchNorm1D, BatchNorm2D};
pub use conv1d::Conv1D;
pub use conv2d::Conv2D;
pub use conv_transpose::{ConvTranspose1D, ConvTranspose2D};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use group_norm::{GroupNorm, InstanceNorm1D, InstanceNorm2D, RmsNorm};
pub use layer_norm::LayerNorm;
pub use lazy::Lazy;
pub use multihead_attention::MultiheadAttention;
pub use padding::{
    CircularPad1D, CircularPad2D, ConstantPad1D, ConstantPad2D, IntoPads, ReflectionPad1D, ReflectionPad2D,
    ReplicationPad1D, ReplicationPad2D, ZeroPad1D, ZeroPad2D,
};
pub use pooling::{AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D};
pub use prelu::PReLU;
pub use recurrent::{GRUCell, LSTMCell, Nonlinearity, RNNCell, GRU, LSTM, RNN};
pub use rescaling::Rescaling;
pub use sequential_layers::{Layer, SequentialLayers};
pub use transformer::{
    DecoderMasks, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
};
pub use upsample::{Upsample, UpsampleMode};

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
