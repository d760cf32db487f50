//! Reading the weight files people have, whatever wrote them: safetensors (one file or
//! sharded with an `*.index.json`), PyTorch's `torch.save` (`.pt`/`.pth`/`.bin`, zip
//! and legacy formats), NumPy's `.npz`/`.npy`, and Hugging Face model directories.
//!
//! The format is recognised by content, not by extension. Nested containers flatten to
//! dotted names (`model_state.lstm.weight_ih_l0`, `layers.0`); a tensor that is a view
//! (offset, strides, shared storage) reads as its own values. Large files are
//! memory-mapped and read in place.

mod npy;
pub(crate) mod pickle;
mod sharded;
mod torch_file;

use crate::error::{Error, Result};
pub(crate) use crate::layout::contiguous_strides;
pub(crate) use crate::safetensors::element_size;
use crate::DType;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The bytes a checkpoint reads from: a memory map of the file or an owned buffer
/// (decompressed entries, files given as bytes).
#[derive(Clone)]
pub(crate) enum Blob {
    Map(Arc<memmap2::Mmap>),
    Owned(Arc<Vec<u8>>),
}

impl Blob {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Blob::Map(m) => m,
            Blob::Owned(v) => v,
        }
    }
    fn map(path: &Path) -> Result<Blob> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: read-only map; a file truncated underneath by another process is
        // outside what any mmap-based reader can guard against.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(Blob::Map(Arc::new(map)))
    }
}

/// Where a tensor's values are: a strided view of a byte range.
#[derive(Clone)]
pub(crate) struct TensorData {
    pub blob: Blob,
    /// Byte range of the storage in `blob`.
    pub start: usize,
    pub len: usize,
    /// Offset and strides in elements.
    pub offset: usize,
    pub strides: Vec<usize>,
    /// The stored bytes are big-endian.
    pub big_endian: bool,
}

/// One tensor of a checkpoint.
#[derive(Clone)]
pub struct TensorEntry {
    /// The flattened, dotted name.
    pub name: String,
    /// The dtype as safetensors spells it: `F32`, `BF16`, `I64`, `I32`, `BOOL`, ...
    pub dtype_name: String,
    pub shape: Vec<usize>,
    pub(crate) data: TensorData,
}

impl TensorEntry {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
    /// The lol dtype these values load as: the file's own, or the one that holds every
    /// value exactly (`I32`/`I16`/`I8` → `I64`, `BOOL` → `U8`); `None` if lol has none.
    pub fn dtype(&self) -> Option<DType> {
        DType::from_safetensors_name(&self.dtype_name).or(match self.dtype_name.as_str() {
            "I32" | "I16" | "I8" => Some(DType::I64),
            "BOOL" => Some(DType::U8),
            _ => None,
        })
    }
}

/// Views may repeat elements (stride 0), but a view may not make a file balloon: at
/// most this many elements beyond its storage's own count.
const MAX_EXPANSION: usize = 1 << 24;

/// Builds an entry, checking that the view lies inside its storage.
pub(crate) fn entry(
    name: String,
    dtype_name: &str,
    shape: Vec<usize>,
    data: TensorData,
) -> std::result::Result<TensorEntry, String> {
    let es = element_size(dtype_name).ok_or_else(|| format!("{name}: unknown dtype {dtype_name}"))?;
    if shape.len() != data.strides.len() {
        return Err(format!("{name}: shape {shape:?} and strides {:?} differ in length", data.strides));
    }
    let numel = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("{name}: shape {shape:?} overflows"))?;
    let storage_numel = data.len / es;
    if numel > 0 {
        let last = shape
            .iter()
            .zip(&data.strides)
            .try_fold(data.offset, |a, (&d, &s)| (d - 1).checked_mul(s).and_then(|x| x.checked_add(a)));
        match last {
            Some(l) if l < storage_numel => {}
            _ => {
                return Err(format!(
                    "{name}: a view (offset {}, shape {shape:?}, strides {:?}) reaches past its storage of {storage_numel} elements",
                    data.offset, data.strides
                ))
            }
        }
        if numel > storage_numel.saturating_add(MAX_EXPANSION) {
            return Err(format!(
                "{name}: shape {shape:?} repeats a storage of {storage_numel} elements more than lol expands on load"
            ));
        }
    }
    match data.start.checked_add(data.len) {
        Some(e) if e <= data.blob.as_slice().len() => {}
        _ => return Err(format!("{name}: its data lies outside the file")),
    }
    Ok(TensorEntry { name, dtype_name: dtype_name.to_string(), shape, data })
}

