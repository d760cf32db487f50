//! S3: the two-layer net as a sequential (Dense, ReLU, Dense), trained 500 steps with
//! Adam (lr 1e-4) on a summed squared error, in a hand-written loop.
use keras::prelude::*;

pub fn run(steps: usize) -> Result<Vec<f32>> {
    manual_seed(0);
    let (n, d_in, h, d_out) = (64, 1000, 100, 10);
    let dev = Device::Cpu;
    let x = Tensor::randn(&[n, d_in], &dev)?;
    let y = Tensor::randn(&[n, d_out], &dev)?;
    let model = sequential![Dense::new(d_in, h), Relu, Dense::new(h, d_out)];
    let loss_fn = Loss::MeanSquaredError.reduction(Reduction::Sum);
    let mut opt = Adam::new(1e-4).params(model.parameters());
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let loss = loss_fn.compute(&model.forward(&x)?, &y)?;
        losses.push(loss.to_scalar::<f32>()?);
        opt.step(&loss.backward()?)?;
    }
    Ok(losses)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let losses = run(500)?;
    for (t, l) in losses.iter().enumerate().filter(|(t, _)| t % 100 == 99 || *t == 0) {
        println!("step {:>3}: loss {l:.4}", t + 1);
    }
    Ok(())
}
