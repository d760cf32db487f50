//! 2-D max and average pooling on the CPU, parallel over (image, channel) planes.
//! Max pooling also returns the argmax of each window (flat index in its plane), so the
//! backward pass is a scatter with no search.

use super::buffer_pool as pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::row_major;
use super::thread_pool::{par_chunks_mut, par_chunks_mut2};
use crate::dtype::FloatElem;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::pool_params::PoolGeom;
use crate::Device;

/// The input rows/cols a window covers, clipped to the image.
fn window(o: usize, stride: usize, pad: usize, k: usize, len: usize) -> (usize, usize) {
    let start = (o * stride) as isize - pad as isize;
    let end = (start + k as isize).min(len as isize);
    (start.max(0) as usize, end.max(0) as usize)
}

/// How many positions of window `o` lie within the padded input: the divisor of average
/// pooling with padding counted (PyTorch's `count_include_pad`). It is the kernel size
/// except for a `ceil_mode` window that overhangs the padding.
fn span_in_padded(o: usize, stride: usize, pad: usize, k: usize, len: usize) -> usize {
    let start = o * stride;
    (start + k).min(len + 2 * pad) - start
}

/// The input positions (`start + i·dilation`, inside the image) of window `o`.
fn taps(o: usize, stride: usize, pad: usize, k: usize, dilation: usize, len: usize) -> impl Iterator<Item = usize> {
    let start = (o * stride) as isize - pad as isize;
    (0..k)
        .map(move |i| start + (i * dilation) as isize)
        .filter(move |&v| v >= 0 && v < len as isize)
        .map(|v| v as usize)
}

/// Max over each window of one plane. Windows that tile the plane exactly (stride =
/// kernel, no padding: the common 2×2 pool) take a loop without bounds or clipping.
fn max_plane<T: FloatElem + CpuElem>(src: &[T], g: &PoolGeom, o: &mut [T], ix: &mut [u32]) {
    let p = g.p;
    // The fast paths need undilated windows inside the input (a ceil_mode window may
    // overhang it; the general path clips).
    let inside = p.dilation == (1, 1) && !p.ceil_mode;
    if inside && p.kernel == (2, 2) && p.stride == (2, 2) && p.padding == (0, 0) {
        return max_plane_2x2(src, g, o, ix);
    }
    if p.dilation != (1, 1) {
        return max_plane_dilated(src, g, o, ix);
    }
    let tiled = inside && p.stride == p.kernel && p.padding == (0, 0);
    for oh in 0..g.ho {
        let (h0, h1) = if tiled {
            (oh * p.kernel.0, oh * p.kernel.0 + p.kernel.0)
        } else {
            window(oh, p.stride.0, p.padding.0, p.kernel.0, g.h)
        };
        for ow in 0..g.wo {
            let (w0, w1) = if tiled {
                (ow * p.kernel.1, ow * p.kernel.1 + p.kernel.1)
            } else {
                window(ow, p.stride.1, p.padding.1, p.kernel.1, g.w)
            };
            let mut best = src[h0 * g.w + w0];
            let mut at = h0 * g.w + w0;
            for ih in h0..h1 {
                let row = &src[ih * g.w..(ih + 1) * g.w];
                for (iw, &v) in row.iter().enumerate().take(w1).skip(w0) {
                    // NaN wins (and stays), as in PyTorch.
                    if v > best || (v.is_nan() && !best.is_nan()) {
                        best = v;
                        at = ih * g.w + iw;
                    }
                }
            }
            o[oh * g.wo + ow] = best;
            ix[oh * g.wo + ow] = at as u32;
        }
    }
}

