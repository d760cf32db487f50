//! GPU workloads (bench/README.md lists them), each timed after warm-up with the device synchronised
//! around the timed region: GEMM throughput at 4096 (f32, TF32, bf16); hand-written
//! training steps (forward, backward, in-place SGD; lolcore only) for the MNIST MLP at
//! batch 128, a 3×4096 MLP at batch 4096 (f32 and TF32) and the S15 CNN at batch 64; and
//! `Model::fit` epochs on MNIST.

use crate::report::{Row, Unit};
use lolcore::nn::functional::linear;
use lolcore::optim::{Optimizer, Sgd};
use lolcore::{cuda, manual_seed, Conv2dParams, DType, Device, Pool2dParams, Result, Tensor};
use std::time::Instant;

/// Median seconds per call of `f` over `reps` timed calls after `warm` untimed ones.
fn time(dev: &Device, warm: usize, reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..warm {
        f()?;
    }
    cuda::synchronize(dev)?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        cuda::synchronize(dev)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[reps / 2])
}

fn gemm(dev: &Device, name: &str, dtype: DType, tf32: bool) -> Result<Row> {
    let n = 4096;
    manual_seed(0);
    let a = Tensor::randn(&[n, n], dev)?.to_dtype(dtype)?;
    let b = Tensor::randn(&[n, n], dev)?.to_dtype(dtype)?;
    cuda::set_tf32(dev, tf32)?;
    // Ten products per timed call, so launch overhead is noise.
    let t = time(dev, 3, 5, || {
        for _ in 0..10 {
            a.matmul(&b)?;
        }
        Ok(())
    });
    cuda::set_tf32(dev, false)?;
    Ok(Row { name: name.into(), unit: Unit::Tflops, ours: 10.0 * 2.0 * (n as f64).powi(3) / t? / 1e12, torch: None })
}

/// Parameters `[out, in]` and `[out]` for each layer of an MLP, PyTorch-initialised.
fn mlp_params(dev: &Device, sizes: &[usize]) -> Result<Vec<(Tensor, Tensor)>> {
    sizes
        .windows(2)
        .map(|w| {
            let b = 1.0 / (w[0] as f64).sqrt();
            Ok((
                Tensor::uniform(-b, b, &[w[1], w[0]], dev)?.requires_grad(true),
                Tensor::uniform(-b, b, &[w[1]], dev)?.requires_grad(true),
            ))
        })
        .collect()
}

/// Forward (ReLU between layers), cross-entropy, backward, SGD step.
fn mlp_step(x: &Tensor, y: &Tensor, params: &[(Tensor, Tensor)], opt: &mut Sgd) -> Result<()> {
    let mut h = x.clone();
    for (i, (w, b)) in params.iter().enumerate() {
        h = linear(&h, w, Some(b))?;
        if i + 1 < params.len() {
            h = h.relu()?;
        }
    }
    let n = y.dims()[0];
    let loss = h.log_softmax(1)?.gather(&y.reshape(&[n, 1])?, 1)?.mean_all()?.neg()?;
    opt.step(&loss.backward()?)
}

fn mlp(dev: &Device, name: &str, sizes: &[usize], batch: usize, tf32: bool) -> Result<Row> {
    manual_seed(0);
    let params = mlp_params(dev, sizes)?;
    let x = Tensor::randn(&[batch, sizes[0]], dev)?;
    let classes = *sizes.last().unwrap_or(&1) as u32;
    let labels: Vec<u32> = (0..batch as u32).map(|i| i % classes).collect();
    let y = Tensor::from_vec(labels, &[batch], dev)?;
    let mut opt = Sgd::new(1e-3).params(params.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect());
    cuda::set_tf32(dev, tf32)?;
    let t = time(dev, 20, 50, || mlp_step(&x, &y, &params, &mut opt));
    cuda::set_tf32(dev, false)?;
    Ok(Row { name: name.into(), unit: Unit::Millis, ours: t? * 1e3, torch: None })
}

