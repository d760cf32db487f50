//! Matrix multiplication on the CPU.
//!
//! f32 runs through our own BLIS-style GEMM: B is packed into panels of 16 columns
//! (shared by all threads), each thread packs its own block of A into panels of 6 rows
//! and runs the AVX2/FMA 6×16 micro-kernel over them. Threads split C's rows (and, for
//! short matrices, its columns) so both cores work without sharing any output. Inputs
//! may have any strides (a transposed operand is packed, never copied first).
//! f64 goes through `matrixmultiply` (used for exact gradient checks, not for speed).

mod kernel_avx2;
mod pack;

use super::thread_pool::{num_threads, par_chunks_mut, par_for};
use kernel_avx2::{MR, NR};
use std::cell::RefCell;

/// Depth of a packed block: A panels (6·KC floats) and B panels (16·KC) stay in L1/L2.
const KC: usize = 256;
/// Most rows of A per block (MC·KC·4 bytes ≈ 144 KiB, within a Zen 3 core's L2).
const MC_MAX: usize = 144;
/// Columns of B per packed block (KC·NC·4 bytes = 3 MiB, in L3).
const NC: usize = 3072;
/// Up to this many rows of A, a row-major B is read in place instead of packed: B is
/// then the big operand, and packing it would cost more than it saves.
const DIRECT_B_MAX_M: usize = 96;
/// Below this many flops one thread is faster than forking.
const PAR_FLOPS: usize = 1 << 21;

/// A read-only strided matrix: element (i, j) is `data[offset + i·rs + j·cs]`.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// Shares the output pointer with worker threads; each task writes a disjoint tile.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// # Safety
    /// `n` must stay inside the output buffer.
    unsafe fn add(self, n: usize) -> OutPtr {
        OutPtr(self.0.add(n))
    }
}

thread_local! {
    static A_PACK: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// A product with a C this small and a much longer K (weight gradients: [out, in] summed
/// over every pixel of a batch) splits K across threads, each into its own C.
const K_SPLIT_MAX_MN: usize = 1 << 16;

/// `C (+)= A·B` with K cut into one range per thread; the partial products are summed.
#[allow(clippy::too_many_arguments)]
fn k_split(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<f32>,
    b: MatRef<f32>,
    c: &mut [f32],
    accumulate: bool,
    threads: usize,
) {
    let per = k.div_ceil(threads).div_ceil(KC) * KC;
    let parts = k.div_ceil(per);
    let mut partial = super::buffer_pool::take::<f32>(parts * m * n);
    par_chunks_mut(&mut partial[..parts * m * n], m * n, |t, p| {
        let (k0, kl) = (t * per, per.min(k - t * per));
        let at = MatRef { offset: a.offset + k0 * a.cs, ..a };
        let bt = MatRef { offset: b.offset + k0 * b.rs, ..b };
        blocked(m, n, kl, at, bt, OutPtr(p.as_mut_ptr()), n, false, 1);
    });
    let dst = &mut c[..m * n];
    if !accumulate {
        dst.copy_from_slice(&partial[..m * n]);
    } else {
        dst.iter_mut().zip(&partial[..m * n]).for_each(|(d, &s)| *d += s);
    }
    for p in partial[m * n..parts * m * n].chunks(m * n) {
        dst.iter_mut().zip(p).for_each(|(d, &s)| *d += s);
    }
    super::buffer_pool::recycle(partial);
}

/// Products with at most this many multiply-adds split C into one tile per thread, each
/// a whole single-threaded GEMM: one fork/join per call instead of one per K block.
const SMALL_MACS: usize = 1 << 26;

/// `C = A·B` (or `C += A·B` when `accumulate`), C row-major `m × n` with row stride `n`.
/// `parallel` lets it use the pool's threads (callers already parallel pass false).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<f32>,
    b: MatRef<f32>,
    c: &mut [f32],
    accumulate: bool,
    parallel: bool,
) {
    assert!(c.len() >= m * n, "sgemm: output too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    if n == 1 {
        return matvec(m, k, a, b, c, 1, accumulate, parallel);
    }
    if m == 1 {
        // C[1, n] = A[1, k]·B[k, n]  ⇔  Cᵀ[n, 1] = Bᵀ[n, k]·Aᵀ[k, 1].
        let bt = MatRef { data: b.data, offset: b.offset, rs: b.cs, cs: b.rs };
        let at = MatRef { data: a.data, offset: a.offset, rs: a.cs, cs: a.rs };
        return matvec(n, k, bt, at, c, 1, accumulate, parallel);
    }
    let threads = if parallel && 2 * m * n * k >= PAR_FLOPS { num_threads() } else { 1 };
    if threads > 1 && m * n <= K_SPLIT_MAX_MN && k >= 8 * (m + n) {
        return k_split(m, n, k, a, b, c, accumulate, threads);
    }
    let out = OutPtr(c.as_mut_ptr());
    if threads > 1 && m * n * k <= SMALL_MACS {
        // One tile of C per thread, split along the longer side on micro-tile boundaries.
        let by_rows = m.div_ceil(MR) >= n.div_ceil(NR);
        let (len, unit) = if by_rows { (m, MR) } else { (n, NR) };
        let per = len.div_ceil(threads).div_ceil(unit) * unit;
        let tiles = len.div_ceil(per);
        par_for(tiles, |t| {
            let (s, l) = (t * per, per.min(len - t * per));
            // SAFETY: tile t writes only rows (or columns) s..s+l of C.
            if by_rows {
                let at = MatRef { offset: a.offset + s * a.rs, ..a };
                blocked(l, n, k, at, b, unsafe { out.add(s * n) }, n, accumulate, 1);
            } else {
                let bt = MatRef { offset: b.offset + s * b.cs, ..b };
                blocked(m, l, k, a, bt, unsafe { out.add(s) }, n, accumulate, 1);
            }
        });
        return;
    }
    blocked(m, n, k, a, b, out, n, accumulate, threads);
}

