//! Packing blocks of A and B into the panel order the micro-kernel streams through.
//! Edges are padded with zeros so the kernel always sees full 6×16 tiles.

use super::kernel_avx2::{MR, NR};
use super::MatRef;
use crate::cpu::thread_pool::par_chunks_mut;

/// A[ic.., pc..] (mlen × kc) → panels of MR rows: `ap[p·kc·MR + k·MR + r]`.
pub fn pack_a(ap: &mut [f32], a: MatRef<f32>, ic: usize, mlen: usize, pc: usize, kc: usize) {
    for (p, panel) in ap.chunks_exact_mut(kc * MR).enumerate() {
        let r0 = ic + p * MR;
        let rows = MR.min(ic + mlen - r0);
        let base = a.offset + r0 * a.rs + pc * a.cs;
        if rows == MR && a.rs == 1 {
            // Column-major A (a transposed operand): six contiguous values per k.
            for (k, dst) in panel.chunks_exact_mut(MR).enumerate() {
                let s = base + k * a.cs;
                dst.copy_from_slice(&a.data[s..s + MR]);
            }
        } else if rows == MR {
            for (k, dst) in panel.chunks_exact_mut(MR).enumerate() {
                let s = base + k * a.cs;
                for (r, d) in dst.iter_mut().enumerate() {
                    *d = a.data[s + r * a.rs];
                }
            }
        } else {
            for (k, dst) in panel.chunks_exact_mut(MR).enumerate() {
                let s = base + k * a.cs;
                for (r, d) in dst.iter_mut().enumerate() {
                    *d = if r < rows { a.data[s + r * a.rs] } else { 0.0 };
                }
            }
        }
    }
}

fn pack_b_panel(panel: &mut [f32], b: MatRef<f32>, pc: usize, kc: usize, c0: usize, cols: usize) {
    let base = b.offset + pc * b.rs + c0 * b.cs;
    if b.rs == 1 && b.cs != 1 {
        #[cfg(target_arch = "x86_64")]
        if cols == NR && super::kernel_avx2::available() {
            // SAFETY: AVX2 is present; the 16 columns × kc rows lie inside `b.data`
            // (the caller's layout) and the panel holds kc·NR values.
            unsafe { pack_b_transposed_avx2(panel, b.data, base, b.cs, kc) };
            return;
        }
        // A transposed B: each column is contiguous in k; read it in one sweep.
        for j in 0..NR {
            if j < cols {
                let col = &b.data[base + j * b.cs..base + j * b.cs + kc];
                for (k, &v) in col.iter().enumerate() {
                    panel[k * NR + j] = v;
                }
            } else {
                for k in 0..kc {
                    panel[k * NR + j] = 0.0;
                }
            }
        }
        return;
    }
    if cols == NR && b.cs == 1 {
        for (k, dst) in panel.chunks_exact_mut(NR).enumerate() {
            let s = base + k * b.rs;
            dst.copy_from_slice(&b.data[s..s + NR]);
        }
    } else {
        for (k, dst) in panel.chunks_exact_mut(NR).enumerate().take(kc) {
            let s = base + k * b.rs;
            for (j, d) in dst.iter_mut().enumerate() {
                *d = if j < cols { b.data[s + j * b.cs] } else { 0.0 };
            }
        }
    }
}

/// B[pc.., jc..] (kc × nc) → panels of NR columns: `bp[p·kc·NR + k·NR + j]`.
pub fn pack_b(bp: &mut [f32], b: MatRef<f32>, pc: usize, kc: usize, jc: usize, nc: usize, parallel: bool) {
    let one = |(p, panel): (usize, &mut [f32])| {
        let c0 = jc + p * NR;
        pack_b_panel(panel, b, pc, kc, c0, NR.min(jc + nc - c0));
    };
    if parallel && kc * nc >= 1 << 16 {
        par_chunks_mut(bp, kc * NR, |p, panel| one((p, panel)));
    } else {
        bp.chunks_exact_mut(kc * NR).enumerate().for_each(one);
    }
}

/// A full panel of a transposed B (columns contiguous in k: a Linear layer's weight)
/// by 8×8 register transposes: reads 8 columns × 8 k at a time, writes 8 panel rows.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pack_b_transposed_avx2(panel: &mut [f32], data: &[f32], base: usize, cs: usize, kc: usize) {
    use std::arch::x86_64::*;
    debug_assert!(panel.len() >= kc * NR && base + (NR - 1) * cs + kc <= data.len());
    let src = data.as_ptr();
    let dst = panel.as_mut_ptr();
    let k8 = kc / 8 * 8;
    for half in 0..NR / 8 {
        let col = |j: usize| src.add(base + (half * 8 + j) * cs);
        let mut k = 0;
        while k < k8 {
            let r: [__m256; 8] = std::array::from_fn(|j| _mm256_loadu_ps(col(j).add(k)));
            // The classic three-stage 8×8 transpose.
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let out = [
                _mm256_permute2f128_ps::<0x20>(u0, u4),
                _mm256_permute2f128_ps::<0x20>(u1, u5),
                _mm256_permute2f128_ps::<0x20>(u2, u6),
                _mm256_permute2f128_ps::<0x20>(u3, u7),
                _mm256_permute2f128_ps::<0x31>(u0, u4),
                _mm256_permute2f128_ps::<0x31>(u1, u5),
                _mm256_permute2f128_ps::<0x31>(u2, u6),
                _mm256_permute2f128_ps::<0x31>(u3, u7),
            ];
            for (i, v) in out.iter().enumerate() {
                _mm256_storeu_ps(dst.add((k + i) * NR + half * 8), *v);
            }
            k += 8;
        }
        for k in k8..kc {
            for j in 0..8 {
                *dst.add(k * NR + half * 8 + j) = *col(j).add(k);
            }
        }
    }
}
