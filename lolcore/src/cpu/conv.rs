//! conv2d on the CPU as im2col + GEMM, and its two backward products.
//! Images run in parallel (each thread unfolds into its own column buffer and runs a
//! single-threaded GEMM); a batch smaller than the thread count parallelises inside the
//! GEMM instead. A 1×1, stride-1, unpadded conv skips im2col: the image is the columns.

use super::gemm::{GemmElem, MatRef};
use super::parallel::{num_threads, par_chunks_mut};
use super::pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::gather_contiguous;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::ConvGeom;
use crate::Device;

fn is_pointwise(g: &ConvGeom) -> bool {
    g.kh == 1 && g.kw == 1 && g.p.stride == (1, 1) && g.p.padding == (0, 0)
}

/// Unfolds channels `c0..c0+cg` of one image `[C, H, W]` into `cols[cg·kh·kw, ho·wo]`.
fn im2col<T: GemmElem>(x: &[T], g: &ConvGeom, c0: usize, cg: usize, cols: &mut [T]) {
    let (sh, sw) = g.p.stride;
    let (ph, pw) = g.p.padding;
    let (dh, dw) = g.p.dilation;
    let hw = g.ho * g.wo;
    for c in 0..cg {
        let plane = &x[(c0 + c) * g.h * g.w..(c0 + c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let row = &mut cols[((c * g.kh + i) * g.kw + j) * hw..][..hw];
                for oh in 0..g.ho {
                    let dst = &mut row[oh * g.wo..(oh + 1) * g.wo];
                    let ih = (oh * sh + i * dh) as isize - ph as isize;
                    if ih < 0 || ih >= g.h as isize {
                        dst.fill(T::zero());
                        continue;
                    }
                    let src = &plane[ih as usize * g.w..(ih as usize + 1) * g.w];
                    let off = (j * dw) as isize - pw as isize;
                    for (ow, d) in dst.iter_mut().enumerate() {
                        let iw = (ow * sw) as isize + off;
                        *d = if iw >= 0 && iw < g.w as isize { src[iw as usize] } else { T::zero() };
                    }
                }
            }
        }
    }
}

/// Folds `cols[cg·kh·kw, ho·wo]` back, adding into channels `c0..c0+cg` of `dx [C, H, W]`.
fn col2im<T: GemmElem>(cols: &[T], g: &ConvGeom, c0: usize, cg: usize, dx: &mut [T]) {
    let (sh, sw) = g.p.stride;
    let (ph, pw) = g.p.padding;
    let (dh, dw) = g.p.dilation;
    let hw = g.ho * g.wo;
    for c in 0..cg {
        let plane = &mut dx[(c0 + c) * g.h * g.w..(c0 + c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let row = &cols[((c * g.kh + i) * g.kw + j) * hw..][..hw];
                for oh in 0..g.ho {
                    let ih = (oh * sh + i * dh) as isize - ph as isize;
                    if ih < 0 || ih >= g.h as isize {
                        continue;
                    }
                    let dst = &mut plane[ih as usize * g.w..(ih as usize + 1) * g.w];
                    let off = (j * dw) as isize - pw as isize;
                    for (ow, &v) in row[oh * g.wo..(oh + 1) * g.wo].iter().enumerate() {
                        let iw = (ow * sw) as isize + off;
                        if iw >= 0 && iw < g.w as isize {
                            dst[iw as usize] = dst[iw as usize] + v;
                        }
                    }
                }
            }
        }
    }
}

/// Runs `f(image_index, scratch, parallel_gemm)` for every image, in parallel over images
/// when there are enough of them.
fn per_image<T: GemmElem, O: Send>(
    g: &ConvGeom,
    out: &mut [O],
    chunk: usize,
    scratch_len: usize,
    f: impl Fn(usize, &mut [O], &mut [T], bool) + Sync,
) {
    let by_image = g.n >= num_threads() && num_threads() > 1;
    if by_image {
        // Images in contiguous runs, one scratch buffer per run.
        let per = g.n.div_ceil(num_threads() * 2);
        par_chunks_mut(out, chunk * per, |t, run| {
            let mut scratch = pool::take::<T>(scratch_len);
            for (i, o) in run.chunks_mut(chunk).enumerate() {
                f(t * per + i, o, &mut scratch, false);
            }
            pool::recycle(scratch);
        });
    } else {
        let mut scratch = pool::take::<T>(scratch_len);
        for (b, o) in out.chunks_mut(chunk).enumerate() {
            f(b, o, &mut scratch, true);
        }
        pool::recycle(scratch);
    }
}

