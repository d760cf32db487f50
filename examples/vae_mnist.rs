//! A variational autoencoder on the bundled MNIST sample: encoder 784→256→(μ, log σ²) in
//! 16 dims, decoder 16→256→784, trained with the reparameterisation trick on
//! reconstruction (binary cross-entropy) + KL divergence, in a hand-written loop with
//! Adam. Writes a PNG grid of 64 digits decoded from random codes.
//!
//! cargo run --release --example vae_mnist   (writes vae_samples.png)
use keras::prelude::*;
use std::path::Path;

#[path = "common/mnist.rs"]
mod mnist_common;
#[path = "common/png_grid.rs"]
mod png_grid;

pub const LATENT: usize = 16;

#[derive(Module)]
pub struct Vae {
    pub enc: Dense,
    pub mu: Dense,
    pub logvar: Dense,
    pub dec1: Dense,
    pub dec2: Dense,
}

impl Vae {
    pub fn new() -> Self {
        Vae {
            enc: Dense::new(784, 256),
            mu: Dense::new(256, LATENT),
            logvar: Dense::new(256, LATENT),
            dec1: Dense::new(LATENT, 256),
            dec2: Dense::new(256, 784),
        }
    }
    /// Logits of the pixels for codes `z`.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.dec2.forward(&self.dec1.forward(z)?.relu()?)
    }
    /// `(reconstruction loss, KL)` per image for a batch `x` `[n, 784]` in [0, 1].
    pub fn losses(&self, x: &Tensor, g: &Generator) -> Result<(Tensor, Tensor)> {
        let h = self.enc.forward(x)?.relu()?;
        let (mu, logvar) = (self.mu.forward(&h)?, self.logvar.forward(&h)?);
        let eps = Tensor::randn_with(mu.dims(), &Device::Cpu, g)?;
        let z = mu.add(&logvar.mul_scalar(0.5)?.exp()?.mul(&eps)?)?;
        let logits = self.decode(&z)?;
        // Binary cross-entropy with logits: softplus(l) − x·l, summed over pixels.
        let n = x.dims()[0] as f64;
        let recon = logits.softplus(1.0, 20.0)?.sub(&x.mul(&logits)?)?.sum_all()?.mul_scalar(1.0 / n)?;
        // KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σ (1 + log σ² − μ² − σ²)
        let kl = logvar.add_scalar(1.0)?.sub(&mu.sqr()?)?.sub(&logvar.exp()?)?.sum_all()?.mul_scalar(-0.5 / n)?;
        Ok((recon, kl))
    }
}

impl Default for Vae {
    fn default() -> Self {
        Vae::new()
    }
}

/// Trains for `epochs` over `limit` training images (batch 128); returns the mean
/// reconstruction loss and KL of each epoch, and writes the sample grid to `png`.
pub fn run(epochs: usize, limit: usize, png: Option<&Path>) -> Result<Vec<(f64, f64)>> {
    manual_seed(5);
    let ((x, _), _) = mnist_common::load(true)?;
    let x = x.narrow(0, 0, limit.min(x.dims()[0]))?;
    let vae = Vae::new();
    let mut opt = Adam::new(1e-3);
    opt.add_param_group(vae.parameters(), None)?;
    let g = Generator::new(1);
    let (n, bs) = (x.dims()[0], 128);
    let mut history = Vec::new();
    for _ in 0..epochs {
        let (mut r_sum, mut k_sum, mut batches) = (0.0, 0.0, 0);
        for start in (0..n).step_by(bs) {
            let xb = x.narrow(0, start, bs.min(n - start))?;
            let (recon, kl) = vae.losses(&xb, &g)?;
            let grads = recon.add(&kl)?.backward()?;
            opt.step(&grads)?;
            r_sum += recon.to_scalar::<f32>()? as f64;
            k_sum += kl.to_scalar::<f32>()? as f64;
            batches += 1;
        }
        history.push((r_sum / batches as f64, k_sum / batches as f64));
    }
    if let Some(path) = png {
        let z = Tensor::randn_with(&[64, LATENT], &Device::Cpu, &g)?;
        let images = no_grad(|| vae.decode(&z)?.sigmoid())?;
        png_grid::save_grid(&images, 28, 8, path)?;
    }
    Ok(history)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let h = run(10, usize::MAX, Some(Path::new("vae_samples.png")))?;
    for (e, (r, k)) in h.iter().enumerate() {
        println!("epoch {e}: reconstruction {r:.2}, KL {k:.2}");
    }
    println!("wrote vae_samples.png");
    Ok(())
}
