//! Keras's semantics in `fit`: a model that ends in Softmax/Sigmoid trains exactly as one
//! that ends in logits; declared probabilities are checked; binary metrics threshold
//! probabilities at 0.5; and fit/evaluate/predict on loaders match the tensor versions.
// Distributed fit lives in its own file but in this test binary (one link less in CI).
#[path = "fit/distributed.rs"]
mod distributed;
use keras::metrics::MetricState;
use keras::prelude::*;

fn quiet<'a>(epochs: usize, bs: usize) -> FitOptions<'a> {
    FitOptions::new(epochs, bs).verbose(Verbosity::Silent)
}

fn blobs(n: usize, classes: usize) -> (Tensor, Tensor) {
    let x = Tensor::randn(&[n, 4], &Device::Cpu).unwrap();
    let y = x.narrow(1, 0, classes).unwrap().argmax(1).unwrap().to_dtype(DType::U32).unwrap();
    (x, y)
}

fn weights_of(m: &Model<impl Module + Forward>) -> Vec<f32> {
    m.module().state_dict().iter().flat_map(|(_, t)| t.to_vec::<f32>().unwrap()).collect()
}

#[test]
fn a_softmax_output_trains_exactly_like_logits() {
    manual_seed(3);
    let (x, y) = blobs(64, 3);
    let onehot = Tensor::eye(3, &Device::Cpu).unwrap().index_select(&y, 0).unwrap();
    for (loss, target) in [(Loss::SparseCategoricalCrossentropy, &y), (Loss::CategoricalCrossentropy, &onehot)] {
        manual_seed(7);
        let mut logits = Model::new(sequential![Dense::new(4, 8), Relu, Dense::new(8, 3)]);
        logits.compile(Adam::new(0.05), loss);
        let h1 = logits.fit_with(&x, target, quiet(3, 16)).unwrap();
        // The Keras way: softmax in the model, from_logits=False.
        manual_seed(7);
        let mut probs = Model::new(sequential![Dense::new(4, 8), Relu, Dense::new(8, 3), Softmax]);
        probs.compile(Adam::new(0.05), loss.from_logits(false));
        let h2 = probs.fit_with(&x, target, quiet(3, 16)).unwrap();
        // Dense(..., activation="softmax") with the default.
        manual_seed(7);
        let mut act = Model::new(sequential![Dense::new(4, 8), Relu, Dense::new(8, 3).activation(Activation::Softmax)]);
        act.compile(Adam::new(0.05), loss);
        let h3 = act.fit_with(&x, target, quiet(3, 16)).unwrap();
        assert_eq!(h1.loss(), h2.loss(), "{loss:?}");
        assert_eq!(h1.loss(), h3.loss(), "{loss:?}");
        assert_eq!(weights_of(&logits), weights_of(&probs));
        // evaluate agrees too, and predict gives probabilities.
        let (e1, e2) = (logits.evaluate(&x, target, 32).unwrap(), probs.evaluate(&x, target, 32).unwrap());
        assert!((e1.loss - e2.loss).abs() < 1e-6);
        let p = probs.predict(&x, 32).unwrap().sum(1).unwrap().to_vec::<f32>().unwrap();
        assert!(p.iter().all(|s| (s - 1.0).abs() < 1e-5));
    }
}

