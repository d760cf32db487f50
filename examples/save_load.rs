//! S16: train a model, save its weights to safetensors, load them into a fresh model (and
//! from a GPU model into a CPU one when a GPU is present): the predictions are identical.
use keras::prelude::*;

#[path = "common/mnist.rs"]
mod mnist_common;

fn mlp() -> impl Module + Forward {
    sequential![Dense::new(784, 128), Relu, Dropout::new(0.1), Dense::new(128, 10)]
}

pub struct SaveLoad {
    pub trained: Vec<f32>,
    pub reloaded: Vec<f32>,
    /// Logits of a GPU-trained model reloaded on the CPU, with the GPU's own (when a GPU is present).
    pub from_gpu: Option<(Vec<f32>, Vec<f32>)>,
}

fn train_and_save(device: &Device, path: &std::path::Path, x: &Tensor, y: &Tensor, probe: &Tensor) -> Result<Vec<f32>> {
    let mut model = Model::new(mlp());
    model.to_device(device)?;
    model.compile(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy);
    model.fit_with(x, y, FitOptions::new(1, 128).verbose(Verbosity::Silent))?;
    model.save_weights(path)?;
    model.predict(probe, 64)?.to_vec()
}

pub fn run(dir: &std::path::Path) -> Result<SaveLoad> {
    manual_seed(1);
    let ((x, y), (xt, _)) = mnist_common::load(true)?;
    let probe = xt.narrow(0, 0, 100)?;
    let path = dir.join("mlp.safetensors");
    let trained = train_and_save(&Device::Cpu, &path, &x, &y, &probe)?;
    let mut fresh = Model::new(mlp());
    fresh.load_weights(&path)?;
    let reloaded = fresh.predict(&probe, 64)?.to_vec()?;
    let from_gpu = match Device::cuda(0) {
        Ok(gpu) => {
            let gpath = dir.join("mlp_gpu.safetensors");
            let on_gpu = train_and_save(&gpu, &gpath, &x, &y, &probe)?;
            let mut cpu = Model::new(mlp());
            cpu.load_weights(&gpath)?;
            Some((on_gpu, cpu.predict(&probe, 64)?.to_vec()?))
        }
        Err(_) => None,
    };
    Ok(SaveLoad { trained, reloaded, from_gpu })
}

#[allow(dead_code)]
fn main() -> Result<()> {
    let dir = std::env::temp_dir();
    let r = run(&dir)?;
    println!("saved to {}", dir.join("mlp.safetensors").display());
    println!("reloaded logits bitwise equal: {}", r.trained == r.reloaded);
    match r.from_gpu {
        Some((gpu, cpu)) => {
            let d = gpu.iter().zip(&cpu).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            println!("GPU-trained weights on the CPU: max abs diff {d:.2e}");
        }
        None => println!("no GPU: the GPU → CPU part was skipped"),
    }
    Ok(())
}
