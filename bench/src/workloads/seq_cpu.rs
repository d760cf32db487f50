//! Step-2 workloads (CPU): an LSTM and a Transformer encoder training step, an epoch of
//! the Conv1D text classifier, and a DCGAN step (discriminator then generator), each
//! forward + backward + Adam, hand-written loops as in the PyTorch twin.

use crate::report::{Row, Unit};
use crate::timing::median_secs;
use keras::prelude::*;

fn mse(y: &Tensor, t: &Tensor) -> Result<Tensor> {
    y.sub(t)?.sqr()?.mean_all()
}

/// Milliseconds per call of `step`, median of 5 runs of `inner` calls.
fn per_step(name: &str, inner: usize, mut step: impl FnMut() -> Result<()>) -> Result<Row> {
    let mut err = None;
    let t = median_secs(5, || {
        for _ in 0..inner {
            if let Err(e) = step() {
                err = Some(e);
                return;
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(Row { name: name.into(), unit: Unit::Millis, ours: t * 1e3 / inner as f64, torch: None }),
    }
}

/// B=32, T=64, input 128, hidden 256, 2 layers (batch_first), MSE on the outputs.
pub fn lstm_step() -> Result<Row> {
    manual_seed(0);
    let lstm = LSTM::new(128, 256).num_layers(2).batch_first(true);
    let mut opt = Adam::new(1e-3);
    opt.add_param_group(lstm.parameters(), None)?;
    let x = Tensor::randn(&[32, 64, 128], &Device::Cpu)?;
    let t = Tensor::randn(&[32, 64, 256], &Device::Cpu)?;
    per_step("lstm_step", 2, || {
        let g = mse(&lstm.forward(&x)?, &t)?.backward()?;
        opt.step(&g)
    })
}

/// B=16, S=128, d=256, 4 heads, 2 layers, feed-forward 1024, no dropout, MSE.
pub fn transformer_step() -> Result<Row> {
    manual_seed(0);
    let layer = TransformerEncoderLayer::new(256, 4).dim_feedforward(1024).dropout(0.0).batch_first(true);
    let enc = TransformerEncoder::new(layer, 2);
    let mut opt = Adam::new(1e-3);
    opt.add_param_group(enc.parameters(), None)?;
    let x = Tensor::randn(&[16, 128, 256], &Device::Cpu)?;
    let t = Tensor::randn(&[16, 128, 256], &Device::Cpu)?;
    per_step("transformer_step", 2, || {
        let g = mse(&enc.forward(&x)?, &t)?.backward()?;
        opt.step(&g)
    })
}

/// An epoch (4096 sentences of 256 tokens from 5000 words, batch 64) of
/// Embedding(5000, 64) → Conv1D(64, 128, 5) → ReLU → GlobalMaxPool1D → Dense(128, 2).
pub fn conv1d_text_epoch() -> Result<Row> {
    manual_seed(0);
    let model = sequential![
        Embedding::new(5000, 64),
        |h: &Tensor| h.transpose(1, 2),
        Conv1D::new(64, 128, 5).padding(2),
        Relu,
        GlobalMaxPool1D,
        Dense::new(128, 2),
    ];
    let mut opt = Adam::new(1e-3);
    opt.add_param_group(model.parameters(), None)?;
    let ids = Tensor::uniform(0.0, 5000.0, &[4096, 256], &Device::Cpu)?.floor()?.to_dtype(DType::U32)?;
    let labels = Tensor::uniform(0.0, 2.0, &[4096], &Device::Cpu)?.floor()?.to_dtype(DType::U32)?;
    let mut row = per_step("conv1d_text_epoch", 1, || {
        for b in 0..4096 / 64 {
            let (x, y) = (ids.narrow(0, b * 64, 64)?, labels.narrow(0, b * 64, 64)?);
            let logits = model.forward(&x)?;
            let loss = logits.log_softmax(1)?.gather(&y.unsqueeze(1)?, 1)?.mean_all()?.neg()?;
            opt.step(&loss.backward()?)?;
        }
        Ok(())
    })?;
    row.unit = Unit::Seconds;
    row.ours /= 1e3;
    Ok(row)
}

/// One DCGAN step at batch 64 (the dcgan_mnist example's networks): discriminator on
/// real and generated images, then generator, each with its Adam.
pub fn dcgan_step() -> Result<Row> {
    manual_seed(0);
    let gen = sequential![
        ConvTranspose2D::new(16, 64, 7).bias(false),
        BatchNorm2D::new(64),
        Relu,
        ConvTranspose2D::new(64, 32, 4).stride(2).padding(1).bias(false),
        BatchNorm2D::new(32),
        Relu,
        ConvTranspose2D::new(32, 1, 4).stride(2).padding(1),
        Tanh,
    ];
    let disc = sequential![
        Conv2D::new(1, 32, 4).stride(2).padding(1),
        LeakyRelu::new(0.2),
        Conv2D::new(32, 64, 4).stride(2).padding(1).bias(false),
        BatchNorm2D::new(64),
        LeakyRelu::new(0.2),
        Flatten,
        Dense::new(64 * 7 * 7, 1),
    ];
    let (mut og, mut od) = (Adam::new(2e-4).betas(0.5, 0.999), Adam::new(2e-4).betas(0.5, 0.999));
    og.add_param_group(gen.parameters(), None)?;
    od.add_param_group(disc.parameters(), None)?;
    let real = Tensor::uniform(-1.0, 1.0, &[64, 1, 28, 28], &Device::Cpu)?;
    let bce =
        |l: &Tensor, label: f64| -> Result<Tensor> { l.softplus(1.0, 20.0)?.sub(&l.mul_scalar(label)?)?.mean_all() };
    per_step("dcgan_step", 5, || {
        let z = Tensor::randn(&[64, 16, 1, 1], &Device::Cpu)?;
        let fake = gen.forward(&z)?;
        let d_loss = bce(&disc.forward(&real)?, 1.0)?.add(&bce(&disc.forward(&fake.detach())?, 0.0)?)?;
        od.step(&d_loss.backward()?)?;
        let g_loss = bce(&disc.forward(&fake)?, 1.0)?;
        og.step(&g_loss.backward()?)
    })
}

/// The group's rows (a failing workload is reported and skipped).
pub fn rows(name: &str) -> Vec<Row> {
    let r = match name {
        "lstm_step" => lstm_step(),
        "transformer_step" => transformer_step(),
        "conv1d_text_epoch" => conv1d_text_epoch(),
        "dcgan_step" => dcgan_step(),
        _ => return vec![],
    };
    r.map(|r| vec![r]).unwrap_or_else(|e| {
        eprintln!("{name} failed: {e}");
        vec![]
    })
}
