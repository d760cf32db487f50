//! conv2d on the CPU as im2col + GEMM, and its two backward products. A chunk of images
//! is unfolded side by side (in parallel) into one wide column matrix, so each product
//! is a single large GEMM per group: the weights are packed once per chunk rather than
//! once per image, and the weight gradient needs no per-thread partial sums.

use super::gemm::{GemmElem, MatRef};
use super::parallel::par_chunks_mut;
use super::pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::{dense, Dense};
use super::unfold::{col2im, im2col_row};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::ConvGeom;
use crate::Device;

/// Bytes of unfolded columns per chunk of images: large enough for one wide GEMM, small
/// enough to stay near cache and bounded for big images.
const CHUNK_BYTES: usize = 8 << 20;

/// Images per chunk so that a chunk's columns fit `CHUNK_BYTES`.
fn chunk_images<T>(g: &ConvGeom) -> usize {
    let per_image = (g.c / g.p.groups) * g.kh * g.kw * g.ho * g.wo * std::mem::size_of::<T>();
    (CHUNK_BYTES / per_image.max(1)).clamp(1, g.n.max(1))
}

/// Images per chunk, and buffers for a chunk's columns `[c·kh·kw, per·hw]` and wide
/// output `[o, per·hw]`.
fn chunk_buffers<T: GemmElem>(g: &ConvGeom) -> (usize, Vec<T>, Vec<T>) {
    let per = chunk_images::<T>(g);
    let hw = g.ho * g.wo;
    (per, pool::take::<T>(g.c * g.kh * g.kw * per * hw), pool::take::<T>(g.o * per * hw))
}

/// Unfolds images `b0..b0+nb` (all channels) side by side: `cols[c·kh·kw, nb·ho·wo]`,
/// one row per task.
fn unfold_chunk<T: GemmElem>(x: &[T], g: &ConvGeom, b0: usize, nb: usize, cols: &mut [T]) {
    let ld = nb * g.ho * g.wo;
    let rows = g.c * g.kh * g.kw;
    par_chunks_mut(&mut cols[..rows * ld], ld, |r, row| im2col_row(x, g, b0, nb, r, row));
}

fn forward<T: GemmElem>(x: &[T], w: &[T], bias: Option<&[T]>, g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let mut out = pool::take::<T>(g.n * g.o * hw);
    let (per, mut cols, mut wide) = chunk_buffers::<T>(g);
    for b0 in (0..g.n).step_by(per) {
        let nb = per.min(g.n - b0);
        let ld = nb * hw;
        unfold_chunk(x, g, b0, nb, &mut cols);
        // wide[o, nb·hw] = W_g · cols_g, one GEMM per group over the whole chunk.
        for gi in 0..groups {
            let am = MatRef { data: w, offset: gi * og * k, rs: k, cs: 1 };
            let bm = MatRef { data: &cols[..], offset: gi * k * ld, rs: ld, cs: 1 };
            T::gemm(og, ld, k, am, bm, &mut wide[gi * og * ld..(gi + 1) * og * ld], false, true);
        }
        // [o, nb, hw] → [nb, o, hw], adding the bias on the way.
        let dst = &mut out[b0 * g.o * hw..(b0 + nb) * g.o * hw];
        par_chunks_mut(dst, g.o * hw, |b, img| {
            for o in 0..g.o {
                let (d, s) = (&mut img[o * hw..(o + 1) * hw], &wide[o * ld + b * hw..o * ld + (b + 1) * hw]);
                match bias {
                    Some(bv) => d.iter_mut().zip(s).for_each(|(d, &s)| *d = s + bv[o]),
                    None => d.copy_from_slice(s),
                }
            }
        });
    }
    pool::recycle(cols);
    pool::recycle(wide);
    out
}

/// `gy [n, o, hw]` images `b0..b0+nb` as `[o, nb·hw]`.
fn gather_grad<T: GemmElem>(gy: &[T], g: &ConvGeom, b0: usize, nb: usize, wide: &mut [T]) {
    let hw = g.ho * g.wo;
    let ld = nb * hw;
    par_chunks_mut(&mut wide[..g.o * ld], ld, |o, row| {
        for b in 0..nb {
            let src = (b0 + b) * g.o * hw + o * hw;
            row[b * hw..(b + 1) * hw].copy_from_slice(&gy[src..src + hw]);
        }
    });
}

