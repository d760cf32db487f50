//! BERT encoder (Devlin et al. 2018) with Hugging Face `BertModel`'s structure and
//! names, built from its `config.json`, so `save_pretrained` output loads unchanged.
//!
//! `embeddings` (word + position + token type, then `LayerNorm`) feed
//! `num_hidden_layers` post-norm layers (`encoder.layer.i.attention.self.{query,key,value}`,
//! `.attention.output.dense`, `.attention.output.LayerNorm`, `.intermediate.dense`,
//! `.output.dense`, `.output.LayerNorm`); `pooler.dense` + tanh reads the first token.

use super::config::{Config, ConfigError};
use super::heads::{hf_activation, merge_heads, split_heads};
use crate::layers::{Dense, Embedding, LayerNorm};
use crate::Module;
use lolcore::nn::Forward;
use lolcore::{AttentionParams, DType, Error, Result, Tensor};

/// `BertConfig`'s fields that shape the encoder.
#[derive(Clone, Debug, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
}

impl BertConfig {
    /// `bert-base-uncased`'s shape.
    pub fn base() -> Self {
        BertConfig {
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
        }
    }
    /// From a Hugging Face `config.json`; missing keys take `BertConfig()`'s defaults.
    pub fn from_json(text: &str) -> std::result::Result<Self, ConfigError> {
        let c = Config::parse(text, "BERT")?;
        let d = Self::base();
        let pe = c.str_or("position_embedding_type", "absolute")?;
        if pe != "absolute" {
            return Err(c.error(format!("position_embedding_type {pe:?}: only \"absolute\" is supported")));
        }
        let cfg = BertConfig {
            vocab_size: c.usize_or("vocab_size", d.vocab_size)?,
            hidden_size: c.usize_or("hidden_size", d.hidden_size)?,
            num_hidden_layers: c.usize_or("num_hidden_layers", d.num_hidden_layers)?,
            num_attention_heads: c.usize_or("num_attention_heads", d.num_attention_heads)?,
            intermediate_size: c.usize_or("intermediate_size", d.intermediate_size)?,
            hidden_act: c.str_or("hidden_act", "gelu")?,
            max_position_embeddings: c.usize_or("max_position_embeddings", d.max_position_embeddings)?,
            type_vocab_size: c.usize_or("type_vocab_size", d.type_vocab_size)?,
            layer_norm_eps: c.f64_or("layer_norm_eps", d.layer_norm_eps)?,
        };
        if cfg.num_attention_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
            return Err(c.error(format!(
                "hidden_size {} is not divisible by num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            )));
        }
        Ok(cfg)
    }
}

#[derive(Module)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    #[module(name = "LayerNorm")]
    pub layer_norm: LayerNorm,
}

#[derive(Module)]
pub struct BertSelfAttention {
    pub query: Dense,
    pub key: Dense,
    pub value: Dense,
}

/// A dense layer followed by a residual `LayerNorm` (`BertSelfOutput`, `BertOutput`).
#[derive(Module)]
pub struct BertResidualOutput {
    pub dense: Dense,
    #[module(name = "LayerNorm")]
    pub layer_norm: LayerNorm,
}

impl BertResidualOutput {
    fn forward(&self, h: &Tensor, residual: &Tensor) -> Result<Tensor> {
        self.layer_norm.forward(&self.dense.forward(h)?.add(residual)?)
    }
}

#[derive(Module)]
pub struct BertAttention {
    #[module(name = "self")]
    pub self_attention: BertSelfAttention,
    pub output: BertResidualOutput,
}

#[derive(Module)]
pub struct BertIntermediate {
    pub dense: Dense,
}

#[derive(Module)]
pub struct BertLayer {
    pub attention: BertAttention,
    pub intermediate: BertIntermediate,
    pub output: BertResidualOutput,
}

#[derive(Module)]
pub struct BertEncoder {
    pub layer: Vec<BertLayer>,
}

#[derive(Module)]
pub struct BertPooler {
    pub dense: Dense,
}

/// What `BertModel` returns.
pub struct BertOutput {
    /// `[batch, seq, hidden]`.
    pub last_hidden_state: Tensor,
    /// `tanh(dense(first token))`: `[batch, hidden]`.
    pub pooler_output: Tensor,
}

/// The BERT encoder with its pooler.
#[derive(Module)]
pub struct BertModel {
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
    pub pooler: BertPooler,
    #[module(skip)]
    pub config: BertConfig,
}

impl BertModel {
    pub fn new(config: BertConfig) -> Self {
        let (h, eps) = (config.hidden_size, config.layer_norm_eps);
        let layer = (0..config.num_hidden_layers)
            .map(|_| BertLayer {
                attention: BertAttention {
                    self_attention: BertSelfAttention {
                        query: Dense::new(h, h),
                        key: Dense::new(h, h),
                        value: Dense::new(h, h),
                    },
                    output: BertResidualOutput { dense: Dense::new(h, h), layer_norm: LayerNorm::new(h).eps(eps) },
                },
                intermediate: BertIntermediate { dense: Dense::new(h, config.intermediate_size) },
                output: BertResidualOutput {
                    dense: Dense::new(config.intermediate_size, h),
                    layer_norm: LayerNorm::new(h).eps(eps),
                },
            })
            .collect();
        BertModel {
            embeddings: BertEmbeddings {
                word_embeddings: Embedding::new(config.vocab_size, h),
                position_embeddings: Embedding::new(config.max_position_embeddings, h),
                token_type_embeddings: Embedding::new(config.type_vocab_size, h),
                layer_norm: LayerNorm::new(h).eps(eps),
            },
            encoder: BertEncoder { layer },
            pooler: BertPooler { dense: Dense::new(h, h) },
            config,
        }
    }

