//! Training checkpoints: everything needed to continue a run as if it had never
//! stopped — weights and buffers, the optimizer's state, the epoch and step reached,
//! the random streams, and the callbacks' bests — in one safetensors file written
//! atomically (temp file, then rename), so a run killed while saving keeps the last
//! complete checkpoint.
//!
//! Tensors: `model/<name>`, `optimizer/<name>`, `rng/global` and `rng/loader` (the
//! xoshiro state as 4 × i64). Metadata: `format`, `epoch`, `global_step`, `callbacks`
//! (JSON: one object of named values per callback, in `fit`'s order).

use super::Model;
use crate::callbacks::Callback;
use lolcore::nn::{Forward, Module};
use lolcore::rng::current_generator;
use lolcore::safetensors::{save, SafeTensors};
use lolcore::{no_grad, Device, Error, Generator, Result, Tensor};
use std::collections::HashMap;
use std::path::Path;

const FORMAT: &str = "lol-training-checkpoint-1";

/// Each callback's saved values, in `fit`'s order.
type CallbackStates = Vec<Vec<(String, f64)>>;

/// How far a run got: the next epoch to run, and the optimizer steps taken so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrainingProgress {
    pub epoch: usize,
    pub global_step: usize,
}

fn rng_tensor(g: &Generator) -> Result<Tensor> {
    Tensor::from_vec(g.state().iter().map(|&s| s as i64).collect::<Vec<i64>>(), &[4], &Device::Cpu)
}

fn set_rng(g: &Generator, t: &Tensor, path: &Path) -> Result<()> {
    let v = t.to_dtype(lolcore::DType::I64)?.to_vec::<i64>()?;
    match v.as_slice() {
        &[a, b, c, d] if [a, b, c, d] != [0; 4] => g.set_state([a as u64, b as u64, c as u64, d as u64]),
        _ => return Err(Error::format(path, "the saved random state is not 4 words, not all zero")),
    }
    Ok(())
}

impl<M: Module + Forward> Model<M> {
    /// Writes a training checkpoint of the model as it is now (weights, optimizer state,
    /// the random stream, and `progress`), atomically. `fit` writes the same file, with
    /// the callbacks' state too, through `BackupAndRestore`.
    pub fn save_checkpoint<P: AsRef<Path>>(&self, path: P, progress: TrainingProgress) -> Result<()> {
        self.write_checkpoint(path.as_ref(), progress, &[], None)
    }

    /// Restores a training checkpoint written by `save_checkpoint` or `BackupAndRestore`
    /// into this model (same structure, compiled with the same optimizer) and the random
    /// stream; returns how far that run got (resume with `initial_epoch(p.epoch)`).
    pub fn load_checkpoint<P: AsRef<Path>>(&mut self, path: P) -> Result<TrainingProgress> {
        let (p, _) = self.read_checkpoint(path.as_ref(), None)?;
        Ok(p)
    }

    pub(super) fn write_checkpoint(
        &self,
        path: &Path,
        progress: TrainingProgress,
        callback_states: &[Vec<(String, f64)>],
        loader_rng: Option<&Generator>,
    ) -> Result<()> {
        let op = "save_checkpoint";
        let c = self.compiled(op)?;
        let mut tensors: Vec<(String, Tensor)> = no_grad(|| {
            self.module
                .state_dict()
                .into_iter()
                .map(|(n, t)| Ok((format!("model/{n}"), t.to_device(&Device::Cpu)?)))
                .collect::<Result<_>>()
        })?;
        for (n, t) in c.optimizer.state_dict()? {
            tensors.push((format!("optimizer/{n}"), t.to_device(&Device::Cpu)?));
        }
        tensors.push(("rng/global".into(), rng_tensor(&current_generator())?));
        if let Some(g) = loader_rng {
            tensors.push(("rng/loader".into(), rng_tensor(g)?));
        }
        let callbacks: Vec<serde_json::Map<String, serde_json::Value>> = callback_states
            .iter()
            .map(|s| s.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect())
            .collect();
        let meta = vec![
            ("format".to_string(), FORMAT.to_string()),
            ("epoch".to_string(), progress.epoch.to_string()),
            ("global_step".to_string(), progress.global_step.to_string()),
            ("callbacks".to_string(), serde_json::Value::from(callbacks).to_string()),
        ];
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        save(path, &tensors, &meta)
    }

