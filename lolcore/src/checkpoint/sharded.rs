//! Sharded checkpoints as Hugging Face writes them: an index
//! (`model.safetensors.index.json`, `pytorch_model.bin.index.json`) whose
//! `weight_map` names, for each tensor, the shard file that holds it.

use super::{Checkpoint, TensorEntry};
use crate::error::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub(crate) fn read_index(path: &Path, bytes: &[u8]) -> Result<Vec<TensorEntry>> {
    let fail = |m: String| Error::format(path, m);
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| fail(format!("not valid JSON: {e}")))?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| fail("a JSON file without a \"weight_map\" object: not a sharded checkpoint index".into()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut shards: Vec<String> = Vec::new();
    let mut wanted: HashMap<String, String> = HashMap::new();
    for (name, file) in map {
        let file = file.as_str().ok_or_else(|| fail(format!("weight_map[{name:?}] is not a file name")))?;
        if file.contains('/') || file.contains('\\') || file.starts_with("..") {
            return Err(fail(format!("weight_map[{name:?}] = {file:?} points outside the checkpoint's directory")));
        }
        if !shards.iter().any(|s| s == file) {
            shards.push(file.to_string());
        }
        wanted.insert(name.clone(), file.to_string());
    }
    let mut out = Vec::new();
    let mut found = HashSet::new();
    for shard in &shards {
        let p = dir.join(shard);
        if !p.is_file() {
            return Err(fail(format!("shard {shard} named in the index does not exist in {}", dir.display())));
        }
        let ck = Checkpoint::open(&p)?;
        if ck.format() == "sharded" {
            return Err(fail(format!("shard {shard} is itself an index")));
        }
        for e in ck.into_entries() {
            // A shard's tensors that the index assigns elsewhere (or not at all) are ignored.
            if wanted.get(&e.name).map(String::as_str) == Some(shard.as_str()) {
                found.insert(e.name.clone());
                out.push(e);
            }
        }
    }
    let mut absent: Vec<&String> = wanted.keys().filter(|n| !found.contains(*n)).collect();
    if !absent.is_empty() {
        absent.sort();
        let list: Vec<String> = absent.iter().take(10).map(|n| format!("{n} (in {})", wanted[*n])).collect();
        return Err(fail(format!(
            "{} tensor(s) the index names are not in their shards: {}",
            absent.len(),
            list.join(", ")
        )));
    }
    Ok(out)
}
