//! S7: the Keras version: a sequential of Dense(H, relu) on input D and Dense(D),
//! compile(SGD lr 1e-5, MSE), fit(x, y, epochs=50, batch_size=N).
use keras::prelude::*;

pub fn run() -> Result<History> {
    manual_seed(0);
    let (n, d, h) = (64, 1000, 100);
    let x = Tensor::randn(&[n, d], &Device::Cpu)?;
    let y = Tensor::randn(&[n, d], &Device::Cpu)?;
    let mut model = Model::new(sequential![Dense::new(d, h).activation(Activation::Relu), Dense::new(h, d)]);
    model.compile(Sgd::new(1e-5), Loss::MeanSquaredError);
    model.fit_with(&x, &y, FitOptions::new(50, n).verbose(Verbosity::Silent))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let h = run()?;
    for (e, l) in h.loss().iter().enumerate() {
        println!("epoch {:>2}: loss {l:.6}", e + 1);
    }
    Ok(())
}
