//! S13: a constant matrix product, [[3, 3]] · [[2], [2]] = [[12]].
use lolcore::{Device, Result, Tensor};

pub fn run() -> Result<Vec<Vec<f32>>> {
    let dev = Device::Cpu;
    let m1 = Tensor::from_vec(vec![3f32, 3.], &[1, 2], &dev)?;
    let m2 = Tensor::from_vec(vec![2f32, 2.], &[2, 1], &dev)?;
    m1.matmul(&m2)?.to_vec2()
}

#[allow(dead_code)]
fn main() -> Result<()> {
    println!("{:?}", run()?);
    Ok(())
}
