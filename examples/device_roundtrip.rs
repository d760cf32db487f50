//! S14: detect CUDA, make a tensor of ones on the GPU, move another there, add, bring the
//! sum back to the CPU and change its dtype to f64. Without a GPU it says why.
use lolcore::{DType, Device, Result, Tensor};

/// The sum read on the GPU side, and the same values after the trip back as f64.
pub type Roundtrip = (Vec<f32>, Vec<f64>);

/// The round trip, or the reason there is no GPU.
pub fn run() -> Result<std::result::Result<Roundtrip, String>> {
    let gpu = match Device::cuda(0) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let ones = Tensor::ones(&[2, 3], &gpu)?;
    let host = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], &[2, 3], &Device::Cpu)?;
    let moved = host.to_device(&gpu)?;
    let sum = ones.add(&moved)?;
    assert!(sum.device().is_cuda());
    let on_gpu: Vec<f32> = sum.to_vec()?;
    let back = sum.to_device(&Device::Cpu)?.to_dtype(DType::F64)?;
    Ok(Ok((on_gpu, back.to_vec::<f64>()?)))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    match run()? {
        Ok((gpu, cpu)) => {
            println!("sum on the GPU: {gpu:?}");
            println!("back on the CPU as f64: {cpu:?}");
            println!("equal: {}", gpu.iter().zip(&cpu).all(|(a, b)| *a as f64 == *b));
        }
        Err(why) => println!("no GPU: {why}"),
    }
    Ok(())
}
