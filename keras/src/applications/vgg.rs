//! VGG (Simonyan & Zisserman 2014) with torchvision's structure and names:
//! `features` is a numbered list of 3×3 convolutions (each followed by an optional
//! batch norm and a ReLU) and 2×2 max pools (`features.0.weight`, `features.3.weight`
//! ...), then `avgpool` to 7×7 and `classifier` = Linear, ReLU, Dropout, Linear, ReLU,
//! Dropout, Linear (`classifier.0`, `classifier.3`, `classifier.6`).

use super::config::{Config, ConfigError};
use crate::layers::{BatchNorm2D, Conv2D, Dense, Dropout, MaxPool2D, Relu, SequentialLayers};
use crate::Module;
use lolcore::nn::Forward;
use lolcore::{Result, Tensor};

/// One entry of a VGG layer list: a 3×3 convolution's output channels, or a max pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VggItem {
    Conv(usize),
    Pool,
}

/// A VGG's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct VggConfig {
    pub cfg: Vec<VggItem>,
    pub batch_norm: bool,
    /// Width of the two hidden classifier layers (4096 in torchvision).
    pub hidden: usize,
    pub num_classes: usize,
    pub dropout: f64,
}

fn items(spec: &[i64]) -> Vec<VggItem> {
    spec.iter().map(|&c| if c < 0 { VggItem::Pool } else { VggItem::Conv(c as usize) }).collect()
}

impl VggConfig {
    fn standard(spec: &[i64], batch_norm: bool, num_classes: usize) -> Self {
        VggConfig { cfg: items(spec), batch_norm, hidden: 4096, num_classes, dropout: 0.5 }
    }
    /// torchvision's `vgg11` (`vgg11_bn` with `batch_norm`).
    pub fn vgg11(batch_norm: bool, num_classes: usize) -> Self {
        Self::standard(&[64, -1, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1], batch_norm, num_classes)
    }
    /// torchvision's `vgg16` (`vgg16_bn` with `batch_norm`).
    pub fn vgg16(batch_norm: bool, num_classes: usize) -> Self {
        Self::standard(
            &[64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512, -1],
            batch_norm,
            num_classes,
        )
    }
    /// From JSON: `{"cfg": [64, "M", 128, "M", ...], "batch_norm": false, "hidden":
    /// 4096, "num_classes": 1000, "dropout": 0.5}`.
    pub fn from_json(text: &str) -> std::result::Result<Self, ConfigError> {
        let c = Config::parse(text, "VGG")?;
        let raw =
            c.json.get("cfg").and_then(|v| v.as_array()).ok_or_else(|| c.error("\"cfg\" must be a list".into()))?;
        let mut cfg = Vec::new();
        for v in raw {
            cfg.push(match (v.as_u64(), v.as_str()) {
                (Some(n), _) if n > 0 => VggItem::Conv(n as usize),
                (_, Some("M")) => VggItem::Pool,
                _ => return Err(c.error(format!("cfg entry {v}: expected a channel count or \"M\""))),
            });
        }
        Ok(VggConfig {
            cfg,
            batch_norm: c.bool_or("batch_norm", false)?,
            hidden: c.usize_or("hidden", 4096)?,
            num_classes: c.usize_or("num_classes", 1000)?,
            dropout: c.f64_or("dropout", 0.5)?,
        })
    }
}

/// VGG for image classification: `[n, 3, h, w]` → logits `[n, num_classes]`.
#[derive(Module)]
pub struct Vgg {
    pub features: SequentialLayers,
    pub classifier: SequentialLayers,
    #[module(skip)]
    pub config: VggConfig,
}

impl Vgg {
    pub fn new(config: VggConfig) -> Self {
        let mut features = SequentialLayers::new();
        let mut channels = 3;
        for item in &config.cfg {
            match *item {
                VggItem::Pool => features.push(MaxPool2D::new(2).stride(2)),
                VggItem::Conv(c) => {
                    features.push(Conv2D::new(channels, c, 3).padding(1));
                    if config.batch_norm {
                        features.push(BatchNorm2D::new(c));
                    }
                    features.push(Relu);
                    channels = c;
                }
            }
        }
        let classifier = SequentialLayers::new()
            .with(Dense::new(channels * 49, config.hidden))
            .with(Relu)
            .with(Dropout::new(config.dropout))
            .with(Dense::new(config.hidden, config.hidden))
            .with(Relu)
            .with(Dropout::new(config.dropout))
            .with(Dense::new(config.hidden, config.num_classes));
        Vgg { features, classifier, config }
    }
}

impl Forward for Vgg {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.features.forward(x).map_err(|e| e.context("VGG features"))?;
        let h = h.adaptive_avg_pool2d(7)?.flatten(1, 3)?;
        self.classifier.forward(&h)
    }
}
