//! Writing safetensors atomically: the file is written beside its destination under a
//! temporary name, flushed, then renamed over it, so a crash never leaves a half-written
//! file where a good one was.

use crate::error::{bail, Error, Result};
use crate::tensor::Tensor;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;

/// Little-endian bytes of a tensor's values (contiguous, any device).
pub(crate) fn le_bytes(t: &Tensor) -> Result<Vec<u8>> {
    use crate::cpu::CpuStorage as S;
    let host = t.to_cpu_storage()?;
    fn bytes<T: Copy>(v: &[T], to: impl Fn(T) -> Vec<u8>) -> Vec<u8> {
        v.iter().flat_map(|&x| to(x)).collect()
    }
    Ok(match &host {
        S::F32(v) => bytes(v, |x| x.to_le_bytes().to_vec()),
        S::F64(v) => bytes(v, |x| x.to_le_bytes().to_vec()),
        S::F16(v) => bytes(v, |x| x.to_le_bytes().to_vec()),
        S::BF16(v) => bytes(v, |x| x.to_le_bytes().to_vec()),
        S::U8(v) => v.to_vec(),
        S::U32(v) => bytes(v, |x| x.to_le_bytes().to_vec()),
        S::I64(v) => bytes(v, |x| x.to_le_bytes().to_vec()),
    })
}

/// Writes named tensors (and string metadata) to `path` in safetensors format.
pub fn save<P: AsRef<Path>>(path: P, tensors: &[(String, Tensor)], metadata: &[(String, String)]) -> Result<()> {
    let path = path.as_ref();
    let mut header = Map::new();
    if !metadata.is_empty() {
        let m: Map<String, Value> = metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        header.insert("__metadata__".into(), Value::Object(m));
    }
    let mut blobs = Vec::with_capacity(tensors.len());
    let mut offset = 0usize;
    for (name, t) in tensors {
        if name == "__metadata__" || header.contains_key(name) {
            bail!(Error::arg("save", format!("tensor name {name:?} is reserved or used twice")));
        }
        let b = le_bytes(t)?;
        let mut entry = Map::new();
        entry.insert("dtype".into(), Value::String(t.dtype().safetensors_name().into()));
        entry.insert("shape".into(), Value::Array(t.shape().iter().map(|&d| Value::from(d as u64)).collect()));
        entry.insert(
            "data_offsets".into(),
            Value::Array(vec![Value::from(offset as u64), Value::from((offset + b.len()) as u64)]),
        );
        header.insert(name.clone(), Value::Object(entry));
        offset += b.len();
        blobs.push(b);
    }
    let mut text =
        serde_json::to_string(&Value::Object(header)).map_err(|e| Error::msg(format!("save: {e}")))?.into_bytes();
    // Pad the header with spaces so the data starts 8-byte aligned.
    while (text.len() + 8) % 8 != 0 {
        text.push(b' ');
    }
    write_atomically(path, |w| {
        w.write_all(&(text.len() as u64).to_le_bytes())?;
        w.write_all(&text)?;
        for b in &blobs {
            w.write_all(b)?;
        }
        Ok(())
    })
}

/// Writes through `fill` into a temporary file next to `path`, syncs, then renames.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name =
        path.file_name().ok_or_else(|| Error::arg("save", format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp-{}", file_name.to_string_lossy(), std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        fill(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}
