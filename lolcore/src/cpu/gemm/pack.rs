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
