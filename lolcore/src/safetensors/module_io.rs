//! Saving a module's state and loading it back, with strict checking, a report of every
//! mismatch at once (with the closest file name suggested), key remapping, and dtype
//! conversion. Loading reads any format `Checkpoint` recognises.

use super::name_suggestions::{shape_hint, suggest};
use super::save::save;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::nn::Module;
use crate::DType;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// How a checkpoint's names are rewritten before matching the module's.
#[derive(Clone, Debug, PartialEq)]
pub enum Remap {
    /// Drop a leading prefix (`module.` from DataParallel checkpoints).
    StripPrefix(String),
    /// Add a leading prefix.
    AddPrefix(String),
    /// Replace every occurrence of a substring.
    Replace(String, String),
    /// Keep only the names under `prefix.` and strip it: `Within("model_state")` loads
    /// the model out of a `{step, model_state, optimizer_state}` checkpoint.
    Within(String),
}

/// A rewrite of a checkpoint name; `None` drops the tensor.
pub type RemapFn = Box<dyn Fn(&str) -> Option<String>>;

/// How `load_module` treats names that do not match.
#[derive(Default)]
pub struct LoadOptions {
    /// Fail (loading nothing) unless every name, shape and dtype matches.
    pub strict: bool,
    pub remap: Vec<Remap>,
    /// A last rewrite of each checkpoint name; `None` drops the tensor.
    pub remap_fn: Option<RemapFn>,
}

impl LoadOptions {
    pub fn strict() -> Self {
        LoadOptions { strict: true, ..Default::default() }
    }
    pub fn non_strict() -> Self {
        LoadOptions::default()
    }
    pub fn remap(mut self, r: Remap) -> Self {
        self.remap.push(r);
        self
    }
    pub fn remap_fn(mut self, f: impl Fn(&str) -> Option<String> + 'static) -> Self {
        self.remap_fn = Some(Box::new(f));
        self
    }
    /// Loads only the tensors under `prefix.` (e.g. `"model_state"`), without it.
    pub fn within(self, prefix: &str) -> Self {
        self.remap(Remap::Within(prefix.trim_end_matches('.').to_string()))
    }
    fn rename(&self, name: &str) -> Option<String> {
        let mut n = name.to_string();
        for r in &self.remap {
            n = match r {
                Remap::StripPrefix(p) => n.strip_prefix(p.as_str()).map(str::to_string).unwrap_or(n),
                Remap::AddPrefix(p) => format!("{p}{n}"),
                Remap::Replace(a, b) => n.replace(a.as_str(), b),
                Remap::Within(p) => n.strip_prefix(p.as_str())?.strip_prefix('.')?.to_string(),
            };
        }
        match &self.remap_fn {
            Some(f) => f(&n),
            None => Some(n),
        }
    }
}

/// What a load did, and every problem it found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    pub loaded: Vec<String>,
    /// In the module, not in the file: (name, module shape).
    pub missing: Vec<(String, Vec<usize>)>,
    /// In the file, not in the module.
    pub unexpected: Vec<String>,
    /// (name, file shape, module shape)
    pub shape_mismatch: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// (name, file dtype, module dtype) that cannot be converted.
    pub dtype_mismatch: Vec<(String, String, DType)>,
    /// (name, file dtype, module dtype) converted on load.
    pub converted: Vec<(String, String, DType)>,
}

impl LoadReport {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.shape_mismatch.is_empty()
            && self.dtype_mismatch.is_empty()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.missing.is_empty() {
            let l: Vec<String> = self.missing.iter().map(|(n, s)| format!("{n} {s:?}")).collect();
            writeln!(f, "  missing (in the model, not in the file): {}", l.join(", "))?;
        }
        if !self.unexpected.is_empty() {
            writeln!(f, "  unexpected (in the file, not in the model): {}", self.unexpected.join(", "))?;
        }
        let missing: Vec<&str> = self.missing.iter().map(|(n, _)| n.as_str()).collect();
        let unexpected: Vec<&str> = self.unexpected.iter().map(String::as_str).collect();
        for s in suggest(&missing, &unexpected) {
            writeln!(f, "  {s}")?;
        }
        for (n, a, b) in &self.shape_mismatch {
            writeln!(f, "  shape mismatch: {n}: file {a:?}, model {b:?}{}", shape_hint(a, b))?;
        }
        for (n, a, b) in &self.dtype_mismatch {
            let why = if DType::from_safetensors_name(a).is_some() {
                "converting would change values"
            } else {
                "not a dtype lol reads"
            };
            writeln!(f, "  dtype mismatch: {n}: file {a}, model {b} ({why})")?;
        }
        Ok(())
    }
}

