//! Step-3 workloads (CPU): inference of the zoo's models at their published sizes, GPT-2
//! decoding with the KV cache, and loading a 500 MB `torch.save` checkpoint.

use crate::report::{Row, Unit};
use crate::timing::median_secs;
use keras::applications::*;
use keras::lolcore::safetensors::{load_module, LoadOptions};
use keras::prelude::*;
use std::path::{Path, PathBuf};

fn timed(name: &str, unit: Unit, reps: usize, scale: f64, mut f: impl FnMut() -> Result<()>) -> Result<Row> {
    let mut err = None;
    let t = median_secs(reps, || {
        if let Err(e) = f() {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(Row { name: name.into(), unit, ours: scale * t, torch: None }),
    }
}

/// torchvision's ResNet-18, eval, batch 8 at 224×224: milliseconds per forward.
pub fn resnet18_infer() -> Result<Row> {
    manual_seed(0);
    let mut m = ResNet::new(ResNetConfig::resnet18(1000));
    m.set_training(false);
    let x = Tensor::randn(&[8, 3, 224, 224], &Device::Cpu)?;
    timed("resnet18_infer_b8", Unit::Millis, 5, 1e3, || no_grad(|| m.forward(&x)).map(|_| ()))
}

/// BERT-base-shaped encoder (hidden 768, 12 heads, intermediate 3072) with 4 layers,
/// batch 4 at sequence 128: milliseconds per forward.
pub fn bert_encoder() -> Result<Row> {
    manual_seed(0);
    let mut m = BertModel::new(BertConfig { num_hidden_layers: 4, ..BertConfig::base() });
    m.set_training(false);
    let ids: Vec<i64> = (0..4 * 128).map(|i| (i * 37 % 30000) as i64).collect();
    let ids = Tensor::from_vec(ids, &[4, 128], &Device::Cpu)?;
    timed("bert_encoder_seq128", Unit::Millis, 5, 1e3, || no_grad(|| m.forward(&ids)).map(|_| ()))
}

/// GPT-2 small (12 layers, 124M parameters): a 16-token prompt, then 32 greedy tokens
/// with the KV cache; tokens per second over the 32 cached steps.
pub fn gpt2_decode() -> Result<Row> {
    manual_seed(0);
    let mut m = Gpt2LmHeadModel::new(Gpt2Config::small())?;
    m.set_training(false);
    let prompt: Vec<u32> = (0..16).map(|i| (i * 1013 % 50000) as u32).collect();
    let mut err = None;
    let t = median_secs(3, || {
        let r = no_grad(|| -> Result<()> {
            let mut cache = KvCache::new();
            let p = Tensor::from_vec(prompt.clone(), &[1, 16], &Device::Cpu)?;
            m.forward_cached(&p, &mut cache)?;
            let mut next = Tensor::from_vec(vec![0u32], &[1, 1], &Device::Cpu)?;
            for _ in 0..32 {
                let l = m.forward_cached(&next, &mut cache)?;
                let id = l.flatten_all()?.argmax(0)?.to_vec::<i64>()?[0] as u32;
                next = Tensor::from_vec(vec![id], &[1, 1], &Device::Cpu)?;
            }
            Ok(())
        });
        if let Err(e) = r {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e),
        // The prompt's share is small (one batched pass); the figure counts the 32 steps.
        None => Ok(Row { name: "gpt2_decode".into(), unit: Unit::PerSec, ours: 32.0 / t, torch: None }),
    }
}

/// Linear(8192, 8192) + Linear(8192, 7168): 125.9 M f32 parameters, 503 MB.
#[derive(Module)]
struct Big {
    #[module(name = "0")]
    a: Dense,
    #[module(name = "1")]
    b: Dense,
}

/// Where the twin writes the 500 MB `torch.save` file that both sides load.
pub fn pt_checkpoint_path() -> PathBuf {
    std::env::temp_dir().join(format!("lol_bench_load_{}.pt", std::process::id()))
}

/// Seconds to load the 500 MB `.pt` into an existing model, strictly.
pub fn load_pt(path: &Path) -> Result<Row> {
    let mut m = Big { a: Dense::new(8192, 8192), b: Dense::new(8192, 7168) };
    timed("load_500mb_pt", Unit::Seconds, 5, 1.0, || load_module(&mut m, path, &LoadOptions::strict()).map(|_| ()))
}

pub fn rows(name: &str) -> Vec<Row> {
    let r = match name {
        "resnet18_infer_b8" => resnet18_infer(),
        "bert_encoder_seq128" => bert_encoder(),
        "gpt2_decode" => gpt2_decode(),
        _ => return vec![],
    };
    r.map(|r| vec![r]).unwrap_or_else(|e| {
        eprintln!("{name} failed: {e}");
        vec![]
    })
}
