//! S5: a module whose forward is relu(linear1(x) ⊙ linear2(x)), stacked in a Sequential
//! with a final Dense, trained with Adam. Nested names: `0.linear1.weight`, ...
use keras::prelude::*;

pub const N: usize = 64;
pub const D_IN: usize = 1000;
pub const H: usize = 100;
pub const D_OUT: usize = 10;

#[derive(Module)]
pub struct ParallelBlock {
    linear1: Dense,
    linear2: Dense,
}

impl ParallelBlock {
    pub fn new(d_in: usize, d_out: usize) -> Self {
        ParallelBlock { linear1: Dense::new(d_in, d_out), linear2: Dense::new(d_in, d_out) }
    }
}

impl Forward for ParallelBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.linear1.forward(x)?.mul(&self.linear2.forward(x)?)?.relu()
    }
}

/// Builds the model, trains it with Adam (lr 1e-4, MSE) and returns its parameter names,
/// output shape and losses.
/// Parameter names with shapes, the output shape, and the loss per step.
pub type Report = (Vec<(String, Vec<usize>)>, Vec<usize>, Vec<f32>);

pub fn run(steps: usize) -> Result<Report> {
    manual_seed(0);
    let dev = Device::Cpu;
    let x = Tensor::randn(&[N, D_IN], &dev)?;
    let y = Tensor::randn(&[N, D_OUT], &dev)?;
    let model = sequential![ParallelBlock::new(D_IN, H), ParallelBlock::new(H, H), Dense::new(H, D_OUT)];
    let mut opt = Adam::new(1e-4).params(model.parameters());
    let mut losses = Vec::new();
    let mut out_shape = vec![];
    for _ in 0..steps {
        let y_pred = model.forward(&x)?;
        out_shape = y_pred.shape().to_vec();
        let loss = y_pred.sub(&y)?.sqr()?.sum_all()?;
        losses.push(loss.to_scalar::<f32>()?);
        opt.step(&loss.backward()?)?;
    }
    let names = model.state_dict().into_iter().map(|(n, t)| (n, t.shape().to_vec())).collect();
    Ok((names, out_shape, losses))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (names, shape, losses) = run(500)?;
    for (n, s) in names {
        println!("{n}: {s:?}");
    }
    println!("output shape {shape:?}; loss {:.4} → {:.4}", losses[0], losses[losses.len() - 1]);
    Ok(())
}
