//! Elementwise primitives on CUDA: unary, binary, comparisons, select, casts, strided
//! copies and in-place axpy. Every kernel reads strided operands and writes a
//! contiguous output.

use super::{bits_suffix, launch, strided, suffix, CudaStorage};
use crate::error::{bail, Error, Result};
use crate::layout::Layout;
use crate::ops::kinds::{BinaryOp, CmpOp, UnaryOp};
use crate::{DType, Device};
use lol_kernels::cudarc::driver::PushKernelArg;
use lol_kernels::grid_1d;

/// The kernel's op code and two scalar parameters of a unary op.
fn unary_code(op: UnaryOp) -> (i32, f64, f64) {
    match op {
        UnaryOp::Neg => (0, 0.0, 0.0),
        UnaryOp::Exp => (1, 0.0, 0.0),
        UnaryOp::Log => (2, 0.0, 0.0),
        UnaryOp::Sqrt => (3, 0.0, 0.0),
        UnaryOp::Abs => (4, 0.0, 0.0),
        UnaryOp::Sin => (5, 0.0, 0.0),
        UnaryOp::Cos => (6, 0.0, 0.0),
        UnaryOp::Tanh => (7, 0.0, 0.0),
        UnaryOp::Sigmoid => (8, 0.0, 0.0),
        UnaryOp::Relu => (9, 0.0, 0.0),
        UnaryOp::Gelu => (10, 0.0, 0.0),
        UnaryOp::GeluDeriv => (11, 0.0, 0.0),
        UnaryOp::Sqr => (12, 0.0, 0.0),
        UnaryOp::Recip => (13, 0.0, 0.0),
        UnaryOp::Sign => (14, 0.0, 0.0),
        UnaryOp::Step => (15, 0.0, 0.0),
        UnaryOp::Erf => (16, 0.0, 0.0),
        UnaryOp::Floor => (17, 0.0, 0.0),
        UnaryOp::Ceil => (18, 0.0, 0.0),
        UnaryOp::Round => (19, 0.0, 0.0),
        UnaryOp::Affine { mul, add } => (20, mul, add),
        UnaryOp::Powf(e) => (21, e, 0.0),
        UnaryOp::LeakyRelu(a) => (22, a, 0.0),
        UnaryOp::LeakyReluDeriv(a) => (23, a, 0.0),
        UnaryOp::Clamp(lo, hi) => (24, lo, hi),
        UnaryOp::ClampMask(lo, hi) => (25, lo, hi),
    }
}

fn binary_code(op: BinaryOp) -> i32 {
    match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Maximum => 4,
        BinaryOp::Minimum => 5,
        BinaryOp::Pow => 6,
        BinaryOp::MaskPositive => 7,
    }
}

fn cmp_code(op: CmpOp) -> i32 {
    match op {
        CmpOp::Eq => 0,
        CmpOp::Ne => 1,
        CmpOp::Lt => 2,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 5,
    }
}

impl CudaStorage {
    pub fn unary(&self, op: UnaryOp, l: &Layout) -> Result<Self> {
        if !self.dtype.is_float() {
            bail!(Error::unsupported_dtype(op.name(), self.dtype, self.device()));
        }
        let n = l.numel();
        let out = self.alloc_like(self.dtype, n)?;
        let s = strided(op.name(), l.shape(), [l])?;
        let (code, p0, p1) = unary_code(op);
        let f = self.function("elementwise", &format!("unary_{}", suffix(self.dtype)))?;
        let (n64, x, y) = (n as u64, self.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&code).arg(&p0).arg(&p1).arg(&n64);
        s.push(&mut b);
        b.arg(&x).arg(&y);
        launch(b, grid_1d(n), op.name())?;
        Ok(out)
    }

    pub fn binary(&self, op: BinaryOp, la: &Layout, rhs: &Self, lb: &Layout) -> Result<Self> {
        if op == BinaryOp::Pow && !self.dtype.is_float() {
            bail!(Error::unsupported_dtype(op.name(), self.dtype, self.device()));
        }
        self.zip("binary", binary_code(op), self.dtype, op.name(), la, rhs, lb)
    }

    pub fn compare(&self, op: CmpOp, la: &Layout, rhs: &Self, lb: &Layout) -> Result<Self> {
        self.zip("cmp", cmp_code(op), DType::U8, op.name(), la, rhs, lb)
    }