/// The BLIS loop nest over C (`m × n` at row stride `ldc`). With several threads, B is
/// packed once per block and threads split C's rows (or columns for short matrices).
#[allow(clippy::too_many_arguments)]
fn blocked(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<f32>,
    b: MatRef<f32>,
    out: OutPtr,
    ldc: usize,
    accumulate: bool,
    threads: usize,
) {
    // Row blocks: a multiple of the thread count, each a multiple of MR rows.
    let mut blocks = m.div_ceil(MC_MAX);
    if threads > 1 {
        blocks = blocks.div_ceil(threads) * threads;
    }
    let mc = m.div_ceil(blocks).div_ceil(MR) * MR;
    let n_ic = m.div_ceil(mc);
    let direct_b = b.cs == 1 && m <= DIRECT_B_MAX_M;
    let mut bp = super::buffer_pool::take::<f32>(KC * NC.min(n.div_ceil(NR) * NR));
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        let n_panels = nc.div_ceil(NR);
        let jr_splits = if n_ic >= threads { 1 } else { (threads.div_ceil(n_ic) * 2).min(n_panels) };
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let bsrc = if direct_b {
                // Full panels are read in place; only a ragged last panel is packed.
                let full = nc / NR;
                if full < n_panels {
                    pack::pack_b(&mut bp[..kc * NR], b, pc, kc, jc + full * NR, nc - full * NR, false);
                }
                BSource::Direct { b, pc, jc, full, edge: &bp[..kc * NR] }
            } else {
                pack::pack_b(&mut bp[..n_panels * kc * NR], b, pc, kc, jc, nc, threads > 1);
                BSource::Packed(&bp[..n_panels * kc * NR])
            };
            let acc = accumulate || pc > 0;
            let task = |t: usize| {
                let (ic_i, split) = (t / jr_splits, t % jr_splits);
                let ic = ic_i * mc;
                let mlen = mc.min(m - ic);
                let per = n_panels.div_ceil(jr_splits);
                let (j0, j1) = (split * per, ((split + 1) * per).min(n_panels));
                if j0 >= j1 {
                    return;
                }
                A_PACK.with(|cell| {
                    let mut ap = cell.borrow_mut();
                    let need = mlen.div_ceil(MR) * MR * kc;
                    if ap.len() < need {
                        ap.resize(need, 0.0);
                    }
                    pack::pack_a(&mut ap[..need], a, ic, mlen, pc, kc);
                    macro_tile(&ap[..need], &bsrc, kc, mlen, nc, j0, j1, out, ldc, ic, jc, acc);
                });
            };
            let tasks = n_ic * jr_splits;
            if threads > 1 && tasks > 1 {
                par_for(tasks, task);
            } else {
                (0..tasks).for_each(task);
            }
        }
    }
    super::buffer_pool::recycle(bp);
}

/// Where the micro-kernel reads B from for one (jc, pc) block.
enum BSource<'a> {
    /// Every panel packed: panel jr at `jr·kc·NR`, row stride NR.
    Packed(&'a [f32]),
    /// Panels `0..full` read in place from a row-major B; the ragged last one packed.
    Direct { b: MatRef<'a, f32>, pc: usize, jc: usize, full: usize, edge: &'a [f32] },
}

