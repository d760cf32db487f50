//! ResNet (He et al. 2015) with torchvision's structure and parameter names, so
//! `torchvision.models.resnet18().state_dict()` loads unchanged.
//!
//! `conv1 → bn1 → relu → maxpool(3, 2, 1) → layer1..layer4 → avgpool → fc`; each
//! `layerN` is a list of residual blocks (`layer1.0.conv1.weight`), the first of a
//! stage striding by 2 (but `layer1`) and carrying a 1×1 `downsample` projection when
//! the shape changes (`layer2.0.downsample.0.weight`, `.downsample.1.running_mean`).

use super::config::{Config, ConfigError};
use crate::layers::{BatchNorm2D, Conv2D, Dense, MaxPool2D};
use crate::Module;
use lolcore::nn::Forward;
use lolcore::{Result, Tensor};

/// Two 3×3 convolutions (ResNet-18/34) or 1×1 → 3×3 → 1×1 with 4× expansion (ResNet-50+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Basic,
    Bottleneck,
}

impl BlockKind {
    fn expansion(self) -> usize {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

/// A ResNet's shape: block kind, blocks per stage, widths.
#[derive(Clone, Debug, PartialEq)]
pub struct ResNetConfig {
    pub block: BlockKind,
    /// Residual blocks in each of the four stages.
    pub layers: [usize; 4],
    /// Channels out of the 7×7 stem (64 in torchvision).
    pub stem_width: usize,
    /// Each stage's `planes` (64, 128, 256, 512 in torchvision); a bottleneck stage
    /// outputs 4× as many.
    pub widths: [usize; 4],
    pub num_classes: usize,
}

impl ResNetConfig {
    fn standard(block: BlockKind, layers: [usize; 4], num_classes: usize) -> Self {
        ResNetConfig { block, layers, stem_width: 64, widths: [64, 128, 256, 512], num_classes }
    }
    /// torchvision's `resnet18`.
    pub fn resnet18(num_classes: usize) -> Self {
        Self::standard(BlockKind::Basic, [2, 2, 2, 2], num_classes)
    }
    /// torchvision's `resnet34`.
    pub fn resnet34(num_classes: usize) -> Self {
        Self::standard(BlockKind::Basic, [3, 4, 6, 3], num_classes)
    }
    /// torchvision's `resnet50`.
    pub fn resnet50(num_classes: usize) -> Self {
        Self::standard(BlockKind::Bottleneck, [3, 4, 6, 3], num_classes)
    }
    /// From JSON: `{"block": "basic"|"bottleneck", "layers": [..4], "stem_width": 64,
    /// "widths": [..4], "num_classes": 1000}`; missing sizes take torchvision's.
    pub fn from_json(text: &str) -> std::result::Result<Self, ConfigError> {
        let c = Config::parse(text, "ResNet")?;
        let block = match c.str_or("block", "basic")?.as_str() {
            "basic" => BlockKind::Basic,
            "bottleneck" => BlockKind::Bottleneck,
            other => return Err(c.error(format!("block {other:?}: expected \"basic\" or \"bottleneck\""))),
        };
        Ok(ResNetConfig {
            block,
            layers: c.array4("layers", [2, 2, 2, 2])?,
            stem_width: c.usize_or("stem_width", 64)?,
            widths: c.array4("widths", [64, 128, 256, 512])?,
            num_classes: c.usize_or("num_classes", 1000)?,
        })
    }
}

/// A 1×1 strided convolution and a batch norm that match a block's input to its output.
#[derive(Module)]
pub struct Downsample {
    #[module(name = "0")]
    pub conv: Conv2D,
    #[module(name = "1")]
    pub bn: BatchNorm2D,
}

/// A residual block: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))` (basic),
/// or with a third 1×1 convolution (bottleneck).
#[derive(Module)]
pub struct ResidualBlock {
    pub conv1: Conv2D,
    pub bn1: BatchNorm2D,
    pub conv2: Conv2D,
    pub bn2: BatchNorm2D,
    pub conv3: Option<Conv2D>,
    pub bn3: Option<BatchNorm2D>,
    pub downsample: Option<Downsample>,
}

impl ResidualBlock {
    fn new(kind: BlockKind, inplanes: usize, planes: usize, stride: usize) -> Self {
        let out = planes * kind.expansion();
        let downsample = (stride != 1 || inplanes != out).then(|| Downsample {
            conv: Conv2D::new(inplanes, out, 1).stride(stride).bias(false),
            bn: BatchNorm2D::new(out),
        });
        match kind {
            BlockKind::Basic => ResidualBlock {
                conv1: Conv2D::new(inplanes, planes, 3).stride(stride).padding(1).bias(false),
                bn1: BatchNorm2D::new(planes),
                conv2: Conv2D::new(planes, planes, 3).padding(1).bias(false),
                bn2: BatchNorm2D::new(planes),
                conv3: None,
                bn3: None,
                downsample,
            },
            // torchvision (v1.5) strides in the 3×3 convolution.
            BlockKind::Bottleneck => ResidualBlock {
                conv1: Conv2D::new(inplanes, planes, 1).bias(false),
                bn1: BatchNorm2D::new(planes),
                conv2: Conv2D::new(planes, planes, 3).stride(stride).padding(1).bias(false),
                bn2: BatchNorm2D::new(planes),
                conv3: Some(Conv2D::new(planes, out, 1).bias(false)),
                bn3: Some(BatchNorm2D::new(out)),
                downsample,
            },
        }
    }
}

impl Forward for ResidualBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.bn1.forward(&self.conv1.forward(x)?)?.relu()?;
        h = self.bn2.forward(&self.conv2.forward(&h)?)?;
        if let (Some(c3), Some(b3)) = (&self.conv3, &self.bn3) {
            h = b3.forward(&c3.forward(&h.relu()?)?)?;
        }
        let shortcut = match &self.downsample {
            Some(d) => d.bn.forward(&d.conv.forward(x)?)?,
            None => x.clone(),
        };
        h.add(&shortcut)?.relu()
    }
}

