//! S15 (MLP): the classic MNIST classifier trained with `fit` on the bundled data, with
//! a progress bar, then evaluated on the 2,000 held-out digits.
//!
//! cargo run --release --example mnist_mlp
use keras::prelude::*;

#[path = "common/mnist.rs"]
mod mnist_common;

pub fn build() -> impl Module + Forward {
    sequential![
        Dense::new(784, 512),
        Relu,
        Dropout::new(0.2),
        Dense::new(512, 256),
        Relu,
        Dropout::new(0.2),
        Dense::new(256, 10),
    ]
}

/// Trains for `epochs` and returns the history and the test accuracy.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(42);
    let ((x_train, y_train), (x_test, y_test)) = mnist_common::load(true)?;
    let mut model = Model::new(build());
    model.to_device(&Device::best())?;
    model.compile_with_metrics(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    if verbose != Verbosity::Silent {
        model.build(&[784])?.summary();
    }
    let mut schedule = LearningRateScheduler::from_schedule(CosineAnnealingLr { t_max: epochs, eta_min_factor: 0.05 });
    let opts = FitOptions::new(epochs, 128).validation_split(0.1).verbose(verbose).callback(&mut schedule);
    let history = model.fit_with(&x_train, &y_train, opts)?;
    let scores = model.evaluate(&x_test, &y_test, 256)?;
    let acc = scores.get("accuracy").unwrap_or(0.0);
    Ok((history, acc))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (_, acc) = run(15, Verbosity::ProgressBar)?;
    println!("test accuracy: {acc:.4}");
    Ok(())
}