/// Max pooling with dilated windows (`MaxPool2d(dilation=...)`).
fn max_plane_dilated<T: FloatElem + CpuElem>(src: &[T], g: &PoolGeom, o: &mut [T], ix: &mut [u32]) {
    let p = g.p;
    for oh in 0..g.ho {
        for ow in 0..g.wo {
            let mut best: Option<(T, usize)> = None;
            for ih in taps(oh, p.stride.0, p.padding.0, p.kernel.0, p.dilation.0, g.h) {
                for iw in taps(ow, p.stride.1, p.padding.1, p.kernel.1, p.dilation.1, g.w) {
                    let v = src[ih * g.w + iw];
                    let wins = match best {
                        None => true,
                        Some((b, _)) => v > b || (v.is_nan() && !b.is_nan()),
                    };
                    if wins {
                        best = Some((v, ih * g.w + iw));
                    }
                }
            }
            // Every window holds at least one input element (the geometry guarantees it).
            let (v, at) = best.unwrap_or((T::zero(), 0));
            o[oh * g.wo + ow] = v;
            ix[oh * g.wo + ow] = at as u32;
        }
    }
}

/// The 2×2, stride-2 window (most CNNs' pool), unrolled and branch-free: which of the
/// four wins is data-dependent and unpredictable, so it is computed as selects.
fn max_plane_2x2<T: FloatElem + CpuElem>(src: &[T], g: &PoolGeom, o: &mut [T], ix: &mut [u32]) {
    let w = g.w;
    // Later candidates win only when strictly larger, or NaN over a number.
    #[inline(always)]
    fn pick<T: FloatElem>(best: T, at: u32, v: T, i: u32) -> (T, u32) {
        let take = (v > best) | (v.is_nan() & !best.is_nan());
        (if take { v } else { best }, if take { i } else { at })
    }
    for oh in 0..g.ho {
        let (r0, r1) = (2 * oh * w, (2 * oh + 1) * w);
        let (top, bottom) = (&src[r0..r0 + 2 * g.wo], &src[r1..r1 + 2 * g.wo]);
        let (orow, irow) = (&mut o[oh * g.wo..(oh + 1) * g.wo], &mut ix[oh * g.wo..(oh + 1) * g.wo]);
        for (ow, ((d, di), (t, b))) in
            orow.iter_mut().zip(irow.iter_mut()).zip(top.chunks_exact(2).zip(bottom.chunks_exact(2))).enumerate()
        {
            let (i0, i1) = ((r0 + 2 * ow) as u32, (r1 + 2 * ow) as u32);
            let (best, at) = pick(t[0], i0, t[1], i0 + 1);
            let (best, at) = pick(best, at, b[0], i1);
            let (best, at) = pick(best, at, b[1], i1 + 1);
            *d = best;
            *di = at;
        }
    }
}

fn max_typed<T: FloatElem + CpuElem>(x: &[T], g: &PoolGeom) -> (Vec<T>, Vec<u32>) {
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let planes = g.n * g.c;
    let mut out = pool::take::<T>(planes * plane_out);
    let mut idx = pool::take::<u32>(planes * plane_out);
    let one = |pl: usize, o: &mut [T], ix: &mut [u32]| max_plane(&x[pl * plane_in..(pl + 1) * plane_in], g, o, ix);
    if planes * plane_in >= super::strided::PAR_THRESHOLD {
        // Runs of planes per task, so small planes do not cost a task each.
        let per = (super::strided::PAR_THRESHOLD / plane_in.max(1)).clamp(1, planes);
        par_chunks_mut2(&mut out, plane_out * per, &mut idx, plane_out * per, |t, o, ix| {
            for (k, (oc, ic)) in o.chunks_mut(plane_out).zip(ix.chunks_mut(plane_out)).enumerate() {
                one(t * per + k, oc, ic);
            }
        });
    } else {
        for (pl, (o, ix)) in out.chunks_mut(plane_out).zip(idx.chunks_mut(plane_out)).enumerate() {
            one(pl, o, ix);
        }
    }
    (out, idx)
}

/// Max pooling: the pooled values and, per output, the flat index `h·W + w` of the
/// maximum within its input plane (u32).
pub fn max_pool2d(x: &CpuStorage, l: &Layout, g: &PoolGeom) -> Result<(CpuStorage, CpuStorage)> {
    Ok(match x {
        CpuStorage::F32(v) => {
            let (o, i) = max_typed(&row_major(v, l), g);
            (f32::wrap(o), u32::wrap(i))
        }
        CpuStorage::F64(v) => {
            let (o, i) = max_typed(&row_major(v, l), g);
            (f64::wrap(o), u32::wrap(i))
        }
        other => return Err(Error::unsupported_dtype("max_pool2d", other.dtype(), Device::Cpu)),
    })
}

