//! dtype conversion and strided copies on the CPU.

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::{gather_contiguous, Rows};
use crate::dtype::DType;
use crate::error::{bail, Error, Result};
use crate::layout::Layout;
use half::{bf16, f16};

fn convert<A: CpuElem, B: CpuElem>(src: &[A], l: &Layout) -> Vec<B> {
    let mut out = pool::take::<B>(l.numel());
    let rows = Rows::new(l.shape(), [l]);
    let [s] = rows.inner_strides();
    // f64 holds every value of the other types exactly (i64 beyond 2^53 aside).
    rows.fill(&mut out, |o, [off]| {
        for (i, d) in o.iter_mut().enumerate() {
            *d = B::from_f64(src[off + i * s].to_f64());
        }
    });
    out
}

fn convert_to<B: CpuElem>(s: &CpuStorage, l: &Layout) -> Vec<B> {
    crate::cpu::storage::cpu_dispatch!(s, v => convert(v, l))
}

/// A contiguous copy of the view in dtype `to`.
pub fn to_dtype(s: &CpuStorage, l: &Layout, to: DType) -> CpuStorage {
    if s.dtype() == to {
        return contiguous(s, l);
    }
    match to {
        DType::F32 => f32::wrap(convert_to(s, l)),
        DType::F64 => f64::wrap(convert_to(s, l)),
        DType::F16 => f16::wrap(convert_to(s, l)),
        DType::BF16 => bf16::wrap(convert_to(s, l)),
        DType::U8 => u8::wrap(convert_to(s, l)),
        DType::U32 => u32::wrap(convert_to(s, l)),
        DType::I64 => i64::wrap(convert_to(s, l)),
    }
}

/// A contiguous copy of the view.
pub fn contiguous(s: &CpuStorage, l: &Layout) -> CpuStorage {
    crate::cpu::storage::cpu_dispatch!(s, v => CpuElem::wrap(gather_contiguous(v, l)))
}

/// Copies `src` (viewed through `ls`) into the view `ld` of `dst`. Shapes must match.
pub fn copy_into_view(dst: &mut CpuStorage, ld: &Layout, src: &CpuStorage, ls: &Layout) -> Result<()> {
    fn go<T: CpuElem>(d: &mut [T], ld: &Layout, s: &[T], ls: &Layout) {
        let rows = Rows::new(ld.shape(), [ld, ls]);
        let [sd, ss] = rows.inner_strides();
        let n = rows.inner_len();
        rows.for_rows(0, rows.row_count(), |_, [od, os]| {
            if sd == 1 && ss == 1 {
                d[od..od + n].copy_from_slice(&s[os..os + n]);
            } else {
                for i in 0..n {
                    d[od + i * sd] = s[os + i * ss];
                }
            }
        });
    }
    use CpuStorage as S;
    match (dst, src) {
        (S::F32(d), S::F32(s)) => go(d, ld, s, ls),
        (S::F64(d), S::F64(s)) => go(d, ld, s, ls),
        (S::F16(d), S::F16(s)) => go(d, ld, s, ls),
        (S::BF16(d), S::BF16(s)) => go(d, ld, s, ls),
        (S::U8(d), S::U8(s)) => go(d, ld, s, ls),
        (S::U32(d), S::U32(s)) => go(d, ld, s, ls),
        (S::I64(d), S::I64(s)) => go(d, ld, s, ls),
        (d, s) => bail!(Error::dtype("copy", format!("cannot copy {} into {}", s.dtype(), d.dtype()))),
    }
    Ok(())
}