/// An open checkpoint: every tensor's name, dtype and shape, values read on demand.
pub struct Checkpoint {
    path: PathBuf,
    format: &'static str,
    entries: Vec<TensorEntry>,
}

impl Checkpoint {
    /// Opens a weights file or a Hugging Face model directory, recognising the format
    /// by content: safetensors, a sharded `*.index.json`, `torch.save` output (zip or
    /// legacy), `.npz` or `.npy`.
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Checkpoint> {
        let path = path.as_ref();
        if path.is_dir() {
            return Self::open_dir(path);
        }
        let blob = Blob::map(path)?;
        Self::read(path, blob, true)
    }
    /// Reads a checkpoint held in memory (`label` names it in errors).
    pub fn from_bytes(bytes: Vec<u8>, label: &str) -> Result<Checkpoint> {
        Self::read(Path::new(label), Blob::Owned(Arc::new(bytes)), false)
    }
    fn open_dir(dir: &Path) -> Result<Checkpoint> {
        for f in
            ["model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin"]
        {
            let p = dir.join(f);
            if p.is_file() {
                return Self::open(p);
            }
        }
        Err(Error::format(
            dir,
            "a directory with none of model.safetensors, model.safetensors.index.json, pytorch_model.bin, \
             pytorch_model.bin.index.json",
        ))
    }
    fn read(path: &Path, blob: Blob, may_follow_index: bool) -> Result<Checkpoint> {
        let b = blob.as_slice();
        let fail = |msg: String| Error::format(path, msg);
        let (format, entries) = if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") {
            let (fmt, e) = read_zip(&blob).map_err(fail)?;
            (fmt, e)
        } else if b.starts_with(npy::MAGIC) {
            ("npy", npy::read_npy(&blob, "array").map_err(fail)?)
        } else if torch_file::is_legacy(b) {
            ("torch.save (legacy)", torch_file::read_legacy(&blob).map_err(fail)?)
        } else if b.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{') {
            if !may_follow_index {
                return Err(fail("an index file given as bytes: open it from disk so its shards can be found".into()));
            }
            ("sharded", sharded::read_index(path, b)?)
        } else if b.len() >= 9 && b[8] == b'{' {
            ("safetensors", safetensors_entries(path, &blob)?)
        } else {
            return Err(fail(
                "not a weights file lol recognises (safetensors, a sharded index .json, torch.save .pt/.pth/.bin, \
                 .npz or .npy)"
                    .into(),
            ));
        };
        Ok(Checkpoint { path: path.to_path_buf(), format, entries })
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// What the file was recognised as: "safetensors", "torch.save (zip)", ...
    pub fn format(&self) -> &'static str {
        self.format
    }
    pub fn tensors(&self) -> &[TensorEntry] {
        &self.entries
    }
    pub(crate) fn into_entries(self) -> Vec<TensorEntry> {
        self.entries
    }
    pub fn get(&self, name: &str) -> Option<&TensorEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
    /// The tensor's values, compact, row-major, little-endian, in the file's dtype.
    pub fn bytes<'a>(&self, e: &'a TensorEntry) -> Cow<'a, [u8]> {
        let d = &e.data;
        let es = element_size(&e.dtype_name).unwrap_or(1);
        let src = &d.blob.as_slice()[d.start..d.start + d.len];
        let numel = e.numel();
        if !d.big_endian && d.strides == contiguous_strides(&e.shape) {
            let s = d.offset * es;
            return Cow::Borrowed(&src[s..s + numel * es]);
        }
        let mut out = Vec::with_capacity(numel * es);
        let mut idx = vec![0usize; e.shape.len()];
        for _ in 0..numel {
            let at = d.offset + idx.iter().zip(&d.strides).map(|(i, s)| i * s).sum::<usize>();
            let el = &src[at * es..(at + 1) * es];
            if d.big_endian {
                out.extend(el.iter().rev());
            } else {
                out.extend_from_slice(el);
            }
            for k in (0..idx.len()).rev() {
                idx[k] += 1;
                if idx[k] < e.shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        Cow::Owned(out)
    }
    /// The values as the dtype of `TensorEntry::dtype` (integers widened to I64, bools
    /// to U8), little-endian; `None` if lol has no dtype for them.
    pub fn values<'a>(&self, e: &'a TensorEntry) -> Option<(Cow<'a, [u8]>, DType)> {
        let dt = e.dtype()?;
        let raw = self.bytes(e);
        let widened = match e.dtype_name.as_str() {
            "I32" => raw
                .chunks_exact(4)
                .flat_map(|c| (i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).to_le_bytes())
                .collect(),
            "I16" => {
                raw.chunks_exact(2).flat_map(|c| (i16::from_le_bytes([c[0], c[1]]) as i64).to_le_bytes()).collect()
            }
            "I8" => raw.iter().flat_map(|&c| (c as i8 as i64).to_le_bytes()).collect(),
            _ => return Some((raw, dt)),
        };
        Some((Cow::Owned(widened), dt))
    }
    /// One tensor on the CPU, in the dtype `TensorEntry::dtype` gives.
    pub fn tensor(&self, name: &str) -> Result<crate::Tensor> {
        let e = self.get(name).ok_or_else(|| Error::format(&self.path, format!("no tensor named {name:?}")))?;
        let (bytes, dt) = self.values(e).ok_or_else(|| {
            Error::format(&self.path, format!("tensor {name:?} has dtype {}, which lol does not read", e.dtype_name))
        })?;
        let t = crate::Tensor::zeros_dtype(&e.shape, dt, &crate::Device::Cpu)?;
        t.assign_le_bytes(&bytes, dt)?;
        Ok(t)
    }
}

