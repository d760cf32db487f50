//! MobileNetV2 (Sandler et al. 2018) with torchvision's structure and names.
//!
//! `features.0` is a 3×3 stride-2 convolution + batch norm + ReLU6 (`features.0.0`,
//! `features.0.1`); then inverted residual blocks (`features.k.conv.*`: an optional
//! 1×1 expansion, a 3×3 depthwise convolution, a 1×1 linear projection; a residual
//! connection when the stride is 1 and the width is kept); a last 1×1 convolution to
//! `last_channel`; global average pooling; `classifier` = Dropout, Linear
//! (`classifier.1`).

use super::config::{Config, ConfigError};
use crate::layers::{BatchNorm2D, Conv2D, Dense, Dropout, Relu6, SequentialLayers};
use crate::Module;
use lolcore::nn::Forward;
use lolcore::{Result, Tensor};

/// A MobileNetV2's shape (torchvision's constructor arguments).
#[derive(Clone, Debug, PartialEq)]
pub struct MobileNetV2Config {
    pub num_classes: usize,
    pub width_mult: f64,
    /// Rows of (expansion t, channels c, repeats n, first stride s).
    pub inverted_residual_setting: Vec<[usize; 4]>,
    pub round_nearest: usize,
    pub last_channel: usize,
    pub dropout: f64,
}

impl MobileNetV2Config {
    /// torchvision's `mobilenet_v2` at width 1.0.
    pub fn standard(num_classes: usize) -> Self {
        MobileNetV2Config {
            num_classes,
            width_mult: 1.0,
            inverted_residual_setting: vec![
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ],
            round_nearest: 8,
            last_channel: 1280,
            dropout: 0.2,
        }
    }
    /// From JSON with torchvision's argument names; missing ones take its defaults.
    pub fn from_json(text: &str) -> std::result::Result<Self, ConfigError> {
        let c = Config::parse(text, "MobileNetV2")?;
        let d = Self::standard(1000);
        let setting = match c.json.get("inverted_residual_setting") {
            None | Some(serde_json::Value::Null) => d.inverted_residual_setting,
            Some(v) => {
                let rows = v.as_array().ok_or_else(|| c.error("inverted_residual_setting must be a list".into()))?;
                let mut out = Vec::new();
                for r in rows {
                    let vals: Vec<usize> = r
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as usize)).collect())
                        .unwrap_or_default();
                    if vals.len() != 4 || vals.contains(&0) {
                        return Err(c.error(format!("inverted_residual_setting row {r}: expected [t, c, n, s] > 0")));
                    }
                    out.push([vals[0], vals[1], vals[2], vals[3]]);
                }
                out
            }
        };
        Ok(MobileNetV2Config {
            num_classes: c.usize_or("num_classes", 1000)?,
            width_mult: c.f64_or("width_mult", 1.0)?,
            inverted_residual_setting: setting,
            round_nearest: c.usize_or("round_nearest", 8)?.max(1),
            last_channel: c.usize_or("last_channel", 1280)?,
            dropout: c.f64_or("dropout", 0.2)?,
        })
    }
}

/// torchvision's `_make_divisible`: round to a multiple of `divisor`, never more than
/// 10% below `v`.
fn make_divisible(v: f64, divisor: usize) -> usize {
    let d = divisor as f64;
    let mut n = (((v + d / 2.0) / d).floor() * d).max(d);
    if n < 0.9 * v {
        n += d;
    }
    n as usize
}

/// Convolution + batch norm + ReLU6 (`Conv2dNormActivation`), "same" padding.
fn conv_bn_relu6(cin: usize, cout: usize, k: usize, stride: usize, groups: usize) -> SequentialLayers {
    SequentialLayers::new()
        .with(Conv2D::new(cin, cout, k).stride(stride).padding((k - 1) / 2).groups(groups).bias(false))
        .with(BatchNorm2D::new(cout))
        .with(Relu6)
}

/// An inverted residual block.
#[derive(Module)]
pub struct InvertedResidual {
    pub conv: SequentialLayers,
    #[module(skip)]
    pub use_residual: bool,
}

impl InvertedResidual {
    fn new(inp: usize, oup: usize, stride: usize, expand_ratio: usize) -> Self {
        let hidden = inp * expand_ratio;
        let mut conv = SequentialLayers::new();
        if expand_ratio != 1 {
            conv.push(conv_bn_relu6(inp, hidden, 1, 1, 1));
        }
        conv.push(conv_bn_relu6(hidden, hidden, 3, stride, hidden));
        conv.push(Conv2D::new(hidden, oup, 1).bias(false));
        conv.push(BatchNorm2D::new(oup));
        InvertedResidual { conv, use_residual: stride == 1 && inp == oup }
    }
}

impl Forward for InvertedResidual {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.conv.forward(x)?;
        if self.use_residual {
            h.add(x)
        } else {
            Ok(h)
        }
    }
}

/// MobileNetV2 for image classification: `[n, 3, h, w]` → logits `[n, num_classes]`.
#[derive(Module)]
pub struct MobileNetV2 {
    pub features: SequentialLayers,
    pub classifier: SequentialLayers,
    #[module(skip)]
    pub config: MobileNetV2Config,
}

impl MobileNetV2 {
    pub fn new(config: MobileNetV2Config) -> Self {
        let r = config.round_nearest;
        let mut input = make_divisible(32.0 * config.width_mult, r);
        let last = make_divisible(config.last_channel as f64 * config.width_mult.max(1.0), r);
        let mut features = SequentialLayers::new().with(conv_bn_relu6(3, input, 3, 2, 1));
        for &[t, c, n, s] in &config.inverted_residual_setting {
            let out = make_divisible(c as f64 * config.width_mult, r);
            for i in 0..n {
                features.push(InvertedResidual::new(input, out, if i == 0 { s } else { 1 }, t));
                input = out;
            }
        }
        features.push(conv_bn_relu6(input, last, 1, 1, 1));
        let classifier =
            SequentialLayers::new().with(Dropout::new(config.dropout)).with(Dense::new(last, config.num_classes));
        MobileNetV2 { features, classifier, config }
    }
}

impl Forward for MobileNetV2 {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.features.forward(x).map_err(|e| e.context("MobileNetV2 features"))?;
        self.classifier.forward(&h.adaptive_avg_pool2d(1)?.flatten(1, 3)?)
    }
}
