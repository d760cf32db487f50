//! Fused scaled-dot-product attention on the CPU, forward and backward, for f32 and f64.
//!
//! Each head is processed in blocks of `ROWS` query rows: the block's scores
//! `[ROWS, S]` are computed, masked, soft-maxed and multiplied by V at once, so no head
//! ever holds more than `ROWS × S` scores (never the whole `[L, S]` matrix, let alone
//! `[B, H, L, S]`). The forward keeps only each row's log-sum-exp; the backward
//! recomputes the probabilities block by block from it (as FlashAttention does).
//! Heads run in parallel on the pool; the GEMMs inside a head are single-threaded.

use super::gemm::{dgemm, sgemm, MatRef};
use super::thread_pool::par_chunks_mut;

/// Query rows per block.
const ROWS: usize = 64;

/// Sizes and options of one attention call: `bh` heads (batch × heads), queries
/// `[bh, l, e]`, keys `[bh, s, e]`, values `[bh, s, ev]`.
#[derive(Clone, Debug)]
pub struct AttnGeom {
    pub bh: usize,
    pub l: usize,
    pub s: usize,
    pub e: usize,
    pub ev: usize,
    pub scale: f64,
    /// Query `i` sees keys `j ≤ i` only (PyTorch's top-left-aligned causal mask).
    pub causal: bool,
    /// For each head, the `[l, s]` block of the additive mask it uses (`None`: no mask).
    pub bias_block: Option<Vec<usize>>,
}

/// The float types the kernel runs on.
pub trait AttnFloat: Copy + Send + Sync + PartialOrd + std::fmt::Debug + 'static {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    /// `C (+)= A·B`, single-threaded.
    fn gemm(m: usize, n: usize, k: usize, a: MatRef<Self>, b: MatRef<Self>, c: &mut [Self], acc: bool);
}
impl AttnFloat for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn gemm(m: usize, n: usize, k: usize, a: MatRef<f32>, b: MatRef<f32>, c: &mut [f32], acc: bool) {
        sgemm(m, n, k, a, b, c, acc, false)
    }
}
impl AttnFloat for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn gemm(m: usize, n: usize, k: usize, a: MatRef<f64>, b: MatRef<f64>, c: &mut [f64], acc: bool) {
        dgemm(m, n, k, a, b, c, acc)
    }
}

fn rows<T>(data: &[T], offset: usize, stride: usize) -> MatRef<'_, T> {
    MatRef { data, offset, rs: stride, cs: 1 }
}
fn cols<T>(data: &[T], offset: usize, stride: usize) -> MatRef<'_, T> {
    MatRef { data, offset, rs: 1, cs: stride }
}

/// Scaled, masked scores of query rows `r0..r0+n` of head `h` into `sc` (`[n, s]`).
#[allow(clippy::too_many_arguments)]
fn scores<T: AttnFloat>(g: &AttnGeom, h: usize, r0: usize, n: usize, q: &[T], k: &[T], bias: &[T], sc: &mut [T]) {
    let (l, s, e) = (g.l, g.s, g.e);
    T::gemm(n, s, e, rows(q, (h * l + r0) * e, e), cols(k, h * s * e, e), sc, false);
    let block = g.bias_block.as_ref().map(|b| b[h] * l * s);
    for i in 0..n {
        let row = &mut sc[i * s..(i + 1) * s];
        for (j, v) in row.iter_mut().enumerate() {
            let mut x = v.to_f64() * g.scale;
            if let Some(b) = block {
                x += bias[b + (r0 + i) * s + j].to_f64();
            }
            if g.causal && j > r0 + i {
                x = f64::NEG_INFINITY;
            }
            *v = T::from_f64(x);
        }
    }
}

