//! Model definitions shared by the examples, their tests and the benchmarks.
#![allow(dead_code)]
use keras::prelude::*;

/// The S15 CNN: conv 1→16 3×3 → pool → conv 16→32 3×3 → pool → dense 1568→10.
pub fn mnist_cnn() -> impl Module + Forward {
    sequential![
        Conv2D::new(1, 16, 3).padding(1),
        Relu,
        MaxPool2D::new(2),
        Conv2D::new(16, 32, 3).padding(1),
        Relu,
        MaxPool2D::new(2),
        Flatten,
        Dense::new(32 * 7 * 7, 10),
    ]
}

/// The benchmark MLP 784-256-128-10.
pub fn mnist_mlp() -> impl Module + Forward {
    sequential![Dense::new(784, 256), Relu, Dense::new(256, 128), Relu, Dense::new(128, 10)]
}
