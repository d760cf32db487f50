//! The lines of a text file, read one at a time: TensorFlow's `tf.data.TextLineDataset`.
//!
//! Opening streams the file once and keeps only where each line starts (8 bytes per
//! line), so files larger than memory work; each line is read with a positioned read
//! when asked for, which threads may do at the same time.

use super::dataset::Dataset;
use lolcore::{Error, Result, Tensor};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const OP: &str = "TextLineDataset";

/// The lines of a text file by index (TensorFlow's `tf.data.TextLineDataset`).
///
/// Lines end at `\n`; a `\r` before it is dropped too (CRLF files), and a final line
/// without a newline counts. A newline at the end of the file does not start an empty
/// last line; empty lines elsewhere are kept, as TensorFlow keeps them. A line that is
/// not UTF-8 is an error from [`line`](Self::line), naming its line number.
///
/// A `Dataset` yields tensors, so the lines become samples through
/// [`map`](Self::map) with a function from the line to `(features, target)`.
#[derive(Clone, Debug)]
pub struct TextLineDataset {
    path: PathBuf,
    file: Arc<File>,
    /// Line `i` is the bytes `starts[i]..starts[i + 1]`, its terminator included; the
    /// last entry is the file's length.
    starts: Vec<u64>,
}

impl TextLineDataset {
    /// Opens `path` and indexes where its lines start.
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut starts = vec![0u64];
        let mut buf = vec![0u8; 1 << 16];
        let mut offset = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            for (k, _) in buf[..n].iter().enumerate().filter(|(_, &b)| b == b'\n') {
                starts.push(offset + k as u64 + 1);
            }
            offset += n as u64;
        }
        // `starts` now holds the start of every line plus `offset` if the file ends with a
        // newline; make the last entry the file's length either way.
        if starts.last() != Some(&offset) {
            starts.push(offset);
        }
        Ok(TextLineDataset { path, file: Arc::new(file), starts })
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }
    /// No lines (an empty file).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Line `i` (0-based) without its `\n` or `\r\n`.
    pub fn line(&self, i: usize) -> Result<String> {
        if i >= self.len() {
            return Err(Error::index(OP, format!("line {i} of {} in {}", self.len(), self.path.display())));
        }
        let (start, end) = (self.starts[i], self.starts[i + 1]);
        let mut bytes = vec![0u8; (end - start) as usize];
        read_exact_at(&self.file, &mut bytes, start).map_err(|e| Error::io(&self.path, e))?;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        String::from_utf8(bytes)
            .map_err(|e| Error::format(&self.path, format!("{OP}: line {} is not UTF-8 ({})", i + 1, e.utf8_error())))
    }

    /// Turns each line into a sample with `f` (TensorFlow's `dataset.map(fn)`), e.g. a
    /// label prefix into the target and the characters into ids.
    pub fn map<F>(self, f: F) -> MappedLines<F>
    where
        F: Fn(&str) -> Result<(Tensor, Tensor)> + Send + Sync,
    {
        MappedLines { lines: self, f }
    }
}

/// A [`TextLineDataset`] whose lines become `(features, target)` samples through a
/// function (see [`TextLineDataset::map`]). Errors from the function name the line.
pub struct MappedLines<F> {
    lines: TextLineDataset,
    f: F,
}

impl<F> MappedLines<F> {
    /// The lines underneath.
    pub fn lines(&self) -> &TextLineDataset {
        &self.lines
    }
}

impl<F> Dataset for MappedLines<F>
where
    F: Fn(&str) -> Result<(Tensor, Tensor)> + Send + Sync,
{
    fn len(&self) -> usize {
        self.lines.len()
    }
    fn get(&self, i: usize) -> Result<(Tensor, Tensor)> {
        let line = self.lines.line(i)?;
        (self.f)(&line).map_err(|e| e.context(format!("{OP}: {} line {}", self.lines.path.display(), i + 1)))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
