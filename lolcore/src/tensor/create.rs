//! Making tensors: from host data, constants, ranges, identity, random.

use super::Tensor;
use crate::cpu::CpuElem;
use crate::error::{bail, Error, Result};
use crate::layout::checked_numel;
use crate::rng::{current_generator, Generator};
use crate::storage::check_alloc;
use crate::storage::Storage;
use crate::{DType, Device};

impl Tensor {
    /// A tensor of `shape` from row-major data of any element type.
    pub fn from_vec<T: CpuElem>(data: Vec<T>, shape: &[usize], device: &Device) -> Result<Tensor> {
        let n = checked_numel("from_vec", shape)?;
        if data.len() != n {
            bail!(Error::shape(
                "from_vec",
                format!("{} values do not fill shape {shape:?} ({n} elements)", data.len())
            ));
        }
        Ok(Tensor::from_storage(Storage::from_cpu(T::wrap(data), device)?, shape))
    }
    /// A tensor of `shape` copied from a slice.
    pub fn from_slice<T: CpuElem>(data: &[T], shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape, device)
    }

    /// A constant built on the CPU (a selection, averaging or interpolation matrix),
    /// in `like`'s dtype and on its device.
    pub(crate) fn constant_like(data: Vec<f64>, shape: &[usize], like: &Tensor) -> Result<Tensor> {
        Tensor::from_vec(data, shape, &Device::Cpu)?.to_dtype(like.dtype())?.to_device(&like.device())
    }

    /// Indices built on the CPU, moved to `like`'s device.
    pub(crate) fn indices_like(ids: Vec<u32>, like: &Tensor) -> Result<Tensor> {
        let n = ids.len();
        Tensor::from_vec(ids, &[n], &Device::Cpu)?.to_device(&like.device())
    }

    /// A 1-D tensor on the CPU.
    pub fn new<T: CpuElem>(data: &[T]) -> Tensor {
        Tensor::from_storage(Storage::Cpu(T::wrap(data.to_vec())), &[data.len()])
    }
    /// A 0-D tensor holding one value.
    pub fn scalar<T: CpuElem>(v: T, device: &Device) -> Result<Tensor> {
        Tensor::from_vec(vec![v], &[], device)
    }
    /// `shape` filled with `value`, of `dtype`.
    pub fn full_dtype(value: f64, shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        let n = Tensor::check_new("full", shape, dtype, device)?;
        Ok(Tensor::from_storage(Storage::filled(dtype, n, value, device)?, shape))
    }
    /// The element count of a new tensor of `shape`, if it can be allocated.
    pub(crate) fn check_new(op: &'static str, shape: &[usize], dtype: DType, device: &Device) -> Result<usize> {
        let n = checked_numel(op, shape)?;
        check_alloc(op, n, dtype, device)?;
        Ok(n)
    }
    /// f32 `shape` filled with `value`.
    pub fn full(value: f64, shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::full_dtype(value, shape, DType::F32, device)
    }
    pub fn zeros(shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::full(0.0, shape, device)
    }
    pub fn ones(shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::full(1.0, shape, device)
    }
    pub fn zeros_dtype(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full_dtype(0.0, shape, dtype, device)
    }
    pub fn ones_dtype(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full_dtype(1.0, shape, dtype, device)
    }
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::full_dtype(0.0, self.shape(), self.dtype(), &self.device())
    }
    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::full_dtype(1.0, self.shape(), self.dtype(), &self.device())
    }
    pub fn full_like(&self, value: f64) -> Result<Tensor> {
        Tensor::full_dtype(value, self.shape(), self.dtype(), &self.device())
    }

    /// `[start, start + step, ...)` below `end`, as f32.
    pub fn arange(start: f64, end: f64, device: &Device) -> Result<Tensor> {
        Tensor::arange_step(start, end, 1.0, DType::F32, device)
    }
    /// `[start, start + step, ...)` up to `end` (exclusive), of `dtype`.
    pub fn arange_step(start: f64, end: f64, step: f64, dtype: DType, device: &Device) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            bail!(Error::arg(
                "arange",
                format!("start {start}, end {end} and step {step} must be finite, step non-zero")
            ));
        }
        let count = ((end - start) / step).ceil().max(0.0);
        if count >= (1u64 << 53) as f64 {
            bail!(Error::arg("arange", format!("{start}..{end} by {step} has {count} elements, too many")));
        }
        let n = count as usize;
        Tensor::check_new("arange", &[n], DType::F64, &Device::Cpu)?;
        let v: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        Tensor::from_vec(v, &[n], &Device::Cpu)?.to_dtype(dtype)?.to_device(device)
    }
    /// The n × n identity (f32).
    pub fn eye(n: usize, device: &Device) -> Result<Tensor> {
        let len = Tensor::check_new("eye", &[n, n], DType::F32, &Device::Cpu)?;
        let mut v = vec![0f32; len];
        for i in 0..n {
            v[i * n + i] = 1.0;
        }
        Tensor::from_vec(v, &[n, n], device)
    }

    /// Standard normal samples (f32) from the current generator (see `manual_seed`,
    /// `with_generator`).
    pub fn randn(shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::normal(0.0, 1.0, shape, device)
    }
    /// Uniform samples in [0, 1) (f32).
    pub fn rand(shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::uniform(0.0, 1.0, shape, device)
    }
    /// Normal samples with the given mean and standard deviation (f32). On a GPU they
    /// are drawn there (Philox), seeded from the current generator.
    pub fn normal(mean: f64, std: f64, shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::normal_with(mean, std, shape, device, &current_generator())
    }
    /// Uniform samples in [lo, hi) (f32), drawn on the tensor's device.
    pub fn uniform(lo: f64, hi: f64, shape: &[usize], device: &Device) -> Result<Tensor> {
        Tensor::uniform_with(lo, hi, shape, device, &current_generator())
    }
    /// `randn` from the generator `g` (PyTorch's `generator=` argument).
    pub fn randn_with(shape: &[usize], device: &Device, g: &Generator) -> Result<Tensor> {
        Tensor::normal_with(0.0, 1.0, shape, device, g)
    }
    /// `rand` from the generator `g`.
    pub fn rand_with(shape: &[usize], device: &Device, g: &Generator) -> Result<Tensor> {
        Tensor::uniform_with(0.0, 1.0, shape, device, g)
    }
    /// `normal` from the generator `g`.
    pub fn normal_with(mean: f64, std: f64, shape: &[usize], device: &Device, g: &Generator) -> Result<Tensor> {
        if !mean.is_finite() || !std.is_finite() || std < 0.0 {
            bail!(Error::arg("normal", format!("mean {mean} and std {std} must be finite, std non-negative")));
        }
        let n = Tensor::check_new("normal", shape, DType::F32, device)?;
        if let Device::Cuda(i) = device {
            let seed = g.next_seed();
            return Ok(Tensor::from_storage(Storage::Cuda(crate::cuda::random(*i, n, true, mean, std, seed)?), shape));
        }
        let v: Vec<f32> = g.with(|r| (0..n).map(|_| (mean + std * r.next_normal()) as f32).collect());
        Tensor::from_vec(v, shape, device)
    }
    /// `uniform` from the generator `g`.
    pub fn uniform_with(lo: f64, hi: f64, shape: &[usize], device: &Device, g: &Generator) -> Result<Tensor> {
        if !lo.is_finite() || !hi.is_finite() || lo > hi {
            bail!(Error::arg("uniform", format!("bounds {lo}..{hi} are not a finite range")));
        }
        let n = Tensor::check_new("uniform", shape, DType::F32, device)?;
        if let Device::Cuda(i) = device {
            let seed = g.next_seed();
            return Ok(Tensor::from_storage(Storage::Cuda(crate::cuda::random(*i, n, false, lo, hi, seed)?), shape));
        }
        let v: Vec<f32> = g.with(|r| (0..n).map(|_| (lo + (hi - lo) * r.next_f64()) as f32).collect());
        Tensor::from_vec(v, shape, device)
    }
    pub fn randn_like(&self) -> Result<Tensor> {
        Tensor::randn(self.shape(), &self.device())?.to_dtype(self.dtype())
    }
    pub fn rand_like(&self) -> Result<Tensor> {
        Tensor::rand(self.shape(), &self.device())?.to_dtype(self.dtype())
    }
}
