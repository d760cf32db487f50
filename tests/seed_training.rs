//! Seed programs S3, S6, S7, S9 and S15: each example's own code, checked.
#[path = "../examples/data_loader.rs"]
mod data_loader;
#[path = "../examples/keras_two_layer.rs"]
mod keras_two_layer;
#[path = "../examples/param_groups.rs"]
mod param_groups;
#[path = "../examples/two_layer_sequential.rs"]
mod two_layer_sequential;

#[test]
fn s3_sequential_adam_loss_falls() {
    let l = two_layer_sequential::run(500).unwrap();
    assert!(l[499] < l[0] * 0.01, "loss {} → {}", l[0], l[499]);
}

#[test]
fn s6_every_sample_once_per_epoch_and_csv_with_workers() {
    let dir = std::env::temp_dir().join(format!("lol_s6_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = data_loader::run(&dir.join("data.csv")).unwrap();
    assert_eq!(r.reads_per_epoch.len(), 20);
    assert!(r.reads_per_epoch.iter().all(|e| e.len() == 64 && e.iter().all(|&c| c == 1)));
    assert!(r.losses[19] < r.losses[0] * 0.1, "loss {} → {}", r.losses[0], r.losses[19]);
    assert_eq!(r.csv_batches, vec![32, 32, 32, 4]);
    let mut labels = r.csv_labels.clone();
    assert_ne!(labels, (0..100).map(|i| i as f32).collect::<Vec<_>>(), "shuffled");
    labels.sort_by(f32::total_cmp);
    assert_eq!(labels, (0..100).map(|i| i as f32).collect::<Vec<_>>());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn s7_keras_fit_history_of_50_falling_losses() {
    let h = keras_two_layer::run().unwrap();
    let l = h.loss();
    assert_eq!(l.len(), 50);
    assert!(l.windows(2).all(|w| w[1] < w[0]), "{l:?}");
}

#[test]
fn s9_each_group_at_its_own_rate() {
    let steps = param_groups::run().unwrap();
    for (s, (lf, lc, rf, rc)) in steps.iter().enumerate() {
        let lr = if s < 2 { 0.1 } else { 0.01 };
        assert!((lf - lr).abs() < 1e-12 && (lc - lr / 2.0).abs() < 1e-12);
        assert!((rf + lf).abs() < 1e-4 * lf, "features step/grad {rf} vs -{lf}");
        assert!((rc + lc).abs() < 1e-4 * lc, "classifier step/grad {rc} vs -{lc}");
    }
}
