//! The one error type of lolcore. Every message names the op and the values involved,
//! so a user can act on it without a debugger.

use crate::{DType, Device};
use std::fmt;

/// What went wrong, with the op and the values involved.
#[derive(Debug)]
pub enum Error {
    /// Shapes that do not fit together: `matmul: [2, 3] × [4, 2]: inner dims 3 and 4 differ`.
    Shape { op: &'static str, msg: String },
    /// A dtype the op does not support, or two dtypes that differ.
    DType { op: &'static str, msg: String },
    /// Tensors on two devices in one op. Never a silent copy.
    DeviceMismatch { op: &'static str, lhs: Device, rhs: Device },
    /// A dimension or index out of range.
    Index { op: &'static str, msg: String },
    /// Any other invalid argument (negative probability, zero stride, ...).
    Arg { op: &'static str, msg: String },
    /// Autograd misuse: backward of a non-scalar, a graph already freed.
    Autograd(String),
    /// CUDA unavailable or a driver/NVRTC/cuBLAS failure.
    Cuda(String),
    /// A file that could not be read or written.
    Io { path: String, source: std::io::Error },
    /// A file whose contents are not what they claim (safetensors, IDX, CSV).
    Format { path: String, msg: String },
    /// Weights that do not match a module: every problem at once.
    Load(String),
    /// An error with where it happened (`layer 2 (Dense): matmul: ...`).
    Context { context: String, source: Box<Error> },
    /// An allocation that the device could not satisfy.
    OutOfMemory { op: &'static str, bytes: usize, device: Device },
    /// Anything else, already formatted.
    Msg(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, msg } => write!(f, "{op}: {msg}"),
            Error::DType { op, msg } => write!(f, "{op}: {msg}"),
            Error::DeviceMismatch { op, lhs, rhs } => {
                write!(f, "{op}: tensors are on different devices ({lhs} and {rhs}); move one with to_device")
            }
            Error::Index { op, msg } => write!(f, "{op}: {msg}"),
            Error::Arg { op, msg } => write!(f, "{op}: {msg}"),
            Error::Autograd(m) => write!(f, "backward: {m}"),
            Error::Cuda(m) => write!(f, "cuda: {m}"),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
            Error::Format { path, msg } => write!(f, "{path}: {msg}"),
            Error::Load(m) => write!(f, "load: {m}"),
            Error::Context { context, source } => write!(f, "{context}: {source}"),
            Error::OutOfMemory { op, bytes, device } => {
                write!(f, "{op}: out of memory: could not allocate {bytes} bytes on {device}")
            }
            Error::Msg(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Context { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl Error {
    pub fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape { op, msg: msg.into() }
    }
    pub fn dtype(op: &'static str, msg: impl Into<String>) -> Self {
        Error::DType { op, msg: msg.into() }
    }
    pub fn index(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Index { op, msg: msg.into() }
    }
    pub fn arg(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Arg { op, msg: msg.into() }
    }
    /// Adds where the error happened in front of it.
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context { context: context.into(), source: Box::new(self) }
    }
    /// The innermost error, under any context.
    pub fn root(&self) -> &Error {
        match self {
            Error::Context { source, .. } => source.root(),
            e => e,
        }
    }
    pub fn msg(msg: impl Into<String>) -> Self {
        Error::Msg(msg.into())
    }
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), source }
    }
    pub fn format(path: impl AsRef<std::path::Path>, msg: impl Into<String>) -> Self {
        Error::Format { path: path.as_ref().display().to_string(), msg: msg.into() }
    }
    /// The dtype error every float-only op gives for integer or half tensors on the CPU.
    pub(crate) fn unsupported_dtype(op: &'static str, dtype: DType, device: Device) -> Self {
        Error::dtype(op, format!("not supported for dtype {dtype} on {device}"))
    }
}

/// `bail!(Error::shape(...))`-style early return.
macro_rules! bail {
    ($e:expr) => {
        return Err($e)
    };
}
pub(crate) use bail;
