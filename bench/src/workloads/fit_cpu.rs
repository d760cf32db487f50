//! `Model::fit` on the bundled MNIST sample (8,000 digits): the MLP 784-256-128-10 at
//! batch 128 (from tensors, and from a shuffling `DataLoader` with one worker thread) and
//! the S15 CNN at batch 64, Adam 1e-3. Each runs in its own process so
//! its peak RSS is its own.

use crate::report::{Row, Unit};
use keras::datasets::mnist;
use keras::prelude::*;
use std::time::Instant;

#[path = "../../../examples/common/models.rs"]
mod models;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist");
/// Epochs run; the first is warm-up, the median of the rest is reported.
const EPOCHS: usize = 4;

fn data(flat: bool) -> Result<(Tensor, Tensor)> {
    let ((x, y), _) = mnist::load_data(DATA)?;
    let n = x.dims()[0];
    let x = x.to_dtype(DType::F32)?.affine(1.0 / 255.0, 0.0)?;
    Ok((if flat { x.reshape(&[n, 784])? } else { x.reshape(&[n, 1, 28, 28])? }, y))
}

/// Where `time_fit` trains from.
enum Feed<'a> {
    Tensors(&'a Tensor, &'a Tensor, usize),
    Loader(&'a DataLoader<TensorDataset>),
}

fn time_fit<M: Module + Forward>(module: M, feed: Feed<'_>, device: &Device) -> Result<f64> {
    let mut model = Model::new(module);
    model.to_device(device)?;
    model.compile(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy);
    let times = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let (t1, t2) = (times.clone(), times.clone());
    let start = std::rc::Rc::new(std::cell::Cell::new(Instant::now()));
    let s2 = start.clone();
    let mut timer = LambdaCallback::new()
        .on_epoch_begin(move |_| {
            start.set(Instant::now());
            Ok(())
        })
        .on_epoch_end(move |_, _| {
            t1.borrow_mut().push(s2.get().elapsed().as_secs_f64());
            Ok(())
        });
    match feed {
        Feed::Tensors(x, y, batch) => {
            model.fit_with(x, y, FitOptions::new(EPOCHS, batch).verbose(Verbosity::Silent).callback(&mut timer))?
        }
        Feed::Loader(l) => {
            model.fit_loader_with(l, FitOptions::epochs(EPOCHS).verbose(Verbosity::Silent).callback(&mut timer))?
        }
    };
    let mut t: Vec<f64> = t2.borrow()[1..].to_vec();
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

fn mlp() -> impl Module + Forward {
    sequential![Dense::new(784, 256), Relu, Dense::new(256, 128), Relu, Dense::new(128, 10)]
}

/// Seconds per epoch for one workload (`fit_mlp` or `fit_cnn`) on `device`.
pub fn run(name: &str, device: &Device) -> Result<f64> {
    manual_seed(0);
    match name {
        "fit_mlp" | "gpu_fit_mlp" => {
            let (x, y) = data(true)?;
            time_fit(mlp(), Feed::Tensors(&x, &y, 128), device)
        }
        "fit_mlp_loader" => {
            let (x, y) = data(true)?;
            let loader = DataLoader::new(TensorDataset::new(&x, &y)?, 128).shuffle(true).workers(1);
            time_fit(mlp(), Feed::Loader(&loader), device)
        }
        "fit_cnn" | "gpu_fit_cnn" => {
            let (x, y) = data(false)?;
            time_fit(models::mnist_cnn(), Feed::Tensors(&x, &y, 64), device)
        }
        other => Err(Error::msg(format!("unknown fit workload {other}"))),
    }
}

/// Runs `name` in a child process of this binary; returns (s/epoch, peak RSS MiB).
pub fn in_child(name: &str) -> Option<(f64, f64)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe).arg("child").arg(name).output().ok()?;
    if !out.status.success() {
        eprintln!("{name} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().filter_map(|v| v.parse::<f64>().ok());
    Some((it.next()?, it.next()?))
}

/// Our two rows for a fit workload (s/epoch and peak RSS), from a child process.
pub fn rows(name: &str) -> Vec<Row> {
    match in_child(name) {
        Some((secs, rss)) => vec![
            Row { name: format!("{name}_epoch"), unit: Unit::Seconds, ours: secs, torch: None },
            Row { name: format!("{name}_peak_rss"), unit: Unit::Mib, ours: rss, torch: None },
        ],
        None => vec![],
    }
}
