//! lol twins of the PyTorch models in tests/fixtures/make_torch_models.py: the same
//! structure, so PyTorch's state dicts load with no renaming.
#![allow(dead_code)]
use keras::prelude::*;

pub fn mlp() -> impl Module + Forward {
    sequential![Dense::new(8, 16), Relu, Dropout::new(0.5), Dense::new(16, 4), Sigmoid]
}

pub fn convnet() -> impl Module + Forward {
    sequential![
        Conv2D::new(3, 8, 3).padding(1),
        BatchNorm2D::new(8),
        Relu,
        MaxPool2D::new(2),
        Conv2D::new(8, 8, 3).stride(2).padding(1).groups(2).bias(false),
        LeakyRelu,
        AvgPool2D::new(2),
        Flatten,
        Dense::new(8, 6),
        BatchNorm1D::new(6),
        Tanh,
    ]
}

#[derive(Module)]
pub struct NormEmbed {
    embed: Embedding,
    norm: LayerNorm,
    head: Dense,
}

impl Forward for NormEmbed {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let h = self.norm.forward(&self.embed.forward(ids)?)?.gelu()?;
        self.head.forward(&h)?.softmax(-1)
    }
}

pub fn norm_embed() -> NormEmbed {
    NormEmbed { embed: Embedding::new(10, 6), norm: LayerNorm::new(6), head: Dense::new(6, 3) }
}

#[derive(Module)]
pub struct GlobalPool {
    conv: Conv2D,
    fc: Dense,
}

impl Forward for GlobalPool {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(&GlobalAvgPool2D.forward(&self.conv.forward(x)?.relu()?)?)
    }
}

pub fn global_pool() -> GlobalPool {
    GlobalPool { conv: Conv2D::new(2, 4, 3).padding(1), fc: Dense::new(4, 2) }
}

#[path = "../../examples/common/models.rs"]
mod models;
pub use models::mnist_cnn;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
