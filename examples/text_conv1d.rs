//! A text classifier: Embedding → Conv1D → GlobalMaxPool1D → Dense, on a generated task
//! where the label says whether a sentence contains the phrase "not bad" (word ids 7 then
//! 13) anywhere — a 2-gram detector, what a width-3 convolution with max pooling learns.
//!
//! cargo run --release --example text_conv1d
use keras::prelude::*;

pub const VOCAB: usize = 50;
pub const LEN: usize = 24;

/// `n` sentences of random words, half with the phrase planted at a random place.
pub fn sentences(n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let g = Generator::new(seed);
    let words = Tensor::uniform_with(1.0, VOCAB as f64, &[n, LEN], &Device::Cpu, &g)?.floor()?.to_vec::<f32>()?;
    let at = Tensor::uniform_with(0.0, (LEN - 1) as f64, &[n], &Device::Cpu, &g)?.floor()?.to_vec::<f32>()?;
    let mut ids: Vec<u32> = words.iter().map(|&w| w as u32).collect();
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let row = &mut ids[i * LEN..(i + 1) * LEN];
        // Remove accidental phrases, then plant one in every other sentence.
        for j in 0..LEN - 1 {
            if row[j] == 7 && row[j + 1] == 13 {
                row[j + 1] = 14;
            }
        }
        let positive = i % 2 == 0;
        if positive {
            let p = at[i] as usize;
            row[p] = 7;
            row[p + 1] = 13;
        }
        labels.push(u32::from(positive));
    }
    Ok((Tensor::from_vec(ids, &[n, LEN], &Device::Cpu)?, Tensor::from_vec(labels, &[n], &Device::Cpu)?))
}

pub fn build() -> impl Module + Forward {
    sequential![
        Embedding::new(VOCAB, 16),
        // [batch, len, channels] → [batch, channels, len] (NCL) for the convolution.
        |h: &Tensor| h.transpose(1, 2),
        Conv1D::new(16, 32, 3).padding(1),
        Relu,
        GlobalMaxPool1D,
        Dense::new(32, 2),
    ]
}

/// Trains for `epochs`; returns the history and the test accuracy.
pub fn run(epochs: usize, verbose: Verbosity) -> Result<(History, f64)> {
    manual_seed(3);
    let (x, y) = sentences(1024, 1)?;
    let (xt, yt) = sentences(256, 2)?;
    let mut model = Model::new(build());
    model.compile_with_metrics(Adam::new(0.01), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]);
    let h = model.fit_with(&x, &y, FitOptions::new(epochs, 64).verbose(verbose))?;
    let acc = model.evaluate(&xt, &yt, 256)?.get("accuracy").unwrap_or(0.0);
    Ok((h, acc))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (_, acc) = run(10, Verbosity::ProgressBar)?;
    println!("test accuracy {acc:.3}");
    Ok(())
}
