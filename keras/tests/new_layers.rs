//! The step-2 layers inside a Keras workflow: a model built from them compiles, trains
//! (its loss falls), summarises with every output shape, and rejects bad input with an
//! error that names the layer.

use keras::prelude::*;

fn quiet<'a>(epochs: usize, batch: usize) -> FitOptions<'a> {
    FitOptions::new(epochs, batch).verbose(Verbosity::Silent)
}

/// Two classes of 1-D signals: a rising or a falling ramp plus noise.
fn ramps(n: usize) -> (Tensor, Tensor) {
    manual_seed(5);
    let t = Tensor::arange(0.0, 16.0, &Device::Cpu).unwrap().mul_scalar(1.0 / 16.0).unwrap();
    let labels: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let sign: Vec<f32> = labels.iter().map(|&l| if l == 1 { 1.0 } else { -1.0 }).collect();
    let sign = Tensor::from_vec(sign, &[n, 1, 1], &Device::Cpu).unwrap();
    let noise = Tensor::randn(&[n, 2, 16], &Device::Cpu).unwrap().mul_scalar(0.3).unwrap();
    let x = sign.mul(&t.reshape(&[1, 1, 16]).unwrap()).unwrap().add(&noise).unwrap();
    (x, Tensor::from_vec(labels, &[n], &Device::Cpu).unwrap())
}

fn signal_model() -> Model<impl Module + Forward> {
    Model::new(sequential![
        Conv1D::new(2, 4, 3).padding(1),
        Elu,
        MaxPool1D::new(2),
        ConvTranspose1D::new(4, 4, 2).stride(2),
        GroupNorm::new(2, 4),
        Silu,
        Upsample::scale_factor(2.0),
        ReflectionPad1D::new(1),
        AdaptiveAvgPool1D::new(3),
        Flatten,
        Dense::new(12, 2),
    ])
}

#[test]
fn a_model_of_new_layers_trains_and_summarises() {
    let (x, y) = ramps(64);
    let mut m = signal_model();
    m.compile(Adam::new(0.02), Loss::SparseCategoricalCrossentropy);
    let h = m.fit_with(&x, &y, quiet(15, 16)).unwrap();
    let loss = h.loss();
    assert!(loss[loss.len() - 1] < 0.5 * loss[0], "loss {loss:?}");
    m.build(&[2, 16]).unwrap();
    let s = m.summary_string();
    for want in
        ["(Conv1D)", "(ConvTranspose1D)", "(GroupNorm)", "(Upsample)", "(None, 4, 32)", "(None, 4, 34)", "(None, 2)"]
    {
        assert!(s.contains(want), "{want} missing from\n{s}");
    }
    assert!(!s.contains('?'), "{s}");
}

#[test]
fn image_layers_summarise_and_check_their_input() {
    let mut m = Model::new(sequential![
        ConvTranspose2D::new(3, 4, 4).stride(2).padding(1),
        InstanceNorm2D::new(4).affine(true),
        PReLU::new(4),
        MaxPool2D::new(3).stride(2).padding(1).ceil_mode(true),
        ZeroPad2D::new((0, 1, 0, 1)),
        AdaptiveMaxPool2D::new((2, 3)),
        Hardswish,
        GlobalAvgPool2D,
        RmsNorm::new(4),
    ]);
    m.build(&[3, 5, 5]).unwrap();
    let s = m.summary_string();
    for want in ["(None, 4, 10, 10)", "(None, 4, 6, 6)", "(None, 4, 7, 7)", "(None, 4, 2, 3)", "(None, 4)"] {
        assert!(s.contains(want), "{want} missing from\n{s}");
    }
    let e = m.predict(&Tensor::zeros(&[1, 2, 5, 5], &Device::Cpu).unwrap(), 1).unwrap_err().to_string();
    assert!(e.contains("ConvTranspose2D") && e.contains("[1, 2, 5, 5]"), "{e}");
}

