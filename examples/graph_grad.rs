//! S1: a small computation graph and its gradients, on the CPU and (when present) CUDA.
//! a = x ⊙ y; b = a + z; c = sum(b)  ⇒  ∂c/∂x = y, ∂c/∂y = x, ∂c/∂z = 1.
use lolcore::{manual_seed, Device, Result, Tensor};

/// The inputs and the three gradients, as host vectors.
pub struct GraphGrads {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub grad_x: Vec<f32>,
    pub grad_y: Vec<f32>,
    pub grad_z: Vec<f32>,
    pub c: f32,
}

pub fn run(dev: &Device) -> Result<GraphGrads> {
    manual_seed(0);
    let x = Tensor::randn(&[3, 4], dev)?.requires_grad(true);
    let y = Tensor::randn(&[3, 4], dev)?.requires_grad(true);
    let z = Tensor::randn(&[3, 4], dev)?.requires_grad(true);
    let a = x.mul(&y)?;
    let b = a.add(&z)?;
    let c = b.sum_all()?;
    let grads = c.backward()?;
    let get = |t: &Tensor| -> Result<Vec<f32>> {
        grads.get(t).ok_or_else(|| lolcore::Error::msg("missing gradient"))?.to_vec::<f32>()
    };
    Ok(GraphGrads {
        x: x.to_vec()?,
        y: y.to_vec()?,
        grad_x: get(&x)?,
        grad_y: get(&y)?,
        grad_z: get(&z)?,
        c: c.to_scalar()?,
    })
}

fn report(dev: &Device) -> Result<()> {
    let g = run(dev)?;
    println!("[{dev}] c = {:.4}", g.c);
    println!("[{dev}] grad_x == y: {}", g.grad_x == g.y);
    println!("[{dev}] grad_y == x: {}", g.grad_y == g.x);
    println!("[{dev}] grad_z == ones: {}", g.grad_z.iter().all(|&v| v == 1.0));
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<()> {
    report(&Device::Cpu)?;
    match Device::cuda(0) {
        Ok(dev) => report(&dev)?,
        Err(e) => println!("[cuda] skipped: {e}"),
    }
    Ok(())
}
