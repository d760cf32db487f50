//! S17: weights that PyTorch saved (`safetensors.torch.save_file(model.state_dict())`) for
//! the S15 CNN load into the same structure with no renaming and give PyTorch's logits.
//! The weights and PyTorch's logits for the first 32 test digits come from
//! tests/fixtures/make_torch_models.py.
use keras::lolcore::safetensors::SafeTensors;
use keras::prelude::*;

#[path = "common/mnist.rs"]
mod mnist_common;
#[path = "common/models.rs"]
mod models;

pub const WEIGHTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch/mnist_cnn.safetensors");
pub const LOGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch/mnist_cnn_io.safetensors");

pub fn build() -> impl Module + Forward {
    models::mnist_cnn()
}

/// (max abs difference from PyTorch's logits, test accuracy of the loaded weights)
pub fn run() -> Result<(f32, f64)> {
    let mut model = Model::new(build());
    model.load_weights(WEIGHTS)?;
    model.compile(Sgd::new(0.0), Loss::SparseCategoricalCrossentropy);
    let (_, (xt, yt)) = mnist_common::load(false)?;
    let ours = model.predict(&xt.narrow(0, 0, 32)?, 32)?;
    let theirs = SafeTensors::open(LOGITS)?.tensor("output", &Device::Cpu)?;
    let diff = ours.sub(&theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
    let logits = model.predict(&xt, 500)?;
    let correct = logits.argmax(1)?.eq(&yt.to_dtype(DType::U32)?)?.sum_all()?.to_scalar::<i64>()?;
    Ok((diff, correct as f64 / yt.dims()[0] as f64))
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let (diff, acc) = run()?;
    println!("max abs diff from PyTorch's logits: {diff:.2e}");
    println!("test accuracy with PyTorch's weights: {acc:.4}");
    Ok(())
}
