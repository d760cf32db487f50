//! A small Transformer encoder on sequences of different lengths, padded with token 0 and
//! masked with a key padding mask: is token 1 more frequent than token 2? Padding is kept
//! out of the attention (the mask) and out of the pooled mean.
//!
//! cargo run --release --example transformer_classifier
use keras::prelude::*;

pub const VOCAB: usize = 8;
pub const LEN: usize = 12;

#[derive(Module)]
pub struct Classifier {
    pub embed: Embedding,
    pub position: Tensor,
    pub encoder: TransformerEncoder,
    pub head: Dense,
}

impl Classifier {
    pub fn new() -> Result<Self> {
        let layer = TransformerEncoderLayer::new(16, 2).dim_feedforward(32).dropout(0.0).batch_first(true);
        Ok(Classifier {
            embed: Embedding::new(VOCAB, 16),
            // A learned position embedding, one vector per position.
            position: Tensor::randn(&[LEN, 16], &Device::Cpu)?.mul_scalar(0.1)?.requires_grad(true),
            encoder: TransformerEncoder::new(layer, 2),
            head: Dense::new(16, 2),
        })
    }
}

impl Forward for Classifier {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let pad = ids.eq_scalar(0.0)?; // [batch, len]: 1 = padding
        let h = self.embed.forward(ids)?.add(&self.position)?;
        let h = self.encoder.forward_masked(&h, None, Some(&pad))?;
        // Mean over the real tokens only.
        let keep = pad.eq_scalar(0.0)?.to_dtype(DType::F32)?.unsqueeze(2)?;
        let pooled = h.mul(&keep)?.sum(1)?.div(&keep.sum(1)?)?;
        self.head.forward(&pooled)
    }
}

/// `n` sequences of 3..=12 tokens from 1..VOCAB, then padding; label 1 when token 1
/// occurs more often than token 2 (a tie is broken by changing the first token).
pub fn sequences(n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let g = Generator::new(seed);
    let u = Tensor::uniform_with(0.0, 1.0, &[n, LEN + 1], &Device::Cpu, &g)?.to_vec::<f32>()?;
    let (mut ids, mut labels) = (vec![0u32; n * LEN], Vec::with_capacity(n));
    for i in 0..n {
        let r = &u[i * (LEN + 1)..(i + 1) * (LEN + 1)];
        let len = 3 + (r[LEN] * (LEN - 2) as f32) as usize % (LEN - 2);
        let row = &mut ids[i * LEN..(i + 1) * LEN];
        for j in 0..len {
            row[j] = 1 + (r[j] * (VOCAB - 1) as f32) as u32 % (VOCAB as u32 - 1);
        }
        let count = |t: u32, row: &[u32]| row.iter().filter(|&&x| x == t).count();
        if count(1, row) == count(2, row) {
            row[0] = if row[0] == 1 { 2 } else { 1 };
        }
        labels.push(u32::from(count(1, row) > count(2, row)));
    }
    Ok((Tensor::from_vec(ids, &[n, LEN], &Device::Cpu)?, Tensor::from_vec(labels, &[n], &Device::Cpu)?))
}

/// Trains for `epochs`; returns the history and the test accuracy.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(11);
    let (x, y) = sequences(2048, 1)?;
    let (xt, yt) = sequences(512, 2)?;
    let mut model = Model::new(Classifier::new()?);
    model.compile_with_metrics(Adam::new(3e-3), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let h = model.fit_with(&x, &y, FitOptions::new(epochs, 64).verbose(verbose))?;
    let acc = model.evaluate(&xt, &yt, 512)?.get("accuracy").unwrap_or(0.0);
    Ok((h, acc))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (_, acc) = run(20, Verbosity::ProgressBar)?;
    println!("test accuracy {acc:.3}");
    Ok(())
}
