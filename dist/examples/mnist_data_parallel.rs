//! The MNIST MLP trained data-parallel: every rank runs this same program, reads its
//! share of each global batch of 128, and the ranks average their gradients after every
//! step. Rank 0 prints the progress and the test accuracy.
//!
//! cargo build --release -p lol-dist --features mpi --example mnist_data_parallel
//! mpirun -np 2 target/release/examples/mnist_data_parallel [epochs]
use keras::datasets::mnist;
use keras::prelude::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist");

pub fn main() {
    // `[epochs]` on the command line (or LOL_EXAMPLE_EPOCHS, which its test sets).
    let epochs = std::env::var("LOL_EXAMPLE_EPOCHS")
        .ok()
        .or_else(|| std::env::args().nth(1))
        .and_then(|e| e.parse().ok())
        .unwrap_or(3);
    lol_dist::run(|pg| {
        let ((x, y), (x_test, y_test)) = mnist::load_data(DATA)?;
        let flat = |x: Tensor| -> Result<Tensor> {
            let n = x.dims()[0];
            x.to_dtype(DType::F32)?.affine(1.0 / 255.0, 0.0)?.reshape(&[n, 784])
        };
        let (x, x_test) = (flat(x)?, flat(x_test)?);
        // The same seed everywhere: every rank shuffles alike and takes its own share.
        manual_seed(42);
        let mut model = Model::new(sequential![Dense::new(784, 256), Relu, Dense::new(256, 10)]);
        model.compile_with_metrics(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
        model.fit_with(&x, &y, FitOptions::new(epochs, 128).distributed(pg.clone()))?;
        // The weights are the same on every rank; rank 0 reports.
        if pg.rank() == 0 {
            let acc = model.evaluate(&x_test, &y_test, 256)?.get("accuracy").unwrap_or(0.0);
            println!("{} ranks, test accuracy: {acc:.4}", pg.world_size());
        }
        Ok(())
    });
}