/// ResNet for image classification: `[n, 3, h, w]` → logits `[n, num_classes]`.
#[derive(Module)]
pub struct ResNet {
    pub conv1: Conv2D,
    pub bn1: BatchNorm2D,
    pub layer1: Vec<ResidualBlock>,
    pub layer2: Vec<ResidualBlock>,
    pub layer3: Vec<ResidualBlock>,
    pub layer4: Vec<ResidualBlock>,
    pub fc: Dense,
    #[module(skip)]
    pub config: ResNetConfig,
}

impl ResNet {
    pub fn new(config: ResNetConfig) -> Self {
        let mut inplanes = config.stem_width;
        let mut stage = |i: usize| {
            let stride = if i == 0 { 1 } else { 2 };
            let blocks: Vec<ResidualBlock> = (0..config.layers[i])
                .map(|b| {
                    let blk =
                        ResidualBlock::new(config.block, inplanes, config.widths[i], if b == 0 { stride } else { 1 });
                    inplanes = config.widths[i] * config.block.expansion();
                    blk
                })
                .collect();
            blocks
        };
        let (layer1, layer2, layer3, layer4) = (stage(0), stage(1), stage(2), stage(3));
        ResNet {
            conv1: Conv2D::new(3, config.stem_width, 7).stride(2).padding(3).bias(false),
            bn1: BatchNorm2D::new(config.stem_width),
            layer1,
            layer2,
            layer3,
            layer4,
            fc: Dense::new(inplanes, config.num_classes),
            config,
        }
    }
    /// The pooled features before `fc`: `[n, channels]`.
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.bn1.forward(&self.conv1.forward(x)?)?.relu()?;
        h = MaxPool2D::new(3).stride(2).padding(1).forward(&h)?;
        for stage in [&self.layer1, &self.layer2, &self.layer3, &self.layer4] {
            for b in stage {
                h = b.forward(&h)?;
            }
        }
        h.adaptive_avg_pool2d(1)?.flatten(1, 3)
    }
}

impl Forward for ResNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(&self.features(x).map_err(|e| e.context("ResNet"))?)
    }
}