fn forward<T: GemmElem>(x: &[T], w: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let mut out = pool::take::<T>(g.n * g.o * hw);
    let pointwise = is_pointwise(g);
    per_image(g, &mut out, g.o * hw, if pointwise { 0 } else { k * hw }, |b, o, cols, par| {
        let img = &x[b * g.c * g.h * g.w..(b + 1) * g.c * g.h * g.w];
        for gi in 0..groups {
            let bm = if pointwise {
                MatRef { data: img, offset: gi * cg * hw, rs: hw, cs: 1 }
            } else {
                im2col(img, g, gi * cg, cg, cols);
                MatRef { data: &*cols, offset: 0, rs: hw, cs: 1 }
            };
            let am = MatRef { data: w, offset: gi * og * k, rs: k, cs: 1 };
            T::gemm(og, hw, k, am, bm, &mut o[gi * og * hw..(gi + 1) * og * hw], false, par);
        }
    });
    out
}

fn backward_input<T: GemmElem>(gy: &[T], w: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let mut dx = pool::filled::<T>(g.n * g.c * g.h * g.w, T::zero());
    let pointwise = is_pointwise(g);
    per_image(g, &mut dx, g.c * g.h * g.w, k * hw, |b, d, cols, par| {
        let gb = &gy[b * g.o * hw..(b + 1) * g.o * hw];
        for gi in 0..groups {
            // cols = W_gᵀ · gy_g  ([k, og] · [og, hw])
            let wt = MatRef { data: w, offset: gi * og * k, rs: 1, cs: k };
            let gm = MatRef { data: gb, offset: gi * og * hw, rs: hw, cs: 1 };
            if pointwise {
                T::gemm(k, hw, og, wt, gm, &mut d[gi * cg * hw..(gi + 1) * cg * hw], false, par);
            } else {
                T::gemm(k, hw, og, wt, gm, cols, false, par);
                col2im(cols, g, gi * cg, cg, d);
            }
        }
    });
    dx
}

fn backward_weight<T: GemmElem>(x: &[T], gy: &[T], g: &ConvGeom) -> Vec<T> {
    let groups = g.p.groups;
    let (cg, og) = (g.c / groups, g.o / groups);
    let k = cg * g.kh * g.kw;
    let hw = g.ho * g.wo;
    let wlen = g.o * k;
    let pointwise = is_pointwise(g);
    // One weight-gradient accumulator per task, summed at the end.
    let tasks = if g.n >= 2 && num_threads() > 1 { num_threads().min(g.n) } else { 1 };
    let per = g.n.div_ceil(tasks);
    let mut partials: Vec<Vec<T>> = (0..tasks).map(|_| Vec::new()).collect();
    par_chunks_mut(&mut partials, 1, |t, slot| {
        slot[0] = {
            let mut dw = pool::filled::<T>(wlen, T::zero());
            let mut cols = pool::take::<T>(if pointwise { 0 } else { k * hw });
            for b in t * per..((t + 1) * per).min(g.n) {
                let img = &x[b * g.c * g.h * g.w..(b + 1) * g.c * g.h * g.w];
                let gb = &gy[b * g.o * hw..(b + 1) * g.o * hw];
                for gi in 0..groups {
                    // dW_g += gy_g · colsᵀ  ([og, hw] · [hw, k])
                    let ct = if pointwise {
                        MatRef { data: img, offset: gi * cg * hw, rs: 1, cs: hw }
                    } else {
                        im2col(img, g, gi * cg, cg, &mut cols);
                        MatRef { data: &cols[..], offset: 0, rs: 1, cs: hw }
                    };
                    let gm = MatRef { data: gb, offset: gi * og * hw, rs: hw, cs: 1 };
                    T::gemm(og, k, hw, gm, ct, &mut dw[gi * og * k..(gi + 1) * og * k], true, tasks == 1);
                }
            }
            pool::recycle(cols);
            dw
        };
    });
    let mut it = partials.into_iter();
    let mut total = it.next().unwrap_or_else(|| pool::filled(wlen, T::zero()));
    for p in it {
        for (a, b) in total.iter_mut().zip(&p) {
            *a = *a + *b;
        }
        pool::recycle(p);
    }
    total
}

fn contiguous<T: CpuElem>(v: &[T], l: &Layout) -> Vec<T> {
    gather_contiguous(v, l)
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

/// `[n, c, h, w] ⋆ [o, c/g, kh, kw] → [n, o, ho, wo]`.
pub fn conv2d(x: &CpuStorage, lx: &Layout, w: &CpuStorage, lw: &Layout, g: &ConvGeom) -> Result<CpuStorage> {
    Ok(float_dispatch!("conv2d", x, w, |x, w| {
        let (xc, wc) = (contiguous(x, lx), contiguous(w, lw));
        let out = forward(&xc, &wc, g);
        pool::recycle(xc);
        pool::recycle(wc);
        out
    }))
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
