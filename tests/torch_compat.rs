//! PyTorch compatibility, both ways, for every layer: state dicts saved by PyTorch load
//! with no renaming and give PyTorch's outputs; ours load in PyTorch with
//! `load_state_dict(strict=True)` (when python3 with torch and safetensors is present).
#[path = "common/torch_models.rs"]
mod torch_models;

use keras::lolcore::safetensors::{self, load_module, save_module, LoadOptions};
use keras::prelude::*;
use std::process::Command;
use torch_models::*;

fn io(name: &str) -> (Tensor, Tensor) {
    let f = safetensors::SafeTensors::open(format!("{FIXTURES}/torch/{name}_io.safetensors")).unwrap();
    (f.tensor("input", &Device::Cpu).unwrap(), f.tensor("output", &Device::Cpu).unwrap())
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.sub(b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap()
}

fn check_loads_and_matches<M: Module + Forward>(name: &str, mut model: M) {
    let report =
        load_module(&mut model, format!("{FIXTURES}/torch/{name}.safetensors"), &LoadOptions::strict()).unwrap();
    assert!(report.is_clean(), "{name}: {report}");
    model.eval();
    let (x, want) = io(name);
    let got = model.forward(&x).unwrap();
    assert_eq!(got.shape(), want.shape(), "{name}");
    let d = max_abs_diff(&got, &want);
    assert!(d <= 1e-5, "{name}: max abs diff {d} from PyTorch");
}

#[test]
fn pytorch_state_dicts_load_unchanged_and_predict_the_same() {
    check_loads_and_matches("mlp", mlp());
    check_loads_and_matches("convnet", convnet());
    check_loads_and_matches("norm_embed", norm_embed());
    check_loads_and_matches("global_pool", global_pool());
    check_loads_and_matches("mnist_cnn", mnist_cnn());
}

fn torch_available() -> std::result::Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import torch, safetensors"])
        .output()
        .map_err(|e| format!("no python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "python3 cannot import torch and safetensors: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        ))
    }
}

fn check_in_torch<M: Module + Forward>(name: &str, mut model: M, dir: &std::path::Path) {
    manual_seed(11);
    // Fresh weights, moved off their defaults for the batch-norm buffers.
    model.train();
    let (x, _) = io(name);
    if name == "convnet" {
        model.forward(&Tensor::randn(&[4, 3, 8, 8], &Device::Cpu).unwrap()).unwrap();
    }
    model.eval();
    let y = model.forward(&x).unwrap();
    let (w, iof) = (dir.join(format!("{name}.safetensors")), dir.join(format!("{name}_io.safetensors")));
    save_module(&model, &w).unwrap();
    safetensors::save(&iof, &[("input".into(), x), ("output".into(), y)], &[]).unwrap();
    let out = Command::new("python3")
        .arg(format!("{FIXTURES}/check_in_torch.py"))
        .arg(name)
        .arg(&w)
        .arg(&iof)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} in PyTorch: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn our_state_dicts_load_in_pytorch_strictly() {
    if let Err(why) = torch_available() {
        println!("skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("lol_to_torch_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    check_in_torch("mlp", mlp(), &dir);
    check_in_torch("convnet", convnet(), &dir);
    check_in_torch("norm_embed", norm_embed(), &dir);
    check_in_torch("global_pool", global_pool(), &dir);
    check_in_torch("mnist_cnn", mnist_cnn(), &dir);
    std::fs::remove_dir_all(dir).ok();
}