    /// Reads a checkpoint into the model, the optimizer and the random streams (all
    /// checked before anything changes); returns the progress and the callbacks' states.
    pub(super) fn read_checkpoint(
        &mut self,
        path: &Path,
        loader_rng: Option<&Generator>,
    ) -> Result<(TrainingProgress, CallbackStates)> {
        let op = "load_checkpoint";
        self.compiled(op)?;
        let file = SafeTensors::open(path)?;
        let meta: HashMap<&str, &str> = file.metadata().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if meta.get("format") != Some(&FORMAT) {
            return Err(Error::format(
                path,
                format!("not a lol training checkpoint (format {:?}, expected {FORMAT:?})", meta.get("format")),
            ));
        }
        let number = |k: &str| -> Result<usize> {
            meta.get(k)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| Error::format(path, format!("metadata {k:?} is missing or not a number")))
        };
        let progress = TrainingProgress { epoch: number("epoch")?, global_step: number("global_step")? };
        let callbacks: CallbackStates = match meta.get("callbacks") {
            Some(text) => {
                let v: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| Error::format(path, format!("metadata \"callbacks\" is not JSON: {e}")))?;
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| {
                                o.as_object()
                                    .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_f64()?))).collect())
                                    .unwrap_or_default()
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            }
            None => vec![],
        };
        let all = file.load_all(&Device::Cpu)?;
        let mut model = HashMap::new();
        let mut optimizer = Vec::new();
        let mut rng = HashMap::new();
        for (n, t) in all {
            if let Some(m) = n.strip_prefix("model/") {
                model.insert(m.to_string(), t);
            } else if let Some(o) = n.strip_prefix("optimizer/") {
                optimizer.push((o.to_string(), t));
            } else if let Some(r) = n.strip_prefix("rng/") {
                rng.insert(r.to_string(), t);
            }
        }
        // Lazy layers not built yet are built from the checkpoint's shapes, and join the
        // optimizer, before anything is compared.
        if !self.module.is_built() {
            self.module.build_lazy_from_shapes(&|n: &str| model.get(n).map(|t| t.shape().to_vec()))?;
            self.sync_parameters()?;
        }
        // Check every weight before writing any.
        let state = self.module.state_dict();
        let mut problems = Vec::new();
        for (n, t) in &state {
            match model.get(n) {
                None => problems.push(format!("{n} is missing")),
                Some(s) if s.shape() != t.shape() => {
                    problems.push(format!("{n} has shape {:?} in the file, {:?} in the model", s.shape(), t.shape()))
                }
                _ => {}
            }
        }
        if model.len() != state.len() {
            let names: std::collections::HashSet<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
            problems.extend(
                model.keys().filter(|k| !names.contains(k.as_str())).map(|k| format!("{k} is not in the model")),
            );
        }
        if !problems.is_empty() {
            problems.sort();
            return Err(Error::format(
                path,
                format!("the checkpoint does not fit this model: {}", problems.join("; ")),
            ));
        }
        let global = rng.get("global").ok_or_else(|| Error::format(path, "the random state rng/global is missing"))?;
        // The optimizer checks its state against its parameters before taking it.
        self.compiled
            .as_mut()
            .ok_or_else(|| Error::arg(op, "the model is not compiled"))?
            .optimizer
            .load_state_dict(&optimizer)?;
        no_grad(|| -> Result<()> {
            for (n, t) in &state {
                if let Some(s) = model.get(n) {
                    t.copy_from(&s.to_device(&t.device())?.to_dtype(t.dtype())?)?;
                }
            }
            Ok(())
        })?;
        set_rng(&current_generator(), global, path)?;
        if let (Some(g), Some(t)) = (loader_rng, rng.get("loader")) {
            set_rng(g, t, path)?;
        }
        Ok((progress, callbacks))
    }

    /// At the start of `fit`: resumes from the backup of callback `b`, if it exists.
    pub(super) fn restore_backup(
        &mut self,
        callbacks: &mut [&mut dyn Callback],
        b: usize,
        loader_rng: Option<&Generator>,
    ) -> Result<Option<TrainingProgress>> {
        let Some(path) = callbacks[b].as_backup().map(|br| br.checkpoint_path()) else { return Ok(None) };
        if !path.exists() {
            return Ok(None);
        }
        let (progress, states) = self.read_checkpoint(&path, loader_rng)?;
        for (cb, s) in callbacks.iter_mut().zip(&states) {
            cb.set_state(s)?;
        }
        if let Some(br) = callbacks[b].as_backup() {
            br.resumed(progress);
        }
        Ok(Some(progress))
    }

    /// At the end of each epoch: the backup of callback `b`.
    pub(super) fn write_backup(
        &mut self,
        callbacks: &mut [&mut dyn Callback],
        b: usize,
        next_epoch: usize,
        global_step: usize,
        loader_rng: Option<&Generator>,
    ) -> Result<()> {
        let states: CallbackStates = callbacks.iter().map(|c| c.state()).collect();
        let Some(path) = callbacks[b].as_backup().map(|br| br.checkpoint_path()) else { return Ok(()) };
        self.write_checkpoint(&path, TrainingProgress { epoch: next_epoch, global_step }, &states, loader_rng)
    }
}
