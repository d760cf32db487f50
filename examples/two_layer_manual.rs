//! S2: a two-layer network trained by hand: tensors, autograd, and a plain SGD update in
//! a no-grad scope (the classic PyTorch "learning PyTorch with examples" program).
use lolcore::{manual_seed, no_grad, Device, Result, Tensor};

pub const N: usize = 64;
pub const D_IN: usize = 1000;
pub const H: usize = 100;
pub const D_OUT: usize = 10;

/// Trains for `steps` and returns the loss at every step.
pub fn run(dev: &Device, steps: usize) -> Result<Vec<f32>> {
    manual_seed(0);
    let x = Tensor::randn(&[N, D_IN], dev)?;
    let y = Tensor::randn(&[N, D_OUT], dev)?;
    let w1 = Tensor::randn(&[D_IN, H], dev)?.requires_grad(true);
    let w2 = Tensor::randn(&[H, D_OUT], dev)?.requires_grad(true);
    let lr = 1e-6;
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let y_pred = x.matmul(&w1)?.relu()?.matmul(&w2)?;
        let loss = y_pred.sub(&y)?.sqr()?.sum_all()?;
        let grads = loss.backward()?; // fresh gradients each step: nothing to reset
        losses.push(loss.to_scalar::<f32>()?);
        no_grad(|| -> Result<()> {
            for w in [&w1, &w2] {
                let g = grads.get(w).ok_or_else(|| lolcore::Error::msg("missing gradient"))?;
                w.add_scaled_(g, -lr)?;
            }
            Ok(())
        })?;
    }
    Ok(losses)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let losses = run(&Device::best(), 500)?;
    for (t, l) in losses.iter().enumerate() {
        if t % 100 == 99 || t == 0 {
            println!("step {:>3}: loss {l:.6}", t + 1);
        }
    }
    Ok(())
}
