//! Shared by the MNIST examples: the bundled data, scaled to [0, 1].
use keras::datasets::mnist;
use keras::prelude::*;

/// The bundled 10k-digit sample (8,000 train, 2,000 test), from `data/mnist`.
pub const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist");

/// `((x_train, y_train), (x_test, y_test))` with images as f32 in [0, 1], shaped
/// `[n, 784]` (flat) or `[n, 1, 28, 28]` (images), and u8 labels.
pub fn load(flat: bool) -> Result<((Tensor, Tensor), (Tensor, Tensor))> {
    let ((xtr, ytr), (xte, yte)) = mnist::load_data(DATA_DIR)?;
    let prep = |x: &Tensor| -> Result<Tensor> {
        let n = x.dims()[0];
        let x = x.to_dtype(DType::F32)?.affine(1.0 / 255.0, 0.0)?;
        if flat {
            x.reshape(&[n, 784])
        } else {
            x.reshape(&[n, 1, 28, 28])
        }
    };
    Ok(((prep(&xtr)?, ytr), (prep(&xte)?, yte)))
}
