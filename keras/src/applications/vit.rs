//! Vision Transformer (Dosovitskiy et al. 2020) with timm's `VisionTransformer`
//! structure and names, so a `timm.create_model("vit_base_patch16_224")` state dict
//! loads unchanged.
//!
//! The image is cut into `patch_size` squares by a strided convolution
//! (`patch_embed.proj`), a learned `cls_token` is prepended and `pos_embed` added;
//! `depth` pre-norm blocks (`blocks.i.norm1`, `.attn.qkv` packed q/k/v, `.attn.proj`,
//! `.norm2`, `.mlp.fc1`, `.mlp.fc2`, exact GELU) follow, then `norm`, the class token
//! (or the mean of the patch tokens) and `head`.

use super::config::{Config, ConfigError};
use super::heads::{merge_heads, split_heads};
use crate::layers::{Conv2D, Dense, LayerNorm};
use crate::Module;
use lolcore::nn::Forward;
use lolcore::{AttentionParams, Device, Result, Tensor};

/// A ViT's shape, with timm's keyword names.
#[derive(Clone, Debug, PartialEq)]
pub struct VitConfig {
    pub img_size: usize,
    pub patch_size: usize,
    pub in_chans: usize,
    pub num_classes: usize,
    pub embed_dim: usize,
    pub depth: usize,
    pub num_heads: usize,
    pub mlp_ratio: f64,
    pub qkv_bias: bool,
    /// Pool by the class token: timm's `global_pool="token"` (the only pooling read).
    pub global_pool: String,
    pub layer_norm_eps: f64,
}

impl VitConfig {
    /// timm's `vit_base_patch16_224`.
    pub fn vit_base_patch16_224(num_classes: usize) -> Self {
        VitConfig {
            img_size: 224,
            patch_size: 16,
            in_chans: 3,
            num_classes,
            embed_dim: 768,
            depth: 12,
            num_heads: 12,
            mlp_ratio: 4.0,
            qkv_bias: true,
            global_pool: "token".into(),
            layer_norm_eps: 1e-6,
        }
    }
    /// timm's `vit_tiny_patch16_224`.
    pub fn vit_tiny_patch16_224(num_classes: usize) -> Self {
        VitConfig { embed_dim: 192, num_heads: 3, ..Self::vit_base_patch16_224(num_classes) }
    }
    /// timm's `vit_small_patch16_224`.
    pub fn vit_small_patch16_224(num_classes: usize) -> Self {
        VitConfig { embed_dim: 384, num_heads: 6, ..Self::vit_base_patch16_224(num_classes) }
    }
    /// From JSON with timm's keyword names; missing ones take `vit_base_patch16_224`'s.
    pub fn from_json(text: &str) -> std::result::Result<Self, ConfigError> {
        let c = Config::parse(text, "ViT")?;
        let d = Self::vit_base_patch16_224(1000);
        let cfg = VitConfig {
            img_size: c.usize_or("img_size", d.img_size)?,
            patch_size: c.usize_or("patch_size", d.patch_size)?,
            in_chans: c.usize_or("in_chans", d.in_chans)?,
            num_classes: c.usize_or("num_classes", d.num_classes)?,
            embed_dim: c.usize_or("embed_dim", d.embed_dim)?,
            depth: c.usize_or("depth", d.depth)?,
            num_heads: c.usize_or("num_heads", d.num_heads)?,
            mlp_ratio: c.f64_or("mlp_ratio", d.mlp_ratio)?,
            qkv_bias: c.bool_or("qkv_bias", true)?,
            global_pool: c.str_or("global_pool", "token")?,
            layer_norm_eps: c.f64_or("layer_norm_eps", 1e-6)?,
        };
        if !c.bool_or("class_token", true)? {
            return Err(c.error("class_token = false is not supported".into()));
        }
        if cfg.num_heads == 0 || !cfg.embed_dim.is_multiple_of(cfg.num_heads) {
            return Err(c.error(format!("embed_dim {} is not divisible by num_heads {}", cfg.embed_dim, cfg.num_heads)));
        }
        if cfg.patch_size == 0 || !cfg.img_size.is_multiple_of(cfg.patch_size) {
            return Err(
                c.error(format!("img_size {} is not a multiple of patch_size {}", cfg.img_size, cfg.patch_size))
            );
        }
        if cfg.global_pool != "token" {
            return Err(
                c.error(format!("global_pool {:?}: only \"token\" (the class token) is supported", cfg.global_pool))
            );
        }
        Ok(cfg)
    }
}