/// The S15 CNN step through im2col + cuBLAS, or through cuDNN (`cudnn`).
fn cnn(dev: &Device, cudnn: bool) -> Result<Row> {
    cuda::set_cudnn(dev, cudnn)?;
    let row = cnn_step(dev, if cudnn { "gpu_cnn_step_cudnn" } else { "gpu_cnn_step" });
    cuda::set_cudnn(dev, false)?;
    row
}

fn cnn_step(dev: &Device, name: &str) -> Result<Row> {
    manual_seed(0);
    let p = |shape: &[usize], fan_in: usize| -> Result<Tensor> {
        let b = 1.0 / (fan_in as f64).sqrt();
        Ok(Tensor::uniform(-b, b, shape, dev)?.requires_grad(true))
    };
    let (w1, b1) = (p(&[16, 1, 3, 3], 9)?, p(&[16], 9)?);
    let (w2, b2) = (p(&[32, 16, 3, 3], 144)?, p(&[32], 144)?);
    let (w3, b3) = (p(&[10, 1568], 1568)?, p(&[10], 1568)?);
    let x = Tensor::randn(&[64, 1, 28, 28], dev)?;
    let y = Tensor::from_vec((0..64u32).map(|i| i % 10).collect(), &[64], dev)?;
    let mut opt = Sgd::new(1e-3).params(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone(), w3.clone(), b3.clone()]);
    let conv = Conv2dParams::default().padding(1);
    let t = time(dev, 20, 50, || {
        let h = x.conv2d_bias(&w1, Some(&b1), conv)?.relu()?.max_pool2d(Pool2dParams::new(2))?;
        let h = h.conv2d_bias(&w2, Some(&b2), conv)?.relu()?.max_pool2d(Pool2dParams::new(2))?;
        let logits = linear(&h.flatten(1, -1)?, &w3, Some(&b3))?;
        let loss = logits.log_softmax(1)?.gather(&y.reshape(&[64, 1])?, 1)?.mean_all()?.neg()?;
        opt.step(&loss.backward()?)
    })?;
    Ok(Row { name: name.into(), unit: Unit::Millis, ours: t * 1e3, torch: None })
}

/// Every GPU row (failures are reported and skipped).
pub fn rows() -> Vec<Row> {
    let dev = match Device::cuda(0) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("gpu benchmarks skipped: {e}");
            return vec![];
        }
    };
    type Run<'a> = Box<dyn Fn() -> Result<Row> + 'a>;
    let runs: Vec<(&str, Run)> = vec![
        ("sgemm", Box::new(|| gemm(&dev, "gpu_sgemm_4096", DType::F32, false))),
        ("tf32", Box::new(|| gemm(&dev, "gpu_tf32_gemm_4096", DType::F32, true))),
        ("bf16", Box::new(|| gemm(&dev, "gpu_bf16_gemm_4096", DType::BF16, false))),
        ("mlp", Box::new(|| mlp(&dev, "gpu_mlp_784_step", &[784, 256, 128, 10], 128, false))),
        ("wide", Box::new(|| mlp(&dev, "gpu_mlp_4096_step", &[4096, 4096, 4096, 4096], 4096, false))),
        ("wide tf32", Box::new(|| mlp(&dev, "gpu_mlp_4096_tf32_step", &[4096, 4096, 4096, 4096], 4096, true))),
        ("cnn", Box::new(|| cnn(&dev, false))),
        ("cnn cudnn", Box::new(|| cnn(&dev, true))),
        ("fit mlp", Box::new(|| fit(&dev, "gpu_fit_mlp"))),
        ("fit cnn", Box::new(|| fit(&dev, "gpu_fit_cnn"))),
    ];
    runs.into_iter()
        .filter_map(|(what, f)| match f() {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("gpu {what} failed: {e}");
                None
            }
        })
        .collect()
}

fn fit(dev: &Device, name: &str) -> Result<Row> {
    let secs = super::fit_cpu::run(name, dev)?;
    Ok(Row { name: format!("{name}_epoch"), unit: Unit::Seconds, ours: secs, torch: None })
}
