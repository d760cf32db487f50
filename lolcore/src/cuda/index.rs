//! index_select, gather and scatter_add on CUDA. Out-of-range indices raise the device's
//! error flag (reported at the next read-back) and are never followed.

use super::{bits_suffix, launch, strided, suffix, CudaStorage};
use crate::error::{bail, Error, Result};
use crate::layout::{contiguous_strides, Layout};
use crate::DType;
use lol_kernels::cudarc::driver::PushKernelArg;
use lol_kernels::grid_1d;

fn index_suffix(op: &'static str, ids: &CudaStorage) -> Result<&'static str> {
    Ok(match ids.dtype {
        DType::U32 => "u32",
        DType::I64 => "i64",
        DType::U8 => "u8",
        other => bail!(Error::dtype(op, format!("indices must be u32, i64 or u8, got {other}"))),
    })
}

impl CudaStorage {
    pub fn index_select(&self, l: &Layout, ids: &Self, li: &Layout, dim: usize) -> Result<Self> {
        super::elementwise::same_gpu("index_select", self, ids)?;
        let isfx = index_suffix("index_select", ids)?;
        let src = if l.is_contiguous() && l.offset() == 0 { None } else { Some(self.contiguous(l)?) };
        let ids_d = if li.is_contiguous() && li.offset() == 0 { None } else { Some(ids.contiguous(li)?) };
        let (s, i) = (src.as_ref().unwrap_or(self), ids_d.as_ref().unwrap_or(ids));
        let shape = l.shape();
        let (size, post) = (shape[dim], shape[dim + 1..].iter().product::<usize>());
        let pre: usize = shape[..dim].iter().product();
        let n = pre * li.numel() * post;
        let out = self.alloc_like(self.dtype, n)?;
        if n == 0 {
            return Ok(out);
        }
        let f = self.function("index", &format!("index_select_{}_{isfx}", bits_suffix(self.dtype)))?;
        let (n64, nid, sz, p64) = (n as u64, li.numel() as u64, size as u64, post as u64);
        let (ip, sp, op, ep) = (i.ptr(), s.ptr(), out.ptr(), self.dev.err_flag_ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64).arg(&nid).arg(&sz).arg(&p64).arg(&ip).arg(&sp).arg(&op).arg(&ep);
        launch(b, grid_1d(n), "index_select")?;
        Ok(out)
    }

    pub fn gather(&self, l: &Layout, ids: &Self, li: &Layout, dim: usize) -> Result<Self> {
        super::elementwise::same_gpu("gather", self, ids)?;
        let isfx = index_suffix("gather", ids)?;
        let n = li.numel();
        let out = self.alloc_like(self.dtype, n)?;
        if n == 0 {
            return Ok(out);
        }
        // The source seen over the ids' shape, with the gathered dim's stride zeroed.
        let mut src_strides = l.strides().to_vec();
        let dim_stride = src_strides[dim];
        src_strides[dim] = 0;
        let src_view = Layout::new(li.shape().to_vec(), src_strides, l.offset());
        let s = strided("gather", li.shape(), [&src_view, li])?;
        let f = self.function("index", &format!("gather_{}_{isfx}", bits_suffix(self.dtype)))?;
        let (n64, ds, sz) = (n as u64, dim_stride as u64, l.shape()[dim] as u64);
        let (ip, sp, op, ep) = (ids.ptr(), self.ptr(), out.ptr(), self.dev.err_flag_ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64).arg(&s.rank).arg(&s.shape).arg(&s.strides[0]).arg(&s.offsets[0]).arg(&ds).arg(&sz);
        b.arg(&s.strides[1]).arg(&s.offsets[1]).arg(&ip).arg(&sp).arg(&op).arg(&ep);
        launch(b, grid_1d(n), "gather")?;
        Ok(out)
    }

    /// Zeros of `out_shape` plus `self` (shaped like the ids) added at the ids along `dim`.
    pub fn scatter_add(&self, l: &Layout, ids: &Self, li: &Layout, dim: usize, out_shape: &[usize]) -> Result<Self> {
        super::elementwise::same_gpu("scatter_add", self, ids)?;
        let isfx = index_suffix("scatter_add", ids)?;
        if !matches!(self.dtype, DType::F32 | DType::F64 | DType::U32 | DType::I64) {
            bail!(Error::unsupported_dtype("scatter_add", self.dtype, self.device()));
        }
        let out = self.alloc_like(self.dtype, crate::layout::numel(out_shape))?;
        out.fill(0.0)?;
        let n = l.numel();
        if n == 0 {
            return Ok(out);
        }
        let mut out_strides = contiguous_strides(out_shape);
        let out_dim_stride = out_strides[dim];
        out_strides[dim] = 0;
        // Over the source's shape: source, ids and output positions.
        let out_view = Layout::new(l.shape().to_vec(), out_strides, 0);
        let s = strided("scatter_add", l.shape(), [l, li, &out_view])?;
        let f = self.function("index", &format!("scatter_add_{}_{isfx}", suffix(self.dtype)))?;
        let (n64, ods, sz) = (n as u64, out_dim_stride as u64, out_shape[dim] as u64);
        let (ip, sp, op, ep) = (ids.ptr(), self.ptr(), out.ptr(), self.dev.err_flag_ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64)
            .arg(&s.rank)
            .arg(&s.shape)
            .arg(&s.strides[0])
            .arg(&s.offsets[0])
            .arg(&s.strides[1])
            .arg(&s.offsets[1]);
        b.arg(&s.strides[2]).arg(&ods).arg(&sz).arg(&ip).arg(&sp).arg(&op).arg(&ep);
        launch(b, grid_1d(n), "scatter_add")?;
        Ok(out)
    }
}
