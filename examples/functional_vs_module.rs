//! S8: a Dense(3, 4) applied as a module and through the functional `linear` with the
//! same weight and bias give the same output.
use keras::functional::linear;
use keras::prelude::*;

pub fn run() -> Result<(Vec<f32>, Vec<f32>)> {
    manual_seed(0);
    let layer = Dense::new(3, 4);
    let x = Tensor::randn(&[2, 3], &Device::Cpu)?;
    let by_module = layer.forward(&x)?;
    let by_function = linear(&x, &layer.weight, layer.bias.as_ref())?;
    Ok((by_module.to_vec()?, by_function.to_vec()?))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (m, f) = run()?;
    println!("module:     {m:?}");
    println!("functional: {f:?}");
    println!("equal: {}", m == f);
    Ok(())
}