    /// `kernel_<dtype>(code, n, strided a, strided b, a, b, out)` into a new `out_dtype` buffer.
    #[allow(clippy::too_many_arguments)]
    fn zip(
        &self,
        kernel: &str,
        code: i32,
        out_dtype: DType,
        name: &'static str,
        la: &Layout,
        rhs: &Self,
        lb: &Layout,
    ) -> Result<Self> {
        same_gpu(name, self, rhs)?;
        let n = la.numel();
        let out = self.alloc_like(out_dtype, n)?;
        let s = strided(name, la.shape(), [la, lb])?;
        let f = self.function("elementwise", &format!("{kernel}_{}", suffix(self.dtype)))?;
        let (n64, a, bp, y) = (n as u64, self.ptr(), rhs.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&code).arg(&n64);
        s.push(&mut b);
        b.arg(&a).arg(&bp).arg(&y);
        launch(b, grid_1d(n), name)?;
        Ok(out)
    }

    pub fn where_cond(&self, lc: &Layout, a: &Self, la: &Layout, bs: &Self, lb: &Layout) -> Result<Self> {
        if self.dtype != DType::U8 {
            bail!(Error::dtype("where_cond", format!("condition must be u8, got {}", self.dtype)));
        }
        let n = lc.numel();
        let out = a.alloc_like(a.dtype, n)?;
        let s = strided("where_cond", lc.shape(), [lc, la, lb])?;
        let f = self.function("elementwise", &format!("where_{}", bits_suffix(a.dtype)))?;
        let (n64, c, x, z, y) = (n as u64, self.ptr(), a.ptr(), bs.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64);
        s.push(&mut b);
        b.arg(&c).arg(&x).arg(&z).arg(&y);
        launch(b, grid_1d(n), "where_cond")?;
        Ok(out)
    }

    /// A contiguous copy of the view in `dtype`.
    pub fn to_dtype(&self, l: &Layout, dtype: DType) -> Result<Self> {
        let n = l.numel();
        let out = self.alloc_like(dtype, n)?;
        let s = strided("to_dtype", l.shape(), [l])?;
        let f = self.function("elementwise", &format!("cast_{}_{}", suffix(self.dtype), suffix(dtype)))?;
        let (n64, x, y) = (n as u64, self.ptr(), out.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64);
        s.push(&mut b);
        b.arg(&x).arg(&y);
        launch(b, grid_1d(n), "to_dtype")?;
        Ok(out)
    }

    /// A contiguous copy of the view.
    pub fn contiguous(&self, l: &Layout) -> Result<Self> {
        let out = self.alloc_like(self.dtype, l.numel())?;
        let mut o = out;
        o.copy_into_view(&Layout::contiguous(l.shape()), self, l)?;
        Ok(o)
    }

    /// Writes `src` (through `ls`) into the view `ld` of this buffer.
    pub fn copy_into_view(&mut self, ld: &Layout, src: &Self, ls: &Layout) -> Result<()> {
        if self.dtype != src.dtype {
            bail!(Error::dtype("copy", format!("cannot copy {} into {}", src.dtype, self.dtype)));
        }
        same_gpu("copy", self, src)?;
        let n = ld.numel();
        if n == 0 {
            return Ok(());
        }
        let s = strided("copy", ld.shape(), [ld, ls])?;
        let f = self.function("elementwise", &format!("copy_{}", bits_suffix(self.dtype)))?;
        let (n64, x, y) = (n as u64, src.ptr(), self.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64);
        s.push(&mut b);
        b.arg(&x).arg(&y);
        launch(b, grid_1d(n), "copy")
    }

    /// `self[ld] += alpha · src[ls]`.
    pub fn axpy(&mut self, ld: &Layout, alpha: f64, src: &Self, ls: &Layout) -> Result<()> {
        if !self.dtype.is_float() || self.dtype != src.dtype {
            bail!(Error::dtype(
                "add_scaled_",
                format!("needs two float tensors of one dtype, got {} and {}", self.dtype, src.dtype)
            ));
        }
        same_gpu("add_scaled_", self, src)?;
        let n = ld.numel();
        let s = strided("add_scaled_", ld.shape(), [ld, ls])?;
        let f = self.function("elementwise", &format!("axpy_{}", suffix(self.dtype)))?;
        let (n64, y, x) = (n as u64, self.ptr(), src.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n64);
        s.push(&mut b);
        b.arg(&alpha).arg(&y).arg(&x);
        launch(b, grid_1d(n), "add_scaled_")
    }
}

/// Two buffers on one GPU (tensors on two GPUs never meet in a kernel).
pub(crate) fn same_gpu(op: &'static str, a: &CudaStorage, b: &CudaStorage) -> Result<()> {
    if a.dev.ordinal != b.dev.ordinal {
        bail!(Error::DeviceMismatch { op, lhs: Device::Cuda(a.dev.ordinal), rhs: Device::Cuda(b.dev.ordinal) });
    }
    Ok(())
}
