//! `torch.save` files, read without Python.
//!
//! Zip format (PyTorch ≥ 1.6): `<dir>/data.pkl` is a pickle whose tensors name their
//! storages by persistent id; storage `k` is the entry `<dir>/data/k`, raw
//! little-endian (or as `<dir>/byteorder` says).
//!
//! Legacy format: four pickles back to back (magic number, protocol version, system
//! info, the object), then a pickle of the storage keys, then for each key in that
//! order an 8-byte little-endian element count and the raw storage bytes.

use super::pickle::{storage_from_pid, PResult, StorageRef, TensorRef, Unpickler, Value};
use super::{entry, zip_entry, Blob, TensorData, TensorEntry};
use crate::nn::join_name;
use std::collections::HashMap;
use std::rc::Rc;

/// `torch.save`'s element type names as safetensors dtype names.
fn dtype_name(torch_type: &str) -> PResult<&'static str> {
    Ok(match torch_type {
        "Float" => "F32",
        "Double" => "F64",
        "Half" => "F16",
        "BFloat16" => "BF16",
        "Long" => "I64",
        "Int" => "I32",
        "Short" => "I16",
        "Char" => "I8",
        "Byte" => "U8",
        "Bool" => "BOOL",
        t => return Err(format!("storages of type {t} are not supported")),
    })
}

/// Deepest nesting of containers followed; a checkpoint is a few levels deep.
const MAX_DEPTH: usize = 64;
/// Most values visited while flattening: shared containers cannot multiply work.
const MAX_VISITS: usize = 10_000_000;

/// Flattens nested dicts, lists and tuples into dotted names; keeps only tensors.
pub(crate) fn flatten(root: &Value) -> PResult<Vec<(String, Rc<TensorRef>)>> {
    let mut out = Vec::new();
    let mut visits = 0usize;
    walk(root, String::new(), 0, &mut visits, &mut out)?;
    Ok(out)
}

