//! Reading safetensors: the file is memory-mapped and each tensor is decoded straight
//! from the map into its destination (a parameter's own buffer on the CPU, one staging
//! buffer per tensor on a GPU), converting dtypes on the way.

use super::header::{self, Header, TensorInfo};
use crate::cpu::{CpuElem, CpuStorage};
use crate::error::{bail, Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{bf16, f16, DType, Device};
use std::path::{Path, PathBuf};

/// An open safetensors file.
pub struct SafeTensors {
    map: memmap2::Mmap,
    header: Header,
    path: PathBuf,
}

impl SafeTensors {
    pub fn open<P: AsRef<Path>>(path: P) -> Result<SafeTensors> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        // SAFETY: the map is read-only; a file truncated underneath us by another
        // process is outside what any mmap-based reader can guard against.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
        let header = header::parse(&map, &path)?;
        Ok(SafeTensors { map, header, path })
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.header.tensors
    }
    pub fn names(&self) -> Vec<&str> {
        self.header.tensors.iter().map(|t| t.name.as_str()).collect()
    }
    pub fn metadata(&self) -> &[(String, String)] {
        &self.header.metadata
    }
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.header.tensors.iter().find(|t| t.name == name)
    }
    pub(crate) fn bytes(&self, info: &TensorInfo) -> &[u8] {
        // In bounds: the header parser checked every range against the file.
        &self.map[self.header.data_start + info.start..self.header.data_start + info.end]
    }
    fn supported(&self, info: &TensorInfo) -> Result<DType> {
        info.dtype.ok_or_else(|| {
            Error::format(
                &self.path,
                format!("tensor {:?} has dtype {}, which lol does not read", info.name, info.dtype_name),
            )
        })
    }
    /// One tensor, in the file's dtype, on `device`.
    pub fn tensor(&self, name: &str, device: &Device) -> Result<Tensor> {
        let info = self.info(name).ok_or_else(|| Error::format(&self.path, format!("no tensor named {name:?}")))?;
        let dtype = self.supported(info)?;
        let host = decode(self.bytes(info), dtype, dtype);
        Ok(Tensor::from_storage(Storage::from_cpu(host, device)?, &info.shape))
    }
    /// Every tensor, by name, on `device`.
    pub fn load_all(&self, device: &Device) -> Result<Vec<(String, Tensor)>> {
        self.header.tensors.iter().map(|t| Ok((t.name.clone(), self.tensor(&t.name, device)?))).collect()
    }
}

/// Reads every tensor of a safetensors file onto `device`.
pub fn load<P: AsRef<Path>>(path: P, device: &Device) -> Result<Vec<(String, Tensor)>> {
    SafeTensors::open(path)?.load_all(device)
}

/// Decodes little-endian `bytes` of dtype `src` into values of `T`.
fn decode_into<T: CpuElem>(dst: &mut [T], bytes: &[u8], src: DType) {
    macro_rules! each {
        ($n:literal, $conv:expr) => {
            for (d, c) in dst.iter_mut().zip(bytes.chunks_exact($n)) {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                *d = T::from_f64($conv(a));
            }
        };
    }
    if src == T::DTYPE && cfg!(target_endian = "little") {
        // Same layout in memory: one copy.
        let n = dst.len() * src.size_in_bytes();
        // SAFETY: `dst` holds exactly n bytes of plain values and `bytes` at least n
        // (the header check); any bit pattern is a valid value of these types.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.as_mut_ptr() as *mut u8, n.min(bytes.len())) };
        return;
    }
    match src {
        DType::F32 => each!(4, |a| f32::from_le_bytes(a) as f64),
        DType::F64 => each!(8, f64::from_le_bytes),
        DType::F16 => each!(2, |a| f16::from_le_bytes(a).to_f64()),
        DType::BF16 => each!(2, |a| bf16::from_le_bytes(a).to_f64()),
        DType::U8 => each!(1, |a: [u8; 1]| a[0] as f64),
        DType::U32 => each!(4, |a| u32::from_le_bytes(a) as f64),
        DType::I64 => each!(8, |a| i64::from_le_bytes(a) as f64),
    }
}

/// `bytes` of dtype `src` as a host buffer of dtype `to`.
fn decode(bytes: &[u8], src: DType, to: DType) -> CpuStorage {
    let n = bytes.len() / src.size_in_bytes();
    let mut s = CpuStorage::zeros(to, n);
    crate::cpu::storage::cpu_dispatch!(&mut s, v => decode_into(v, bytes, src));
    s
}

impl Tensor {
    /// Overwrites this tensor's values with little-endian `bytes` of dtype `src`
    /// (converted), in place. CPU tensors are written directly in their buffer.
    pub(crate) fn assign_le_bytes(&self, bytes: &[u8], src: DType) -> Result<()> {
        if bytes.len() != self.numel() * src.size_in_bytes() {
            bail!(Error::msg("internal: byte count does not match the tensor"));
        }
        if self.device().is_cpu() && self.is_contiguous() {
            let (start, end) = (self.layout().offset(), self.layout().offset() + self.numel());
            let mut guard = self.storage_mut();
            if let Storage::Cpu(s) = &mut *guard {
                crate::cpu::storage::cpu_dispatch!(s, v => decode_into(&mut v[start..end], bytes, src));
                return Ok(());
            }
        }
        let host = decode(bytes, src, self.dtype());
        let staged = Tensor::from_storage(Storage::from_cpu(host, &self.device())?, self.shape());
        self.copy_from(&staged)
    }
}
