//! Classifies an image with a pretrained torchvision or timm model and prints the top-5
//! classes.
//!
//! cargo run --release --example classify_image -- WEIGHTS IMAGE [--arch NAME] [--config FILE]
//!     [--labels FILE] [--resize N] [--crop N]
//!
//! WEIGHTS is the file torchvision/timm saved (`torch.save(model.state_dict())`,
//! safetensors, ...). `--arch` is one of resnet18, resnet34, resnet50, vgg11, vgg11_bn,
//! vgg16, vgg16_bn, mobilenet_v2, vit_base_patch16_224 (1000 ImageNet classes), or
//! resnet, vgg, mobilenet_v2, vit with `--config` (the model's JSON config, any size).
//! Labels default to data/imagenet_classes.txt for 1000 classes, else "class N".
use keras::applications::*;
use keras::prelude::*;
use keras::vision::{load_image, ImageTransform};

/// The model an `--arch` and optional config name.
fn build(arch: &str, config: Option<&str>) -> Result<Box<dyn keras::layers::Layer>> {
    let cfg = |kind: &str| -> Result<String> {
        let path =
            config.ok_or_else(|| Error::msg(format!("--arch {kind} needs --config FILE (the model's JSON config)")))?;
        std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
    };
    Ok(match arch {
        "resnet18" => Box::new(ResNet::new(ResNetConfig::resnet18(1000))),
        "resnet34" => Box::new(ResNet::new(ResNetConfig::resnet34(1000))),
        "resnet50" => Box::new(ResNet::new(ResNetConfig::resnet50(1000))),
        "vgg11" | "vgg11_bn" => Box::new(Vgg::new(VggConfig::vgg11(arch.ends_with("_bn"), 1000))),
        "vgg16" | "vgg16_bn" => Box::new(Vgg::new(VggConfig::vgg16(arch.ends_with("_bn"), 1000))),
        "mobilenet_v2" if config.is_none() => Box::new(MobileNetV2::new(MobileNetV2Config::standard(1000))),
        "vit_base_patch16_224" => Box::new(VisionTransformer::new(VitConfig::vit_base_patch16_224(1000))?),
        "resnet" => Box::new(ResNet::new(ResNetConfig::from_json(&cfg(arch)?)?)),
        "vgg" => Box::new(Vgg::new(VggConfig::from_json(&cfg(arch)?)?)),
        "mobilenet_v2" => Box::new(MobileNetV2::new(MobileNetV2Config::from_json(&cfg(arch)?)?)),
        "vit" => Box::new(VisionTransformer::new(VitConfig::from_json(&cfg(arch)?)?)?),
        other => {
            return Err(Error::msg(format!("unknown --arch {other:?}: see the usage at the top of classify_image.rs")))
        }
    })
}

/// Parses the arguments, classifies, and returns the top 5 as (label, probability).
pub fn run(args: &[String]) -> Result<Vec<(String, f32)>> {
    let usage =
        "usage: classify_image WEIGHTS IMAGE [--arch NAME] [--config FILE] [--labels FILE] [--resize N] [--crop N]";
    let mut pos = Vec::new();
    let (mut arch, mut config, mut labels) = ("resnet18".to_string(), None, None);
    let (mut resize, mut crop) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value =
            |name: &str| it.next().cloned().ok_or_else(|| Error::msg(format!("{name} needs a value\n{usage}")));
        match a.as_str() {
            "--arch" => arch = value("--arch")?,
            "--config" => config = Some(value("--config")?),
            "--labels" => labels = Some(value("--labels")?),
            "--resize" | "--crop" => {
                let v = value(a)?;
                let n = v.parse::<usize>().map_err(|_| Error::msg(format!("{a} {v}: expected a pixel count")))?;
                if a == "--resize" {
                    resize = Some(n)
                } else {
                    crop = Some(n)
                }
            }
            _ if a.starts_with("--") => return Err(Error::msg(format!("unknown option {a}\n{usage}"))),
            _ => pos.push(a.clone()),
        }
    }
    let [weights, image] = pos.as_slice() else { return Err(Error::msg(usage)) };
    let mut model = build(&arch, config.as_deref())?;
    keras::lolcore::safetensors::load_module(
        model.as_mut(),
        weights,
        &keras::lolcore::safetensors::LoadOptions::strict(),
    )?;
    model.set_training(false);
    let base = ImageTransform::imagenet();
    let t = ImageTransform::new(resize.unwrap_or(base.resize), crop.unwrap_or(base.crop));
    let x = t.apply(&load_image(image)?)?;
    let probs = no_grad(|| model.forward(&x))?.softmax(1)?.flatten_all()?.to_vec::<f32>()?;
    let names: Vec<String> = match labels {
        Some(p) => std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?.lines().map(str::to_string).collect(),
        None if probs.len() == 1000 => {
            include_str!("../data/imagenet_classes.txt").lines().map(str::to_string).collect()
        }
        None => Vec::new(),
    };
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    Ok(order
        .into_iter()
        .take(5)
        .map(|i| (names.get(i).cloned().unwrap_or_else(|| format!("class {i}")), probs[i]))
        .collect())
}

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(top) => {
            for (i, (label, p)) in top.iter().enumerate() {
                println!("{}. {label:<30} {:5.1}%", i + 1, p * 100.0);
            }
        }
        Err(e) => {
            eprintln!("classify_image: {e}");
            std::process::exit(1);
        }
    }
}