impl BSource<'_> {
    /// Pointer to panel `jr`'s first row and its row stride.
    fn panel(&self, jr: usize, kc: usize) -> (*const f32, usize) {
        match self {
            BSource::Packed(bp) => (bp[jr * kc * NR..].as_ptr(), NR),
            BSource::Direct { b, pc, jc, full, edge } => {
                if jr < *full {
                    (b.data[b.offset + pc * b.rs + jc + jr * NR..].as_ptr(), b.rs)
                } else {
                    (edge.as_ptr(), NR)
                }
            }
        }
    }
}

/// Runs the micro-kernel over B panels `j0..j1` and every A panel of one packed block.
#[allow(clippy::too_many_arguments)]
fn macro_tile(
    ap: &[f32],
    bsrc: &BSource<'_>,
    kc: usize,
    mlen: usize,
    nc: usize,
    j0: usize,
    j1: usize,
    out: OutPtr,
    ldc: usize,
    ic: usize,
    jc: usize,
    acc: bool,
) {
    let simd = kernel_avx2::available();
    let mut tmp = [0f32; MR * NR];
    for jr in j0..j1 {
        let nr = NR.min(nc - jr * NR);
        let (bptr, ldb) = bsrc.panel(jr, kc);
        for ir in 0..mlen.div_ceil(MR) {
            let mr = MR.min(mlen - ir * MR);
            let apanel = &ap[ir * kc * MR..(ir + 1) * kc * MR];
            let row0 = ic + ir * MR;
            let col0 = jc + jr * NR;
            // SAFETY: the tile rows row0..row0+mr and columns col0..col0+nr lie inside C
            // (m × ldc) and no other task writes them; B's panel holds kc rows of NR
            // values at stride ldb (checked by the callers' layouts).
            unsafe {
                let cptr = out.0.add(row0 * ldc + col0);
                if mr == MR && nr == NR {
                    run_kernel(simd, kc, apanel, bptr, ldb, cptr, ldc, acc);
                } else {
                    run_kernel(simd, kc, apanel, bptr, ldb, tmp.as_mut_ptr(), NR, false);
                    for r in 0..mr {
                        for j in 0..nr {
                            let d = cptr.add(r * ldc + j);
                            *d = if acc { *d + tmp[r * NR + j] } else { tmp[r * NR + j] };
                        }
                    }
                }
            }
        }
    }
}

/// # Safety
/// `b` must hold kc rows of NR floats at stride `ldb`; `c` an MR × NR tile at stride `ldc`.
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn run_kernel(simd: bool, kc: usize, a: &[f32], b: *const f32, ldb: usize, c: *mut f32, ldc: usize, acc: bool) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        return kernel_avx2::kernel_6x16(kc, a.as_ptr(), b, ldb, c, ldc, acc);
    }
    let _ = simd;
    let bs = std::slice::from_raw_parts(b, (kc.max(1) - 1) * ldb + NR);
    let tile = std::slice::from_raw_parts_mut(c, (MR - 1) * ldc + NR);
    kernel_avx2::kernel_generic(kc, a, bs, ldb, tile, ldc, acc);
}

/// `y = A·x` (y contiguous with stride `incy`), for n = 1 products.
#[allow(clippy::too_many_arguments)]
fn matvec(
    m: usize,
    k: usize,
    a: MatRef<f32>,
    x: MatRef<f32>,
    y: &mut [f32],
    incy: usize,
    accumulate: bool,
    parallel: bool,
) {
    if a.rs == 1 && a.cs != 1 && incy == 1 {
        return matvec_columns(m, k, a, x, &mut y[..m], accumulate, parallel);
    }
    let row = |i: usize| -> f32 {
        let base = a.offset + i * a.rs;
        if a.cs == 1 && x.rs == 1 {
            dot(&a.data[base..base + k], &x.data[x.offset..x.offset + k])
        } else {
            (0..k).map(|j| a.data[base + j * a.cs] * x.data[x.offset + j * x.rs]).sum()
        }
    };
    let set = |(i, d): (usize, &mut f32)| {
        let v = row(i);
        *d = if accumulate { *d + v } else { v };
    };
    if parallel && m * k >= PAR_FLOPS / 2 && incy == 1 {
        par_chunks_mut(&mut y[..m], 64, |t, c| c.iter_mut().enumerate().for_each(|(i, d)| set((t * 64 + i, d))));
    } else {
        y.iter_mut().step_by(incy).take(m).enumerate().for_each(set);
    }
}

