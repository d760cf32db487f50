//! The IDX format of MNIST (big-endian magic, dims, then u8 data), gzip-compressed or not.

use lolcore::{Device, Error, Result, Tensor};
use std::io::Read;
use std::path::Path;

/// Reads an IDX file of unsigned bytes (type 0x08) as a u8 tensor of its dims. A `.gz`
/// file (or one starting with the gzip magic) is decompressed first.
pub fn read_idx<P: AsRef<Path>>(path: P) -> Result<Tensor> {
    let path = path.as_ref();
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::format(path, format!("bad gzip data: {e}")))?;
        out
    } else {
        raw
    };
    parse_idx(&bytes, path)
}

/// Parses IDX bytes (u8 data only).
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<Tensor> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(Error::format(path, "not an IDX file (bad magic)"));
    }
    if bytes[2] != 0x08 {
        return Err(Error::format(
            path,
            format!("IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)", bytes[2]),
        ));
    }
    let rank = bytes[3] as usize;
    let head = 4 + 4 * rank;
    if bytes.len() < head {
        return Err(Error::format(path, format!("truncated IDX header: {} bytes for {rank} dims", bytes.len())));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| u32::from_be_bytes([bytes[4 + 4 * i], bytes[5 + 4 * i], bytes[6 + 4 * i], bytes[7 + 4 * i]]) as usize)
        .collect();
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::format(path, format!("IDX dims {dims:?} overflow")))?;
    if bytes.len() - head != n {
        return Err(Error::format(
            path,
            format!("IDX dims {dims:?} need {n} data bytes, the file has {}", bytes.len() - head),
        ));
    }
    Tensor::from_vec(bytes[head..].to_vec(), &dims, &Device::Cpu)
}