#[test]
fn a_sigmoid_output_trains_like_logits_and_its_accuracy_thresholds_at_one_half() {
    manual_seed(4);
    let x = Tensor::randn(&[64, 3], &Device::Cpu).unwrap();
    let y = x.narrow(1, 0, 1).unwrap().gt_scalar(0.3).unwrap().to_dtype(DType::F32).unwrap();
    manual_seed(9);
    let mut a = Model::new(sequential![Dense::new(3, 1)]);
    a.compile_with_metrics(Sgd::new(0.5), Loss::BinaryCrossentropy, &[Metric::BinaryAccuracy, Metric::Auc]);
    let ha = a.fit_with(&x, &y, quiet(4, 16)).unwrap();
    manual_seed(9);
    let mut b = Model::new(sequential![Dense::new(3, 1), Sigmoid]);
    b.compile_with_metrics(
        Sgd::new(0.5),
        Loss::BinaryCrossentropy.from_logits(false),
        &[Metric::BinaryAccuracy, Metric::Auc],
    );
    let hb = b.fit_with(&x, &y, quiet(4, 16)).unwrap();
    assert_eq!(ha.loss(), hb.loss());
    assert_eq!(ha.get("binary_accuracy"), hb.get("binary_accuracy"));
    assert_eq!(ha.get("auc"), hb.get("auc"));
    // Probabilities from elsewhere: 0.6 is a positive prediction, 0.4 a negative.
    let p = Tensor::from_vec(vec![0.6f32, 0.4, 0.6, 0.4], &[4, 1], &Device::Cpu).unwrap();
    let t = Tensor::from_vec(vec![1f32, 0., 0., 1.], &[4, 1], &Device::Cpu).unwrap();
    let mut s = MetricState::new(Metric::BinaryAccuracy);
    s.update_with(&p, &t, true).unwrap();
    assert_eq!(s.result().unwrap(), 0.5);
    let mut s = MetricState::new(Metric::BinaryAccuracy);
    s.update_with(&p, &t, false).unwrap(); // as logits all are positive
    assert_eq!(s.result().unwrap(), 0.5);
    let tagged = p.sigmoid().unwrap().with_logits(lolcore::Probabilities::Sigmoid, &p);
    let mut s = MetricState::new(Metric::BinaryAccuracy);
    s.update(&tagged, &t).unwrap(); // a Sigmoid layer's output: read as probabilities
    assert_eq!(s.result().unwrap(), 0.5);
}

#[test]
fn saturated_softmax_is_computed_from_logits_and_bad_declarations_are_errors() {
    let logits = Tensor::from_vec(vec![80f32, -80., 0., 0.], &[2, 2], &Device::Cpu).unwrap();
    let labels = Tensor::from_vec(vec![1u32, 0], &[2], &Device::Cpu).unwrap();
    let probs = Softmax.forward(&logits).unwrap();
    let from_probs = Loss::SparseCategoricalCrossentropy.from_logits(false).compute(&probs, &labels).unwrap();
    let from_logits = Loss::SparseCategoricalCrossentropy.compute(&logits, &labels).unwrap();
    // log(softmax) of a rounded 0 would be −inf (or Keras's clip at 1e-7); the layer's
    // logits give the exact 160 / 2 + ln 2 / 2.
    let (a, b) = (from_probs.to_scalar::<f32>().unwrap(), from_logits.to_scalar::<f32>().unwrap());
    assert_eq!(a, b);
    assert!((a - (80.0 + 0.5 * 2f32.ln())).abs() < 1e-3, "{a}");
    // Logit-valued predictions declared as probabilities: an error naming the loss.
    manual_seed(5);
    let (x, y) = blobs(32, 2);
    let mut m = Model::new(sequential![Dense::new(4, 2)]);
    m.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy.from_logits(false));
    let e = m.fit_with(&x, &y, quiet(1, 8)).unwrap_err().to_string();
    assert!(e.contains("sparse_categorical_crossentropy") && e.contains("from_logits(false)"), "{e}");
    let e = m.evaluate(&x, &y, 8).unwrap_err().to_string();
    assert!(e.contains("look like logits"), "{e}");
}

struct CountBatches(usize);
impl Callback for CountBatches {
    fn on_train_batch_end(
        &mut self,
        _: usize,
        _: &keras::callbacks::BatchLogs<'_>,
        _: &mut dyn keras::callbacks::TrainingModel,
    ) -> Result<()> {
        self.0 += 1;
        Ok(())
    }
}