/// A zip archive: `torch.save`'s format (it holds `<dir>/data.pkl`) or NumPy's `.npz`.
fn read_zip(blob: &Blob) -> std::result::Result<(&'static str, Vec<TensorEntry>), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(blob.as_slice()))
        .map_err(|e| format!("a zip archive lol cannot read: {e}"))?;
    let names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    if let Some(pkl) = names.iter().find(|n| n.ends_with("data.pkl") && n.matches('/').count() <= 1) {
        let prefix = pkl.trim_end_matches("data.pkl").to_string();
        return Ok(("torch.save (zip)", torch_file::read_zip(blob, &mut zip, &prefix)?));
    }
    if names.iter().any(|n| n.ends_with(".npy")) {
        return Ok(("npz", npy::read_npz(blob, &mut zip)?));
    }
    Err("a zip archive that is neither torch.save output (no data.pkl) nor .npz (no .npy entries)".into())
}

/// An entry of a zip archive as bytes: a slice of the file when stored, else
/// decompressed (growing only as data arrives, so a lying header cannot make it
/// allocate what is not there).
pub(crate) fn zip_entry(
    blob: &Blob,
    zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
    limit: usize,
) -> std::result::Result<(Blob, usize, usize), String> {
    use std::io::Read;
    let i = zip.index_for_name(name).ok_or_else(|| format!("the archive has no entry {name}"))?;
    {
        let f = zip.by_index_raw(i).map_err(|e| format!("{name}: {e}"))?;
        if f.compression() == zip::CompressionMethod::Stored {
            let start = f.data_start().ok_or_else(|| format!("{name}: no data offset"))? as usize;
            let len = f.compressed_size() as usize;
            if start.checked_add(len).is_none_or(|e| e > blob.as_slice().len()) {
                return Err(format!("{name}: its data lies outside the file"));
            }
            return Ok((blob.clone(), start, len));
        }
    }
    let f = zip.by_index(i).map_err(|e| format!("{name}: {e}"))?;
    let mut v = Vec::new();
    f.take(limit as u64).read_to_end(&mut v).map_err(|e| format!("{name}: {e}"))?;
    let n = v.len();
    Ok((Blob::Owned(Arc::new(v)), 0, n))
}

/// The tensors of a safetensors file (the header checked every range).
fn safetensors_entries(path: &Path, blob: &Blob) -> Result<Vec<TensorEntry>> {
    let header = crate::safetensors::parse_header(blob.as_slice(), path)?;
    let mut out = Vec::with_capacity(header.tensors.len());
    for t in header.tensors {
        let data = TensorData {
            blob: blob.clone(),
            start: header.data_start + t.start,
            len: t.end - t.start,
            offset: 0,
            strides: contiguous_strides(&t.shape),
            big_endian: false,
        };
        out.push(entry(t.name, &t.dtype_name, t.shape, data).map_err(|m| Error::format(path, m))?);
    }
    Ok(out)
}
