//! conv2d and pooling on CUDA: im2col + cuBLAS (one strided-batched GEMM per group and
//! chunk of images), col2im for the input gradient, and for the weight gradient a single
//! GEMM over the whole chunk (images unfolded side by side). Pooling runs as kernels.
//! With cuDNN switched on (`cuda::set_cudnn`) the three convolution products go through
//! it instead; should cuDNN refuse a shape, that call falls back to im2col.

use super::{launch, suffix, CudaStorage};
use crate::error::{bail, Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::ConvGeom;
use crate::ops::pool_params::PoolGeom;
use crate::DType;
use lol_kernels::blas::{gemm_batched, GemmType, Operand, Output};
use lol_kernels::cudarc::driver::PushKernelArg;
use lol_kernels::cudnn::{ConvPass, ConvShape};
use lol_kernels::grid_1d;

/// Unfolded columns per chunk of images stay under this many bytes.
const CHUNK_BYTES: usize = 256 << 20;

fn gemm_type(op: &'static str, s: &CudaStorage) -> Result<GemmType> {
    Ok(match s.dtype {
        DType::F32 => GemmType::F32,
        DType::F64 => GemmType::F64,
        DType::F16 => GemmType::F16,
        DType::BF16 => GemmType::BF16,
        other => bail!(Error::unsupported_dtype(op, other, s.device())),
    })
}

fn geom_args(g: &ConvGeom) -> [u64; 13] {
    let p = g.p;
    [g.c, g.h, g.w, g.kh, g.kw, g.ho, g.wo, p.stride.0, p.stride.1, g.pad.0, g.pad.1, p.dilation.0, p.dilation.1]
        .map(|v| v as u64)
}

/// The kernels' `struct PoolGeom` (pool.cu), field by field.
fn pool_args(g: &PoolGeom) -> [u64; 12] {
    let p = g.p;
    [
        g.h,
        g.w,
        g.ho,
        g.wo,
        p.kernel.0,
        p.kernel.1,
        p.stride.0,
        p.stride.1,
        p.padding.0,
        p.padding.1,
        p.dilation.0,
        p.dilation.1,
    ]
    .map(|v| v as u64)
}

fn conv_shape(g: &ConvGeom) -> ConvShape {
    let p = g.p;
    ConvShape {
        n: g.n,
        c: g.c,
        h: g.h,
        w: g.w,
        o: g.o,
        kh: g.kh,
        kw: g.kw,
        ho: g.ho,
        wo: g.wo,
        pad: [g.pad.0, g.pad.1],
        stride: [p.stride.0, p.stride.1],
        dilation: [p.dilation.0, p.dilation.1],
        groups: p.groups,
    }
}

impl CudaStorage {
    /// Runs one convolution product through cuDNN when it is switched on; `false` when it
    /// is off or refused this shape (said once on stderr), so the caller uses im2col.
    fn try_cudnn(&self, ty: GemmType, g: &ConvGeom, pass: ConvPass, a: u64, b: u64, out: u64) -> bool {
        if !self.dev.cudnn_enabled() {
            return false;
        }
        match self.dev.with_dnn(|d| d.conv(&self.dev, ty, &conv_shape(g), pass, a, b, out)) {
            Ok(()) => true,
            Err(e) => {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| eprintln!("lol: cuDNN convolution refused ({e}); using im2col + cuBLAS there"));
                false
            }
        }
    }

    /// This view dense (itself when it already is, from offset 0).
    fn dense(&self, l: &Layout) -> Result<Option<CudaStorage>> {
        if l.is_contiguous() && l.offset() == 0 {
            Ok(None)
        } else {
            Ok(Some(self.contiguous(l)?))
        }
    }

    /// Images per chunk and the column buffer for one chunk.
    fn cols_for(&self, g: &ConvGeom) -> Result<(usize, CudaStorage)> {
        let per_image = g.c * g.kh * g.kw * g.ho * g.wo;
        let per = (CHUNK_BYTES / (per_image * self.dtype.size_in_bytes()).max(1)).clamp(1, g.n.max(1));
        Ok((per, self.alloc_like(self.dtype, per * per_image)?))
    }

    /// im2col of images `b0..b0+nb` into `cols` (`wide`: images side by side).
    fn im2col(&self, g: &ConvGeom, b0: usize, nb: usize, wide: bool, cols: &CudaStorage) -> Result<()> {
        let total = nb * g.c * g.kh * g.kw * g.ho * g.wo;
        let f = self.function("conv", &format!("im2col_{}", suffix(self.dtype)))?;
        let (t, n64, w, geom) = (total as u64, nb as u64, wide as i32, geom_args(g));
        let x = self.ptr() + (b0 * g.c * g.h * g.w * self.dtype.size_in_bytes()) as u64;
        let c = cols.ptr();
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&t).arg(&n64).arg(&w).arg(&geom).arg(&x).arg(&c);
        launch(b, grid_1d(total), "im2col")
    }

    pub fn conv2d(&self, l: &Layout, w: &Self, lw: &Layout, bias: Option<&Self>, g: &ConvGeom) -> Result<Self> {
        super::elementwise::same_gpu("conv2d", self, w)?;
        let ty = gemm_type("conv2d", self)?;
        let (xd, wd) = (self.dense(l)?, w.dense(lw)?);
        let (x, w) = (xd.as_ref().unwrap_or(self), wd.as_ref().unwrap_or(w));
        let out = self.alloc_like(self.dtype, g.n * g.o * g.ho * g.wo)?;
        if out.len == 0 {
            return Ok(out);
        }
        if !self.try_cudnn(ty, g, ConvPass::Forward, x.ptr(), w.ptr(), out.ptr()) {
            x.conv2d_im2col(ty, w, g, &out)?;
        }
        if let Some(bias) = bias {
            let f = self.function("elementwise", &format!("channel_bias_{}", suffix(self.dtype)))?;
            let (n64, c64, hw64, bp, y) = (out.len as u64, g.o as u64, (g.ho * g.wo) as u64, bias.ptr(), out.ptr());
            let mut b = self.dev.stream.launch_builder(&f);
            b.arg(&n64).arg(&c64).arg(&hw64).arg(&bp).arg(&y);
            launch(b, grid_1d(out.len), "conv2d bias")?;
        }
        Ok(out)
    }

    /// `out = conv(self, w)` by im2col and one strided-batched GEMM per group and chunk.
    fn conv2d_im2col(&self, ty: GemmType, w: &Self, g: &ConvGeom, out: &Self) -> Result<()> {
        let (groups, hw) = (g.p.groups, g.ho * g.wo);
        let (cg, og) = (g.c / groups, g.o / groups);
        let k = cg * g.kh * g.kw;
        let elem = self.dtype.size_in_bytes() as u64;
        let (per, cols) = self.cols_for(g)?;
        for b0 in (0..g.n).step_by(per) {
            let nb = per.min(g.n - b0);
            self.im2col(g, b0, nb, false, &cols)?;
            for gi in 0..groups {
                // out[b, gi·og.., :] = W_g · cols[b][gi·k.., :] for every image of the chunk.
                let a =
                    Operand { ptr: w.ptr() + (gi * og * k) as u64 * elem, transposed: false, ld: k, batch_stride: 0 };
                let bm = Operand {
                    ptr: cols.ptr() + (gi * k * hw) as u64 * elem,
                    transposed: false,
                    ld: hw,
                    batch_stride: g.c * g.kh * g.kw * hw,
                };
                let c = Output { ptr: out.ptr() + ((b0 * g.o + gi * og) * hw) as u64 * elem, batch_stride: g.o * hw };
                gemm_batched(&self.dev, ty, og, hw, k, a, bm, c, nb, false).map_err(Error::Cuda)?;
            }
        }
        Ok(())
    }

    /// `self` = the output gradient `[n, o, ho, wo]`.
    pub fn conv2d_backward_input(&self, l: &Layout, w: &Self, lw: &Layout, g: &ConvGeom) -> Result<Self> {
        let ty = gemm_type("conv2d_backward_input", self)?;
        let (gd, wd) = (self.dense(l)?, w.dense(lw)?);
        let (gy, w) = (gd.as_ref().unwrap_or(self), wd.as_ref().unwrap_or(w));
        let dx = self.alloc_like(self.dtype, g.n * g.c * g.h * g.w)?;
        if dx.len == 0 {
            return Ok(dx);
        }
        if self.try_cudnn(ty, g, ConvPass::BackwardData, w.ptr(), gy.ptr(), dx.ptr()) {
            return Ok(dx);
        }
        let (groups, hw) = (g.p.groups, g.ho * g.wo);
        let (cg, og) = (g.c / groups, g.o / groups);
        let k = cg * g.kh * g.kw;
        let elem = self.dtype.size_in_bytes() as u64;
        let (per, cols) = gy.cols_for(g)?;
        let f = self.function("conv", &format!("col2im_{}", suffix(self.dtype)))?;
        for b0 in (0..g.n).step_by(per) {
            let nb = per.min(g.n - b0);
            for gi in 0..groups {
                // cols[b][gi·k.., :] = W_gᵀ · gy[b][gi·og.., :]
                let a =
                    Operand { ptr: w.ptr() + (gi * og * k) as u64 * elem, transposed: true, ld: k, batch_stride: 0 };
                let bm = Operand {
                    ptr: gy.ptr() + ((b0 * g.o + gi * og) * hw) as u64 * elem,
                    transposed: false,
                    ld: hw,
                    batch_stride: g.o * hw,
                };
                let c = Output { ptr: cols.ptr() + (gi * k * hw) as u64 * elem, batch_stride: g.c * g.kh * g.kw * hw };
                gemm_batched(&self.dev, ty, k, hw, og, a, bm, c, nb, false).map_err(Error::Cuda)?;
            }
            let total = nb * g.c * g.h * g.w;
            let (t, geom, cp) = (total as u64, geom_args(g), cols.ptr());
            let y = dx.ptr() + (b0 * g.c * g.h * g.w) as u64 * elem;
            let mut b = self.dev.stream.launch_builder(&f);
            b.arg(&t).arg(&geom).arg(&cp).arg(&y);
            launch(b, grid_1d(total), "col2im")?;
        }
        Ok(dx)
    }

    /// `self` = the input; `gy` the output gradient.
    pub fn conv2d_backward_weight(&self, l: &Layout, gy: &Self, lg: &Layout, g: &ConvGeom) -> Result<Self> {
        let ty = gemm_type("conv2d_backward_weight", self)?;
        let xd = self.dense(l)?;
        let x = xd.as_ref().unwrap_or(self);
        let (groups, hw) = (g.p.groups, g.ho * g.wo);
        let (cg, og) = (g.c / groups, g.o / groups);
        let k = cg * g.kh * g.kw;
        let elem = self.dtype.size_in_bytes() as u64;
        let dw = self.alloc_like(self.dtype, g.o * k)?;
        if g.n == 0 || hw == 0 {
            dw.fill(0.0)?;
            return Ok(dw);
        }
        if self.dev.cudnn_enabled() {
            let gd = gy.dense(lg)?;
            let gyd = gd.as_ref().unwrap_or(gy);
            if self.try_cudnn(ty, g, ConvPass::BackwardFilter, x.ptr(), gyd.ptr(), dw.ptr()) {
                return Ok(dw);
            }
        }
        dw.fill(0.0)?;
        let (per, cols) = x.cols_for(g)?;
        for b0 in (0..g.n).step_by(per) {
            let nb = per.min(g.n - b0);
            // Images side by side: cols[k_all, nb·hw], and gy as [o, nb·hw].
            x.im2col(g, b0, nb, true, &cols)?;
            let gy_chunk = Layout::new(vec![g.o, nb, hw], vec![hw, g.o * hw, 1], lg.offset() + b0 * g.o * hw);
            let gy_t = if lg.is_contiguous() {
                gy.contiguous(&gy_chunk)?
            } else {
                let full = gy.contiguous(lg)?;
                full.contiguous(&Layout::new(vec![g.o, nb, hw], vec![hw, g.o * hw, 1], b0 * g.o * hw))?
            };
            let ld = nb * hw;
            for gi in 0..groups {
                // dW_g += gy_g · cols_gᵀ  ([og, nb·hw] · [nb·hw, k])
                let a =
                    Operand { ptr: gy_t.ptr() + (gi * og * ld) as u64 * elem, transposed: false, ld, batch_stride: 0 };
                let bm =
                    Operand { ptr: cols.ptr() + (gi * k * ld) as u64 * elem, transposed: true, ld, batch_stride: 0 };
                let c = Output { ptr: dw.ptr() + (gi * og * k) as u64 * elem, batch_stride: 0 };
                gemm_batched(&self.dev, ty, og, k, ld, a, bm, c, 1, true).map_err(Error::Cuda)?;
            }
        }
        Ok(dw)
    }

    pub fn max_pool2d(&self, l: &Layout, g: &PoolGeom) -> Result<(Self, Self)> {
        if !self.dtype.is_float() {
            bail!(Error::unsupported_dtype("max_pool2d", self.dtype, self.device()));
        }
        let xd = self.dense(l)?;
        let x = xd.as_ref().unwrap_or(self);
        let total = g.n * g.c * g.ho * g.wo;
        let (out, idx) = (self.alloc_like(self.dtype, total)?, self.alloc_like(DType::U32, total)?);
        if total == 0 {
            return Ok((out, idx));
        }
        let f = self.function("pool", &format!("maxpool_{}", suffix(self.dtype)))?;
        let (t, geom, xp, y, ip) = (total as u64, pool_args(g), x.ptr(), out.ptr(), idx.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&t).arg(&geom).arg(&xp).arg(&y).arg(&ip);
        launch(b, grid_1d(total), "max_pool2d")?;
        Ok((out, idx))
    }

    pub fn avg_pool2d(&self, l: &Layout, g: &PoolGeom) -> Result<Self> {
        self.pool_kernel("avgpool", l, g, g.n * g.c * g.ho * g.wo)
    }

    pub fn avg_pool2d_backward(&self, l: &Layout, g: &PoolGeom) -> Result<Self> {
        self.pool_kernel("avgpool_backward", l, g, g.n * g.c * g.h * g.w)
    }

    fn pool_kernel(&self, kernel: &str, l: &Layout, g: &PoolGeom, total: usize) -> Result<Self> {
        if !self.dtype.is_float() {
            bail!(Error::unsupported_dtype("avg_pool2d", self.dtype, self.device()));
        }
        let xd = self.dense(l)?;
        let x = xd.as_ref().unwrap_or(self);
        let out = self.alloc_like(self.dtype, total)?;
        if total == 0 {
            return Ok(out);
        }
        let f = self.function("pool", &format!("{kernel}_{}", suffix(self.dtype)))?;
        let (t, geom, xp, y) = (total as u64, pool_args(g), x.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&t).arg(&geom).arg(&xp).arg(&y);
        launch(b, grid_1d(total), kernel)?;
        Ok(out)
    }
}
