//! CPU storage: one pooled buffer per dtype.

use super::buffer_pool::{Buf, PoolElem};
use crate::dtype::{DType, WithDType};
use half::{bf16, f16};

pub enum CpuStorage {
    F32(Buf<f32>),
    F64(Buf<f64>),
    F16(Buf<f16>),
    BF16(Buf<bf16>),
    U8(Buf<u8>),
    U32(Buf<u32>),
    I64(Buf<i64>),
}

/// An element type with its CPU storage variant.
pub trait CpuElem: WithDType + PoolElem {
    fn wrap(v: Vec<Self>) -> CpuStorage;
    fn slice(s: &CpuStorage) -> Option<&[Self]>;
    fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]>;
    fn into_vec(s: CpuStorage) -> std::result::Result<Vec<Self>, CpuStorage>;
}

macro_rules! cpu_elem {
    ($t:ty, $v:ident) => {
        impl CpuElem for $t {
            fn wrap(v: Vec<Self>) -> CpuStorage {
                CpuStorage::$v(Buf::new(v))
            }
            fn slice(s: &CpuStorage) -> Option<&[Self]> {
                match s {
                    CpuStorage::$v(b) => Some(b),
                    _ => None,
                }
            }
            fn slice_mut(s: &mut CpuStorage) -> Option<&mut [Self]> {
                match s {
                    CpuStorage::$v(b) => Some(b),
                    _ => None,
                }
            }
            fn into_vec(s: CpuStorage) -> std::result::Result<Vec<Self>, CpuStorage> {
                match s {
                    CpuStorage::$v(b) => Ok(b.into_vec()),
                    other => Err(other),
                }
            }
        }
    };
}
cpu_elem!(f32, F32);
cpu_elem!(f64, F64);
cpu_elem!(f16, F16);
cpu_elem!(bf16, BF16);
cpu_elem!(u8, U8);
cpu_elem!(u32, U32);
cpu_elem!(i64, I64);

/// Runs a generic expression over whichever typed slice the storage holds.
/// `$s` is bound to `&[T]` for the variant's `T`.
macro_rules! cpu_dispatch {
    ($storage:expr, $s:ident => $body:expr) => {
        match $storage {
            $crate::cpu::CpuStorage::F32($s) => $body,
            $crate::cpu::CpuStorage::F64($s) => $body,
            $crate::cpu::CpuStorage::F16($s) => $body,
            $crate::cpu::CpuStorage::BF16($s) => $body,
            $crate::cpu::CpuStorage::U8($s) => $body,
            $crate::cpu::CpuStorage::U32($s) => $body,
            $crate::cpu::CpuStorage::I64($s) => $body,
        }
    };
}
pub(crate) use cpu_dispatch;

impl CpuStorage {
    pub fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F64(_) => DType::F64,
            CpuStorage::F16(_) => DType::F16,
            CpuStorage::BF16(_) => DType::BF16,
            CpuStorage::U8(_) => DType::U8,
            CpuStorage::U32(_) => DType::U32,
            CpuStorage::I64(_) => DType::I64,
        }
    }
    pub fn len(&self) -> usize {
        cpu_dispatch!(self, s => s.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `len` zeros of `dtype`.
    pub fn zeros(dtype: DType, len: usize) -> Self {
        Self::filled(dtype, len, 0.0)
    }
    pub fn filled(dtype: DType, len: usize, v: f64) -> Self {
        use super::buffer_pool::filled;
        match dtype {
            DType::F32 => f32::wrap(filled(len, v as f32)),
            DType::F64 => f64::wrap(filled(len, v)),
            DType::F16 => f16::wrap(filled(len, f16::from_f64(v))),
            DType::BF16 => bf16::wrap(filled(len, bf16::from_f64(v))),
            DType::U8 => u8::wrap(filled(len, v as u8)),
            DType::U32 => u32::wrap(filled(len, v as u32)),
            DType::I64 => i64::wrap(filled(len, v as i64)),
        }
    }
    /// A byte-for-byte copy.
    pub fn duplicate(&self) -> Self {
        cpu_dispatch!(self, s => {
            let mut v = super::buffer_pool::take(s.len());
            v.copy_from_slice(s);
            CpuElem::wrap(v)
        })
    }
}
