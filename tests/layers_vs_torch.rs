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
fn compare<M: Module + Forward>(name: &str, model: M) -> Vec<String> {
    compare_with(name, model, |m, i| Ok(vec![("output", m.forward(i.input())?)]))
}

/// Names of outputs and their upstream gradients in the fixtures.
const OUTPUTS: [(&str, &str); 4] = [("output", "gout"), ("h_n", "gh"), ("c_n", "gc"), ("weights", "gw")];

/// A fixture's inputs by name (`input`, `h0`, `c0`, `key`, `value`, `memory`, masks);
/// float ones track gradients.
struct Inputs(Vec<(String, Tensor)>);

impl Inputs {
    fn get(&self, k: &str) -> Option<&Tensor> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, t)| t)
    }
    fn input(&self) -> &Tensor {
        self.get("input").expect("every fixture has an input")
    }
}

/// `compare` for a model whose `run` returns named outputs (see `OUTPUTS`), each with
/// its upstream gradient in the fixture; checks the gradient of every float input and
/// every parameter.
fn compare_with<M: Module>(
    name: &str,
    mut model: M,
    run: impl Fn(&M, &Inputs) -> Result<Vec<(&'static str, Tensor)>>,
) -> Vec<String> {
    let state = format!("{DIR}/{name}.safetensors");
    if Path::new(&state).exists() {
        let report = load_module(&mut model, &state, &LoadOptions::strict()).unwrap();
        assert!(report.is_clean(), "{name}: {report}");
    }
    model.train();
    let io = SafeTensors::open(format!("{DIR}/{name}_io.safetensors")).unwrap();
    let names = io.names();
    let get = |k: &str| io.tensor(k, &Device::Cpu).unwrap_or_else(|e| panic!("{name}: {k}: {e}"));
    let is_output = |n: &str| OUTPUTS.iter().any(|(o, g)| n == *o || n == *g);
    let inputs = Inputs(
        names
            .iter()
            .filter(|n| !n.starts_with("grad.") && !is_output(n))
            .map(|n| {
                let t = get(n);
                let t = if t.dtype().is_float() { t.requires_grad(true) } else { t };
                (n.to_string(), t)
            })
            .collect(),
    );
    let outs = match run(&model, &inputs) {
        Ok(o) => o,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let mut bad = Vec::new();
    let mut loss: Option<Tensor> = None;
    for (k, y) in &outs {
        let want = get(k);
        if y.shape() != want.shape() {
            return vec![format!("{name}: {k} shape {:?}, PyTorch {:?}", y.shape(), want.shape())];
        }
        let d = max_diff(y, &want);
        if d > 1e-4 {
            bad.push(format!("{name}: {k} differs by {d}"));
        }
        let up = OUTPUTS.iter().find(|(o, _)| o == k).map(|(_, g)| *g).expect("a known output");
        let term = y.mul(&get(up)).unwrap().sum_all().unwrap();
        loss = Some(match loss {
            Some(l) => l.add(&term).unwrap(),
            None => term,
        });
    }
    let grads = loss.expect("no outputs").backward().unwrap();
    let mut checked: Vec<(String, Tensor)> = inputs.0.iter().filter(|(_, t)| t.dtype().is_float()).cloned().collect();
    checked.extend(model.named_parameters());
    for (k, t) in &checked {
        let want = get(&format!("grad.{k}"));
        match grads.get(t) {
            Some(g) if max_diff(g, &want) > 1e-4 => {
                bad.push(format!("{name}: gradient of {k} differs by {}", max_diff(g, &want)))
            }
            Some(_) => {}
            None => bad.push(format!("{name}: no gradient for {k}")),
        }
    }
    let grads_in_file = names.iter().filter(|n| n.starts_with("grad.")).count();
    if grads_in_file != checked.len() {
        bad.push(format!("{name}: the fixture has {grads_in_file} gradients, the model {} tensors", checked.len()));
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
    bad.extend(compare("global_max_pool1d", GlobalMaxPool1D));
    bad.extend(compare("global_max_pool2d", GlobalMaxPool2D));
    bad.extend(compare("global_avg_pool1d", GlobalAvgPool1D));
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

fn lstm_outputs(m: &LSTM, i: &Inputs) -> Result<Vec<(&'static str, Tensor)>> {
    let (out, (h, c)) = m.forward_seq(i.input(), i.get("h0").zip(i.get("c0")))?;
    Ok(vec![("output", out), ("h_n", h), ("c_n", c)])
}

fn gru_outputs(m: &GRU, i: &Inputs) -> Result<Vec<(&'static str, Tensor)>> {
    let (out, h) = m.forward_seq(i.input(), i.get("h0"))?;
    Ok(vec![("output", out), ("h_n", h)])
}

#[test]
fn recurrent_layers_and_cells_match_pytorch() {
    let mut bad = Vec::new();
    bad.extend(compare_with("rnn_cell", RNNCell::new(3, 4), |m, i| {
        Ok(vec![("output", m.step(i.input(), i.get("h0"))?)])
    }));
    bad.extend(compare_with("rnn_cell_relu", RNNCell::new(3, 4), |m, i| {
        Ok(vec![("output", m.step_with(i.input(), i.get("h0"), Nonlinearity::Relu)?)])
    }));
    bad.extend(compare_with("lstm_cell", LSTMCell::new(3, 4), |m, i| {
        let (h, c) = m.step(i.input(), i.get("h0").zip(i.get("c0")))?;
        Ok(vec![("output", h), ("c_n", c)])
    }));
    bad.extend(compare_with("gru_cell", GRUCell::new(3, 4), |m, i| {
        Ok(vec![("output", m.step(i.input(), i.get("h0"))?)])
    }));
    bad.extend(compare_with(
        "rnn_relu_2layer",
        RNN::new(3, 4).num_layers(2).nonlinearity(Nonlinearity::Relu),
        |m, i| {
            let (out, h) = m.forward_seq(i.input(), i.get("h0"))?;
            Ok(vec![("output", out), ("h_n", h)])
        },
    ));
    bad.extend(compare_with(
        "lstm_2layer_bidirectional",
        LSTM::new(3, 5).num_layers(2).bidirectional(true).batch_first(true),
        lstm_outputs,
    ));
    bad.extend(compare_with("gru_encoder", GRU::new(4, 6).num_layers(2).batch_first(true), gru_outputs));
    bad.extend(compare_with(
        "gru_bidirectional_unbatched",
        GRU::new(3, 4).bidirectional(true).bias(false),
        gru_outputs,
    ));
    bad.extend(compare_with("lstm_no_bias", LSTM::new(3, 4).bias(false), lstm_outputs));
    assert!(bad.is_empty(), "differences from PyTorch:\n{}", bad.join("\n"));
}

fn causal_mask(n: usize) -> Tensor {
    Tensor::ones(&[n, n], &Device::Cpu).unwrap().triu(1).unwrap()
}

#[test]
fn attention_and_transformers_match_pytorch() {
    let mut bad = Vec::new();
    bad.extend(compare_with("mha_self_batch_first", MultiheadAttention::new(8, 2).batch_first(true), |m, i| {
        let x = i.input();
        let (out, w) = m.attend(x, x, x, i.get("key_padding_mask"), None)?;
        Ok(vec![("output", out), ("weights", w.expect("need_weights is on"))])
    }));
    bad.extend(compare_with(
        "mha_kdim_vdim",
        MultiheadAttention::new(8, 2).kdim_vdim(6, 4).average_attn_weights(false),
        |m, i| {
            let (k, v) = (i.get("key").unwrap(), i.get("value").unwrap());
            let (out, w) = m.attend(i.input(), k, v, None, i.get("attn_mask"))?;
            Ok(vec![("output", out), ("weights", w.expect("need_weights is on"))])
        },
    ));
    let layer = TransformerEncoderLayer::new(8, 2)
        .dim_feedforward(16)
        .dropout(0.0)
        .activation(Activation::Gelu)
        .norm_first(true);
    bad.extend(compare_with("encoder_layer_gelu_norm_first", layer, |m, i| {
        Ok(vec![("output", m.forward_with(i.input(), Some(&causal_mask(6)), None, true)?)])
    }));
    let layer = TransformerEncoderLayer::new(8, 2).dim_feedforward(16).dropout(0.0).batch_first(true);
    bad.extend(compare_with(
        "transformer_encoder_padding",
        TransformerEncoder::new(layer, 2).norm(LayerNorm::new(8)),
        |m, i| Ok(vec![("output", m.forward_masked(i.input(), None, i.get("key_padding_mask"))?)]),
    ));
    let decoder = |norm_first| {
        let layer = TransformerDecoderLayer::new(8, 2)
            .dim_feedforward(16)
            .dropout(0.0)
            .batch_first(true)
            .norm_first(norm_first);
        TransformerDecoder::new(layer, 2)
    };
    bad.extend(compare_with("transformer_decoder", decoder(false), |m, i| {
        let masks = DecoderMasks {
            tgt_mask: Some(&causal_mask(5)),
            memory_key_padding_mask: i.get("memory_key_padding_mask"),
            tgt_is_causal: true,
            ..Default::default()
        };
        Ok(vec![("output", m.forward_masked(i.input(), i.get("memory").unwrap(), masks)?)])
    }));
    bad.extend(compare_with("transformer_decoder_norm_first", decoder(true), |m, i| {
        Ok(vec![("output", m.forward_masked(i.input(), i.get("memory").unwrap(), DecoderMasks::default())?)])
    }));
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
                src.contains(&format!("compare(\"{name}\""))
                    || src.contains(&format!("compare_with(\"{name}\""))
                    || src.contains(&format!("\"{name}\",\n")),
                "fixture {name} is not compared"
            );
        }
    }
}
