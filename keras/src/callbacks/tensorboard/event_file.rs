//! TensorBoard event files: `tensorflow.Event` protobufs in TFRecord framing.
//!
//! Each record is `u64` LE length, masked CRC32C of those 8 bytes, the data, masked
//! CRC32C of the data. The first event names the file version.

use super::proto::{Event, HistogramProto, Summary, Value};
use lolcore::{Error, Result};
use prost::Message;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// TFRecord's checksum: CRC32C rotated and offset, so that CRCs of data that holds CRCs
/// stay well distributed.
pub(crate) fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: length, its CRC, the data, its CRC.
pub(crate) fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// An open event file in one run directory (`log_dir/train`, `log_dir/validation`).
pub(crate) struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventWriter {
    /// Creates `dir` and a new `events.out.tfevents.<unix secs>.<host>` in it (with a
    /// `.1`, `.2`, ... suffix if that name is taken), and writes the version event.
    pub(crate) fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let base = format!("events.out.tfevents.{secs}.{}", hostname());
        let mut n = 0;
        let (path, file) = loop {
            let name = if n == 0 { base.clone() } else { format!("{base}.{n}") };
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(Error::io(&path, e)),
            }
        };
        let mut w = EventWriter { path, out: BufWriter::new(file) };
        w.write(Event { wall_time: now(), step: 0, file_version: Some("brain.Event:2".into()), summary: None })?;
        Ok(w)
    }

    /// A float32 scalar (`simple_value`) under `tag` at `step`.
    pub(crate) fn scalar(&mut self, tag: &str, step: i64, value: f64) -> Result<()> {
        let v = Value { tag: tag.to_string(), simple_value: Some(value as f32), histo: None };
        self.summary(step, v)
    }

    /// A histogram of `values` under `tag` at `step`.
    pub(crate) fn histogram(&mut self, tag: &str, step: i64, values: &[f64]) -> Result<()> {
        let v = Value { tag: tag.to_string(), simple_value: None, histo: Some(HistogramProto::of(values)) };
        self.summary(step, v)
    }

    /// Pushes what is buffered to the file, so that a running TensorBoard sees it.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }

    fn summary(&mut self, step: i64, value: Value) -> Result<()> {
        let summary = Some(Summary { value: vec![value] });
        self.write(Event { wall_time: now(), step, file_version: None, summary })
    }

    fn write(&mut self, event: Event) -> Result<()> {
        self.out.write_all(&record(&event.encode_to_vec())).map_err(|e| Error::io(&self.path, e))
    }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// `HOSTNAME`, else `/etc/hostname`, else `lol`; kept to characters safe in a file name.
fn hostname() -> String {
    let raw = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let safe: String = raw.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    if safe.is_empty() {
        "lol".to_string()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_matches_tensorboard() {
        // Values from tensorboard's own `masked_crc32c` (its pure-Python TF stub).
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
        assert_eq!(masked_crc(&3u64.to_le_bytes()), 0x0e49_99b0);
        let r = record(b"abc");
        assert_eq!(r.len(), 8 + 4 + 3 + 4);
        assert_eq!(&r[..8], &3u64.to_le_bytes());
        assert_eq!(&r[8..12], &0x0e49_99b0u32.to_le_bytes());
        assert_eq!(&r[12..15], b"abc");
        assert_eq!(&r[15..], &masked_crc(b"abc").to_le_bytes());
    }
}