    /// Builds the model from a Hugging Face directory (`config.json` and
    /// `model.safetensors`, `pytorch_model.bin` or a sharded index) and loads it
    /// strictly. Names under `bert.` (a `BertFor...` checkpoint) are read too.
    pub fn from_pretrained<P: AsRef<std::path::Path>>(dir: P) -> Result<Self> {
        let dir = dir.as_ref();
        let config = BertConfig::from_json(&super::config::read_config_file(&dir.join("config.json"))?)?;
        let mut model = BertModel::new(config);
        let file = lolcore::checkpoint::Checkpoint::open(dir)?;
        let prefixed = file.tensors().iter().any(|e| e.name.starts_with("bert."));
        let opts = lolcore::safetensors::LoadOptions::strict().remap_fn(move |n| {
            let n = if prefixed { n.strip_prefix("bert.")?.to_string() } else { n.to_string() };
            // A buffer older transformers versions saved; it is always arange(max_len).
            (n != "embeddings.position_ids").then_some(n)
        });
        lolcore::safetensors::load_checkpoint(&mut model, &file, &opts)?;
        model.set_training(false);
        Ok(model)
    }

    /// Encodes `input_ids` `[batch, seq]` (integer ids). `token_type_ids` defaults to
    /// zeros; `attention_mask` (1 = attend, 0 = padding) to all ones.
    pub fn forward_with(
        &self,
        input_ids: &Tensor,
        token_type_ids: Option<&Tensor>,
        attention_mask: Option<&Tensor>,
    ) -> Result<BertOutput> {
        let s = input_ids.shape();
        if s.len() != 2 {
            return Err(Error::arg("BertModel", format!("input_ids of shape {s:?}: expected [batch, seq]")));
        }
        let (b, t) = (s[0], s[1]);
        if t > self.config.max_position_embeddings {
            return Err(Error::arg(
                "BertModel",
                format!(
                    "sequence of {t} tokens is longer than max_position_embeddings {}",
                    self.config.max_position_embeddings
                ),
            ));
        }
        let dev = input_ids.device();
        let positions = Tensor::arange(0.0, t as f64, &dev)?.to_dtype(DType::I64)?;
        let types = match token_type_ids {
            Some(tt) => tt.clone(),
            None => Tensor::zeros_dtype(&[b, t], DType::I64, &dev)?,
        };
        let e = &self.embeddings;
        let mut h = e
            .word_embeddings
            .forward(input_ids)?
            .add(&e.position_embeddings.forward(&positions)?)?
            .add(&e.token_type_embeddings.forward(&types)?)?;
        h = e.layer_norm.forward(&h)?;
        let pad = match attention_mask {
            Some(m) => Some(m.eq_scalar(0.0)?),
            None => None,
        };
        let heads = self.config.num_attention_heads;
        for l in &self.encoder.layer {
            let a = &l.attention.self_attention;
            let q = split_heads(&a.query.forward(&h)?, heads)?;
            let k = split_heads(&a.key.forward(&h)?, heads)?;
            let v = split_heads(&a.value.forward(&h)?, heads)?;
            let mut p = AttentionParams::default();
            if let Some(m) = &pad {
                p = p.key_padding_mask(m);
            }
            let ctx = merge_heads(&q.scaled_dot_product_attention(&k, &v, p)?)?;
            let attn = l.attention.output.forward(&ctx, &h)?;
            let inter = hf_activation(&self.config.hidden_act, &l.intermediate.dense.forward(&attn)?)?;
            h = l.output.forward(&inter, &attn)?;
        }
        let pooled = self.pooler.dense.forward(&h.narrow(1, 0, 1)?.squeeze(1)?)?.tanh()?;
        Ok(BertOutput { last_hidden_state: h, pooler_output: pooled })
    }
}

impl Forward for BertModel {
    /// The last hidden state for `input_ids` (no padding, token type 0).
    fn forward(&self, input_ids: &Tensor) -> Result<Tensor> {
        Ok(self.forward_with(input_ids, None, None)?.last_hidden_state)
    }
}
