//! Storage on one device, and the primitive ops every backend implements. Tensor ops
//! check shapes, dtypes and devices, then call these; each arm goes to a backend.

use crate::cpu::{self, CpuStorage};
use crate::cuda::CudaStorage;
use crate::error::{bail, Error, Result};
use crate::layout::Layout;
use crate::ops::conv_params::ConvGeom;
use crate::ops::kinds::{ArgReduceOp, BinaryOp, CmpOp, ReduceOp, UnaryOp};
use crate::ops::pool_params::PoolGeom;
use crate::{DType, Device};

pub enum Storage {
    Cpu(CpuStorage),
    Cuda(CudaStorage),
}

/// Runs `$cpu` on CPU storage or `$cuda` on CUDA storage, binding `$s`.
macro_rules! on_device {
    ($self:expr, $s:ident => cpu: $cpu:expr, cuda: $cuda:expr) => {
        match $self {
            Storage::Cpu($s) => Storage::Cpu($cpu),
            Storage::Cuda($s) => Storage::Cuda($cuda),
        }
    };
}

/// Same for two storages; the tensor layer has checked they share a device.
macro_rules! on_device2 {
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| cpu: $cpu:expr, cuda: $cuda:expr) => {
        match ($a, $b) {
            (Storage::Cpu($x), Storage::Cpu($y)) => Storage::Cpu($cpu),
            (Storage::Cuda($x), Storage::Cuda($y)) => Storage::Cuda($cuda),
            (a, b) => bail!(Error::DeviceMismatch { op: $op, lhs: a.device(), rhs: b.device() }),
        }
    };
}

/// Above this many bytes a CPU allocation is tried fallibly first, so that an absurd
/// (but representable) size is an error instead of an abort.
const PROBE_BYTES: usize = 1 << 28;

/// Checks that `len` elements of `dtype` can be allocated for `op`: the byte count must
/// be addressable, and on the CPU a large buffer must be obtainable right now.
pub(crate) fn check_alloc(op: &'static str, len: usize, dtype: DType, device: &Device) -> Result<()> {
    let Some(bytes) = len.checked_mul(dtype.size_in_bytes()).filter(|&b| b <= isize::MAX as usize) else {
        bail!(Error::shape(op, format!("{len} elements of {dtype} are more bytes than memory can address")));
    };
    if device.is_cpu() && bytes > PROBE_BYTES {
        let mut probe: Vec<u8> = Vec::new();
        if probe.try_reserve_exact(bytes).is_err() {
            bail!(Error::OutOfMemory { op, bytes, device: *device });
        }
    }
    Ok(())
}