#[test]
fn bad_arguments_name_the_layer_and_values() {
    let x = Tensor::zeros(&[1, 2, 4], &Device::Cpu).unwrap();
    let e = ReflectionPad1D::new(4).forward(&x).unwrap_err().to_string();
    assert!(e.contains("ReflectionPad1D") && e.contains("(4, 4)") && e.contains("size 4"), "{e}");
    let e = MaxPool1D::new(3).padding(2).forward(&x).unwrap_err().to_string();
    assert!(e.contains("MaxPool1D") && e.contains("padding"), "{e}");
    let e = Conv1D::new(2, 2, 3).stride(2).padding("same").forward(&x).unwrap_err().to_string();
    assert!(e.contains("same") && e.contains("stride"), "{e}");
    let e = ConvTranspose1D::new(2, 2, 3).stride(2).output_padding(2).forward(&x).unwrap_err().to_string();
    assert!(e.contains("output_padding 2"), "{e}");
    let e = GroupNorm::new(3, 2).forward(&x).unwrap_err().to_string();
    assert!(e.contains("GroupNorm") && e.contains("3 groups"), "{e}");
    let e = Upsample::scale_factor(0.1).forward(&x).unwrap_err().to_string();
    assert!(e.contains("Upsample") && e.contains("0.1"), "{e}");
    let e = PReLU::new(3).forward(&x).unwrap_err().to_string();
    assert!(e.contains("PReLU") && e.contains("3 values") && e.contains("2 channels"), "{e}");
    let e = AdaptiveAvgPool2D::new(2).forward(&x).unwrap_err().to_string();
    assert!(e.contains("AdaptiveAvgPool2D") && e.contains("[n, c, h, w]"), "{e}");
    let e = Conv1D::new(2, 2, 7).padding(1).forward(&x).unwrap_err().to_string();
    assert!(e.contains("Conv1D") && e.contains("kernel"), "{e}");
    let e = MaxPool2D::new(3).forward(&Tensor::zeros(&[1, 1, 2, 2], &Device::Cpu).unwrap()).unwrap_err().to_string();
    assert!(e.contains("MaxPool2D") && e.contains("[1, 1, 2, 2]") && e.contains("kernel"), "{e}");
    let e = x.masked_fill(&Tensor::zeros_dtype(&[3], DType::U8, &Device::Cpu).unwrap(), 1.0).unwrap_err().to_string();
    assert!(e.contains("masked_fill"), "{e}");
}

#[test]
fn an_lstm_classifier_trains_in_sequential() {
    let (x, y) = ramps(64);
    // [n, 2, 16] → [n, 16, 2]: time steps of two features.
    let x = x.transpose(1, 2).unwrap().contiguous().unwrap();
    let mut m = Model::new(sequential![
        LSTM::new(2, 8).batch_first(true).num_layers(2).dropout(0.1),
        |h: &Tensor| h.narrow(1, 15, 1)?.squeeze(1),
        Dense::new(8, 2),
    ]);
    m.compile(Adam::new(0.03), Loss::SparseCategoricalCrossentropy);
    let h = m.fit_with(&x, &y, quiet(12, 16)).unwrap();
    let loss = h.loss();
    assert!(loss[loss.len() - 1] < 0.5 * loss[0], "loss {loss:?}");
    m.build(&[16, 2]).unwrap();
    let s = m.summary_string();
    assert!(s.contains("(LSTM)") && s.contains("(None, 16, 8)") && s.contains("960"), "{s}");
}

#[test]
fn recurrent_layers_check_inputs_and_states() {
    let lstm = LSTM::new(3, 4).num_layers(2);
    let x = Tensor::zeros(&[5, 2, 3], &Device::Cpu).unwrap();
    let (out, (h, c)) = lstm.forward_seq(&x, None).unwrap();
    assert_eq!((out.shape(), h.shape(), c.shape()), (&[5, 2, 4][..], &[2, 2, 4][..], &[2, 2, 4][..]));
    let e = lstm.forward(&Tensor::zeros(&[5, 2, 4], &Device::Cpu).unwrap()).unwrap_err().to_string();
    assert!(e.contains("LSTM") && e.contains("[5, 2, 4]") && e.contains("input_size 3"), "{e}");
    let bad_h = Tensor::zeros(&[1, 2, 4], &Device::Cpu).unwrap();
    let e = lstm.forward_seq(&x, Some((&bad_h, &bad_h))).unwrap_err().to_string();
    assert!(e.contains("initial h [1, 2, 4]") && e.contains("[2, 2, 4]"), "{e}");
    let e = GRU::new(3, 4).dropout(1.5).forward(&x).unwrap_err().to_string();
    assert!(e.contains("GRU") && e.contains("dropout 1.5"), "{e}");
    let e =
        GRUCell::new(3, 4).step(&Tensor::zeros(&[2, 3], &Device::Cpu).unwrap(), Some(&bad_h)).unwrap_err().to_string();
    assert!(e.contains("GRUCell") && e.contains("h [1, 2, 4]"), "{e}");
    let names: Vec<String> =
        LSTM::new(3, 4).bidirectional(true).named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names[4..],
        ["weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"]
    );
    // Dropout between layers is off in eval: two runs agree.
    let mut gru = GRU::new(3, 4).num_layers(2).dropout(0.5);
    gru.eval();
    let x = Tensor::randn(&[4, 1, 3], &Device::Cpu).unwrap();
    let (a, b) = (gru.forward(&x).unwrap(), gru.forward(&x).unwrap());
    assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
}