/// Whether values of dtype `from` may be loaded into a tensor of dtype `to`: the same
/// dtype; float into float (a widening is exact; a narrowing goes to the precision the
/// model was built or cast to, and is listed in `LoadReport::converted`); integers only
/// where every value fits (u8 → u32 → i64). Never integers into a narrower or
/// differently signed integer, floats into integers or integers into floats: those
/// change values, and are reported as dtype mismatches.
pub(crate) fn convertible(from: DType, to: DType) -> bool {
    use DType::*;
    from == to || (from.is_float() && to.is_float()) || matches!((from, to), (U8, U32) | (U8, I64) | (U32, I64))
}

/// Writes every parameter and buffer of `m` to `path` (safetensors, written atomically),
/// with metadata naming the framework and version.
pub fn save_module<M: Module + ?Sized, P: AsRef<Path>>(m: &M, path: P) -> Result<()> {
    let meta = [
        ("format".to_string(), "pt".to_string()),
        ("framework".to_string(), "lol".to_string()),
        ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
    ];
    save(path, &m.state_dict(), &meta)
}

/// Loads `path` into `m`'s parameters and buffers in place (on whatever device they
/// are). Strict: every problem is reported in one error and nothing is changed.
pub fn load_module<M: Module + ?Sized, P: AsRef<Path>>(m: &mut M, path: P, opts: &LoadOptions) -> Result<LoadReport> {
    let file = Checkpoint::open(path.as_ref())?;
    load_checkpoint(m, &file, opts)
}

/// Loads an open checkpoint into `m` (see `load_module`).
///
/// Lazy layers not built yet (`Dense::units(64)`) are built first from the shapes of
/// their tensors in the file; one whose shapes the file does not give is an error that
/// names it. (Those layers stay built, with fresh values, if the load then fails.)
pub fn load_checkpoint<M: Module + ?Sized>(m: &mut M, file: &Checkpoint, opts: &LoadOptions) -> Result<LoadReport> {
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut report = LoadReport::default();
    for (i, e) in file.tensors().iter().enumerate() {
        if let Some(n) = opts.rename(&e.name) {
            by_name.insert(n, i);
        }
    }
    if !m.is_built() {
        let shapes = |n: &str| by_name.get(n).map(|&i| file.tensors()[i].shape.clone());
        m.build_lazy_from_shapes(&shapes)
            .map_err(|e| Error::Load(format!("cannot load {} into an unbuilt model: {e}", file.path().display())))?;
    }
    let state = m.state_dict();
    let mut plan = Vec::new();
    let mut used = vec![false; file.tensors().len()];
    for (name, t) in &state {
        let Some(&i) = by_name.get(name) else {
            report.missing.push((name.clone(), t.shape().to_vec()));
            continue;
        };
        used[i] = true;
        let e = &file.tensors()[i];
        if e.shape != t.shape() {
            report.shape_mismatch.push((name.clone(), e.shape.clone(), t.shape().to_vec()));
            continue;
        }
        match e.dtype() {
            Some(d) if convertible(d, t.dtype()) => {
                if d != t.dtype() || DType::from_safetensors_name(&e.dtype_name).is_none() {
                    report.converted.push((name.clone(), e.dtype_name.clone(), t.dtype()));
                }
                plan.push((name.clone(), t.clone(), i));
            }
            _ => report.dtype_mismatch.push((name.clone(), e.dtype_name.clone(), t.dtype())),
        }
    }
    for (i, e) in file.tensors().iter().enumerate() {
        if !used[i] {
            if let Some(n) = opts.rename(&e.name) {
                report.unexpected.push(n);
            }
        }
    }
    if opts.strict && !report.is_clean() {
        return Err(Error::Load(format!(
            "weights in {} ({}) do not match the model:\n{report}",
            file.path().display(),
            file.format()
        )));
    }
    for (name, t, i) in plan {
        let e = &file.tensors()[i];
        let (bytes, d) =
            file.values(e).ok_or_else(|| Error::msg(format!("internal: {name} has no lol dtype after the check")))?;
        t.assign_le_bytes(&bytes, d)?;
        report.loaded.push(name);
    }
    Ok(report)
}
