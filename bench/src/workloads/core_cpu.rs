//! Foundation workloads: sgemm throughput and the seed two-layer training loop.

use crate::report::{Row, Unit};
use crate::timing::median_secs;
use lolcore::{manual_seed, no_grad, Device, Result, Tensor};

/// `n × n` f32 matrix products (output allocated each time, as `torch.mm` does).
pub fn sgemm_gflops(n: usize) -> Row {
    manual_seed(1);
    let a = Tensor::randn(&[n, n], &Device::Cpu);
    let b = Tensor::randn(&[n, n], &Device::Cpu);
    let flop = 2.0 * (n * n * n) as f64;
    let inner = ((2e9 / flop) as usize).max(1);
    let t = median_secs(5, || {
        if let (Ok(a), Ok(b)) = (&a, &b) {
            for _ in 0..inner {
                let _ = no_grad(|| a.matmul(b));
            }
        }
    });
    Row { name: format!("sgemm_{n}"), unit: Unit::Gflops, ours: flop * inner as f64 / t / 1e9, torch: None }
}

/// S2's loop: 500 steps of forward, backward and a manual SGD update.
pub fn two_layer() -> Result<Row> {
    let dev = Device::Cpu;
    manual_seed(0);
    let x = Tensor::randn(&[64, 1000], &dev)?;
    let y = Tensor::randn(&[64, 10], &dev)?;
    let w1 = Tensor::randn(&[1000, 100], &dev)?.requires_grad(true);
    let w2 = Tensor::randn(&[100, 10], &dev)?.requires_grad(true);
    let step = || -> Result<()> {
        let loss = x.matmul(&w1)?.relu()?.matmul(&w2)?.sub(&y)?.sqr()?.sum_all()?;
        let g = loss.backward()?;
        no_grad(|| -> Result<()> {
            for w in [&w1, &w2] {
                if let Some(gw) = g.get(w) {
                    w.add_scaled_(gw, -1e-6)?;
                }
            }
            Ok(())
        })
    };
    let mut err = None;
    let t = median_secs(3, || {
        for _ in 0..500 {
            if let Err(e) = step() {
                err = Some(e);
                return;
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Row { name: "two_layer_500_steps".into(), unit: Unit::Seconds, ours: t, torch: None })
}
