//! S15 (MLP and CNN) on the bundled MNIST sample. Both run side by side in one binary:
//! each seeds its own thread's generator, so neither disturbs the other's draws.
// Both examples include the shared MNIST loader as their own module.
#![allow(clippy::duplicate_mod)]
#[path = "../examples/mnist_cnn.rs"]
mod mnist_cnn;
#[path = "../examples/mnist_mlp.rs"]
mod mnist_mlp;

#[test]
fn s15_mnist_mlp_reaches_95_percent() {
    let (h, acc) = mnist_mlp::run(15, keras::Verbosity::Silent).unwrap();
    assert_eq!(h.len(), 15);
    assert!(h.loss()[14] < h.loss()[0] * 0.2);
    assert!(acc >= 0.95, "test accuracy {acc}");
}

#[test]
fn s15_mnist_cnn_reaches_97_percent() {
    let (h, acc) = mnist_cnn::run(10, keras::Verbosity::Silent).unwrap();
    assert_eq!(h.len(), 10);
    assert!(acc >= 0.97, "test accuracy {acc}");
}
