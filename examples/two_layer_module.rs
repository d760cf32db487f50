//! S4: the two-layer net as a struct with two Dense fields and a hand-written forward;
//! `#[derive(Module)]` names its parameters `linear1.*`, `linear2.*` as PyTorch would.
use keras::prelude::*;

pub const N: usize = 64;
pub const D_IN: usize = 1000;
pub const H: usize = 100;
pub const D_OUT: usize = 10;

#[derive(Module)]
pub struct TwoLayerNet {
    linear1: Dense,
    linear2: Dense,
}

impl TwoLayerNet {
    pub fn new(d_in: usize, h: usize, d_out: usize) -> Self {
        TwoLayerNet { linear1: Dense::new(d_in, h), linear2: Dense::new(h, d_out) }
    }
}

impl Forward for TwoLayerNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.linear2.forward(&self.linear1.forward(x)?.relu()?)
    }
}

/// Trains with plain SGD by hand; returns the model and the loss per step.
pub fn run(steps: usize) -> Result<(TwoLayerNet, Vec<f32>)> {
    manual_seed(0);
    let dev = Device::Cpu;
    let x = Tensor::randn(&[N, D_IN], &dev)?;
    let y = Tensor::randn(&[N, D_OUT], &dev)?;
    let model = TwoLayerNet::new(D_IN, H, D_OUT);
    let mut losses = Vec::new();
    for _ in 0..steps {
        let loss = model.forward(&x)?.sub(&y)?.sqr()?.sum_all()?;
        losses.push(loss.to_scalar::<f32>()?);
        let grads = loss.backward()?;
        no_grad(|| -> Result<()> {
            for p in model.parameters() {
                if let Some(g) = grads.get(&p) {
                    p.add_scaled_(g, -1e-4)?;
                }
            }
            Ok(())
        })?;
    }
    Ok((model, losses))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (model, losses) = run(500)?;
    for (name, t) in model.named_parameters() {
        println!("{name}: {:?}", t.shape());
    }
    println!("loss: {:.4} → {:.4}", losses[0], losses[losses.len() - 1]);
    Ok(())
}
