//! An LSTM forecasting a noisy sine series: windows of 32 past values predict the next.
//! The test checks the held-out MSE against the noise floor (noise σ 0.05, variance 0.0025).
//!
//! cargo run --release --example sine_lstm
use keras::prelude::*;

const WINDOW: usize = 32;

/// `(windows [n, 32, 1], next values [n, 1])` from a sine of period ~25 steps plus noise.
pub fn series(n: usize, start: usize) -> Result<(Tensor, Tensor)> {
    let total = n + WINDOW;
    let t = Tensor::arange((start) as f64, (start + total) as f64, &Device::Cpu)?;
    let noise = Tensor::randn(&[total], &Device::Cpu)?.mul_scalar(0.05)?;
    let s = t.mul_scalar(0.25)?.sin()?.add(&noise)?;
    let ids: Vec<u32> = (0..n).flat_map(|i| (i..i + WINDOW).map(|j| j as u32)).collect();
    let ids = Tensor::from_vec(ids, &[n * WINDOW], &Device::Cpu)?;
    let x = s.index_select(&ids, 0)?.reshape(&[n, WINDOW, 1])?;
    let next: Vec<u32> = (0..n).map(|i| (i + WINDOW) as u32).collect();
    let y = s.index_select(&Tensor::from_vec(next, &[n], &Device::Cpu)?, 0)?.reshape(&[n, 1])?;
    Ok((x, y))
}

pub fn build() -> impl Module + Forward {
    sequential![
        LSTM::new(1, 32).batch_first(true),
        |h: &Tensor| h.narrow(1, WINDOW - 1, 1)?.squeeze(1),
        Dense::new(32, 1),
    ]
}

/// Trains for `epochs`; returns the history and the MSE on later, unseen windows.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(7);
    let (x, y) = series(512, 0)?;
    let (xt, yt) = series(128, 2000)?;
    let mut model = Model::new(build());
    model.compile(Adam::new(0.01), Loss::MeanSquaredError);
    let h = model.fit_with(&x, &y, FitOptions::new(epochs, 32).verbose(verbose))?;
    let mse = model.evaluate(&xt, &yt, 128)?.loss;
    Ok((h, mse))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (_, mse) = run(30, Verbosity::ProgressBar)?;
    println!("held-out MSE {mse:.5} (noise variance 0.0025)");
    Ok(())
}
