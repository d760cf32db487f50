//! S15 (CNN): conv 1→16 3×3 → pool → conv 16→32 3×3 → pool → dense 1568→10, trained
//! with `fit` on the bundled MNIST sample (batch 64, Adam 1e-3), then evaluated.
//!
//! cargo run --release --example mnist_cnn
use keras::prelude::*;

#[path = "common/mnist.rs"]
mod mnist_common;
#[path = "common/models.rs"]
mod models;

pub fn build() -> impl Module + Forward {
    models::mnist_cnn()
}

/// Trains for `epochs` and returns the history and the test accuracy.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(42);
    let ((x_train, y_train), (x_test, y_test)) = mnist_common::load(false)?;
    let mut model = Model::new(build());
    model.to_device(&Device::best())?;
    model.compile_with_metrics(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    if verbose != Verbosity::Silent {
        model.build(&[1, 28, 28])?.summary();
    }
    let mut schedule = LearningRateScheduler::from_schedule(CosineAnnealingLr { t_max: epochs, eta_min_factor: 0.05 });
    let history =
        model.fit_with(&x_train, &y_train, FitOptions::new(epochs, 64).verbose(verbose).callback(&mut schedule))?;
    let acc = model.evaluate(&x_test, &y_test, 256)?.get("accuracy").unwrap_or(0.0);
    Ok((history, acc))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (_, acc) = run(10, Verbosity::ProgressBar)?;
    println!("test accuracy: {acc:.4}");
    Ok(())
}
