//! A DCGAN on the bundled MNIST sample: a generator of transposed convolutions with
//! batch norm (noise 16×1×1 → 7×7 → 14×14 → 28×28) and a convolutional discriminator,
//! each with its own Adam (lr 2e-4, β₁ 0.5, as in the DCGAN paper), trained in turn on
//! the non-saturating GAN loss. Writes a PNG grid of 64 generated digits.
//!
//! cargo run --release --example dcgan_mnist   (writes dcgan_samples.png)
use keras::prelude::*;
use std::path::Path;

#[path = "common/mnist.rs"]
mod mnist_common;
#[path = "common/png_grid.rs"]
mod png_grid;

pub const NOISE: usize = 16;

pub fn generator() -> impl Module + Forward {
    sequential![
        ConvTranspose2D::new(NOISE, 64, 7).bias(false),
        BatchNorm2D::new(64),
        Relu,
        ConvTranspose2D::new(64, 32, 4).stride(2).padding(1).bias(false),
        BatchNorm2D::new(32),
        Relu,
        ConvTranspose2D::new(32, 1, 4).stride(2).padding(1),
        Tanh,
    ]
}

pub fn discriminator() -> impl Module + Forward {
    sequential![
        Conv2D::new(1, 32, 4).stride(2).padding(1),
        LeakyRelu::new(0.2),
        Conv2D::new(32, 64, 4).stride(2).padding(1).bias(false),
        BatchNorm2D::new(64),
        LeakyRelu::new(0.2),
        Flatten,
        Dense::new(64 * 7 * 7, 1),
    ]
}

/// Binary cross-entropy of logits against a constant label (1 real, 0 fake), averaged.
fn bce(logits: &Tensor, label: f64) -> Result<Tensor> {
    logits.softplus(1.0, 20.0)?.sub(&logits.mul_scalar(label)?)?.mean_all()
}

/// One record per logged step.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub d_loss: f64,
    pub g_loss: f64,
    /// Mean probability the discriminator gives real and generated images.
    pub d_real: f64,
    pub d_fake: f64,
}

/// Trains for `steps` batches of 64 real images; writes the sample grid to `png`.
pub fn run(steps: usize, png: Option<&Path>) -> Result<Vec<Step>> {
    manual_seed(9);
    let ((x, _), _) = mnist_common::load(false)?;
    let x = x.affine(2.0, -1.0)?; // [-1, 1], the range of the generator's tanh
    let (gen, disc) = (generator(), discriminator());
    let mut opt_g = Adam::new(2e-4).betas(0.5, 0.999);
    opt_g.add_param_group(gen.parameters(), None)?;
    let mut opt_d = Adam::new(2e-4).betas(0.5, 0.999);
    opt_d.add_param_group(disc.parameters(), None)?;
    let (n, bs) = (x.dims()[0], 64);
    let g = Generator::new(2);
    let mut log = Vec::new();
    for step in 0..steps {
        let start = (step * bs) % (n - bs);
        let real = x.narrow(0, start, bs)?;
        let z = Tensor::randn_with(&[bs, NOISE, 1, 1], &Device::Cpu, &g)?;
        // Discriminator: real → 1, generated → 0 (the generator gets no gradient here).
        let fake = gen.forward(&z)?.detach();
        let (lr, lf) = (disc.forward(&real)?, disc.forward(&fake)?);
        let d_loss = bce(&lr, 1.0)?.add(&bce(&lf, 0.0)?)?;
        opt_d.step(&d_loss.backward()?)?;
        // Generator: make the discriminator say 1 for generated images.
        let lg = disc.forward(&gen.forward(&z)?)?;
        let g_loss = bce(&lg, 1.0)?;
        let grads = g_loss.backward()?;
        opt_g.step(&grads)?;
        let mean_prob = |l: &Tensor| -> Result<f64> { Ok(l.sigmoid()?.mean_all()?.to_scalar::<f32>()? as f64) };
        log.push(Step {
            d_loss: d_loss.to_scalar::<f32>()? as f64,
            g_loss: g_loss.to_scalar::<f32>()? as f64,
            d_real: mean_prob(&lr)?,
            d_fake: mean_prob(&lf)?,
        });
    }
    if let Some(path) = png {
        let mut gen = gen;
        gen.eval();
        let z = Tensor::randn_with(&[64, NOISE, 1, 1], &Device::Cpu, &g)?;
        let images = no_grad(|| gen.forward(&z)?.affine(0.5, 0.5))?;
        png_grid::save_grid(&images, 28, 8, path)?;
    }
    Ok(log)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let log = run(1500, Some(Path::new("dcgan_samples.png")))?;
    for (i, s) in log.iter().enumerate().step_by(100) {
        println!("step {i}: D {:.3} (real {:.2}, fake {:.2}), G {:.3}", s.d_loss, s.d_real, s.d_fake, s.g_loss);
    }
    println!("wrote dcgan_samples.png");
    Ok(())
}
