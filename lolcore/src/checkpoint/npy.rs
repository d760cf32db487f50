//! NumPy's `.npy` (one array) and `.npz` (a zip of `.npy` entries, stored or
//! deflated, as `np.savez` and `np.savez_compressed` write them).
//!
//! An `.npy` file is a magic string, a version, a header length, a Python dict
//! literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` and the raw
//! values.

use super::{contiguous_strides, entry, zip_entry, Blob, TensorData, TensorEntry};

pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// `descr` as (safetensors dtype name, big-endian).
fn dtype_of(descr: &str) -> Result<(&'static str, bool), String> {
    let (order, kind) = descr.split_at(descr.len().min(1));
    let big = match order {
        ">" => true,
        "<" | "=" | "|" => false,
        _ => return Err(format!("unsupported numpy dtype {descr:?}")),
    };
    let name = match kind {
        "f4" => "F32",
        "f8" => "F64",
        "f2" => "F16",
        "i8" => "I64",
        "i4" => "I32",
        "i2" => "I16",
        "i1" => "I8",
        "u1" => "U8",
        "u4" => "U32",
        "b1" => "BOOL",
        _ => return Err(format!("unsupported numpy dtype {descr:?} (lol reads f2/f4/f8, i1/i2/i4/i8, u1/u4, b1)")),
    };
    Ok((name, big))
}

/// Finds `'key': value` in the header dict and returns the value's text.
fn field<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let pat_a = format!("'{key}':");
    let pat_b = format!("\"{key}\":");
    let at = header
        .find(&pat_a)
        .map(|i| i + pat_a.len())
        .or_else(|| header.find(&pat_b).map(|i| i + pat_b.len()))
        .ok_or_else(|| format!("npy header has no {key:?}: {header:?}"))?;
    let rest = header[at..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map(|i| i + 1)
    } else if rest.starts_with('\'') || rest.starts_with('"') {
        rest[1..].find(&rest[..1]).map(|i| i + 2)
    } else {
        rest.find([',', '}'])
    }
    .ok_or_else(|| format!("npy header: {key:?} has no end"))?;
    Ok(rest[..end].trim())
}

/// Parses an .npy file held in `blob[start..start + len]` as the tensor `name`.
fn parse(blob: &Blob, start: usize, len: usize, name: &str) -> Result<TensorEntry, String> {
    let b = &blob.as_slice()[start..start + len];
    if !b.starts_with(MAGIC) || b.len() < 10 {
        return Err(format!("{name}: not an .npy array"));
    }
    let (hlen, hstart): (usize, usize) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 | 3 => {
            let h = b.get(8..12).ok_or_else(|| format!("{name}: truncated .npy header"))?;
            (u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize, 12)
        }
        v => return Err(format!("{name}: .npy version {v} is not supported")),
    };
    let hb = b.get(hstart..hstart.saturating_add(hlen)).ok_or_else(|| format!("{name}: truncated .npy header"))?;
    let header = std::str::from_utf8(hb).map_err(|_| format!("{name}: .npy header is not text"))?;
    let descr = field(header, "descr")?.trim_matches(|c| c == '\'' || c == '"');
    let (dt, big) = dtype_of(descr).map_err(|e| format!("{name}: {e}"))?;
    let fortran = match field(header, "fortran_order")? {
        "True" => true,
        "False" => false,
        v => return Err(format!("{name}: fortran_order {v:?}")),
    };
    let shape_text = field(header, "shape")?;
    let inner = shape_text.trim_start_matches('(').trim_end_matches(')');
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>().map_err(|_| format!("{name}: bad shape {shape_text:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let strides = if fortran {
        let mut r: Vec<usize> = shape.iter().rev().copied().collect();
        r = contiguous_strides(&r);
        r.reverse();
        r
    } else {
        contiguous_strides(&shape)
    };
    let data_start = hstart + hlen;
    let data = TensorData {
        blob: blob.clone(),
        start: start + data_start,
        len: len - data_start,
        offset: 0,
        strides,
        big_endian: big,
    };
    // `entry` checks that every element lies inside the bytes after the header.
    entry(name.to_string(), dt, shape, data)
}

pub(crate) fn read_npy(blob: &Blob, name: &str) -> Result<Vec<TensorEntry>, String> {
    Ok(vec![parse(blob, 0, blob.as_slice().len(), name)?])
}

pub(crate) fn read_npz(
    blob: &Blob,
    zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
) -> Result<Vec<TensorEntry>, String> {
    let names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    let limit = blob.as_slice().len().saturating_mul(1024);
    let mut out = Vec::new();
    for n in names.iter().filter(|n| n.ends_with(".npy")) {
        let (b, s, l) = zip_entry(blob, zip, n, limit)?;
        out.push(parse(&b, s, l, n.trim_end_matches(".npy"))?);
    }
    Ok(out)
}