/// Average pooling; padding counts towards the divisor (PyTorch's `count_include_pad`).
fn avg_typed<T: FloatElem + CpuElem>(x: &[T], g: &PoolGeom) -> Vec<T> {
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let p = g.p;
    let div = |oh: usize, ow: usize| {
        let a = span_in_padded(oh, p.stride.0, p.padding.0, p.kernel.0, g.h);
        T::from_f64((a * span_in_padded(ow, p.stride.1, p.padding.1, p.kernel.1, g.w)) as f64)
    };
    let mut out = pool::take::<T>(g.n * g.c * plane_out);
    let one = |(pl, o): (usize, &mut [T])| {
        let src = &x[pl * plane_in..(pl + 1) * plane_in];
        for oh in 0..g.ho {
            let (h0, h1) = window(oh, p.stride.0, p.padding.0, p.kernel.0, g.h);
            for ow in 0..g.wo {
                let (w0, w1) = window(ow, p.stride.1, p.padding.1, p.kernel.1, g.w);
                let mut s = T::zero();
                for ih in h0..h1 {
                    for iw in w0..w1 {
                        s = s + src[ih * g.w + iw];
                    }
                }
                o[oh * g.wo + ow] = s / div(oh, ow);
            }
        }
    };
    par_chunks_mut(&mut out, plane_out * 16, |t, run| {
        run.chunks_mut(plane_out).enumerate().for_each(|(i, o)| one((t * 16 + i, o)))
    });
    out
}

fn avg_back_typed<T: FloatElem + CpuElem>(gy: &[T], g: &PoolGeom) -> Vec<T> {
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let p = g.p;
    let div = |oh: usize, ow: usize| {
        let a = span_in_padded(oh, p.stride.0, p.padding.0, p.kernel.0, g.h);
        T::from_f64((a * span_in_padded(ow, p.stride.1, p.padding.1, p.kernel.1, g.w)) as f64)
    };
    let mut dx = pool::filled::<T>(g.n * g.c * plane_in, T::zero());
    let one = |(pl, d): (usize, &mut [T])| {
        let src = &gy[pl * plane_out..(pl + 1) * plane_out];
        for oh in 0..g.ho {
            let (h0, h1) = window(oh, p.stride.0, p.padding.0, p.kernel.0, g.h);
            for ow in 0..g.wo {
                let (w0, w1) = window(ow, p.stride.1, p.padding.1, p.kernel.1, g.w);
                let v = src[oh * g.wo + ow] / div(oh, ow);
                for ih in h0..h1 {
                    for iw in w0..w1 {
                        let e = &mut d[ih * g.w + iw];
                        *e = *e + v;
                    }
                }
            }
        }
    };
    par_chunks_mut(&mut dx, plane_in * 16, |t, run| {
        run.chunks_mut(plane_in).enumerate().for_each(|(i, d)| one((t * 16 + i, d)))
    });
    dx
}

pub fn avg_pool2d(x: &CpuStorage, l: &Layout, g: &PoolGeom) -> Result<CpuStorage> {
    Ok(match x {
        CpuStorage::F32(v) => f32::wrap(avg_typed(&row_major(v, l), g)),
        CpuStorage::F64(v) => f64::wrap(avg_typed(&row_major(v, l), g)),
        other => return Err(Error::unsupported_dtype("avg_pool2d", other.dtype(), Device::Cpu)),
    })
}

/// Gradient of avg_pool2d: each output's gradient spread evenly over its window.
pub fn avg_pool2d_backward(gy: &CpuStorage, l: &Layout, g: &PoolGeom) -> Result<CpuStorage> {
    Ok(match gy {
        CpuStorage::F32(v) => f32::wrap(avg_back_typed(&row_major(v, l), g)),
        CpuStorage::F64(v) => f64::wrap(avg_back_typed(&row_major(v, l), g)),
        other => return Err(Error::unsupported_dtype("avg_pool2d_backward", other.dtype(), Device::Cpu)),
    })
}