/// `patch_embed.proj`: a `patch_size` convolution with stride `patch_size`.
#[derive(Module)]
pub struct PatchEmbed {
    pub proj: Conv2D,
}

/// Self-attention with packed `qkv` and an output `proj`.
#[derive(Module)]
pub struct VitAttention {
    pub qkv: Dense,
    pub proj: Dense,
    #[module(skip)]
    heads: usize,
}

impl Forward for VitAttention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let d = x.shape()[2];
        let qkv = self.qkv.forward(x)?;
        let q = split_heads(&qkv.narrow(2, 0, d)?, self.heads)?;
        let k = split_heads(&qkv.narrow(2, d, d)?, self.heads)?;
        let v = split_heads(&qkv.narrow(2, 2 * d, d)?, self.heads)?;
        let o = q.scaled_dot_product_attention(&k, &v, AttentionParams::default())?;
        self.proj.forward(&merge_heads(&o)?)
    }
}

/// `fc1 → GELU → fc2`.
#[derive(Module)]
pub struct VitMlp {
    pub fc1: Dense,
    pub fc2: Dense,
}

/// A pre-norm transformer block.
#[derive(Module)]
pub struct VitBlock {
    pub norm1: LayerNorm,
    pub attn: VitAttention,
    pub norm2: LayerNorm,
    pub mlp: VitMlp,
}

impl Forward for VitBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.add(&self.attn.forward(&self.norm1.forward(x)?)?)?;
        let m = self.mlp.fc2.forward(&self.mlp.fc1.forward(&self.norm2.forward(&x)?)?.gelu()?)?;
        x.add(&m)
    }
}

/// Vision Transformer: `[n, in_chans, img_size, img_size]` → logits `[n, num_classes]`.
#[derive(Module)]
pub struct VisionTransformer {
    pub cls_token: Tensor,
    pub pos_embed: Tensor,
    pub patch_embed: PatchEmbed,
    pub blocks: Vec<VitBlock>,
    pub norm: LayerNorm,
    pub head: Dense,
    #[module(skip)]
    pub config: VitConfig,
}

impl VisionTransformer {
    pub fn new(config: VitConfig) -> Result<Self> {
        let (d, p) = (config.embed_dim, config.patch_size);
        let patches = (config.img_size / p.max(1)).pow(2);
        let hidden = (d as f64 * config.mlp_ratio) as usize;
        let blocks = (0..config.depth)
            .map(|_| VitBlock {
                norm1: LayerNorm::new(d).eps(config.layer_norm_eps),
                attn: VitAttention {
                    qkv: Dense::new(d, 3 * d).bias(config.qkv_bias),
                    proj: Dense::new(d, d),
                    heads: config.num_heads,
                },
                norm2: LayerNorm::new(d).eps(config.layer_norm_eps),
                mlp: VitMlp { fc1: Dense::new(d, hidden), fc2: Dense::new(hidden, d) },
            })
            .collect();
        Ok(VisionTransformer {
            cls_token: Tensor::randn(&[1, 1, d], &Device::Cpu)?.mul_scalar(1e-6)?.requires_grad(true),
            pos_embed: Tensor::randn(&[1, patches + 1, d], &Device::Cpu)?.mul_scalar(0.02)?.requires_grad(true),
            patch_embed: PatchEmbed { proj: Conv2D::new(config.in_chans, d, p).stride(p) },
            blocks,
            norm: LayerNorm::new(d).eps(config.layer_norm_eps),
            head: Dense::new(d, config.num_classes),
            config,
        })
    }
    /// The normalised token sequence `[n, 1 + patches, embed_dim]`.
    pub fn forward_features(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.shape();
        if s.len() != 4 || s[2] != self.config.img_size || s[3] != self.config.img_size {
            return Err(lolcore::Error::arg(
                "VisionTransformer",
                format!(
                    "input shape {s:?}: expected [n, {}, {}, {}]",
                    self.config.in_chans, self.config.img_size, self.config.img_size
                ),
            ));
        }
        let n = s[0];
        let h = self.patch_embed.proj.forward(x)?.flatten(2, 3)?.transpose(1, 2)?;
        let cls = self.cls_token.expand(&[n, 1, self.config.embed_dim])?;
        let mut h = Tensor::cat(&[cls, h], 1)?.add(&self.pos_embed)?;
        for b in &self.blocks {
            h = b.forward(&h)?;
        }
        self.norm.forward(&h)
    }
}

impl Forward for VisionTransformer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.forward_features(x)?;
        self.head.forward(&h.narrow(1, 0, 1)?.squeeze(1)?)
    }
}