#[test]
fn a_transformer_encoder_trains_with_a_padding_mask() {
    let (x, y) = ramps(48);
    // [n, 2, 16] → [n, 16, 2] → project to 8 features per step.
    let x = x.transpose(1, 2).unwrap().contiguous().unwrap();
    let layer = TransformerEncoderLayer::new(8, 2).dim_feedforward(16).dropout(0.0).batch_first(true);
    let mut m = Model::new(sequential![
        Dense::new(2, 8),
        TransformerEncoder::new(layer, 2),
        |h: &Tensor| h.mean(1),
        Dense::new(8, 2),
    ]);
    m.compile(Adam::new(0.01), Loss::SparseCategoricalCrossentropy);
    let h = m.fit_with(&x, &y, quiet(10, 16)).unwrap();
    let loss = h.loss();
    assert!(loss[loss.len() - 1] < 0.5 * loss[0], "loss {loss:?}");
    m.build(&[16, 2]).unwrap();
    let s = m.summary_string();
    assert!(s.contains("(TransformerEncoder)") && s.contains("(None, 16, 8)"), "{s}");
    // The stack's layers are copies with weights of their own.
    let names: Vec<String> = m.module().named_parameters().into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().any(|n| n == "1.layers.1.self_attn.in_proj_weight"), "{names:?}");
    let ps = m.module().named_parameters();
    let w = |n: &str| ps.iter().find(|(k, _)| k == n).unwrap().1.clone();
    let d =
        w("1.layers.0.linear1.weight").sub(&w("1.layers.1.linear1.weight")).unwrap().abs().unwrap().max_all().unwrap();
    assert!(d.to_scalar::<f32>().unwrap() > 0.0, "the copies trained as one");
}

#[test]
fn attention_checks_its_inputs() {
    let x = Tensor::zeros(&[2, 5, 8], &Device::Cpu).unwrap();
    let e = MultiheadAttention::new(8, 3).forward(&x).unwrap_err().to_string();
    assert!(e.contains("embed_dim 8") && e.contains("3 heads"), "{e}");
    let mha = MultiheadAttention::new(8, 2).batch_first(true);
    let bad = Tensor::zeros(&[2, 4], &Device::Cpu).unwrap();
    let e = mha.attend(&x, &x, &x, Some(&bad), None).unwrap_err().to_string();
    assert!(e.contains("key_padding_mask [2, 4]") && e.contains("[2, 5]"), "{e}");
    let e = mha.attend(&x, &x, &x, None, Some(&bad)).unwrap_err().to_string();
    assert!(e.contains("attn_mask [2, 4]") && e.contains("[5, 5]"), "{e}");
    let e = mha.forward(&Tensor::zeros(&[2, 5, 6], &Device::Cpu).unwrap()).unwrap_err().to_string();
    assert!(e.contains("MultiheadAttention") && e.contains("E = 8"), "{e}");
    let names: Vec<String> =
        MultiheadAttention::new(8, 2).kdim_vdim(6, 4).named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    );
    let e = TransformerEncoderLayer::new(8, 2).activation(Activation::Tanh).forward(&x).unwrap_err().to_string();
    assert!(e.contains("Relu or Gelu"), "{e}");
}

#[test]
fn forward_mode_runs_through_the_recurrences() {
    // With tangents flowing the loops run step by step (the fused ops have no jvp); the
    // tangent must match central differences.
    manual_seed(2);
    let x = Tensor::randn(&[4, 2, 3], &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap();
    let dx = Tensor::randn(&[4, 2, 3], &Device::Cpu).unwrap().to_dtype(DType::F64).unwrap();
    let mut lstm = LSTM::new(3, 5).bidirectional(true);
    let mut gru = GRU::new(3, 5).num_layers(2);
    lstm.cast_to(DType::F64).unwrap();
    gru.cast_to(DType::F64).unwrap();
    let layers: [&dyn Forward; 2] = [&lstm, &gru];
    for layer in layers {
        let (_, t) =
            lolcore::jvp(|v| Ok(vec![layer.forward(&v[0])?]), std::slice::from_ref(&x), std::slice::from_ref(&dx))
                .unwrap();
        let eps = 1e-6;
        let at = |s: f64| layer.forward(&x.add(&dx.mul_scalar(s).unwrap()).unwrap()).unwrap();
        let fd = at(eps).sub(&at(-eps)).unwrap().mul_scalar(0.5 / eps).unwrap();
        let d = t[0].sub(&fd).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(d < 1e-6, "tangent differs from finite differences by {d}");
    }
}
