//! keras-io's "Simple MNIST convnet" (https://keras.io/examples/vision/mnist_convnet/),
//! written line by line as a Keras user writes it: layers sized lazily from the data
//! (`Conv2D::filters(32, (3, 3))`, `Dense::units(10)`: `Flatten`'s 1,600 features are
//! inferred), a softmax output trained with `categorical_crossentropy` on one-hot labels,
//! Adam, batch 128, 10% validation split. On the bundled 8,000/2,000-digit MNIST sample.
//!
//! cargo run --release --example mnist_convnet_keras [epochs]
use keras::prelude::*;

#[path = "common/mnist.rs"]
mod mnist_common;

/// Trains for `epochs`; returns the history and the test accuracy.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(1337);
    let num_classes = 10;
    let input_shape = [1, 28, 28]; // channels first, as every lol layer
    let ((x_train, y_train), (x_test, y_test)) = mnist_common::load(false)?; // scaled to [0, 1]
    let y_train = to_categorical(&y_train, num_classes)?;
    let y_test = to_categorical(&y_test, num_classes)?;

    let mut model = Model::new(sequential![
        Conv2D::filters(32, (3, 3)).activation(Activation::Relu),
        MaxPool2D::new((2, 2)),
        Conv2D::filters(64, (3, 3)).activation(Activation::Relu),
        MaxPool2D::new((2, 2)),
        Flatten,
        Dropout::new(0.5),
        Dense::units(num_classes).activation(Activation::Softmax),
    ]);
    model.build(&input_shape)?;
    if verbose != Verbosity::Silent {
        model.summary();
    }
    let batch_size = 128;
    model.compile_with_metrics(Adam::new(1e-3), Loss::CategoricalCrossentropy, &[Metric::Accuracy]);
    let opts = FitOptions::new(epochs, batch_size).validation_split(0.1).verbose(verbose);
    let history = model.fit_with(&x_train, &y_train, opts)?;
    let score = model.evaluate(&x_test, &y_test, 256)?;
    if verbose != Verbosity::Silent {
        println!("Test loss: {:.4}", score.loss);
        println!("Test accuracy: {:.4}", score.get("accuracy").unwrap_or(0.0));
    }
    Ok((history, score.get("accuracy").unwrap_or(0.0)))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let epochs = std::env::args()
        .nth(1)
        .map(|e| e.parse().map_err(|_| Error::msg(format!("epochs: {e:?} is not a number"))))
        .transpose()?
        .unwrap_or(15);
    run(epochs, Verbosity::ProgressBar).map(|_| ())
}
