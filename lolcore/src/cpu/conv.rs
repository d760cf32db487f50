//! conv2d on the CPU as im2col + GEMM, and its two backward products, one image at a
//! time: an image's unfolded columns (`[c·kh·kw, ho·wo]`) stay in the core's L2 cache
//! between the unfolding and the GEMM that reads them, each image's output lands in
//! place, and a batch spreads over the threads an image per task (claimed dynamically,
//! so a slower core simply takes fewer). Batches too small to occupy every thread run
//! image by image with the GEMMs themselves parallel.

use super::buffer_pool as pool;
use super::gemm::{GemmElem, MatRef};
use super::storage::{CpuElem, CpuStorage};
use super::strided::{row_major, RowMajor};
use super::thread_pool::{num_threads, par_chunks_mut};
use super::unfold::{col2im, im2col_row};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::ConvGeom;
use crate::Device;

/// Whether a batch of `n` images keeps every thread busy one image per task.
fn batch_parallel(n: usize) -> bool {
    n >= 2 * num_threads()
}

/// Calls `f(b, part, inner_parallel)` for consecutive parts of `out` (`per` elements,
/// one per image): in parallel across images, or in order with `inner_parallel` set.
fn each_image<T: Send>(out: &mut [T], per: usize, f: impl Fn(usize, &mut [T], bool) + Sync) {
    if per == 0 {
        return;
    }
    if batch_parallel(out.len() / per) {
        par_chunks_mut(out, per, |b, part| f(b, part, false));
    } else {
        out.chunks_mut(per).enumerate().for_each(|(b, part)| f(b, part, true));
    }
}

/// Unfolds image `b` of `x` into `cols[c·kh·kw, ho·wo]`.
fn unfold_image<T: GemmElem>(x: &[T], g: &ConvGeom, b: usize, cols: &mut [T], parallel: bool) {
    let hw = g.ho * g.wo;
    let cols = &mut cols[..g.c * g.kh * g.kw * hw];
    if parallel {
        par_chunks_mut(cols, hw, |r, row| im2col_row(x, g, b, 1, r, row));
    } else {
        cols.chunks_mut(hw).enumerate().for_each(|(r, row)| im2col_row(x, g, b, 1, r, row));
    }
}

/// Output planes smaller than this are convolved for the whole batch in one GEMM.
const BATCH_GEMM_MAX_HW: usize = 256;

fn forward<T: GemmElem>(x: &[T], w: &[T], bias: Option<&[T]>, g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    if g.n > 1 && hw < BATCH_GEMM_MAX_HW {
        return forward_batched(x, w, bias, g);
    }
    let mut out = pool::take::<T>(g.n * g.o * hw);
    each_image(&mut out, g.o * hw, |b, y, par| {
        let mut cols = pool::take::<T>(g.c * g.kh * g.kw * hw);
        unfold_image(x, g, b, &mut cols, par);
        // y_g[og, hw] = W_g[og, k] · cols_g[k, hw], written straight into the output.
        for gi in 0..groups {
            let am = MatRef { data: w, offset: gi * og * k, rs: k, cs: 1 };
            let bm = MatRef { data: &cols[..], offset: gi * k * hw, rs: hw, cs: 1 };
            T::gemm(og, hw, k, am, bm, &mut y[gi * og * hw..(gi + 1) * og * hw], false, par);
        }
        if let Some(bv) = bias {
            for (plane, &bo) in y.chunks_mut(hw).zip(bv) {
                plane.iter_mut().for_each(|v| *v = *v + bo);
            }
        }
        pool::recycle(cols);
    });
    out
}

fn backward_input<T: GemmElem>(gy: &[T], w: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let mut dx = pool::take::<T>(g.n * g.c * g.h * g.w);
    each_image(&mut dx, g.c * g.h * g.w, |b, d, par| {
        let mut cols = pool::take::<T>(groups * k * hw);
        // cols_g[k, hw] = W_gᵀ[k, og] · gy_g[og, hw], then folded back onto the image.
        for gi in 0..groups {
            let wt = MatRef { data: w, offset: gi * og * k, rs: 1, cs: k };
            let gm = MatRef { data: gy, offset: (b * g.o + gi * og) * hw, rs: hw, cs: 1 };
            T::gemm(k, hw, og, wt, gm, &mut cols[gi * k * hw..(gi + 1) * k * hw], false, par);
        }
        d.fill(T::zero());
        col2im(&cols, g, 0, g.c, d, hw, 0);
        pool::recycle(cols);
    });
    dx
}

