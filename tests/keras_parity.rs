//! Keras's semantics, checked against Keras 3 itself (fixtures made by
//! `tests/fixtures/keras/make_keras_fixtures.py`): cross-entropies with `from_logits`
//! true and false and with sample weights; SGD with `clipnorm`, `global_clipnorm`,
//! `clipvalue` and `gradient_accumulation_steps` and `fit` with `class_weight`, from the
//! same initial weights to the same final weights; and `BatchNorm1D::keras_momentum`.
use keras::losses::LossConfig;
use keras::prelude::*;
use std::collections::HashMap;

fn fixtures() -> HashMap<String, Tensor> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras/keras_parity.safetensors");
    lolcore::safetensors::load(p, &Device::Cpu).unwrap().into_iter().collect()
}

fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().reshape(&[]).unwrap().to_scalar::<f64>().unwrap()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{what}: ours {a}, keras {b}");
}

#[test]
fn cross_entropies_match_keras_with_logits_and_probabilities_and_weights() {
    let f = fixtures();
    let labels = f["loss.labels"].to_dtype(DType::U32).unwrap();
    let sw = &f["loss.sw"];
    for (tag, flag) in [("logits", true), ("probs", false)] {
        let (x, bx) = if flag { (&f["loss.logits"], &f["loss.blog"]) } else { (&f["loss.probs"], &f["loss.bprob"]) };
        for weighted in [false, true] {
            let w = weighted.then_some(sw);
            let suffix = if weighted { ".weighted" } else { "" };
            let cases: [(&str, LossConfig, &Tensor, &Tensor); 3] = [
                ("cce", Loss::CategoricalCrossentropy.from_logits(flag), x, &f["loss.onehot"]),
                ("scce", Loss::SparseCategoricalCrossentropy.from_logits(flag), x, &labels),
                ("bce", Loss::BinaryCrossentropy.from_logits(flag), bx, &f["loss.btarget"]),
            ];
            for (name, loss, pred, target) in cases {
                let ours = scalar(&loss.compute_weighted(pred, target, w).unwrap());
                let theirs = scalar(&f[&format!("loss.{name}.{tag}{suffix}")]);
                close(ours, theirs, 1e-5, &format!("{name} {tag}{suffix}"));
            }
        }
    }
}

/// Keras kernels are `[in, out]`; ours `[out, in]`.
fn load_keras_dense(model: &Model<impl Module + Forward>, f: &HashMap<String, Tensor>, prefix: &str) {
    let state = model.module().state_dict();
    for (i, (name, t)) in state.iter().enumerate() {
        let k = &f[&format!("{prefix}.{i}")];
        let v = if k.rank() == 2 { k.t().unwrap().contiguous().unwrap() } else { k.clone() };
        assert_eq!(v.dims(), t.dims(), "{name}");
        t.copy_from(&v).unwrap();
    }
}

fn keras_run(f: &HashMap<String, Tensor>, run: &str, opt: Sgd, class_weight: Option<Vec<(usize, f64)>>) {
    // keras.Sequential([Dense(8, activation="relu"), Dense(3, activation="softmax")])
    // trained with sparse_categorical_crossentropy (from probabilities, in Keras).
    let mut model = Model::new(sequential![
        Dense::new(5, 8).activation(Activation::Relu),
        Dense::new(8, 3).activation(Activation::Softmax)
    ]);
    load_keras_dense(&model, f, "train.init");
    model.compile(opt, Loss::SparseCategoricalCrossentropy);
    let (x, y) = (&f["train.x"], f["train.y"].to_dtype(DType::U32).unwrap());
    let mut opts = FitOptions::new(2, 8).shuffle(false).verbose(Verbosity::Silent);
    if let Some(cw) = class_weight {
        opts = opts.class_weight(cw);
    }
    model.fit_with(x, &y, opts).unwrap();
    for (i, (name, t)) in model.module().state_dict().iter().enumerate() {
        let k = &f[&format!("train.{run}.{i}")];
        let want = if k.rank() == 2 { k.t().unwrap().contiguous().unwrap() } else { k.clone() };
        let diff = scalar(&t.sub(&want).unwrap().abs().unwrap().max_all().unwrap());
        assert!(diff < 2e-5, "{run}: {name} differs from Keras by {diff}");
    }
}

#[test]
fn sgd_with_clipping_and_accumulation_matches_keras_fit() {
    let f = fixtures();
    keras_run(&f, "clipnorm", Sgd::new(0.5).clipnorm(0.05), None);
    keras_run(&f, "global_clipnorm", Sgd::new(0.5).global_clipnorm(0.1), None);
    keras_run(&f, "clipvalue", Sgd::new(0.5).clipvalue(0.01), None);
    keras_run(&f, "accumulate", Sgd::new(0.5).gradient_accumulation_steps(2), None);
    keras_run(&f, "accumulate_clipnorm", Sgd::new(0.5).gradient_accumulation_steps(2).clipnorm(0.05), None);
    keras_run(&f, "class_weight", Sgd::new(0.5), Some(vec![(0, 1.0), (1, 3.0), (2, 0.5)]));
}

#[test]
fn batch_norm_keras_momentum_matches_keras_moving_mean() {
    let f = fixtures();
    let mut bn = BatchNorm1D::new(4).keras_momentum(0.9);
    bn.train();
    let x = &f["bn.x"];
    for i in 0..x.dims()[0] {
        bn.forward(&x.narrow(0, i, 1).unwrap().squeeze(0).unwrap()).unwrap();
    }
    let ours = bn.running_mean.to_vec::<f32>().unwrap();
    let keras = f["bn.moving_mean"].to_vec::<f32>().unwrap();
    for (a, b) in ours.iter().zip(&keras) {
        close(*a as f64, *b as f64, 1e-5, "moving_mean");
    }
}