impl Storage {
    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Cuda(s) => s.device(),
        }
    }
    pub fn dtype(&self) -> DType {
        match self {
            Storage::Cpu(s) => s.dtype(),
            Storage::Cuda(s) => s.dtype(),
        }
    }
    pub fn filled(dtype: DType, len: usize, v: f64, device: &Device) -> Result<Storage> {
        check_alloc("full", len, dtype, device)?;
        Ok(match device {
            Device::Cpu => Storage::Cpu(CpuStorage::filled(dtype, len, v)),
            Device::Cuda(_) => Storage::Cuda(CudaStorage::filled(dtype, len, v, device)?),
        })
    }
    /// Moves a host buffer onto `device`.
    pub fn from_cpu(s: CpuStorage, device: &Device) -> Result<Storage> {
        Ok(match device {
            Device::Cpu => Storage::Cpu(s),
            Device::Cuda(_) => Storage::Cuda(CudaStorage::from_cpu(&s, device)?),
        })
    }
    /// A contiguous host copy of the view.
    pub fn to_cpu(&self, l: &Layout) -> Result<CpuStorage> {
        check_alloc("to_cpu", l.numel(), self.dtype(), &Device::Cpu)?;
        Ok(match self {
            Storage::Cpu(s) => cpu::cast::contiguous(s, l),
            Storage::Cuda(s) => s.to_cpu(l)?,
        })
    }

    pub fn unary(&self, op: UnaryOp, l: &Layout) -> Result<Storage> {
        self.check_out(op.name(), l.numel(), self.dtype())?;
        Ok(on_device!(self, s => cpu: cpu::unary::unary(op, s, l)?, cuda: s.unary(op, l)?))
    }
    pub fn binary(&self, op: BinaryOp, la: &Layout, rhs: &Storage, lb: &Layout) -> Result<Storage> {
        self.check_out(op.name(), la.numel(), self.dtype())?;
        Ok(on_device2!(op.name(), self, rhs, |a, b|
            cpu: cpu::binary::binary(op, a, la, b, lb)?,
            cuda: a.binary(op, la, b, lb)?))
    }
    pub fn compare(&self, op: CmpOp, la: &Layout, rhs: &Storage, lb: &Layout) -> Result<Storage> {
        self.check_out(op.name(), la.numel(), DType::U8)?;
        Ok(on_device2!(op.name(), self, rhs, |a, b|
            cpu: cpu::binary::compare(op, a, la, b, lb)?,
            cuda: a.compare(op, la, b, lb)?))
    }
    pub fn where_cond(&self, lc: &Layout, a: &Storage, la: &Layout, b: &Storage, lb: &Layout) -> Result<Storage> {
        self.check_out("where_cond", lc.numel(), a.dtype())?;
        Ok(match (self, a, b) {
            (Storage::Cpu(c), Storage::Cpu(a), Storage::Cpu(b)) => {
                Storage::Cpu(cpu::binary::where_cond(c, lc, a, la, b, lb)?)
            }
            (Storage::Cuda(c), Storage::Cuda(a), Storage::Cuda(b)) => Storage::Cuda(c.where_cond(lc, a, la, b, lb)?),
            (c, a, _) => bail!(Error::DeviceMismatch { op: "where_cond", lhs: c.device(), rhs: a.device() }),
        })
    }
    pub fn reduce(&self, op: ReduceOp, l: &Layout, dims: &[usize]) -> Result<Storage> {
        self.check_out("reduce", l.numel(), self.dtype())?;
        if l.numel() == 0 {
            // Sums of nothing are 0; an empty max or min was refused by the op.
            let kept: Vec<usize> =
                l.shape().iter().enumerate().filter(|(d, _)| !dims.contains(d)).map(|(_, &n)| n).collect();
            let out = crate::layout::checked_numel("sum", &kept)?;
            self.check_out("sum", out, self.dtype())?;
            return self.zeros(self.dtype(), out);
        }
        Ok(on_device!(self, s => cpu: cpu::reduce::reduce(op, s, l, dims)?, cuda: s.reduce(op, l, dims)?))
    }
    pub fn arg_reduce(&self, op: ArgReduceOp, l: &Layout, dim: usize) -> Result<Storage> {
        self.check_out("arg_reduce", l.numel(), self.dtype())?;
        if l.numel() == 0 {
            return self.zeros(DType::U32, 0);
        }
        Ok(on_device!(self, s => cpu: cpu::reduce::arg_reduce(op, s, l, dim)?, cuda: s.arg_reduce(op, l, dim)?))
    }
    pub fn matmul(&self, la: &Layout, rhs: &Storage, lb: &Layout, mnk: (usize, usize, usize)) -> Result<Storage> {
        let mut out = la.shape()[..la.rank() - 2].to_vec();
        out.extend([mnk.0, mnk.1]);
        let len = crate::layout::checked_numel("matmul", &out)?;
        self.check_out("matmul", len, self.dtype())?;
        if len == 0 || mnk.2 == 0 {
            // Nothing to compute (the batch may still be huge), or empty inner products.
            return self.zeros(self.dtype(), len);
        }
        Ok(on_device2!("matmul", self, rhs, |a, b|
            cpu: cpu::matmul::matmul(a, la, b, lb, mnk)?,
            cuda: a.matmul(la, b, lb, mnk)?))
    }
    pub fn to_dtype(&self, l: &Layout, dtype: DType) -> Result<Storage> {
        self.check_out("to_dtype", l.numel(), dtype)?;
        Ok(on_device!(self, s => cpu: cpu::cast::to_dtype(s, l, dtype), cuda: s.to_dtype(l, dtype)?))
    }
    pub fn contiguous(&self, l: &Layout) -> Result<Storage> {
        self.check_out("contiguous", l.numel(), self.dtype())?;
        Ok(on_device!(self, s => cpu: cpu::cast::contiguous(s, l), cuda: s.contiguous(l)?))
    }
    /// Writes `src` (viewed through `ls`) into the view `ld` of this storage.
    pub fn copy_into_view(&mut self, ld: &Layout, src: &Storage, ls: &Layout) -> Result<()> {
        match (self, src) {
            (Storage::Cpu(d), Storage::Cpu(s)) => cpu::cast::copy_into_view(d, ld, s, ls),
            (Storage::Cuda(d), Storage::Cuda(s)) => d.copy_into_view(ld, s, ls),
            (d, s) => bail!(Error::DeviceMismatch { op: "copy", lhs: d.device(), rhs: s.device() }),
        }
    }
    /// `self[ld] += alpha · src[ls]`, in place.
    pub fn axpy(&mut self, ld: &Layout, alpha: f64, src: &Storage, ls: &Layout) -> Result<()> {
        match (self, src) {
            (Storage::Cpu(d), Storage::Cpu(s)) => cpu::inplace::axpy(d, ld, alpha, s, ls),
            (Storage::Cuda(d), Storage::Cuda(s)) => d.axpy(ld, alpha, s, ls),
            (d, s) => bail!(Error::DeviceMismatch { op: "add_scaled_", lhs: d.device(), rhs: s.device() }),
        }
    }
    /// One optimizer update of this parameter in place (`states` in the rule's order).
    pub fn optim_update(
        &mut self,
        l: &Layout,
        rule: &crate::optim::UpdateRule,
        grad: &Storage,
        states: &mut [&mut Storage],
    ) -> Result<()> {
        if !l.is_contiguous() || grad.len() != l.numel() {
            bail!(Error::msg("internal: optimizer update needs a contiguous parameter and a compact gradient"));
        }
        match (self, grad) {
            (Storage::Cpu(p), Storage::Cpu(g)) => {
                let mut cpu_states = Vec::with_capacity(states.len());
                for s in states.iter_mut() {
                    match &mut **s {
                        Storage::Cpu(c) => cpu_states.push(c),
                        other => {
                            bail!(Error::DeviceMismatch { op: "optimizer", lhs: Device::Cpu, rhs: other.device() })
                        }
                    }
                }
                cpu::optim::apply(rule, p, l.offset()..l.offset() + l.numel(), g, &mut cpu_states)
            }
            (Storage::Cuda(p), Storage::Cuda(g)) => p.optim_update(rule, g, states),
            (p, g) => bail!(Error::DeviceMismatch { op: "optimizer", lhs: p.device(), rhs: g.device() }),
        }
    }
    /// `len` zeros of `dtype` on this storage's device.
    fn zeros(&self, dtype: DType, len: usize) -> Result<Storage> {
        Storage::filled(dtype, len, 0.0, &self.device())
    }
    /// Checks an output (or working buffer) of `len` elements can be allocated here.
    fn check_out(&self, op: &'static str, len: usize, dtype: DType) -> Result<()> {
        check_alloc(op, len, dtype, &self.device())
    }
    /// A convolution's output of `out` elements plus the unfolded columns of one image
    /// (the geometry has checked that neither product overflows).
    fn check_conv(&self, op: &'static str, g: &ConvGeom, out: usize) -> Result<()> {
        self.check_out(op, out.saturating_add(g.c * g.kh * g.kw * g.ho * g.wo), self.dtype())
    }
    /// Elements held.
    pub(crate) fn len(&self) -> usize {
        match self {
            Storage::Cpu(s) => s.len(),
            Storage::Cuda(s) => s.len(),
        }
    }
    pub fn index_select(&self, l: &Layout, ids: &Storage, li: &Layout, dim: usize) -> Result<Storage> {
        let bound = l.shape()[dim];
        let mut out = l.shape().to_vec();
        out[dim] = li.numel();
        let len = crate::layout::checked_numel("index_select", &out)?;
        self.check_out("index_select", len, self.dtype())?;
        if len == 0 {
            return self.zeros(self.dtype(), 0);
        }
        Ok(on_device2!("index_select", self, ids, |s, i|
            cpu: cpu::index::index_select(s, l, &cpu::index::read_indices("index_select", i, li, bound)?, dim),
            cuda: s.index_select(l, i, li, dim)?))
    }
    pub fn gather(&self, l: &Layout, ids: &Storage, li: &Layout, dim: usize) -> Result<Storage> {
        self.check_out("gather", li.numel(), self.dtype())?;
        if li.numel() == 0 {
            return self.zeros(self.dtype(), 0);
        }
        let bound = l.shape()[dim];
        Ok(on_device2!("gather", self, ids, |s, i|
            cpu: cpu::index::gather(s, l, &cpu::index::read_indices("gather", i, li, bound)?, li.shape(), dim),
            cuda: s.gather(l, i, li, dim)?))
    }
    /// Zeros of `out_shape` plus `self` (shaped like `ids`) added at `ids` along `dim`.
    pub fn scatter_add(
        &self,
        l: &Layout,
        ids: &Storage,
        li: &Layout,
        dim: usize,
        out_shape: &[usize],
    ) -> Result<Storage> {
        let len = crate::layout::checked_numel("scatter_add", out_shape)?;
        self.check_out("scatter_add", len, self.dtype())?;
        if len == 0 || l.numel() == 0 {
            return self.zeros(self.dtype(), len);
        }
        let bound = out_shape[dim];
        Ok(on_device2!("scatter_add", self, ids, |s, i|
            cpu: cpu::index::scatter_add(out_shape, &cpu::index::read_indices("scatter_add", i, li, bound)?, s, l, dim)?,
            cuda: s.scatter_add(l, i, li, dim, out_shape)?))
    }
    /// Convolution plus an optional per-output-channel bias (contiguous `[o]`).
    pub fn conv2d(
        &self,
        l: &Layout,
        w: &Storage,
        lw: &Layout,
        bias: Option<&Storage>,
        g: &ConvGeom,
    ) -> Result<Storage> {
        let len = g.n * g.o * g.ho * g.wo;
        self.check_conv("conv2d", g, len)?;
        if len == 0 {
            return self.zeros(self.dtype(), 0);
        }
        Ok(match (self, w, bias) {
            (Storage::Cpu(x), Storage::Cpu(w), None) => Storage::Cpu(cpu::conv::conv2d(x, l, w, lw, None, g)?),
            (Storage::Cpu(x), Storage::Cpu(w), Some(Storage::Cpu(b))) => {
                Storage::Cpu(cpu::conv::conv2d(x, l, w, lw, Some(b), g)?)
            }
            (Storage::Cuda(x), Storage::Cuda(w), None) => Storage::Cuda(x.conv2d(l, w, lw, None, g)?),
            (Storage::Cuda(x), Storage::Cuda(w), Some(Storage::Cuda(b))) => {
                Storage::Cuda(x.conv2d(l, w, lw, Some(b), g)?)
            }
            (x, w, b) => {
                let other =
                    if x.device() != w.device() { w.device() } else { b.map(|b| b.device()).unwrap_or(w.device()) };
                bail!(Error::DeviceMismatch { op: "conv2d", lhs: x.device(), rhs: other })
            }
        })
    }
    pub fn conv2d_backward_input(&self, l: &Layout, w: &Storage, lw: &Layout, g: &ConvGeom) -> Result<Storage> {
        let len = g.n * g.c * g.h * g.w;
        self.check_conv("conv2d_backward_input", g, len)?;
        if l.numel() == 0 {
            return self.zeros(self.dtype(), len);
        }
        Ok(on_device2!("conv2d_backward_input", self, w, |gy, w|
            cpu: cpu::conv::conv2d_backward_input(gy, l, w, lw, g)?,
            cuda: gy.conv2d_backward_input(l, w, lw, g)?))
    }
    pub fn conv2d_backward_weight(&self, l: &Layout, gy: &Storage, lg: &Layout, g: &ConvGeom) -> Result<Storage> {
        let len = g.o * (g.c / g.p.groups) * g.kh * g.kw;
        self.check_conv("conv2d_backward_weight", g, len)?;
        if l.numel() == 0 || lg.numel() == 0 {
            return self.zeros(self.dtype(), len);
        }
        Ok(on_device2!("conv2d_backward_weight", self, gy, |x, gy|
            cpu: cpu::conv::conv2d_backward_weight(x, l, gy, lg, g)?,
            cuda: x.conv2d_backward_weight(l, gy, lg, g)?))
    }
    pub fn max_pool2d(&self, l: &Layout, g: &PoolGeom) -> Result<(Storage, Storage)> {
        let len = g.n * g.c * g.ho * g.wo;
        self.check_out("max_pool2d", l.numel().saturating_add(len.saturating_mul(2)), self.dtype())?;
        if len == 0 {
            return Ok((self.zeros(self.dtype(), 0)?, self.zeros(DType::U32, 0)?));
        }
        Ok(match self {
            Storage::Cpu(s) => {
                let (o, i) = cpu::pooling::max_pool2d(s, l, g)?;
                (Storage::Cpu(o), Storage::Cpu(i))
            }
            Storage::Cuda(s) => {
                let (o, i) = s.max_pool2d(l, g)?;
                (Storage::Cuda(o), Storage::Cuda(i))
            }
        })
    }
    pub fn avg_pool2d(&self, l: &Layout, g: &PoolGeom) -> Result<Storage> {
        let len = g.n * g.c * g.ho * g.wo;
        self.check_out("avg_pool2d", l.numel().saturating_add(len), self.dtype())?;
        if len == 0 {
            return self.zeros(self.dtype(), 0);
        }
        Ok(on_device!(self, s => cpu: cpu::pooling::avg_pool2d(s, l, g)?, cuda: s.avg_pool2d(l, g)?))
    }
    pub fn avg_pool2d_backward(&self, l: &Layout, g: &PoolGeom) -> Result<Storage> {
        if l.numel() == 0 {
            return self.zeros(self.dtype(), g.n * g.c * g.h * g.w);
        }
        Ok(on_device!(self, s => cpu: cpu::pooling::avg_pool2d_backward(s, l, g)?, cuda: s.avg_pool2d_backward(l, g)?))
    }
    pub fn softmax_last(&self, l: &Layout, log: bool) -> Result<Storage> {
        self.check_out("softmax", l.numel(), self.dtype())?;
        Ok(on_device!(self, s => cpu: cpu::softmax::softmax_last(s, l, log)?, cuda: s.softmax_last(l, log)?))
    }
}
