//! S15 (MLP) on the bundled MNIST sample. Alone in its test binary, so the seeded run
//! is not interleaved with other tests' draws from the global generator.
#[path = "../examples/mnist_mlp.rs"]
mod mnist_mlp;

#[test]
fn s15_mnist_mlp_reaches_95_percent() {
    let (h, acc) = mnist_mlp::run(15, keras::Verbosity::Silent).unwrap();
    assert_eq!(h.len(), 15);
    assert!(h.loss()[14] < h.loss()[0] * 0.2);
    assert!(acc >= 0.95, "test accuracy {acc}");
}
