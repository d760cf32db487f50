//! PyTorch parity for the step-2 layers: each loads the state_dict PyTorch saved
//! (strictly, no renaming) and gives PyTorch's train-mode output, input gradient and
//! parameter gradients to 1e-4. References: tests/fixtures/make_layer_fixtures.py.

use keras::lolcore::safetensors::{load_module, LoadOptions, SafeTensors};
use keras::prelude::*;
use std::path::Path;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch/layers");

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.sub(b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap()
}

/// Loads `name`'s state dict into `model`, runs the fixture's input through it in train
/// mode, and returns what differs from PyTorch.
fn compare<M: Module + Forward>(name: &str, mut model: M) -> Vec<String> {
    let state = format!("{DIR}/{name}.safetensors");
    if Path::new(&state).exists() {
        let report = load_module(&mut model, &state, &LoadOptions::strict()).unwrap();
        assert!(report.is_clean(), "{name}: {report}");
    }
    model.train();
    let io = SafeTensors::open(format!("{DIR}/{name}_io.safetensors")).unwrap();
    let get = |k: &str| io.tensor(k, &Device::Cpu).unwrap_or_else(|e| panic!("{name}: {k}: {e}"));
    let x = get("input").requires_grad(true);
    let y = match model.forward(&x) {
        Ok(y) => y,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let want = get("output");
    if y.shape() != want.shape() {
        return vec![format!("{name}: output shape {:?}, PyTorch {:?}", y.shape(), want.shape())];
    }
    let mut bad = Vec::new();
    let d = max_diff(&y, &want);
    if d > 1e-4 {
        bad.push(format!("{name}: output differs by {d}"));
    }
    let grads = y.mul(&get("gout")).unwrap().sum_all().unwrap().backward().unwrap();
    let mut checked = vec![("input".to_string(), x)];
    checked.extend(model.named_parameters());
    for (k, t) in checked {
        let want = get(&format!("grad.{k}"));
        match grads.get(&t) {
            Some(g) if max_diff(g, &want) > 1e-4 => {
                bad.push(format!("{name}: gradient of {k} differs by {}", max_diff(g, &want)))
            }
            Some(_) => {}
            None => bad.push(format!("{name}: no gradient for {k}")),
        }
    }
    let grads_in_file = io.names().iter().filter(|n| n.starts_with("grad.")).count();
    if grads_in_file != model.named_parameters().len() + 1 {
        bad.push(format!(
            "{name}: the fixture has {grads_in_file} gradients, the model {} tensors",
            model.named_parameters().len() + 1
        ));
    }
    bad
}

fn dcgan_generator() -> impl Module + Forward {
    sequential![
        ConvTranspose2D::new(8, 16, 4).bias(false),
        BatchNorm2D::new(16),
        Relu,
        ConvTranspose2D::new(16, 8, 4).stride(2).padding(1).bias(false),
        BatchNorm2D::new(8),
        Relu,
        ConvTranspose2D::new(8, 3, 4).stride(2).padding(1).bias(false),
        Tanh,
    ]
}

fn conv1d_net() -> impl Module + Forward {
    sequential![
        Conv1D::new(3, 8, 5).padding(2),
        GroupNorm::new(2, 8),
        Silu,
        MaxPool1D::new(2),
        Conv1D::new(8, 8, 3).stride(2).dilation(2).groups(2),
        PReLU::new(8),
        AdaptiveAvgPool1D::new(3),
    ]
}

#[test]
fn layers_match_pytorch_outputs_and_gradients() {
    let mut bad = Vec::new();
    bad.extend(compare("conv1d", Conv1D::new(4, 6, 3).stride(2).padding(1).dilation(2).groups(2)));
    bad.extend(compare("conv1d_same", Conv1D::new(3, 4, 4).padding("same").bias(false)));
    bad.extend(compare("conv2d_rect", Conv2D::new(2, 4, (3, 1)).stride((2, 1)).padding((1, 0))));
    bad.extend(compare("conv2d_same", Conv2D::new(2, 3, (4, 3)).padding("same")));
    bad.extend(compare("conv_transpose1d", ConvTranspose1D::new(3, 4, 4).stride(2).padding(1).output_padding(1)));
    bad.extend(compare(
        "conv_transpose2d",
        ConvTranspose2D::new(4, 6, (3, 2)).stride(2).padding((1, 0)).output_padding(1).groups(2),
    ));
    bad.extend(compare("max_pool1d", MaxPool1D::new(3).stride(2).padding(1).ceil_mode(true)));
    bad.extend(compare("avg_pool1d", AvgPool1D::new(3).stride(2).padding(1).ceil_mode(true)));
    bad.extend(compare("max_pool2d", MaxPool2D::new((3, 2)).stride((2, 1)).padding(1).ceil_mode(true)));
    bad.extend(compare("avg_pool2d", AvgPool2D::new(3).stride(2).padding(1).ceil_mode(true)));
    bad.extend(compare("adaptive_avg_pool1d", AdaptiveAvgPool1D::new(4)));
    bad.extend(compare("adaptive_avg_pool2d", AdaptiveAvgPool2D::new((3, 2))));
    bad.extend(compare("adaptive_max_pool1d", AdaptiveMaxPool1D::new(3)));
    bad.extend(compare("adaptive_max_pool2d", AdaptiveMaxPool2D::new(3)));
    bad.extend(compare("upsample_nearest", Upsample::scale_factor(2.0)));
    bad.extend(compare("upsample_bilinear", Upsample::size((5, 7)).mode(UpsampleMode::Linear)));
    bad.extend(compare(
        "upsample_bilinear_ac",
        Upsample::scale_factor(2.0).mode(UpsampleMode::Linear).align_corners(true),
    ));
    bad.extend(compare("upsample_linear", Upsample::scale_factor(3.0).mode(UpsampleMode::Linear)));
    bad.extend(compare("zero_pad2d", ZeroPad2D::new((1, 2, 0, 3))));
    bad.extend(compare("constant_pad1d", ConstantPad1D::new(2, 0.5)));
    bad.extend(compare("reflection_pad1d", ReflectionPad1D::new((3, 1))));
    bad.extend(compare("reflection_pad2d", ReflectionPad2D::new(2)));
    bad.extend(compare("replication_pad1d", ReplicationPad1D::new((2, 4))));
    bad.extend(compare("replication_pad2d", ReplicationPad2D::new((1, 2, 3, 0))));
    bad.extend(compare("circular_pad2d", CircularPad2D::new((1, 2, 2, 0))));
    bad.extend(compare("prelu", PReLU::new(3)));
    bad.extend(compare("prelu_shared", PReLU::new(1)));
    bad.extend(compare("elu", Elu::new(0.5)));
    bad.extend(compare("selu", Selu));
    bad.extend(compare("silu", Silu));
    bad.extend(compare("mish", Mish));
    bad.extend(compare("softplus", Softplus::new(2.0, 1.0)));
    bad.extend(compare("hardswish", Hardswish));
    bad.extend(compare("hardsigmoid", Hardsigmoid));
    bad.extend(compare("relu6", Relu6));
    bad.extend(compare("log_softmax", LogSoftmax::new(1)));
    bad.extend(compare("group_norm", GroupNorm::new(2, 4)));
    bad.extend(compare("instance_norm1d", InstanceNorm1D::new(3).affine(true)));
    bad.extend(compare("instance_norm2d", InstanceNorm2D::new(3)));
    bad.extend(compare("rms_norm", RmsNorm::new(5)));
    bad.extend(compare("dcgan_generator", dcgan_generator()));
    bad.extend(compare("conv1d_net", conv1d_net()));
    assert!(bad.is_empty(), "differences from PyTorch:\n{}", bad.join("\n"));
}

/// Every fixture the script wrote is checked above.
#[test]
fn every_fixture_is_compared() {
    let src = std::fs::read_to_string(file!()).unwrap();
    for e in std::fs::read_dir(DIR).unwrap() {
        let f = e.unwrap().file_name().into_string().unwrap();
        if let Some(name) = f.strip_suffix("_io.safetensors") {
            assert!(
                src.contains(&format!("compare(\"{name}\"")) || src.contains(&format!("\"{name}\",\n")),
                "fixture {name} is not compared"
            );
        }
    }
}
