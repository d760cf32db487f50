//! S15 (CNN) on the bundled MNIST sample. Alone in its test binary, so the seeded run
//! is not interleaved with other tests' draws from the global generator.
#[path = "../examples/mnist_cnn.rs"]
mod mnist_cnn;

#[test]
fn s15_mnist_cnn_reaches_97_percent() {
    let (h, acc) = mnist_cnn::run(10, keras::Verbosity::Silent).unwrap();
    assert_eq!(h.len(), 10);
    assert!(acc >= 0.97, "test accuracy {acc}");
}