#[test]
fn loaders_train_evaluate_and_predict_like_tensors() {
    manual_seed(6);
    let (x, y) = blobs(60, 3);
    manual_seed(11);
    let mut a = Model::new(sequential![Dense::new(4, 8), Relu, Dense::new(8, 3)]);
    a.compile_with_metrics(Adam::new(0.02), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let ha = a.fit_with(&x, &y, quiet(3, 16).shuffle(false)).unwrap();
    manual_seed(11);
    let mut b = Model::new(sequential![Dense::new(4, 8), Relu, Dense::new(8, 3)]);
    b.compile_with_metrics(Adam::new(0.02), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let loader = DataLoader::new(TensorDataset::new(&x, &y).unwrap(), 16).workers(2);
    let val = DataLoader::new(TensorDataset::new(&x, &y).unwrap(), 25);
    let hb =
        b.fit_loader_with(&loader, FitOptions::epochs(3).validation_loader(&val).verbose(Verbosity::Silent)).unwrap();
    assert_eq!(ha.loss(), hb.loss());
    assert_eq!(weights_of(&a), weights_of(&b));
    assert_eq!(hb.get("val_loss").map(|v| v.len()), Some(3));
    let (ea, eb) = (a.evaluate(&x, &y, 25).unwrap(), b.evaluate_loader(&val).unwrap());
    assert!((ea.loss - eb.loss).abs() < 1e-6 && ea.metrics == eb.metrics);
    assert!((hb.get("val_loss").unwrap()[2] - eb.loss).abs() < 1e-6);
    let (pa, pb) = (a.predict(&x, 7).unwrap(), b.predict_loader(&val).unwrap());
    assert_eq!(pa.to_vec::<f32>().unwrap(), pb.to_vec::<f32>().unwrap());
    // steps_per_epoch: batches run on across epochs (4 per pass, 3 per epoch).
    let mut count = CountBatches(0);
    let opts = FitOptions::epochs(3).steps_per_epoch(3).callback(&mut count).verbose(Verbosity::Silent);
    let h = b.fit_loader_with(&loader, opts).unwrap();
    assert_eq!((h.len(), count.0), (3, 9));
    // Loader-side options are refused with a message, and so is an empty loader.
    let e = b.fit_loader_with(&loader, FitOptions::epochs(1).validation_split(0.2)).unwrap_err().to_string();
    assert!(e.contains("fit_loader") && e.contains("validation_split"), "{e}");
    let empty = DataLoader::new(TensorDataset::new(&x, &y).unwrap(), 100).drop_last(true);
    assert!(b.fit_loader(&empty, 1).unwrap_err().to_string().contains("no batches"));
}

#[test]
fn class_and_sample_weights_scale_each_samples_loss() {
    manual_seed(8);
    let (x, y) = blobs(8, 2);
    let mut m = Model::new(sequential![Dense::new(4, 2)]);
    m.compile(Sgd::new(0.0), Loss::SparseCategoricalCrossentropy);
    let per =
        Loss::SparseCategoricalCrossentropy.reduction(Reduction::None).compute(&m.predict(&x, 8).unwrap(), &y).unwrap();
    let per = per.to_vec::<f32>().unwrap();
    let labels = y.to_vec::<u32>().unwrap();
    let cw = |c: u32| if c == 0 { 0.5 } else { 4.0 };
    let want: f64 = per.iter().zip(&labels).map(|(l, &c)| *l as f64 * cw(c)).sum::<f64>() / 8.0;
    let h = m.fit_with(&x, &y, quiet(1, 8).class_weight([(0, 0.5), (1, 4.0)])).unwrap();
    assert!((h.loss()[0] - want).abs() < 1e-5, "{} vs {want}", h.loss()[0]);
    let sw = Tensor::from_vec(labels.iter().map(|&c| cw(c) as f32).collect(), &[8], &Device::Cpu).unwrap();
    let h = m.fit_with(&x, &y, quiet(1, 8).sample_weight(&sw)).unwrap();
    assert!((h.loss()[0] - want).abs() < 1e-5);
    let e = m.fit_with(&x, &y, quiet(1, 8).class_weight([(1, 4.0)])).unwrap_err().to_string();
    assert!(e.contains("class 0 has no weight"), "{e}");
    let short = Tensor::ones(&[3], &Device::Cpu).unwrap();
    let e = m.fit_with(&x, &y, quiet(1, 8).sample_weight(&short)).unwrap_err().to_string();
    assert!(e.contains("sample_weight") && e.contains("[3]"), "{e}");
}

/// Records each training batch's size.
struct BatchSizes(Vec<usize>);
impl Callback for BatchSizes {
    fn on_train_batch_end(
        &mut self,
        _: usize,
        logs: &keras::callbacks::BatchLogs<'_>,
        _: &mut dyn keras::callbacks::TrainingModel,
    ) -> Result<()> {
        self.0.push(logs.batch_size);
        Ok(())
    }
}

#[test]
fn steps_per_epoch_on_tensors_carries_on_through_the_data_and_explicit_validation_wins() {
    manual_seed(12);
    let (x, y) = blobs(10, 2);
    let mut m = Model::new(sequential![Dense::new(4, 2)]);
    m.compile(Sgd::new(0.01), Loss::SparseCategoricalCrossentropy);
    // 10 samples, batches of 4, 2 steps per epoch: 4, 4 | 2, 4 | 4, 2 — every sample once
    // per pass, passes continuing across epochs.
    let mut sizes = BatchSizes(vec![]);
    m.fit_with(&x, &y, quiet(3, 4).shuffle(false).steps_per_epoch(2).callback(&mut sizes)).unwrap();
    assert_eq!(sizes.0, [4, 4, 2, 4, 4, 2]);
    // validation_data takes precedence over validation_split: all 10 samples train.
    let mut sizes = BatchSizes(vec![]);
    let opts = quiet(1, 5).validation_split(0.5).validation_data(&x, &y).callback(&mut sizes);
    m.fit_with(&x, &y, opts).unwrap();
    assert_eq!(sizes.0, [5, 5]);
}

#[test]
fn class_weight_rounds_float_labels_and_predict_keeps_the_logits_for_the_loss() {
    manual_seed(13);
    let x = Tensor::randn(&[6, 3], &Device::Cpu).unwrap();
    let y = Tensor::from_vec(vec![0f32, 1., 2., 2., 1., 0.], &[6, 1], &Device::Cpu).unwrap();
    let mut m = Model::new(sequential![Dense::new(3, 1)]);
    m.compile(Sgd::new(0.0), Loss::MeanSquaredError);
    let p = m.predict(&x, 6).unwrap().to_vec::<f32>().unwrap();
    let w = [1.0, 2.0, 5.0];
    let want: f64 =
        p.iter().zip(y.to_vec::<f32>().unwrap()).map(|(p, t)| ((p - t) as f64).powi(2) * w[t as usize]).sum::<f64>()
            / 6.0;
    let h = m.fit_with(&x, &y, quiet(1, 6).class_weight([(0, 1.0), (1, 2.0), (2, 5.0)])).unwrap();
    assert!((h.loss()[0] - want).abs() < 1e-5, "{} vs {want}", h.loss()[0]);
    // A softmax model's predictions, given to the loss by hand, still use the logits.
    let (x, y) = blobs(20, 3);
    let mut m = Model::new(sequential![Dense::new(4, 3), Softmax]);
    m.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    let probs = m.predict(&x, 6).unwrap();
    let by_hand = Loss::SparseCategoricalCrossentropy.compute(&probs, &y).unwrap().to_scalar::<f32>().unwrap();
    let evaluated = m.evaluate(&x, &y, 20).unwrap().loss;
    assert!((by_hand as f64 - evaluated).abs() < 1e-5, "{by_hand} vs {evaluated}");
}

#[test]
fn a_training_checkpoint_restores_into_an_unbuilt_lazy_model() {
    manual_seed(14);
    let (x, y) = blobs(16, 3);
    let mut a = Model::new(sequential![Dense::units(8).activation(Activation::Relu), Dense::units(3)]);
    a.compile(Adam::new(0.01), Loss::SparseCategoricalCrossentropy);
    a.fit_with(&x, &y, quiet(2, 8)).unwrap();
    let path = std::env::temp_dir().join(format!("lol_lazy_ckpt_{}.safetensors", std::process::id()));
    a.save_checkpoint(&path, TrainingProgress { epoch: 2, global_step: 4 }).unwrap();
    let mut b = Model::new(sequential![Dense::units(8).activation(Activation::Relu), Dense::units(3)]);
    b.compile(Adam::new(0.01), Loss::SparseCategoricalCrossentropy);
    assert_eq!(b.load_checkpoint(&path).unwrap().epoch, 2);
    assert_eq!(weights_of(&a), weights_of(&b));
    // Both continue identically: the optimizer state came along.
    manual_seed(15);
    a.fit_with(&x, &y, quiet(1, 8)).unwrap();
    manual_seed(15);
    b.fit_with(&x, &y, quiet(1, 8)).unwrap();
    assert_eq!(weights_of(&a), weights_of(&b));
    let _ = std::fs::remove_file(&path);
}
