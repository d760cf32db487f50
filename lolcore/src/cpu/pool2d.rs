//! 2-D max and average pooling on the CPU, parallel over (image, channel) planes.
//! Max pooling also returns the argmax of each window (flat index in its plane), so the
//! backward pass is a scatter with no search.

use super::parallel::{par_chunks_mut, par_chunks_mut2};
use super::pool;
use super::storage::{CpuElem, CpuStorage};
use super::strided::gather_contiguous;
use crate::dtype::FloatElem;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::PoolGeom;
use crate::Device;

/// The input rows/cols a window covers, clipped to the image.
fn window(o: usize, stride: usize, pad: usize, k: usize, len: usize) -> (usize, usize) {
    let start = (o * stride) as isize - pad as isize;
    let end = (start + k as isize).min(len as isize);
    (start.max(0) as usize, end.max(0) as usize)
}

fn max_typed<T: FloatElem + CpuElem>(x: &[T], g: &PoolGeom) -> (Vec<T>, Vec<u32>) {
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let planes = g.n * g.c;
    let mut out = pool::take::<T>(planes * plane_out);
    let mut idx = pool::take::<u32>(planes * plane_out);
    let p = g.p;
    let one = |(pl, (o, ix)): (usize, (&mut [T], &mut [u32]))| {
        let src = &x[pl * plane_in..(pl + 1) * plane_in];
        for oh in 0..g.ho {
            let (h0, h1) = window(oh, p.stride.0, p.padding.0, p.kernel.0, g.h);
            for ow in 0..g.wo {
                let (w0, w1) = window(ow, p.stride.1, p.padding.1, p.kernel.1, g.w);
                let mut best = T::lowest();
                let mut at = h0 * g.w + w0;
                for ih in h0..h1 {
                    for iw in w0..w1 {
                        let v = src[ih * g.w + iw];
                        if v > best || v.is_nan() {
                            best = v;
                            at = ih * g.w + iw;
                            if v.is_nan() {
                                break;
                            }
                        }
                    }
                }
                o[oh * g.wo + ow] = best;
                ix[oh * g.wo + ow] = at as u32;
            }
        }
    };
    if planes * plane_in >= super::strided::PAR_THRESHOLD {
        par_chunks_mut2(&mut out, plane_out, &mut idx, plane_out, |i, o, ix| one((i, (o, ix))));
    } else {
        out.chunks_mut(plane_out).zip(idx.chunks_mut(plane_out)).enumerate().for_each(one);
    }
    (out, idx)
}

/// Max pooling: the pooled values and, per output, the flat index `h·W + w` of the
/// maximum within its input plane (u32).
pub fn max_pool2d(x: &CpuStorage, l: &Layout, g: &PoolGeom) -> Result<(CpuStorage, CpuStorage)> {
    Ok(match x {
        CpuStorage::F32(v) => {
            let xc = gather_contiguous(v, l);
            let (o, i) = max_typed(&xc, g);
            pool::recycle(xc);
            (f32::wrap(o), u32::wrap(i))
        }
        CpuStorage::F64(v) => {
            let xc = gather_contiguous(v, l);
            let (o, i) = max_typed(&xc, g);
            (f64::wrap(o), u32::wrap(i))
        }
        other => return Err(Error::unsupported_dtype("max_pool2d", other.dtype(), Device::Cpu)),
    })
}

/// Average pooling; padding counts towards the divisor (PyTorch's `count_include_pad`).
fn avg_typed<T: FloatElem + CpuElem>(x: &[T], g: &PoolGeom) -> Vec<T> {
    let (plane_in, plane_out) = (g.h * g.w, g.ho * g.wo);
    let p = g.p;
    let div = T::from_f64((p.kernel.0 * p.kernel.1) as f64);
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
                o[oh * g.wo + ow] = s / div;
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
    let div = T::from_f64((p.kernel.0 * p.kernel.1) as f64);
    let mut dx = pool::filled::<T>(g.n * g.c * plane_in, T::zero());
    let one = |(pl, d): (usize, &mut [T])| {
        let src = &gy[pl * plane_out..(pl + 1) * plane_out];
        for oh in 0..g.ho {
            let (h0, h1) = window(oh, p.stride.0, p.padding.0, p.kernel.0, g.h);
            for ow in 0..g.wo {
                let (w0, w1) = window(ow, p.stride.1, p.padding.1, p.kernel.1, g.w);
                let v = src[oh * g.wo + ow] / div;
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
        CpuStorage::F32(v) => f32::wrap(avg_typed(&gather_contiguous(v, l), g)),
        CpuStorage::F64(v) => f64::wrap(avg_typed(&gather_contiguous(v, l), g)),
        other => return Err(Error::unsupported_dtype("avg_pool2d", other.dtype(), Device::Cpu)),
    })
}

/// Gradient of avg_pool2d: each output's gradient spread evenly over its window.
pub fn avg_pool2d_backward(gy: &CpuStorage, l: &Layout, g: &PoolGeom) -> Result<CpuStorage> {
    Ok(match gy {
        CpuStorage::F32(v) => f32::wrap(avg_back_typed(&gather_contiguous(v, l), g)),
        CpuStorage::F64(v) => f64::wrap(avg_back_typed(&gather_contiguous(v, l), g)),
        other => return Err(Error::unsupported_dtype("avg_pool2d_backward", other.dtype(), Device::Cpu)),
    })
}
