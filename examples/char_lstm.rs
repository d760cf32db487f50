//! A character-level LSTM language model on the bundled Shakespeare text (public domain,
//! data/shakespeare): Embedding → LSTM → Dense over the characters, trained on random
//! windows to predict each next character, evaluated in nats per character on the last
//! tenth of the text (never trained on), then sampled one character at a time, the
//! LSTM's state carried from step to step.
//!
//! cargo run --release --example char_lstm
use keras::prelude::*;

pub const TEXT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/shakespeare/input.txt");

#[derive(Module)]
pub struct CharModel {
    pub embed: Embedding,
    pub lstm: LSTM,
    pub head: Dense,
}

impl CharModel {
    pub fn new(vocab: usize, hidden: usize) -> Self {
        CharModel {
            embed: Embedding::new(vocab, 32),
            lstm: LSTM::new(32, hidden).batch_first(true),
            head: Dense::new(hidden, vocab),
        }
    }
    /// Logits `[B, T, vocab]` for ids `[B, T]`, from `state` (zeros when `None`), and the
    /// final state.
    pub fn step(&self, ids: &Tensor, state: Option<(&Tensor, &Tensor)>) -> Result<(Tensor, (Tensor, Tensor))> {
        let (out, state) = self.lstm.forward_seq(&self.embed.forward(ids)?, state)?;
        Ok((self.head.forward(&out)?, state))
    }
}

/// The text as ids into its sorted character set.
pub struct Corpus {
    pub chars: Vec<char>,
    pub ids: Vec<u32>,
}

impl Corpus {
    pub fn load() -> Result<Corpus> {
        let text = std::fs::read_to_string(TEXT).map_err(|e| Error::msg(format!("reading {TEXT}: {e}")))?;
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        let ids = text.chars().map(|c| chars.binary_search(&c).unwrap_or(0) as u32).collect();
        Ok(Corpus { chars, ids })
    }
    /// `batch` windows of `len + 1` characters starting at random places in `ids[lo..hi]`:
    /// inputs `[batch, len]` and next-character targets `[batch, len]`.
    fn windows(&self, lo: usize, hi: usize, batch: usize, len: usize, g: &Generator) -> Result<(Tensor, Tensor)> {
        let starts =
            Tensor::uniform_with(lo as f64, (hi - len - 1) as f64, &[batch], &Device::Cpu, g)?.to_vec::<f32>()?;
        let (mut x, mut y) = (Vec::with_capacity(batch * len), Vec::with_capacity(batch * len));
        for s in starts {
            let s = s as usize;
            x.extend_from_slice(&self.ids[s..s + len]);
            y.extend_from_slice(&self.ids[s + 1..s + len + 1]);
        }
        Ok((Tensor::from_vec(x, &[batch, len], &Device::Cpu)?, Tensor::from_vec(y, &[batch, len], &Device::Cpu)?))
    }
}

/// Mean negative log-likelihood per character (nats) of `logits [B, T, V]` for `y [B, T]`.
fn nll(logits: &Tensor, y: &Tensor) -> Result<Tensor> {
    let v = logits.dims()[2];
    let flat = logits.reshape(&[logits.numel() / v, v])?.log_softmax(1)?;
    flat.gather(&y.reshape(&[y.numel(), 1])?, 1)?.mean_all()?.neg()
}

/// What a run reports.
pub struct Report {
    /// Training loss (nats per character), every 10 steps.
    pub train: Vec<f64>,
    /// Nats per character on the held-out last tenth of the text.
    pub held_out: f64,
    pub sample: String,
}

/// Trains for `steps` batches of 32 windows of 64 characters, evaluates, samples.
pub fn run(steps: usize, hidden: usize, sample_len: usize) -> Result<Report> {
    manual_seed(4);
    let corpus = Corpus::load()?;
    let split = corpus.ids.len() * 9 / 10;
    let model = CharModel::new(corpus.chars.len(), hidden);
    let mut opt = Adam::new(3e-3);
    opt.add_param_group(model.parameters(), None)?;
    let g = Generator::new(1);
    let mut train = Vec::new();
    for step in 0..steps {
        let (x, y) = corpus.windows(0, split, 32, 64, &g)?;
        let loss = nll(&model.step(&x, None)?.0, &y)?;
        opt.step(&loss.backward()?)?;
        if step % 10 == 0 {
            train.push(loss.to_scalar::<f32>()? as f64);
        }
    }
    let held_out = no_grad(|| -> Result<f64> {
        let (x, y) = corpus.windows(split, corpus.ids.len(), 64, 128, &Generator::new(2))?;
        Ok(nll(&model.step(&x, None)?.0, &y)?.to_scalar::<f32>()? as f64)
    })?;
    let sample = no_grad(|| sample_text(&model, &corpus, sample_len, 0.8, &g))?;
    Ok(Report { train, held_out, sample })
}

/// `len` characters after a newline, each drawn from the softmax at `temperature`.
pub fn sample_text(model: &CharModel, corpus: &Corpus, len: usize, temperature: f64, g: &Generator) -> Result<String> {
    let mut id = corpus.chars.binary_search(&'\n').unwrap_or(0) as u32;
    let mut state: Option<(Tensor, Tensor)> = None;
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        let x = Tensor::from_vec(vec![id], &[1, 1], &Device::Cpu)?;
        let (logits, s) = model.step(&x, state.as_ref().map(|(h, c)| (h, c)))?;
        state = Some(s);
        let p = logits.reshape(&[corpus.chars.len()])?.mul_scalar(1.0 / temperature)?.softmax(0)?.to_vec::<f32>()?;
        let u = Tensor::uniform_with(0.0, 1.0, &[1], &Device::Cpu, g)?.to_vec::<f32>()?[0];
        let mut acc = 0.0;
        id = p
            .iter()
            .position(|&pi| {
                acc += pi;
                acc > u
            })
            .unwrap_or(p.len() - 1) as u32;
        out.push(corpus.chars[id as usize]);
    }
    Ok(out)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let r = run(1500, 256, 400)?;
    println!("training loss every 10 steps: {:?}", r.train);
    println!("held-out: {:.3} nats/char", r.held_out);
    println!("---\n{}", r.sample);
    Ok(())
}
