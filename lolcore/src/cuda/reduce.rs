//! Reductions and softmax on CUDA: the reduced dims are moved last (a contiguous copy
//! when the view needs one), then one block reduces each row.

use super::{launch, suffix, CudaStorage};
use crate::error::{bail, Error, Result};
use crate::layout::Layout;
use crate::ops::kinds::{ArgReduceOp, ReduceOp};
use crate::DType;
use lol_kernels::cudarc::driver::PushKernelArg;
use lol_kernels::launch::grid_rows;

/// The layout with `dims` moved last, and its (rows, row length).
fn rows_layout(l: &Layout, dims: &[usize]) -> (Layout, usize, usize) {
    let mut perm: Vec<usize> = (0..l.rank()).filter(|d| !dims.contains(d)).collect();
    perm.extend_from_slice(dims);
    let p = l.permute(&perm);
    let len: usize = dims.iter().map(|&d| l.shape()[d]).product();
    let kept: usize = l.shape().iter().enumerate().filter(|(d, _)| !dims.contains(d)).map(|(_, &s)| s).product();
    let rows = l.numel().checked_div(len).unwrap_or(kept);
    (p, rows, len)
}

impl CudaStorage {
    /// This view as contiguous rows: itself when already dense and at offset 0.
    fn dense_rows(&self, p: &Layout) -> Result<Option<CudaStorage>> {
        if p.is_contiguous() && p.offset() == 0 {
            Ok(None)
        } else {
            Ok(Some(self.contiguous(p)?))
        }
    }

    pub fn reduce(&self, op: ReduceOp, l: &Layout, dims: &[usize]) -> Result<Self> {
        if self.dtype == DType::U8 {
            // No u8 reduction kernel: go through u32 and back.
            let wide = self.to_dtype(l, DType::U32)?;
            let r = wide.reduce(op, &Layout::contiguous(l.shape()), dims)?;
            return r.to_dtype(&Layout::contiguous(&[r.len]), DType::U8);
        }
        let (p, rows, len) = rows_layout(l, dims);
        let dense = self.dense_rows(&p)?;
        let src = dense.as_ref().unwrap_or(self);
        let out = self.alloc_like(self.dtype, rows)?;
        if rows == 0 {
            return Ok(out);
        }
        let code: i32 = match op {
            ReduceOp::Sum => 0,
            ReduceOp::Max => 1,
            ReduceOp::Min => 2,
        };
        let f = self.function("reduce", &format!("reduce_{}", suffix(self.dtype)))?;
        let (r64, l64, x, y) = (rows as u64, len as u64, src.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&code).arg(&r64).arg(&l64);
        // The identity of the reduction, in the element type.
        let (lo, hi) = (op == ReduceOp::Max, op == ReduceOp::Min);
        let f32v: f32 = if lo {
            f32::NEG_INFINITY
        } else if hi {
            f32::INFINITY
        } else {
            0.0
        };
        let f64v: f64 = if lo {
            f64::NEG_INFINITY
        } else if hi {
            f64::INFINITY
        } else {
            0.0
        };
        let f16v: u16 = half::f16::from_f32(f32v).to_bits();
        let bf16v: u16 = half::bf16::from_f32(f32v).to_bits();
        let u32v: u32 = if lo {
            0
        } else if hi {
            u32::MAX
        } else {
            0
        };
        let i64v: i64 = if lo {
            i64::MIN
        } else if hi {
            i64::MAX
        } else {
            0
        };
        match self.dtype {
            DType::F32 => b.arg(&f32v),
            DType::F64 => b.arg(&f64v),
            DType::F16 => b.arg(&f16v),
            DType::BF16 => b.arg(&bf16v),
            DType::U32 => b.arg(&u32v),
            DType::I64 => b.arg(&i64v),
            DType::U8 => bail!(Error::msg("internal: u8 reduce")),
        };
        b.arg(&x).arg(&y);
        launch(b, grid_rows(rows), "reduce")?;
        Ok(out)
    }

    pub fn arg_reduce(&self, op: ArgReduceOp, l: &Layout, dim: usize) -> Result<Self> {
        let (p, rows, len) = rows_layout(l, &[dim]);
        if len == 0 {
            bail!(Error::shape("argmax", format!("cannot reduce empty dim {dim} of shape {:?}", l.shape())));
        }
        let dense = self.dense_rows(&p)?;
        let src = dense.as_ref().unwrap_or(self);
        let out = self.alloc_like(DType::U32, rows)?;
        let code: i32 = if op == ArgReduceOp::ArgMax { 0 } else { 1 };
        let f = self.function("reduce", &format!("arg_{}", suffix(self.dtype)))?;
        let (r64, l64, x, y) = (rows as u64, len as u64, src.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&code).arg(&r64).arg(&l64).arg(&x).arg(&y);
        launch(b, grid_rows(rows), "argmax")?;
        Ok(out)
    }

    pub fn softmax_last(&self, l: &Layout, log: bool) -> Result<Self> {
        if !self.dtype.is_float() {
            bail!(Error::unsupported_dtype("softmax", self.dtype, self.device()));
        }
        let len = l.shape().last().copied().unwrap_or(1);
        let rows = l.numel().checked_div(len).unwrap_or(0);
        let dense = self.dense_rows(l)?;
        let src = dense.as_ref().unwrap_or(self);
        let out = self.alloc_like(self.dtype, l.numel())?;
        if rows == 0 {
            return Ok(out);
        }
        let f = self.function("softmax", &format!("softmax_{}", suffix(self.dtype)))?;
        let (lg, r64, l64, x, y) = (log as i32, rows as u64, len as u64, src.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&lg).arg(&r64).arg(&l64).arg(&x).arg(&y);
        launch(b, grid_rows(rows), "softmax")?;
        Ok(out)
    }
}
