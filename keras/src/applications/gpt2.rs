//! GPT-2 (Radford et al. 2019) with Hugging Face `GPT2LMHeadModel`'s structure and
//! names, built from its `config.json`; decoding with a key/value cache and greedy,
//! top-k or top-p sampling.
//!
//! `transformer.wte` (tokens) + `transformer.wpe` (positions) feed `n_layer` pre-norm
//! blocks (`transformer.h.i.ln_1`, `.attn.c_attn` packed q/k/v, `.attn.c_proj`,
//! `.ln_2`, `.mlp.c_fc`, `.mlp.c_proj`), then `transformer.ln_f`; the logits use the
//! token embedding again (`lm_head` is tied to `wte`). GPT-2's projections are
//! "Conv1D" layers: a weight stored `[in, out]`, applied as `x·W + b`.

use super::config::{Config, ConfigError};
use super::heads::{hf_activation, merge_heads, split_heads};
use crate::layers::{Embedding, LayerNorm};
use crate::Module;
use lolcore::nn::Forward;
use lolcore::{AttentionParams, DType, Device, Error, Generator, Result, Tensor};

/// `GPT2Config`'s fields that shape the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Gpt2Config {
    pub vocab_size: usize,
    pub n_positions: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// Width of the MLP (`n_inner`, 4·n_embd when absent).
    pub n_inner: usize,
    pub activation_function: String,
    pub layer_norm_epsilon: f64,
}

impl Gpt2Config {
    /// `gpt2` (small, 124M parameters).
    pub fn small() -> Self {
        Gpt2Config {
            vocab_size: 50257,
            n_positions: 1024,
            n_embd: 768,
            n_layer: 12,
            n_head: 12,
            n_inner: 3072,
            activation_function: "gelu_new".into(),
            layer_norm_epsilon: 1e-5,
        }
    }
    /// From a Hugging Face `config.json`; missing keys take `GPT2Config()`'s defaults.
    pub fn from_json(text: &str) -> std::result::Result<Self, ConfigError> {
        let c = Config::parse(text, "GPT-2")?;
        let d = Self::small();
        let n_embd = c.usize_or("n_embd", d.n_embd)?;
        for unsupported in ["scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"] {
            if c.bool_or(unsupported, false)? {
                return Err(c.error(format!("{unsupported} = true is not supported")));
            }
        }
        let cfg = Gpt2Config {
            vocab_size: c.usize_or("vocab_size", d.vocab_size)?,
            n_positions: c.usize_or("n_positions", d.n_positions)?,
            n_embd,
            n_layer: c.usize_or("n_layer", d.n_layer)?,
            n_head: c.usize_or("n_head", d.n_head)?,
            n_inner: c.usize_or("n_inner", 4 * n_embd)?,
            activation_function: c.str_or("activation_function", "gelu_new")?,
            layer_norm_epsilon: c.f64_or("layer_norm_epsilon", 1e-5)?,
        };
        if cfg.n_head == 0 || !cfg.n_embd.is_multiple_of(cfg.n_head) {
            return Err(c.error(format!("n_embd {} is not divisible by n_head {}", cfg.n_embd, cfg.n_head)));
        }
        Ok(cfg)
    }
}

/// GPT-2's `Conv1D`: `x·weight + bias` with `weight` stored `[in, out]`.
#[derive(Module)]
pub struct Conv1DLinear {
    pub weight: Tensor,
    pub bias: Tensor,
}

impl Conv1DLinear {
    fn new(nin: usize, nout: usize) -> Result<Self> {
        Ok(Conv1DLinear {
            weight: Tensor::randn(&[nin, nout], &Device::Cpu)?.mul_scalar(0.02)?.requires_grad(true),
            bias: Tensor::zeros(&[nout], &Device::Cpu)?.requires_grad(true),
        })
    }
}

impl Forward for Conv1DLinear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.weight)?.add(&self.bias)
    }
}

#[derive(Module)]
pub struct Gpt2Attention {
    pub c_attn: Conv1DLinear,
    pub c_proj: Conv1DLinear,
}

#[derive(Module)]
pub struct Gpt2Mlp {
    pub c_fc: Conv1DLinear,
    pub c_proj: Conv1DLinear,
}

#[derive(Module)]
pub struct Gpt2Block {
    pub ln_1: LayerNorm,
    pub attn: Gpt2Attention,
    pub ln_2: LayerNorm,
    pub mlp: Gpt2Mlp,
}

#[derive(Module)]
pub struct Gpt2Transformer {
    pub wte: Embedding,
    pub wpe: Embedding,
    pub h: Vec<Gpt2Block>,
    pub ln_f: LayerNorm,
}

/// Keys and values of every layer for the tokens seen so far: `[batch, heads, t, hd]`.
#[derive(Default)]
pub struct KvCache {
    layers: Vec<(Tensor, Tensor)>,
}

