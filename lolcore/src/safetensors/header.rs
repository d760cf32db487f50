//! The safetensors header: 8 bytes of little-endian length, a JSON object naming each
//! tensor's dtype, shape and byte range, then the data. Parsing checks everything a
//! lying header could get wrong (sizes, offsets, overlaps, holes), so reading a tensor
//! afterwards can never go out of bounds.

use crate::error::{bail, Error, Result};
use crate::DType;
use serde_json::Value;
use std::path::Path;

/// The safetensors limit on header size.
const MAX_HEADER: u64 = 100 * 1024 * 1024;

/// One tensor's entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// The dtype as written (`F32`, `BF16`, ...), and ours when we support it.
    pub dtype_name: String,
    pub dtype: Option<DType>,
    pub shape: Vec<usize>,
    /// Byte range within the data section.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub tensors: Vec<TensorInfo>,
    pub metadata: Vec<(String, String)>,
    /// Where the data section starts in the file.
    pub data_start: usize,
}

/// Bytes per element of a dtype as safetensors names it.
pub(crate) fn element_size(name: &str) -> Option<usize> {
    Some(match name {
        "BOOL" | "U8" | "I8" | "F8_E4M3" | "F8_E5M2" => 1,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "F32" | "I32" | "U32" => 4,
        "F64" | "I64" | "U64" => 8,
        _ => return None,
    })
}

/// Parses and validates the header of a whole file's bytes.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Header> {
    let bad = |msg: String| Error::format(path, format!("not a valid safetensors file: {msg}"));
    if bytes.len() < 8 {
        bail!(bad(format!("{} bytes is too short for the 8-byte header length", bytes.len())));
    }
    let mut len8 = [0u8; 8];
    len8.copy_from_slice(&bytes[..8]);
    let n = u64::from_le_bytes(len8);
    if n > MAX_HEADER || n > (bytes.len() - 8) as u64 {
        bail!(bad(format!("header length {n} exceeds the file ({} bytes) or the 100 MiB limit", bytes.len())));
    }
    let n = n as usize;
    let text = std::str::from_utf8(&bytes[8..8 + n]).map_err(|e| bad(format!("header is not UTF-8: {e}")))?;
    let json: Value = serde_json::from_str(text.trim_end()).map_err(|e| bad(format!("header is not JSON: {e}")))?;
    let Value::Object(map) = json else { bail!(bad("header is not a JSON object".into())) };
    let data_start = 8 + n;
    let data_len = bytes.len() - data_start;
    let mut tensors = Vec::with_capacity(map.len());
    let mut metadata = Vec::new();
    for (name, entry) in &map {
        if name == "__metadata__" {
            let Value::Object(m) = entry else { bail!(bad("__metadata__ is not an object".into())) };
            for (k, v) in m {
                let Value::String(s) = v else { bail!(bad(format!("metadata value for {k:?} is not a string"))) };
                metadata.push((k.clone(), s.clone()));
            }
            continue;
        }
        let field = |k: &str| entry.get(k).ok_or_else(|| bad(format!("tensor {name:?} has no {k:?}")));
        let dtype_name =
            field("dtype")?.as_str().ok_or_else(|| bad(format!("tensor {name:?}: dtype is not a string")))?.to_string();
        let size =
            element_size(&dtype_name).ok_or_else(|| bad(format!("tensor {name:?}: unknown dtype {dtype_name:?}")))?;
        let shape = field("shape")?
            .as_array()
            .ok_or_else(|| bad(format!("tensor {name:?}: shape is not a list")))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .map(|d| d as usize)
                    .ok_or_else(|| bad(format!("tensor {name:?}: shape holds {d}, not a size")))
            })
            .collect::<Result<Vec<usize>>>()?;
        let offs = field("data_offsets")?
            .as_array()
            .ok_or_else(|| bad(format!("tensor {name:?}: data_offsets is not a list")))?;
        let (start, end) = match offs.as_slice() {
            [a, b] => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => (a as usize, b as usize),
                _ => bail!(bad(format!("tensor {name:?}: data_offsets are not sizes"))),
            },
            _ => bail!(bad(format!("tensor {name:?}: data_offsets must be [begin, end]"))),
        };
        let bytes_needed = shape
            .iter()
            .try_fold(size, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(format!("tensor {name:?}: shape {shape:?} overflows")))?;
        if start > end || end > data_len || end - start != bytes_needed {
            bail!(bad(format!(
                "tensor {name:?}: offsets {start}..{end} do not hold {bytes_needed} bytes of {dtype_name} {shape:?} within a data section of {data_len} bytes"
            )));
        }
        tensors.push(TensorInfo {
            name: name.clone(),
            dtype: DType::from_safetensors_name(&dtype_name),
            dtype_name,
            shape,
            start,
            end,
        });
    }
    // The data section must be covered exactly: no overlaps, no holes.
    let mut spans: Vec<(usize, usize, &str)> = tensors.iter().map(|t| (t.start, t.end, t.name.as_str())).collect();
    spans.sort();
    let mut at = 0;
    for (s, e, name) in spans {
        if s != at {
            bail!(bad(format!("tensor {name:?} starts at byte {s}, expected {at} (overlapping or missing data)")));
        }
        at = e;
    }
    if at != data_len {
        bail!(bad(format!("tensors cover {at} of {data_len} data bytes")));
    }
    tensors.sort_by_key(|t| t.start);
    Ok(Header { tensors, metadata, data_start })
}
