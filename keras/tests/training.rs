//! `Model`: fit options, validation, evaluate/predict, batch methods, summary, errors on
//! bad input, and each callback.
use keras::callbacks::TrainingModel;
use keras::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

fn blobs(n: usize) -> (Tensor, Tensor) {
    // Two separable clusters: class = sign of the first feature.
    let x = Tensor::randn(&[n, 2], &Device::Cpu).unwrap();
    let y = x.narrow(1, 0, 1).unwrap().gt_scalar(0.0).unwrap().reshape(&[n]).unwrap().to_dtype(DType::U32).unwrap();
    (x, y)
}

fn classifier() -> Model<impl Module + Forward> {
    let mut m = Model::new(sequential![Dense::new(2, 8), Relu, Dense::new(8, 2)]);
    m.compile_with_metrics(Adam::new(0.05), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    m
}

fn quiet<'a>(epochs: usize, bs: usize) -> FitOptions<'a> {
    FitOptions::new(epochs, bs).verbose(Verbosity::Silent)
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lol_keras_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn fit_reports_metrics_and_validation_and_learns() {
    manual_seed(1);
    let (x, y) = blobs(200);
    let mut m = classifier();
    let h = m.fit_with(&x, &y, quiet(8, 32).validation_split(0.25)).unwrap();
    for k in ["loss", "accuracy", "val_loss", "val_accuracy", "lr"] {
        assert_eq!(h.get(k).map(|v| v.len()), Some(8), "{k}");
    }
    assert!(h.get("val_accuracy").unwrap()[7] > 0.9);
    let s = m.evaluate(&x, &y, 64).unwrap();
    assert!(s.get("accuracy").unwrap() > 0.9 && s.loss < h.loss()[0]);
    let p = m.predict(&x, 50).unwrap();
    assert_eq!(p.dims(), &[200, 2]);
    assert_eq!(p.device(), Device::Cpu);
    // Explicit validation data behaves like the split.
    let (vx, vy) = blobs(40);
    let h2 = m.fit_with(&x, &y, quiet(1, 32).validation_data(&vx, &vy)).unwrap();
    assert!(h2.get("val_accuracy").is_some());
    // Batch methods.
    let t = m.train_on_batch(&x.narrow(0, 0, 16).unwrap(), &y.narrow(0, 0, 16).unwrap()).unwrap();
    assert!(t.loss.is_finite() && t.get("accuracy").is_some());
    let e = m.test_on_batch(&x.narrow(0, 0, 16).unwrap(), &y.narrow(0, 0, 16).unwrap()).unwrap();
    assert!(e.loss.is_finite());
}

#[test]
fn initial_epoch_and_no_shuffle() {
    manual_seed(2);
    let (x, y) = blobs(64);
    let mut m = classifier();
    let h = m.fit_with(&x, &y, quiet(5, 16).initial_epoch(3).shuffle(false)).unwrap();
    assert_eq!(h.epochs, vec![3, 4]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (x, y) = blobs(10);
    let mut m = Model::new(sequential![Dense::new(2, 3)]);
    let e = m.fit(&x, &y, 1, 4).unwrap_err().to_string();
    assert!(e.contains("not compiled"), "{e}");
    m.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    let e = m.fit(&x, &y.narrow(0, 0, 9).unwrap(), 1, 4).unwrap_err().to_string();
    assert!(e.contains("x has 10 samples") && e.contains("y has 9"), "{e}");
    let e = m
        .fit(
            &Tensor::zeros(&[0, 2], &Device::Cpu).unwrap(),
            &Tensor::zeros_dtype(&[0], DType::U32, &Device::Cpu).unwrap(),
            1,
            4,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("no samples"), "{e}");
    let e = m.fit(&Tensor::zeros(&[10, 5], &Device::Cpu).unwrap(), &y, 1, 4).unwrap_err().to_string();
    assert!(e.contains("layer 0 (Dense)") && e.contains("has 5 features"), "{e}");
    let bad = Tensor::from_vec(vec![0u32, 1, 2, 7, 0, 1, 2, 0, 1, 2], &[10], &Device::Cpu).unwrap();
    let e = m.fit(&x, &bad, 1, 4).unwrap_err().to_string();
    assert!(e.contains("label 7 is out of range for 3 classes"), "{e}");
    let e = m.fit(&x, &y, 1, 0).unwrap_err().to_string();
    assert!(e.contains("batch_size"), "{e}");
    let e = m.fit(&x, &y.to_dtype(DType::F32).unwrap(), 1, 4).unwrap_err().to_string();
    assert!(e.contains("labels must be integers"), "{e}");
    let e = m.fit_with(&x, &y, quiet(1, 4).validation_split(1.5)).unwrap_err().to_string();
    assert!(e.contains("validation_split"), "{e}");
    let e = m.load_weights("/nonexistent/weights.safetensors").unwrap_err().to_string();
    assert!(e.contains("/nonexistent/weights.safetensors"), "{e}");
}

#[test]
fn terminate_on_nan_stops_cleanly() {
    let (x, _) = blobs(64);
    let y = Tensor::full(f64::NAN, &[64, 2], &Device::Cpu).unwrap();
    let mut m = Model::new(sequential![Dense::new(2, 2)]);
    m.compile(Sgd::new(0.1), Loss::MeanSquaredError);
    let mut stop = TerminateOnNaN::new();
    let h = m.fit_with(&x, &y, quiet(10, 16).callback(&mut stop)).unwrap();
    assert_eq!(stop.stopped_at_batch, Some(0));
    assert_eq!(h.len(), 1, "training stops in the first epoch");
}

#[test]
fn early_stopping_with_patience_and_restore() {
    manual_seed(3);
    let (x, y) = blobs(100);
    let mut m = classifier();
    // lr 0 after the first epoch: nothing improves, so it stops after `patience` more.
    let mut freeze = LearningRateScheduler::new(|epoch, lr| if epoch == 0 { lr } else { 0.0 });
    let mut es = EarlyStopping::new().monitor("loss").patience(2).min_delta(1e-3).restore_best_weights(true);
    let h = m.fit_with(&x, &y, quiet(20, 100).callback(&mut freeze).callback(&mut es)).unwrap();
    // One step per epoch: epoch 1 logs the loss after epoch 0's step (the best), epochs
    // 2 and 3 do not improve, so training stops after epoch 3.
    assert_eq!(h.len(), 4);
    assert_eq!(es.best_epoch, Some(1));
    assert!(es.stopped_epoch.is_some());
    let e = m.fit_with(&x, &y, quiet(1, 100).callback(&mut EarlyStopping::new())).unwrap_err().to_string();
    assert!(e.contains("monitors \"val_loss\""), "{e}");
}

#[test]
fn early_stopping_restores_the_best_weights() {
    let x = Tensor::ones(&[4, 1], &Device::Cpu).unwrap();
    let y = Tensor::zeros(&[4, 1], &Device::Cpu).unwrap();
    let mut m = Model::new(sequential![Dense::new(1, 1)]);
    m.compile(Sgd::new(0.1), Loss::MeanSquaredError);
    // Epoch 0 improves; later epochs use a rate so large that the loss grows.
    let mut blowup = LearningRateScheduler::new(|epoch, _| if epoch == 0 { 0.1 } else { 5.0 });
    let mut es = EarlyStopping::new().patience(2).restore_best_weights(true);
    let h = m.fit_with(&x, &y, quiet(10, 4).validation_data(&x, &y).callback(&mut blowup).callback(&mut es)).unwrap();
    let best = es.best_epoch.unwrap();
    let val = h.get("val_loss").unwrap();
    assert_eq!(best, 0, "{val:?}");
    assert_eq!(h.len(), 3);
    // The weights are the best epoch's again.
    let now = m.evaluate(&x, &y, 4).unwrap().loss;
    assert!((now - val[best]).abs() < 1e-6 * (1.0 + val[best]), "{now} vs best {}", val[best]);
}

#[test]
fn model_checkpoint_saves_best_only_and_reloads() {
    manual_seed(4);
    let (x, y) = blobs(64);
    let dir = tmp("ckpt");
    let path = dir.join("best.safetensors");
    let mut m = classifier();
    let mut ck = ModelCheckpoint::new(path.to_string_lossy().to_string()).monitor("loss").save_best_only(true);
    m.fit_with(&x, &y, quiet(5, 16).callback(&mut ck)).unwrap();
    assert!(!ck.saved.is_empty() && path.exists());
    let mut every = ModelCheckpoint::new(dir.join("e{epoch}.safetensors").to_string_lossy().to_string());
    m.fit_with(&x, &y, quiet(2, 16).callback(&mut every)).unwrap();
    assert!(dir.join("e1.safetensors").exists() && dir.join("e2.safetensors").exists());
    // No temporary files are left behind.
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp")));
    let before = m.predict(&x, 64).unwrap().to_vec::<f32>().unwrap();
    m.save_weights(dir.join("w.safetensors")).unwrap();
    let mut fresh = classifier();
    fresh.load_weights(dir.join("w.safetensors")).unwrap();
    assert_eq!(fresh.predict(&x, 64).unwrap().to_vec::<f32>().unwrap(), before);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn lr_scheduler_and_reduce_on_plateau_change_the_rate() {
    manual_seed(5);
    let (x, y) = blobs(32);
    let mut m = classifier();
    let mut sched = LearningRateScheduler::from_schedule(StepLr { step_size: 2, gamma: 0.5 });
    let h = m.fit_with(&x, &y, quiet(5, 32).callback(&mut sched)).unwrap();
    assert_eq!(h.get("lr").unwrap(), &[0.05, 0.05, 0.025, 0.025, 0.0125]);
    let mut m = classifier();
    let mut freeze = LearningRateScheduler::new(|_, _| 0.0);
    m.fit_with(&x, &y, quiet(1, 32).callback(&mut freeze)).unwrap();
    m.optimizer_mut().unwrap().set_learning_rate(0.01);
    // The loss cannot improve at lr ~0: after patience 1, the rate is cut by 10.
    m.optimizer_mut().unwrap().set_learning_rate(1e-6);
    let mut plateau = ReduceLrOnPlateau::new().monitor("loss").patience(1).factor(0.1);
    let h = m.fit_with(&x, &y, quiet(4, 32).callback(&mut plateau)).unwrap();
    let lrs = h.get("lr").unwrap();
    assert!(lrs[3] < lrs[0], "{lrs:?}");
}

#[test]
fn csv_logger_and_lambda_callback() {
    manual_seed(6);
    let (x, y) = blobs(32);
    let dir = tmp("csv");
    let path = dir.join("log.csv");
    let mut m = classifier();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s2 = seen.clone();
    let mut log = CsvLogger::new(&path);
    let mut lambda = LambdaCallback::new().on_epoch_end(move |e, logs| {
        s2.borrow_mut().push((e, logs.get("loss").unwrap()));
        Ok(())
    });
    m.fit_with(&x, &y, quiet(3, 16).callback(&mut log).callback(&mut lambda)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,loss,accuracy,lr");
    assert_eq!(lines.len(), 4);
    assert!(lines[3].starts_with("2,"));
    assert_eq!(seen.borrow().len(), 3);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn stop_training_from_a_callback() {
    struct StopAt(usize);
    impl Callback for StopAt {
        fn on_epoch_end(&mut self, epoch: usize, _: &Logs, m: &mut dyn TrainingModel) -> Result<()> {
            if epoch == self.0 {
                m.stop_training();
            }
            Ok(())
        }
    }
    let (x, y) = blobs(16);
    let mut m = classifier();
    let h = m.fit_with(&x, &y, quiet(10, 8).callback(&mut StopAt(2))).unwrap();
    assert_eq!(h.len(), 3);
}

#[test]
fn summary_lists_layers_shapes_and_totals() {
    let mut m = Model::new(sequential![
        Conv2D::new(1, 4, 3).padding(1),
        BatchNorm2D::new(4),
        Relu,
        Flatten,
        Dense::new(4 * 8 * 8, 10)
    ]);
    m.build(&[1, 8, 8]).unwrap();
    let s = m.summary_string();
    assert!(
        s.contains("0 (Conv2D)")
            && s.contains("(None, 4, 8, 8)")
            && s.contains("(None, 256)")
            && s.contains("(None, 10)"),
        "{s}"
    );
    assert!(s.contains("2,570"), "{s}");
    assert!(
        s.contains("Total params: 2,626")
            && s.contains("Trainable params: 2,618")
            && s.contains("Non-trainable params: 8"),
        "{s}"
    );
}

#[test]
fn metrics_compute_what_they_say() {
    let dev = Device::Cpu;
    let logits = Tensor::from_vec(vec![2f32, 1., 0., 0., 3., 1., 5., 4., 3., 0., 1., 2.], &[4, 3], &dev).unwrap();
    let labels = Tensor::from_vec(vec![0u32, 2, 1, 2], &[4], &dev).unwrap();
    let run = |m: Metric, p: &Tensor, t: &Tensor| {
        let mut s = keras::metrics::MetricState::new(m);
        s.update(p, t).unwrap();
        s.result().unwrap()
    };
    assert_eq!(run(Metric::Accuracy, &logits, &labels), 0.5);
    assert_eq!(run(Metric::TopKAccuracy(1), &logits, &labels), 0.5);
    assert_eq!(run(Metric::TopKAccuracy(2), &logits, &labels), 1.0);
    let onehot = labels.one_hot(3).unwrap();
    assert_eq!(run(Metric::CategoricalAccuracy, &logits, &onehot), 0.5);
    let bl = Tensor::from_vec(vec![1f32, -1., 2., -2., 0.5], &[5], &dev).unwrap();
    let bt = Tensor::from_vec(vec![1f32, 0., 0., 0., 1.], &[5], &dev).unwrap();
    assert_eq!(run(Metric::BinaryAccuracy, &bl, &bt), 0.8);
    assert!((run(Metric::Precision, &bl, &bt) - 2.0 / 3.0).abs() < 1e-6);
    assert_eq!(run(Metric::Recall, &bl, &bt), 1.0);
    // 4 of the 6 (positive, negative) pairs are ranked right; a separable set gives 1.
    assert!((run(Metric::Auc, &bl, &bt) - 4.0 / 6.0).abs() < 0.02);
    let sep = Tensor::from_vec(vec![3f32, -3., -2., -1., 2.], &[5], &dev).unwrap();
    assert!((run(Metric::Auc, &sep, &bt) - 1.0).abs() < 1e-6);
    let p = Tensor::from_vec(vec![1f32, 2., 3.], &[3, 1], &dev).unwrap();
    let t = Tensor::from_vec(vec![1f32, 0., 5.], &[3, 1], &dev).unwrap();
    assert_eq!(run(Metric::MeanAbsoluteError, &p, &t), 4.0 / 3.0);
    assert_eq!(run(Metric::MeanSquaredError, &p, &t), 8.0 / 3.0);
}