/// `y = A·x` for an A whose columns are contiguous (`x·B` with B row-major, as in a
/// decoder's one-token projections): y accumulates `x[j]·A[:, j]`, streaming A once.
/// Each thread owns a contiguous range of y and walks every column over it.
fn matvec_columns(m: usize, k: usize, a: MatRef<f32>, x: MatRef<f32>, y: &mut [f32], accumulate: bool, parallel: bool) {
    let part = |i0: usize, c: &mut [f32]| {
        if !accumulate {
            c.fill(0.0);
        }
        let len = c.len();
        for j in 0..k {
            let xj = x.data[x.offset + j * x.rs];
            let s = a.offset + j * a.cs + i0;
            axpy(xj, &a.data[s..s + len], c);
        }
    };
    let threads = num_threads();
    if parallel && threads > 1 && m * k >= PAR_FLOPS / 2 {
        let chunk = m.div_ceil(threads).div_ceil(16) * 16;
        par_chunks_mut(y, chunk, |t, c| part(t * chunk, c));
    } else {
        part(0, y);
    }
}

/// `y += alpha·x`, with AVX2/FMA where the CPU has them.
fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if kernel_avx2::available() {
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        return unsafe { axpy_avx2(alpha, x, y) };
    }
    for (d, &v) in y.iter_mut().zip(x) {
        *d += alpha * v;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_avx2(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (d, &v) in y.iter_mut().zip(x) {
        *d = alpha.mul_add(v, *d);
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if kernel_avx2::available() {
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        return unsafe { dot_avx2(a, b) };
    }
    dot_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    // The same body, compiled with 256-bit registers.
    dot_portable(a, b)
}

#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// f64 `C = A·B` (or `+=`), C row-major `m × n`.
pub fn dgemm(m: usize, n: usize, k: usize, a: MatRef<f64>, b: MatRef<f64>, c: &mut [f64], accumulate: bool) {
    assert!(c.len() >= m * n, "dgemm: output too small");
    if m == 0 || n == 0 {
        return;
    }
    let beta = if accumulate { 1.0 } else { 0.0 };
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: offsets and strides address elements inside `a.data`/`b.data` (checked by
    // the caller's layout), C is m × n dense; beta = 0 never reads C.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr().add(a.offset),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr().add(b.offset),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Float types with a GEMM (for generic conv code).
pub trait GemmElem: crate::dtype::FloatElem + super::storage::CpuElem {
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<Self>,
        b: MatRef<Self>,
        c: &mut [Self],
        accumulate: bool,
        parallel: bool,
    );
}

impl GemmElem for f32 {
    fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<f32>,
        b: MatRef<f32>,
        c: &mut [f32],
        accumulate: bool,
        parallel: bool,
    ) {
        sgemm(m, n, k, a, b, c, accumulate, parallel)
    }
}

impl GemmElem for f64 {
    fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: MatRef<f64>,
        b: MatRef<f64>,
        c: &mut [f64],
        accumulate: bool,
        _parallel: bool,
    ) {
        dgemm(m, n, k, a, b, c, accumulate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &MatRef<f32>, b: &MatRef<f32>) -> Vec<f32> {
        let mut c = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0f64;
                for p in 0..k {
                    s += a.data[a.offset + i * a.rs + p * a.cs] as f64 * b.data[b.offset + p * b.rs + j * b.cs] as f64;
                }
                c[i * n + j] = s as f32;
            }
        }
        c
    }

    #[test]
    fn sgemm_matches_naive_on_odd_shapes_and_strides() {
        let mut seed = 1u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        for &(m, n, k) in &[
            (1, 1, 1),
            (7, 17, 5),
            (13, 33, 300),
            (150, 40, 270),
            (64, 100, 1000),
            (1, 20, 9),
            (9, 1, 20),
            (200, 3100, 7),
            (10, 20, 8000),
            (16, 9, 20000),
            // One row (a decoder's token) large enough to go parallel; full panels of
            // a transposed B with k not a multiple of 8.
            (1, 3000, 800),
            (40, 64, 777),
        ] {
            let av: Vec<f32> = (0..m * k + 3).map(|_| rnd()).collect();
            let bv: Vec<f32> = (0..k * n + 5).map(|_| rnd()).collect();
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = if ta {
                    MatRef { data: &av, offset: 3, rs: 1, cs: m }
                } else {
                    MatRef { data: &av, offset: 3, rs: k, cs: 1 }
                };
                let b = if tb {
                    MatRef { data: &bv, offset: 5, rs: 1, cs: k }
                } else {
                    MatRef { data: &bv, offset: 5, rs: n, cs: 1 }
                };
                let want = naive(m, n, k, &a, &b);
                let mut got = vec![f32::NAN; m * n];
                sgemm(m, n, k, a, b, &mut got, false, true);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()) * (k as f32).sqrt(),
                        "{m}x{n}x{k} {ta} {tb}: {g} vs {w}"
                    );
                }
                let mut acc = want.clone();
                sgemm(m, n, k, a, b, &mut acc, true, false);
                for (g, w) in acc.iter().zip(&want) {
                    assert!((g - 2.0 * w).abs() <= 2e-4 * (1.0 + w.abs()) * (k as f32).sqrt());
                }
            }
        }
    }
}
