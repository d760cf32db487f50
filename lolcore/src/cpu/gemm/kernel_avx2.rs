//! The 6×16 f32 micro-kernel for AVX2 + FMA: twelve ymm accumulators (6 rows × 2×8
//! columns), two B loads and six A broadcasts per k, which keeps both FMA pipes of a
//! Zen 3 / Skylake core busy.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

pub const MR: usize = 6;
pub const NR: usize = 16;

/// C[0..6, 0..16] (row stride `ldc`) = (C if `accumulate`) + Ap · B, where Ap holds
/// `kc` packed columns of 6 values and B `kc` rows of 16 values at row stride `ldb`
/// (16 for a packed panel, or a row-major matrix read in place).
///
/// # Safety
/// The CPU must support AVX2 and FMA; `a` must hold 6·kc floats, `b` kc rows of 16 at
/// stride `ldb`, and `c` must be valid for 6 rows of 16 floats at stride `ldc`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn kernel_6x16(
    kc: usize,
    a: *const f32,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    let mut a = a;
    let mut b = b;
    macro_rules! step {
        () => {{
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            let x0 = _mm256_broadcast_ss(&*a);
            acc[0][0] = _mm256_fmadd_ps(x0, b0, acc[0][0]);
            acc[0][1] = _mm256_fmadd_ps(x0, b1, acc[0][1]);
            let x1 = _mm256_broadcast_ss(&*a.add(1));
            acc[1][0] = _mm256_fmadd_ps(x1, b0, acc[1][0]);
            acc[1][1] = _mm256_fmadd_ps(x1, b1, acc[1][1]);
            let x2 = _mm256_broadcast_ss(&*a.add(2));
            acc[2][0] = _mm256_fmadd_ps(x2, b0, acc[2][0]);
            acc[2][1] = _mm256_fmadd_ps(x2, b1, acc[2][1]);
            let x3 = _mm256_broadcast_ss(&*a.add(3));
            acc[3][0] = _mm256_fmadd_ps(x3, b0, acc[3][0]);
            acc[3][1] = _mm256_fmadd_ps(x3, b1, acc[3][1]);
            let x4 = _mm256_broadcast_ss(&*a.add(4));
            acc[4][0] = _mm256_fmadd_ps(x4, b0, acc[4][0]);
            acc[4][1] = _mm256_fmadd_ps(x4, b1, acc[4][1]);
            let x5 = _mm256_broadcast_ss(&*a.add(5));
            acc[5][0] = _mm256_fmadd_ps(x5, b0, acc[5][0]);
            acc[5][1] = _mm256_fmadd_ps(x5, b1, acc[5][1]);
            a = a.add(MR);
            b = b.add(ldb);
        }};
    }
    let mut k = kc;
    while k >= 4 {
        step!();
        step!();
        step!();
        step!();
        k -= 4;
    }
    while k > 0 {
        step!();
        k -= 1;
    }
    for (r, row) in acc.iter().enumerate() {
        let p = c.add(r * ldc);
        if accumulate {
            _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), row[0]));
            _mm256_storeu_ps(p.add(8), _mm256_add_ps(_mm256_loadu_ps(p.add(8)), row[1]));
        } else {
            _mm256_storeu_ps(p, row[0]);
            _mm256_storeu_ps(p.add(8), row[1]);
        }
    }
}

/// Whether this CPU can run the AVX2 kernel (checked once).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The portable micro-kernel with the same contract (for CPUs without AVX2).
pub fn kernel_generic(kc: usize, a: &[f32], b: &[f32], ldb: usize, c: &mut [f32], ldc: usize, accumulate: bool) {
    let mut acc = [[0f32; NR]; MR];
    for k in 0..kc {
        let bk = &b[k * ldb..k * ldb + NR];
        for r in 0..MR {
            let x = a[k * MR + r];
            for (j, v) in acc[r].iter_mut().enumerate() {
                *v += x * bk[j];
            }
        }
    }
    for r in 0..MR {
        let row = &mut c[r * ldc..r * ldc + NR];
        for (d, v) in row.iter_mut().zip(acc[r]) {
            *d = if accumulate { *d + v } else { v };
        }
    }
}
