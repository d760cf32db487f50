//! A user-defined op with its own backward (PyTorch's `autograd.Function`): a
//! straight-through sign, `y = sign(x)` forward with the gradient passed through where
//! |x| ≤ 1 (the estimator of binarised networks), used inside a model trained by `fit`.
//!
//! cargo run --release --example custom_function
use keras::prelude::*;
use lolcore::Function;

/// `sign(x)` forward; backward `g · 1[|x| ≤ 1]` (the straight-through estimator).
pub struct StraightThroughSign;

impl Function for StraightThroughSign {
    fn name(&self) -> &'static str {
        "straight_through_sign"
    }
    fn forward(&self, x: &[Tensor]) -> Result<Tensor> {
        x[0].sign()
    }
    fn backward(&self, x: &[Tensor], _y: &Tensor, gy: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let inside = x[0].abs()?.le_scalar(1.0)?;
        Ok(vec![Some(inside.where_cond(gy, &gy.zeros_like()?)?)])
    }
    fn jvp(&self, x: &[Tensor], _y: &Tensor, t: &[Tensor]) -> Result<Tensor> {
        x[0].abs()?.le_scalar(1.0)?.where_cond(&t[0], &t[0].zeros_like()?)
    }
}

/// A classifier with binary (±1) hidden activations.
pub fn build() -> impl Module + Forward {
    sequential![Dense::new(2, 32), |h: &Tensor| StraightThroughSign.apply(&[h]), Dense::new(32, 2),]
}

/// Points inside (class 1) or outside (class 0) the circle of radius 1.
pub fn disc_data(n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let x = Tensor::uniform_with(-1.6, 1.6, &[n, 2], &Device::Cpu, &Generator::new(seed))?;
    let y = x.sqr()?.sum(1)?.lt_scalar(1.0)?.to_dtype(DType::U32)?;
    Ok((x, y))
}

/// Trains for `epochs`; returns the history and the test accuracy.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(1);
    let (x, y) = disc_data(1024, 1)?;
    let (xt, yt) = disc_data(512, 2)?;
    let mut model = Model::new(build());
    model.compile_with_metrics(Adam::new(0.01), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let h = model.fit_with(&x, &y, FitOptions::new(epochs, 32).verbose(verbose))?;
    let acc = model.evaluate(&xt, &yt, 512)?.get("accuracy").unwrap_or(0.0);
    Ok((h, acc))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (_, acc) = run(30, Verbosity::ProgressBar)?;
    println!("test accuracy {acc:.3}");
    Ok(())
}
