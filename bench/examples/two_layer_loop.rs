use lolcore::{manual_seed, no_grad, Device, Result, Tensor};
fn main() -> Result<()> {
    let dev = Device::Cpu;
    manual_seed(0);
    let x = Tensor::randn(&[64, 1000], &dev)?;
    let y = Tensor::randn(&[64, 10], &dev)?;
    let w1 = Tensor::randn(&[1000, 100], &dev)?.requires_grad(true);
    let w2 = Tensor::randn(&[100, 10], &dev)?.requires_grad(true);
    let t = std::time::Instant::now();
    for _ in 0..5000 {
        let loss = x.matmul(&w1)?.relu()?.matmul(&w2)?.sub(&y)?.sqr()?.sum_all()?;
        let g = loss.backward()?;
        no_grad(|| -> Result<()> {
            for w in [&w1, &w2] {
                w.add_scaled_(g.get(w).unwrap(), -1e-6)?;
            }
            Ok(())
        })?;
    }
    println!("{:.1} us/step", t.elapsed().as_secs_f64() / 5000.0 * 1e6);
    Ok(())
}
