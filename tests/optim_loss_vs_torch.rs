//! Optimizers and losses against PyTorch's own numbers (tests/fixtures/optim_loss.json,
//! made by tests/fixtures/make_optim_loss_fixtures.py with real PyTorch).
use keras::lolcore::optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};
use keras::lolcore::Gradients;
use keras::losses::{Loss, LossConfig, Reduction};
use keras::prelude::*;
use serde_json::Value;

fn fixtures() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/optim_loss.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn dims(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn f32_tensor(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.iter().map(|&x| x as f32).collect(), shape, &Device::Cpu).unwrap()
}

fn make(name: &str) -> Box<dyn Optimizer> {
    match name {
        "sgd" => Box::new(Sgd::new(0.1)),
        "sgd_momentum" => Box::new(Sgd::new(0.1).momentum(0.9)),
        "sgd_momentum_dampening_wd" => Box::new(Sgd::new(0.05).momentum(0.8).dampening(0.3).weight_decay(0.01)),
        "sgd_nesterov" => Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(0.001)),
        "adam" => Box::new(Adam::new(0.01)),
        "adam_betas_wd" => Box::new(Adam::new(0.02).betas(0.8, 0.99).eps(1e-6).weight_decay(0.1)),
        "adamw" => Box::new(AdamW::new(0.01)),
        "rmsprop" => Box::new(RmsProp::new(0.01)),
        "rmsprop_momentum_centered" => {
            Box::new(RmsProp::new(0.01).alpha(0.9).momentum(0.5).centered(true).weight_decay(0.01))
        }
        "adagrad" => Box::new(Adagrad::new(0.1)),
        "adagrad_decay_wd" => Box::new(Adagrad::new(0.1).lr_decay(0.01).weight_decay(0.05)),
        other => panic!("no optimizer for fixture {other}"),
    }
}

#[test]
fn every_optimizer_matches_pytorch_step_by_step() {
    let f = fixtures();
    let cases = f["optimizers"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let shape = dims(&case["shape"]);
        let p = f32_tensor(&floats(&case["p0"]), &shape).requires_grad(true);
        let mut opt = make(name);
        opt.add_param_group(vec![p.clone()], None).unwrap();
        for (k, (g, want)) in
            case["grads"].as_array().unwrap().iter().zip(case["after"].as_array().unwrap()).enumerate()
        {
            let mut grads = Gradients::new();
            grads.insert(&p, f32_tensor(&floats(g), &shape));
            opt.step(&grads).unwrap();
            let got = p.to_vec::<f32>().unwrap();
            for (a, b) in got.iter().zip(floats(want)) {
                assert!((*a as f64 - b).abs() < 1e-5 * (1.0 + b.abs()), "{name} step {}: {a} vs PyTorch {b}", k + 1);
            }
        }
    }
}

fn loss_config(name: &str) -> LossConfig {
    match name {
        "mse" => Loss::MeanSquaredError.into(),
        "mae" => Loss::MeanAbsoluteError.into(),
        "huber" => Loss::Huber.delta(0.5),
        "sparse_ce" => Loss::SparseCategoricalCrossentropy.into(),
        "sparse_ce_smoothing" => Loss::SparseCategoricalCrossentropy.label_smoothing(0.1),
        "categorical_ce" => Loss::CategoricalCrossentropy.into(),
        "categorical_ce_smoothing" => Loss::CategoricalCrossentropy.label_smoothing(0.2),
        "binary_ce" => Loss::BinaryCrossentropy.into(),
        other => panic!("no loss for fixture {other}"),
    }
}

#[test]
fn every_loss_matches_pytorch_values_and_gradients() {
    let f = fixtures();
    for case in f["losses"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let pshape = dims(&case["pred_shape"]);
        let tshape = dims(&case["target_shape"]);
        let pred = Tensor::from_vec(floats(&case["pred"]), &pshape, &Device::Cpu).unwrap();
        let target = if name.starts_with("sparse") {
            Tensor::from_vec(
                case["target"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect(),
                &tshape,
                &Device::Cpu,
            )
            .unwrap()
        } else {
            Tensor::from_vec(floats(&case["target"]), &tshape, &Device::Cpu).unwrap()
        };
        // Keras's per-sample losses average elementwise ones over the features; PyTorch's
        // `sum`/`none` of elementwise losses do not. Relate the two by the feature count.
        let elementwise = matches!(name, "mse" | "mae" | "huber");
        let features = if elementwise { pshape[1..].iter().product::<usize>() as f64 } else { 1.0 };
        for (red, reduction) in [("mean", Reduction::Mean), ("sum", Reduction::Sum), ("none", Reduction::None)] {
            let want = &case["results"][red];
            let p = pred.requires_grad(true);
            let v = loss_config(name).reduction(reduction).compute(&p, &target).unwrap();
            let got_v = v.to_vec::<f64>().unwrap();
            let want_v = floats(&want["value"]);
            let want_v: Vec<f64> = match (red, elementwise) {
                ("sum", true) => want_v.iter().map(|x| x / features).collect(),
                ("none", true) => want_v.chunks(features as usize).map(|c| c.iter().sum::<f64>() / features).collect(),
                _ => want_v,
            };
            assert_eq!(got_v.len(), want_v.len(), "{name} {red}");
            for (a, b) in got_v.iter().zip(&want_v) {
                assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{name} {red}: value {a} vs PyTorch {b}");
            }
            let g = v.sum_all().unwrap().backward().unwrap();
            let got_g = g.get(&p).unwrap().to_vec::<f64>().unwrap();
            let scale = if elementwise && red != "mean" { features } else { 1.0 };
            for (a, b) in got_g.iter().zip(floats(&want["grad"])) {
                assert!((a * scale - b).abs() < 1e-9 * (1.0 + b.abs()), "{name} {red}: grad {a} vs PyTorch {b}");
            }
        }
    }
}

#[test]
fn binary_label_smoothing_and_stability() {
    // Smoothing ε pulls targets to t(1−ε) + ε/2.
    let p = Tensor::from_vec(vec![2.0f64, -1.0], &[2], &Device::Cpu).unwrap();
    let t = Tensor::from_vec(vec![1.0f64, 0.0], &[2], &Device::Cpu).unwrap();
    let smoothed = Loss::BinaryCrossentropy.label_smoothing(0.2).compute(&p, &t).unwrap().to_scalar::<f64>().unwrap();
    let t2 = Tensor::from_vec(vec![0.9f64, 0.1], &[2], &Device::Cpu).unwrap();
    let manual = Loss::BinaryCrossentropy.compute(&p, &t2).unwrap().to_scalar::<f64>().unwrap();
    assert!((smoothed - manual).abs() < 1e-12);
    // Huge logits stay finite.
    let big = Tensor::from_vec(vec![1000.0f32, -1000.0], &[2], &Device::Cpu).unwrap();
    let l = Loss::BinaryCrossentropy
        .compute(&big, &Tensor::from_vec(vec![0.0f32, 1.0], &[2], &Device::Cpu).unwrap())
        .unwrap();
    assert!((l.to_scalar::<f32>().unwrap() - 1000.0).abs() < 1e-3);
    let ce = Loss::SparseCategoricalCrossentropy
        .compute(
            &Tensor::from_vec(vec![1e4f32, 0.0, -1e4], &[1, 3], &Device::Cpu).unwrap(),
            &Tensor::from_vec(vec![2u32], &[1], &Device::Cpu).unwrap(),
        )
        .unwrap();
    assert!((ce.to_scalar::<f32>().unwrap() - 2e4).abs() < 1.0);
}