fn walk(
    v: &Value,
    name: String,
    depth: usize,
    visits: &mut usize,
    out: &mut Vec<(String, Rc<TensorRef>)>,
) -> PResult<()> {
    *visits += 1;
    if *visits > MAX_VISITS {
        return Err(format!("the pickle holds more than {MAX_VISITS} values to walk"));
    }
    if depth > MAX_DEPTH {
        return Err(format!("containers nested more than {MAX_DEPTH} deep (at {name:?})"));
    }
    match v {
        Value::Tensor(t) => out.push((if name.is_empty() { "tensor".to_string() } else { name }, t.clone())),
        Value::Dict(d) => {
            let d = d.try_borrow().map_err(|_| "a dict that contains itself".to_string())?;
            for (k, v) in d.iter() {
                let key = match k {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    // Keys that name nothing a state dict uses (tuples, floats) are skipped.
                    _ => continue,
                };
                walk(v, join_name(&name, &key), depth + 1, visits, out)?;
            }
        }
        Value::List(l) => {
            let l = l.try_borrow().map_err(|_| "a list that contains itself".to_string())?;
            for (i, v) in l.iter().enumerate() {
                walk(v, join_name(&name, &i.to_string()), depth + 1, visits, out)?;
            }
        }
        Value::Tuple(t) => {
            for (i, v) in t.iter().enumerate() {
                walk(v, join_name(&name, &i.to_string()), depth + 1, visits, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The entries of a flattened pickle, given where each storage's bytes are.
fn entries(
    tensors: Vec<(String, Rc<TensorRef>)>,
    storages: &HashMap<String, (Blob, usize, usize)>,
    big_endian: bool,
) -> PResult<Vec<TensorEntry>> {
    let mut out = Vec::with_capacity(tensors.len());
    let mut seen = std::collections::HashSet::new();
    for (name, t) in tensors {
        if !seen.insert(name.clone()) {
            return Err(format!("two tensors are named {name:?}"));
        }
        let dt = dtype_name(&t.storage.torch_type)?;
        let es = super::element_size(dt).unwrap_or(1);
        let (blob, start, len) = storages
            .get(&t.storage.key)
            .ok_or_else(|| format!("{name}: its storage {:?} is not in the file", t.storage.key))?;
        let declared = t.storage.numel.checked_mul(es).ok_or_else(|| format!("{name}: storage size overflows"))?;
        if *len < declared {
            return Err(format!(
                "{name}: storage {:?} holds {len} bytes, its tensor declares {declared}",
                t.storage.key
            ));
        }
        let data = TensorData {
            blob: blob.clone(),
            start: *start,
            len: declared,
            offset: t.offset,
            strides: t.strides.clone(),
            big_endian,
        };
        out.push(entry(name, dt, t.shape.clone(), data)?);
    }
    Ok(out)
}

/// The pickle of a zip-format file; every persistent id must be a storage.
fn load_pickle(data: &[u8]) -> PResult<(Value, usize)> {
    let mut up = Unpickler::new(data);
    let mut pl = |pid: Value| -> PResult<Value> { Ok(Value::Storage(Rc::new(storage_from_pid(&pid)?))) };
    let v = up.load(&mut pl)?;
    Ok((v, up.position()))
}

pub(crate) fn read_zip(
    blob: &Blob,
    zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    prefix: &str,
) -> PResult<Vec<TensorEntry>> {
    let file_len = blob.as_slice().len();
    // Decompressed entries may not grow past 1024× the file (deflate's own bound).
    let limit = file_len.saturating_mul(1024);
    let (pb, ps, pl) = zip_entry(blob, zip, &format!("{prefix}data.pkl"), limit)?;
    let (root, _) = load_pickle(&pb.as_slice()[ps..ps + pl])?;
    let big_endian = match zip.index_for_name(&format!("{prefix}byteorder")) {
        Some(_) => {
            let (b, s, l) = zip_entry(blob, zip, &format!("{prefix}byteorder"), 16)?;
            &b.as_slice()[s..s + l] == b"big"
        }
        None => false,
    };
    let tensors = flatten(&root)?;
    let mut storages = HashMap::new();
    for (_, t) in &tensors {
        let key = &t.storage.key;
        if !storages.contains_key(key) {
            let loc = zip_entry(blob, zip, &format!("{prefix}data/{key}"), limit)?;
            storages.insert(key.clone(), loc);
        }
    }
    entries(tensors, &storages, big_endian)
}

/// The legacy format starts with a protocol-2 pickle of the magic number
/// 0x1950a86a20f9469cfc6c.
const LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.";

pub(crate) fn is_legacy(b: &[u8]) -> bool {
    b.starts_with(LEGACY_MAGIC)
}

pub(crate) fn read_legacy(blob: &Blob) -> PResult<Vec<TensorEntry>> {
    let b = blob.as_slice();
    let mut pos = LEGACY_MAGIC.len();
    let next = |pos: &mut usize, storages: Option<&mut Vec<(StorageRef, Value)>>| -> PResult<Value> {
        let mut up = Unpickler::new(&b[*pos..]);
        let v = match storages {
            Some(list) => {
                let mut pl = |pid: Value| -> PResult<Value> {
                    let s = storage_from_pid(&pid)?;
                    list.push((s.clone(), pid));
                    Ok(Value::Storage(Rc::new(s)))
                };
                up.load(&mut pl)?
            }
            None => {
                let mut pl = |_: Value| -> PResult<Value> { Err("a persistent id outside the object pickle".into()) };
                up.load(&mut pl)?
            }
        };
        *pos += up.position();
        Ok(v)
    };
    match next(&mut pos, None)? {
        Value::Int(1001) => {}
        v => return Err(format!("legacy torch.save: protocol version {v:?}, lol reads 1001")),
    }
    let sys_info = next(&mut pos, None)?;
    let little = match &sys_info {
        Value::Dict(d) => d
            .borrow()
            .iter()
            .all(|(k, v)| !matches!((k, v), (Value::Str(k), Value::Bool(false)) if k == "little_endian")),
        _ => true,
    };
    let mut declared = Vec::new();
    let root = next(&mut pos, Some(&mut declared))?;
    if declared.iter().any(|(_, pid)| legacy_view(pid)) {
        return Err("legacy torch.save with storage views (PyTorch < 1.0) is not supported".into());
    }
    let keys = match next(&mut pos, None)? {
        Value::List(l) => l.borrow().clone(),
        v => return Err(format!("legacy torch.save: expected the list of storage keys, found {v:?}")),
    };
    let mut sizes: HashMap<String, usize> = HashMap::new();
    for (s, _) in &declared {
        let es = super::element_size(dtype_name(&s.torch_type)?).unwrap_or(1);
        sizes.insert(s.key.clone(), es);
    }
    let mut storages = HashMap::new();
    for k in keys {
        let key = match k {
            Value::Str(s) => s,
            Value::Int(i) => i.to_string(),
            v => return Err(format!("legacy torch.save: a storage key {v:?}")),
        };
        let es =
            *sizes.get(&key).ok_or_else(|| format!("legacy torch.save: storage {key} is listed but never used"))?;
        let head = b.get(pos..pos + 8).ok_or("legacy torch.save: truncated storage header")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(head);
        let count = usize::try_from(u64::from_le_bytes(a)).map_err(|_| "legacy torch.save: storage too large")?;
        let len = count.checked_mul(es).ok_or("legacy torch.save: storage size overflows")?;
        let start = pos + 8;
        if start.checked_add(len).is_none_or(|e| e > b.len()) {
            return Err(format!("legacy torch.save: storage {key} ({len} bytes) runs past the end of the file"));
        }
        storages.insert(key, (blob.clone(), start, len));
        pos = start + len;
    }
    entries(flatten(&root)?, &storages, !little)
}

/// A persistent id whose sixth field is a view of another storage (PyTorch < 1.0).
fn legacy_view(pid: &Value) -> bool {
    match pid {
        Value::Tuple(t) => matches!(t.get(5), Some(v) if !matches!(v, Value::None)),
        _ => false,
    }
}