fn backward_input<T: GemmElem>(gy: &[T], w: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let img = g.c * g.h * g.w;
    let mut dx = pool::filled::<T>(g.n * img, T::zero());
    let (per, mut cols, mut wide) = chunk_buffers::<T>(g);
    for b0 in (0..g.n).step_by(per) {
        let nb = per.min(g.n - b0);
        let ld = nb * hw;
        gather_grad(gy, g, b0, nb, &mut wide);
        // cols_g = W_gᵀ · gy_g  ([k, og] · [og, nb·hw])
        for gi in 0..groups {
            let wt = MatRef { data: w, offset: gi * og * k, rs: 1, cs: k };
            let gm = MatRef { data: &wide[..], offset: gi * og * ld, rs: ld, cs: 1 };
            T::gemm(k, ld, og, wt, gm, &mut cols[gi * k * ld..(gi + 1) * k * ld], false, true);
        }
        let cols = &cols[..];
        par_chunks_mut(&mut dx[b0 * img..(b0 + nb) * img], img, |b, d| col2im(cols, g, 0, g.c, d, ld, b * hw));
    }
    pool::recycle(cols);
    pool::recycle(wide);
    dx
}

fn backward_weight<T: GemmElem>(x: &[T], gy: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let mut dw = pool::filled::<T>(g.o * k, T::zero());
    let (per, mut cols, mut wide) = chunk_buffers::<T>(g);
    for b0 in (0..g.n).step_by(per) {
        let nb = per.min(g.n - b0);
        let ld = nb * hw;
        unfold_chunk(x, g, b0, nb, &mut cols);
        gather_grad(gy, g, b0, nb, &mut wide);
        // dW_g += gy_g · cols_gᵀ  ([og, nb·hw] · [nb·hw, k]): the whole chunk in one GEMM.
        for gi in 0..groups {
            let gm = MatRef { data: &wide[..], offset: gi * og * ld, rs: ld, cs: 1 };
            let ct = MatRef { data: &cols[..], offset: gi * k * ld, rs: 1, cs: ld };
            T::gemm(og, k, ld, gm, ct, &mut dw[gi * og * k..(gi + 1) * og * k], true, true);
        }
    }
    pool::recycle(cols);
    pool::recycle(wide);
    dw
}

fn contiguous<'a, T: CpuElem>(v: &'a [T], l: &Layout) -> Dense<'a, T> {
    dense(v, l)
}

macro_rules! float_dispatch {
    ($op:literal, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (CpuStorage::F32($x), CpuStorage::F32($y)) => f32::wrap($body),
            (CpuStorage::F64($x), CpuStorage::F64($y)) => f64::wrap($body),
            (a, _) => return Err(Error::unsupported_dtype($op, a.dtype(), Device::Cpu)),
        }
    };
}

/// `[n, c, h, w] ⋆ [o, c/g, kh, kw] (+ bias [o]) → [n, o, ho, wo]`.
pub fn conv2d(
    x: &CpuStorage,
    lx: &Layout,
    w: &CpuStorage,
    lw: &Layout,
    bias: Option<&CpuStorage>,
    g: &ConvGeom,
) -> Result<CpuStorage> {
    Ok(match (x, w, bias) {
        (CpuStorage::F32(x), CpuStorage::F32(w), None) => {
            f32::wrap(forward(&contiguous(x, lx), &contiguous(w, lw), None, g))
        }
        (CpuStorage::F32(x), CpuStorage::F32(w), Some(CpuStorage::F32(b))) => {
            f32::wrap(forward(&contiguous(x, lx), &contiguous(w, lw), Some(b), g))
        }
        (CpuStorage::F64(x), CpuStorage::F64(w), None) => {
            f64::wrap(forward(&contiguous(x, lx), &contiguous(w, lw), None, g))
        }
        (CpuStorage::F64(x), CpuStorage::F64(w), Some(CpuStorage::F64(b))) => {
            f64::wrap(forward(&contiguous(x, lx), &contiguous(w, lw), Some(b), g))
        }
        (a, _, _) => return Err(Error::unsupported_dtype("conv2d", a.dtype(), Device::Cpu)),
    })
}

/// Gradient of conv2d with respect to its input (a transposed convolution of `gy`).
pub fn conv2d_backward_input(
    gy: &CpuStorage,
    lg: &Layout,
    w: &CpuStorage,
    lw: &Layout,
    g: &ConvGeom,
) -> Result<CpuStorage> {
    Ok(float_dispatch!("conv2d_backward_input", gy, w, |gy, w| {
        let (gc, wc) = (contiguous(gy, lg), contiguous(w, lw));
        backward_input(&gc, &wc, g)
    }))
}

/// Gradient of conv2d with respect to its weight.
pub fn conv2d_backward_weight(
    x: &CpuStorage,
    lx: &Layout,
    gy: &CpuStorage,
    lg: &Layout,
    g: &ConvGeom,
) -> Result<CpuStorage> {
    Ok(float_dispatch!("conv2d_backward_weight", x, gy, |x, gy| {
        let (xc, gc) = (contiguous(x, lx), contiguous(gy, lg));
        backward_weight(&xc, &gc, g)
    }))
}
