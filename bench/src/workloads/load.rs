//! Loading a ~100 MB checkpoint into a model that already exists: ours (memory-mapped,
//! decoded straight into the parameters) against PyTorch's `safetensors.torch.load_file`
//! + `load_state_dict` of the same file.

use crate::report::{Row, Unit};
use crate::timing::median_secs;
use keras::lolcore::safetensors::{load_module, save_module, LoadOptions};
use keras::prelude::*;
use std::path::PathBuf;

/// Dense(4096, 4096) + Dense(4096, 2048): 25.2 M f32 parameters, 100.7 MB.
pub fn model() -> impl Module + Forward {
    sequential![Dense::new(4096, 4096), Relu, Dense::new(4096, 2048)]
}

/// Writes the checkpoint both sides load.
pub fn write_checkpoint() -> Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("lol_bench_load_{}.safetensors", std::process::id()));
    manual_seed(0);
    save_module(&model(), &path)?;
    Ok(path)
}

/// Times our strict load of the checkpoint into an existing model.
pub fn run(path: &std::path::Path) -> Result<Row> {
    let mut target = model();
    let mut err = None;
    let t = median_secs(11, || {
        if let Err(e) = load_module(&mut target, path, &LoadOptions::strict()) {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(Row { name: "load_100mb".into(), unit: Unit::Seconds, ours: t, torch: None }),
    }
}
