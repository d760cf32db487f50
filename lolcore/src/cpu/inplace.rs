//! In-place updates on the CPU (parameter updates, gradient accumulation).

use super::storage::CpuStorage;
use super::strided::Rows;
use crate::error::{bail, Error, Result};
use crate::layout::Layout;

/// `dst[view] += alpha · src[view]`.
pub fn axpy(dst: &mut CpuStorage, ld: &Layout, alpha: f64, src: &CpuStorage, ls: &Layout) -> Result<()> {
    fn go<T: crate::dtype::FloatElem>(d: &mut [T], ld: &Layout, alpha: T, s: &[T], ls: &Layout) {
        let rows = Rows::new(ld.shape(), [ld, ls]);
        let [sd, ss] = rows.inner_strides();
        let n = rows.inner_len();
        rows.for_rows(0, rows.row_count(), |_, [od, os]| {
            if sd == 1 && ss == 1 {
                for (x, &y) in d[od..od + n].iter_mut().zip(&s[os..os + n]) {
                    *x = *x + alpha * y;
                }
            } else {
                for i in 0..n {
                    d[od + i * sd] = d[od + i * sd] + alpha * s[os + i * ss];
                }
            }
        });
    }
    match (dst, src) {
        (CpuStorage::F32(d), CpuStorage::F32(s)) => go(d, ld, alpha as f32, s, ls),
        (CpuStorage::F64(d), CpuStorage::F64(s)) => go(d, ld, alpha, s, ls),
        (d, s) => bail!(Error::dtype(
            "add_scaled_",
            format!("needs two f32 or two f64 tensors, got {} and {}", d.dtype(), s.dtype())
        )),
    }
    Ok(())
}
