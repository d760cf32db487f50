//! S6: a dataset of (x, y) tensors fed in shuffled mini-batches of 8 for 20 epochs of
//! Adam (lr 1e-2); then a dataset read from a CSV file (features = all columns but the
//! last, label = the last) in shuffled batches of 32 built by 2 worker threads.
use keras::data::CsvDataset;
use keras::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// y = x·w_true + noise, counting how often each sample is read.
pub struct Regression {
    x: Tensor,
    y: Tensor,
    pub reads: Vec<AtomicUsize>,
}

impl Dataset for Regression {
    fn len(&self) -> usize {
        self.x.dims()[0]
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        self.reads[i].fetch_add(1, Ordering::Relaxed);
        Ok((self.x.narrow(0, i, 1)?.squeeze(0)?, self.y.narrow(0, i, 1)?.squeeze(0)?))
    }
}

pub struct Report {
    /// Mean loss per epoch.
    pub losses: Vec<f32>,
    /// For every epoch, how many times each sample was read.
    pub reads_per_epoch: Vec<Vec<usize>>,
    /// Labels of the CSV rows in the order the loader produced them.
    pub csv_labels: Vec<f32>,
    pub csv_batches: Vec<usize>,
}

pub fn run(csv_path: &std::path::Path) -> Result<Report> {
    manual_seed(0);
    let dev = Device::Cpu;
    let n = 64;
    let x = Tensor::randn(&[n, 3], &dev)?;
    let w_true = Tensor::from_vec(vec![0.8f32, -0.6, 0.3], &[3, 1], &dev)?;
    let y = x.matmul(&w_true)?.add(&Tensor::randn(&[n, 1], &dev)?.affine(0.01, 0.0)?)?;
    let ds = Regression { x, y, reads: (0..n).map(|_| AtomicUsize::new(0)).collect() };
    let loader = DataLoader::new(ds, 8).shuffle(true);
    let model = Dense::new(3, 1);
    let mut opt = Adam::new(1e-2).params(model.parameters());
    let mut report = Report { losses: vec![], reads_per_epoch: vec![], csv_labels: vec![], csv_batches: vec![] };
    for _ in 0..20 {
        let mut total = 0.0;
        for batch in loader.iter()? {
            let (xb, yb) = batch?;
            let loss = Loss::MeanSquaredError.compute(&model.forward(&xb)?, &yb)?;
            total += loss.to_scalar::<f32>()?;
            opt.step(&loss.backward()?)?;
        }
        report.losses.push(total / loader.len() as f32);
        report.reads_per_epoch.push(loader.dataset().reads.iter().map(|r| r.swap(0, Ordering::Relaxed)).collect());
    }

    // The CSV part: 100 rows of 4 features, label = row number.
    let mut text = String::from("f1,f2,f3,f4,label\n");
    for i in 0..100 {
        text += &format!("{},{},{},{},{i}\n", i as f32 * 0.1, 1.0, -(i as f32), 0.5);
    }
    std::fs::write(csv_path, text).map_err(|e| Error::io(csv_path, e))?;
    let csv = DataLoader::new(CsvDataset::open(csv_path)?, 32).shuffle(true).workers(2);
    for batch in csv.iter()? {
        let (xb, yb) = batch?;
        report.csv_batches.push(xb.dims()[0]);
        report.csv_labels.extend(yb.to_vec::<f32>()?);
    }
    Ok(report)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let path = std::env::temp_dir().join("lol_s6_data.csv");
    let r = run(&path)?;
    for (e, l) in r.losses.iter().enumerate() {
        println!("epoch {:>2}: loss {l:.5}", e + 1);
    }
    println!("every sample read once per epoch: {}", r.reads_per_epoch.iter().all(|e| e.iter().all(|&c| c == 1)));
    println!("CSV: batches {:?}, {} rows, each once: {}", r.csv_batches, r.csv_labels.len(), {
        let mut l = r.csv_labels.clone();
        l.sort_by(f32::total_cmp);
        l.iter().enumerate().all(|(i, &v)| v == i as f32)
    });
    Ok(())
}