/// `dW` summed over images `lo..hi`, transposed per group: `acc[gi][k, og]`.
fn weight_grad_part<T: GemmElem>(x: &[T], gy: &[T], g: &ConvGeom, lo: usize, hi: usize, acc: &mut [T], par: bool) {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let mut cols = pool::take::<T>(groups * k * hw);
    acc.fill(T::zero());
    for b in lo..hi {
        unfold_image(x, g, b, &mut cols, par);
        // acc_g[k, og] += cols_g[k, hw] · gy_gᵀ[hw, og]: the unfolded image is the packed
        // (row-major) side, the narrow output gradient the transposed one.
        for gi in 0..groups {
            let cm = MatRef { data: &cols[..], offset: gi * k * hw, rs: hw, cs: 1 };
            let gt = MatRef { data: gy, offset: (b * g.o + gi * og) * hw, rs: 1, cs: hw };
            T::gemm(k, og, hw, cm, gt, &mut acc[gi * k * og..(gi + 1) * k * og], true, par);
        }
    }
    pool::recycle(cols);
}

fn backward_weight<T: GemmElem>(x: &[T], gy: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let size = g.o * k;
    // Partial sums over contiguous runs of images, a few per thread, added at the end.
    let parts = if batch_parallel(g.n) { (2 * num_threads()).min(g.n) } else { 1 };
    let mut partial = pool::take::<T>(parts * size);
    if parts > 1 {
        par_chunks_mut(&mut partial, size, |p, acc| {
            weight_grad_part(x, gy, g, p * g.n / parts, (p + 1) * g.n / parts, acc, false)
        });
    } else {
        weight_grad_part(x, gy, g, 0, g.n, &mut partial, true);
    }
    let mut dw = pool::take::<T>(size);
    for gi in 0..groups {
        for oo in 0..og {
            for kk in 0..k {
                let at = gi * k * og + kk * og + oo;
                let mut s = partial[at];
                for p in 1..parts {
                    s = s + partial[p * size + at];
                }
                dw[(gi * og + oo) * k + kk] = s;
            }
        }
    }
    pool::recycle(partial);
    dw
}

fn contiguous<'a, T: CpuElem>(v: &'a [T], l: &Layout) -> RowMajor<'a, T> {
    row_major(v, l)
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

/// The whole batch as one product `W[o, k] · cols[k, n·hw]`: for small planes (the deep
/// stages of a ResNet, 14×14 and 7×7) per-image GEMMs are too narrow to fill the
/// micro-kernel's 16-wide tiles and pack every weight once per image.
fn forward_batched<T: GemmElem>(x: &[T], w: &[T], bias: Option<&[T]>, g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let (hw, nhw) = (g.ho * g.wo, g.n * g.ho * g.wo);
    let mut cols = pool::take::<T>(g.c * g.kh * g.kw * nhw);
    par_chunks_mut(&mut cols, nhw, |r, row| im2col_row(x, g, 0, g.n, r, row));
    let mut prod = pool::take::<T>(g.o * nhw);
    for gi in 0..groups {
        let am = MatRef { data: w, offset: gi * og * k, rs: k, cs: 1 };
        let bm = MatRef { data: &cols[..], offset: gi * k * nhw, rs: nhw, cs: 1 };
        T::gemm(og, nhw, k, am, bm, &mut prod[gi * og * nhw..(gi + 1) * og * nhw], false, true);
    }
    pool::recycle(cols);
    // [o, n, hw] → [n, o, hw], with the bias.
    let mut out = pool::take::<T>(g.n * g.o * hw);
    par_chunks_mut(&mut out, g.o * hw, |b, y| {
        for (o, plane) in y.chunks_mut(hw).enumerate() {
            let src = &prod[o * nhw + b * hw..o * nhw + (b + 1) * hw];
            match bias {
                Some(bv) => plane.iter_mut().zip(src).for_each(|(d, &v)| *d = v + bv[o]),
                None => plane.copy_from_slice(src),
            }
        }
    });
    pool::recycle(prod);
    out
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
