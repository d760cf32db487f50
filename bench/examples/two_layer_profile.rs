use lolcore::{manual_seed, no_grad, Device, Result, Tensor};
use std::time::Instant;
fn main() -> Result<()> {
    let dev = Device::Cpu;
    manual_seed(0);
    let x = Tensor::randn(&[64, 1000], &dev)?;
    let y = Tensor::randn(&[64, 10], &dev)?;
    let w1 = Tensor::randn(&[1000, 100], &dev)?.requires_grad(true);
    let w2 = Tensor::randn(&[100, 10], &dev)?.requires_grad(true);
    let mut t = [0f64; 4];
    for _ in 0..5000 {
        let t0 = Instant::now();
        let h = x.matmul(&w1)?;
        let t1 = Instant::now();
        let loss = h.relu()?.matmul(&w2)?.sub(&y)?.sqr()?.sum_all()?;
        let t2 = Instant::now();
        let g = loss.backward()?;
        let t3 = Instant::now();
        no_grad(|| -> Result<()> {
            for w in [&w1, &w2] {
                w.add_scaled_(g.get(w).unwrap(), -1e-6)?;
            }
            Ok(())
        })?;
        let t4 = Instant::now();
        t[0] += (t1 - t0).as_secs_f64();
        t[1] += (t2 - t1).as_secs_f64();
        t[2] += (t3 - t2).as_secs_f64();
        t[3] += (t4 - t3).as_secs_f64();
    }
    println!(
        "per step us: mm1 {:.1} rest-fwd {:.1} backward {:.1} update {:.1}",
        t[0] / 5.0 * 1e3,
        t[1] / 5.0 * 1e3,
        t[2] / 5.0 * 1e3,
        t[3] / 5.0 * 1e3
    );
    Ok(())
}