/// Forward: `out [bh, l, ev]` and each row's log-sum-exp `[bh, l]`. A query whose keys
/// are all masked gets a zero output (as PyTorch's scaled_dot_product_attention).
pub fn forward<T: AttnFloat>(g: &AttnGeom, q: &[T], k: &[T], v: &[T], bias: &[T]) -> (Vec<T>, Vec<T>) {
    let (l, s, ev) = (g.l, g.s, g.ev);
    let mut out = vec![T::from_f64(0.0); g.bh * l * ev];
    let mut lse = vec![T::from_f64(0.0); g.bh * l];
    // One task per head: its output rows and log-sum-exps are disjoint from the others'.
    let per_head = l * (ev + 1);
    let mut joined = vec![T::from_f64(0.0); g.bh * per_head];
    par_chunks_mut(&mut joined, per_head.max(1), |h, chunk| {
        let (o, m) = chunk.split_at_mut(l * ev);
        let mut sc = vec![T::from_f64(0.0); ROWS.min(l) * s];
        for r0 in (0..l).step_by(ROWS) {
            let n = ROWS.min(l - r0);
            scores(g, h, r0, n, q, k, bias, &mut sc);
            for i in 0..n {
                let row = &mut sc[i * s..(i + 1) * s];
                let mx = row.iter().map(|x| x.to_f64()).fold(f64::NEG_INFINITY, f64::max);
                if mx == f64::NEG_INFINITY {
                    // Every key masked: a zero output, and a log-sum-exp of +∞ so that
                    // the backward's recomputed probabilities are 0 too.
                    row.iter_mut().for_each(|x| *x = T::from_f64(0.0));
                    m[r0 + i] = T::from_f64(f64::INFINITY);
                    continue;
                }
                let shift = mx;
                let mut sum = 0.0;
                for x in row.iter_mut() {
                    let p = (x.to_f64() - shift).exp();
                    sum += p;
                    *x = T::from_f64(p);
                }
                let inv = 1.0 / sum;
                for x in row.iter_mut() {
                    *x = T::from_f64(x.to_f64() * inv);
                }
                m[r0 + i] = T::from_f64(shift + sum.ln());
            }
            T::gemm(n, ev, s, rows(&sc, 0, s), rows(v, h * s * ev, ev), &mut o[r0 * ev..(r0 + n) * ev], false);
        }
    });
    for h in 0..g.bh {
        let chunk = &joined[h * per_head..(h + 1) * per_head];
        out[h * l * ev..(h + 1) * l * ev].copy_from_slice(&chunk[..l * ev]);
        lse[h * l..(h + 1) * l].copy_from_slice(&chunk[l * ev..]);
    }
    (out, lse)
}

/// Backward: `(dq, dk, dv)` from the output gradient `dout`, the output and the
/// log-sum-exps of the forward.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: AttnFloat>(
    g: &AttnGeom,
    q: &[T],
    k: &[T],
    v: &[T],
    bias: &[T],
    out: &[T],
    lse: &[T],
    dout: &[T],
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let (l, s, e, ev) = (g.l, g.s, g.e, g.ev);
    let per_head = l * e + s * e + s * ev;
    let mut joined = vec![T::from_f64(0.0); g.bh * per_head];
    par_chunks_mut(&mut joined, per_head.max(1), |h, chunk| {
        let (dq, rest) = chunk.split_at_mut(l * e);
        let (dk, dv) = rest.split_at_mut(s * e);
        let n_max = ROWS.min(l);
        let (mut p, mut ds) = (vec![T::from_f64(0.0); n_max * s], vec![T::from_f64(0.0); n_max * s]);
        for r0 in (0..l).step_by(ROWS) {
            let n = ROWS.min(l - r0);
            scores(g, h, r0, n, q, k, bias, &mut p);
            for i in 0..n {
                let m = lse[h * l + r0 + i].to_f64();
                for x in p[i * s..(i + 1) * s].iter_mut() {
                    *x = T::from_f64((x.to_f64() - m).exp());
                }
            }
            let (dout_b, q_b) = ((h * l + r0) * ev, (h * l + r0) * e);
            // dV += Pᵀ·dO
            T::gemm(s, ev, n, cols(&p, 0, s), rows(dout, dout_b, ev), dv, r0 > 0);
            // dP = dO·Vᵀ, then dS = P ∘ (dP − rowsum(dO ∘ O)), scaled.
            T::gemm(n, s, ev, rows(dout, dout_b, ev), cols(v, h * s * ev, ev), &mut ds, false);
            for i in 0..n {
                let o = (h * l + r0 + i) * ev;
                let dot: f64 = (0..ev).map(|c| dout[o + c].to_f64() * out[o + c].to_f64()).sum();
                for j in 0..s {
                    let pij = p[i * s + j].to_f64();
                    ds[i * s + j] = T::from_f64(pij * (ds[i * s + j].to_f64() - dot) * g.scale);
                }
            }
            // dQ = dS·K, dK += dSᵀ·Q
            T::gemm(n, e, s, rows(&ds, 0, s), rows(k, h * s * e, e), &mut dq[r0 * e..(r0 + n) * e], false);
            T::gemm(s, e, n, cols(&ds, 0, s), rows(q, q_b, e), dk, r0 > 0);
        }
    });
    let (mut dq, mut dk, mut dv) =
        (Vec::with_capacity(g.bh * l * e), Vec::with_capacity(g.bh * s * e), Vec::with_capacity(g.bh * s * ev));
    for chunk in joined.chunks(per_head.max(1)).take(g.bh) {
        dq.extend_from_slice(&chunk[..l * e]);
        dk.extend_from_slice(&chunk[l * e..l * e + s * e]);
        dv.extend_from_slice(&chunk[l * e + s * e..]);
    }
    (dq, dk, dv)
}
