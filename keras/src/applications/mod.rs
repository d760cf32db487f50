//! Pretrained architectures with the parameter names of the libraries that publish
//! their weights, so those files load unchanged (`load_weights`, or `from_pretrained`
//! for Hugging Face directories):
//!
//! | model | names of | constructors |
//! |---|---|---|
//! | [`ResNet`] 18/34/50 | torchvision | `ResNetConfig::resnet18(1000)`, `from_json` |
//! | [`Vgg`] 11/16 (± batch norm) | torchvision | `VggConfig::vgg16(false, 1000)` |
//! | [`MobileNetV2`] | torchvision | `MobileNetV2Config::standard(1000)` |
//! | [`VisionTransformer`] | timm `vit_*` | `VitConfig::vit_base_patch16_224(1000)` |
//! | [`BertModel`] | Hugging Face `BertModel` | `BertModel::from_pretrained(dir)` |
//! | [`Gpt2LmHeadModel`] | Hugging Face `GPT2LMHeadModel` | `Gpt2LmHeadModel::from_pretrained(dir)` |
//!
//! Every model is built at any size from its config (a struct, or the JSON its library
//! writes). Image models take `[n, 3, h, w]` normalised as `transforms::imagenet`.

mod bert;
mod config;
mod gpt2;
mod heads;
mod mobilenet_v2;
mod resnet;
mod vgg;
mod vit;

pub use bert::{
    BertAttention, BertConfig, BertEmbeddings, BertEncoder, BertIntermediate, BertLayer, BertModel, BertOutput,
    BertPooler, BertResidualOutput, BertSelfAttention,
};
pub use config::ConfigError;
pub use gpt2::{
    Conv1DLinear, Gpt2Attention, Gpt2Block, Gpt2Config, Gpt2LmHeadModel, Gpt2Mlp, Gpt2Transformer, KvCache, Sampling,
};
pub use mobilenet_v2::{InvertedResidual, MobileNetV2, MobileNetV2Config};
pub use resnet::{BlockKind, Downsample, ResNet, ResNetConfig, ResidualBlock};
pub use vgg::{Vgg, VggConfig, VggItem};
pub use vit::{PatchEmbed, VisionTransformer, VitAttention, VitBlock, VitConfig, VitMlp};