impl KvCache {
    pub fn new() -> Self {
        KvCache::default()
    }
    /// Tokens cached so far.
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, |(k, _)| k.shape()[2])
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the next token is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// The most likely token.
    Greedy,
    /// Sample among the `k` most likely, after dividing the logits by `temperature`.
    TopK { k: usize, temperature: f64 },
    /// Sample among the most likely tokens whose probabilities sum to `p` (nucleus).
    TopP { p: f64, temperature: f64 },
}

/// GPT-2 with its language-model head.
#[derive(Module)]
pub struct Gpt2LmHeadModel {
    pub transformer: Gpt2Transformer,
    #[module(skip)]
    pub config: Gpt2Config,
}

impl Gpt2LmHeadModel {
    pub fn new(config: Gpt2Config) -> Result<Self> {
        let (d, eps) = (config.n_embd, config.layer_norm_epsilon);
        let h = (0..config.n_layer)
            .map(|_| {
                Ok(Gpt2Block {
                    ln_1: LayerNorm::new(d).eps(eps),
                    attn: Gpt2Attention { c_attn: Conv1DLinear::new(d, 3 * d)?, c_proj: Conv1DLinear::new(d, d)? },
                    ln_2: LayerNorm::new(d).eps(eps),
                    mlp: Gpt2Mlp {
                        c_fc: Conv1DLinear::new(d, config.n_inner)?,
                        c_proj: Conv1DLinear::new(config.n_inner, d)?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Gpt2LmHeadModel {
            transformer: Gpt2Transformer {
                wte: Embedding::new(config.vocab_size, d),
                wpe: Embedding::new(config.n_positions, d),
                h,
                ln_f: LayerNorm::new(d).eps(eps),
            },
            config,
        })
    }

    /// Builds the model from a Hugging Face directory (`config.json` and
    /// `model.safetensors`, `pytorch_model.bin` or a sharded index) and loads it
    /// strictly. A `GPT2Model` checkpoint (names without `transformer.`) loads too;
    /// `lm_head.weight`, tied to `transformer.wte.weight`, is checked equal to it.
    pub fn from_pretrained<P: AsRef<std::path::Path>>(dir: P) -> Result<Self> {
        let dir = dir.as_ref();
        let config = Gpt2Config::from_json(&super::config::read_config_file(&dir.join("config.json"))?)?;
        let mut model = Gpt2LmHeadModel::new(config)?;
        let file = lolcore::checkpoint::Checkpoint::open(dir)?;
        let bare = !file.tensors().iter().any(|e| e.name.starts_with("transformer."));
        let opts = lolcore::safetensors::LoadOptions::strict().remap_fn(move |n| {
            // Causal-mask buffers older transformers versions saved, and the tied head.
            if n == "lm_head.weight" || n.ends_with(".attn.bias") || n.ends_with(".attn.masked_bias") {
                return None;
            }
            Some(if bare { format!("transformer.{n}") } else { n.to_string() })
        });
        lolcore::safetensors::load_checkpoint(&mut model, &file, &opts)?;
        if let Some(head) = file.get("lm_head.weight") {
            let wte = model.transformer.wte.weight.to_vec::<f32>()?;
            let head = file.tensor(&head.name)?.to_dtype(DType::F32)?.to_vec::<f32>()?;
            if head != wte {
                return Err(Error::Load(format!(
                    "{}: lm_head.weight differs from transformer.wte.weight; lol's GPT-2 ties them as GPT2LMHeadModel does",
                    file.path().display()
                )));
            }
        }
        model.set_training(false);
        Ok(model)
    }

    /// Logits `[batch, t, vocab]` for `input_ids` `[batch, t]` following the tokens in
    /// `cache` (empty for a fresh prompt); the cache is extended with these tokens.
    pub fn forward_cached(&self, input_ids: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let s = input_ids.shape();
        if s.len() != 2 {
            return Err(Error::arg("Gpt2LmHeadModel", format!("input_ids of shape {s:?}: expected [batch, t]")));
        }
        let (t, past) = (s[1], cache.len());
        if past + t > self.config.n_positions {
            return Err(Error::arg(
                "Gpt2LmHeadModel",
                format!("{} tokens exceed the context of n_positions = {}", past + t, self.config.n_positions),
            ));
        }
        let dev = input_ids.device();
        let positions = Tensor::arange(past as f64, (past + t) as f64, &dev)?.to_dtype(DType::I64)?;
        let tr = &self.transformer;
        let mut h = tr.wte.forward(input_ids)?.add(&tr.wpe.forward(&positions)?)?;
        // New tokens attend to every cached one and causally among themselves.
        let mask = if t > 1 && past > 0 {
            let allowed = Tensor::ones(&[t, past + t], &dev)?.tril(past as i64)?;
            Some(allowed.eq_scalar(0.0)?)
        } else {
            None
        };
        let heads = self.config.n_head;
        let d = self.config.n_embd;
        let fresh = cache.layers.is_empty();
        for (i, b) in tr.h.iter().enumerate() {
            let qkv = b.attn.c_attn.forward(&b.ln_1.forward(&h)?)?;
            let q = split_heads(&qkv.narrow(2, 0, d)?, heads)?;
            let mut k = split_heads(&qkv.narrow(2, d, d)?, heads)?;
            let mut v = split_heads(&qkv.narrow(2, 2 * d, d)?, heads)?;
            if !fresh {
                let (pk, pv) = &cache.layers[i];
                k = Tensor::cat(&[pk, &k], 2)?;
                v = Tensor::cat(&[pv, &v], 2)?;
            }
            let mut p = AttentionParams::default();
            match &mask {
                Some(m) => p = p.attn_mask(m),
                None => p = p.causal(past == 0),
            }
            let o = q.scaled_dot_product_attention(&k, &v, p)?;
            h = h.add(&b.attn.c_proj.forward(&merge_heads(&o)?)?)?;
            let m = b.mlp.c_proj.forward(&hf_activation(
                &self.config.activation_function,
                &b.mlp.c_fc.forward(&b.ln_2.forward(&h)?)?,
            )?)?;
            h = h.add(&m)?;
            if fresh {
                cache.layers.push((k, v));
            } else {
                cache.layers[i] = (k, v);
            }
        }
        let h = tr.ln_f.forward(&h)?;
        h.matmul(&tr.wte.weight.t()?)
    }

    /// Continues `prompt` by `max_new_tokens` tokens, one cached step at a time.
    pub fn generate(
        &self,
        prompt: &[u32],
        max_new_tokens: usize,
        sampling: Sampling,
        generator: &Generator,
    ) -> Result<Vec<u32>> {
        if prompt.is_empty() {
            return Err(Error::arg("generate", "the prompt is empty: give at least one token id"));
        }
        if let Some(&bad) = prompt.iter().find(|&&id| id as usize >= self.config.vocab_size) {
            return Err(Error::arg(
                "generate",
                format!("token id {bad} is outside the vocabulary of {}", self.config.vocab_size),
            ));
        }
        let mut cache = KvCache::new();
        let mut ids = Tensor::from_vec(prompt.to_vec(), &[1, prompt.len()], &Device::Cpu)?;
        let mut out = Vec::with_capacity(max_new_tokens);
        lolcore::no_grad(|| {
            for _ in 0..max_new_tokens {
                let logits = self.forward_cached(&ids, &mut cache)?;
                let t = logits.shape()[1];
                let last = logits.narrow(1, t - 1, 1)?.flatten_all()?.to_dtype(DType::F32)?.to_vec::<f32>()?;
                let next = choose(&last, sampling, generator)?;
                out.push(next);
                if cache.len() >= self.config.n_positions {
                    break;
                }
                ids = Tensor::from_vec(vec![next], &[1, 1], &Device::Cpu)?;
            }
            Ok(out)
        })
    }
}

impl Forward for Gpt2LmHeadModel {
    /// Logits `[batch, t, vocab]` for a fresh sequence (no cache).
    fn forward(&self, input_ids: &Tensor) -> Result<Tensor> {
        self.forward_cached(input_ids, &mut KvCache::new())
    }
}

/// Picks a token from one row of logits.
fn choose(logits: &[f32], sampling: Sampling, g: &Generator) -> Result<u32> {
    let argmax = || {
        logits.iter().enumerate().fold((0, f32::NEG_INFINITY), |a, (i, &v)| if v > a.1 { (i, v) } else { a }).0 as u32
    };
    let (keep_k, keep_p, temp) = match sampling {
        Sampling::Greedy => return Ok(argmax()),
        Sampling::TopK { k, temperature } => (k.max(1), 1.0, temperature),
        Sampling::TopP { p, temperature } => (logits.len(), p, temperature),
    };
    if temp.is_nan() || temp <= 0.0 || keep_p.is_nan() || keep_p <= 0.0 || keep_p > 1.0 {
        return Err(Error::arg("generate", format!("temperature {temp} must be > 0 and p {keep_p} in (0, 1]")));
    }
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order.truncate(keep_k);
    let top = logits[order[0]] as f64;
    let mut probs: Vec<f64> = order.iter().map(|&i| ((logits[i] as f64 - top) / temp).exp()).collect();
    let total: f64 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    // Nucleus: the smallest prefix whose mass reaches p.
    let mut mass = 0.0;
    let mut n = probs.len();
    for (i, p) in probs.iter().enumerate() {
        mass += p;
        if mass >= keep_p {
            n = i + 1;
            break;
        }
    }
    let kept: f64 = probs[..n].iter().sum();
    let u = g.with(|r| r.next_f64()) * kept;
    let mut acc = 0.0;
    for i in 0..n {
        acc += probs[i];
        if u < acc {
            return Ok(order[i] as u32);
        }
    }
    Ok(order[n - 1] as u32)
}
