//! The CUDA backend: device buffers from the stream-ordered pool, every primitive op as
//! a kernel from `lol-kernels` (or cuBLAS), all on one stream per device, so nothing
//! waits for the GPU except reading values back.

mod conv;
mod elementwise;
mod index;
mod matmul;
mod optim;
mod rand;
mod reduce;

pub(crate) use optim::apply_multi as optim_apply_multi;
pub(crate) use rand::random;

use crate::cpu::CpuStorage;
use crate::error::{bail, Error, Result};
use crate::layout::{coalesce, Layout};
use crate::{DType, Device};
use lol_kernels::cudarc::driver::{CudaFunction, CudaSlice, LaunchConfig, PushKernelArg};
use lol_kernels::launch::{dims, Dims, MAX_RANK};
use lol_kernels::GpuDevice;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn cuda_err(e: String) -> Error {
    Error::Cuda(e)
}

/// Opened devices, by ordinal (a context is created once per device per process).
type Registry = Mutex<HashMap<usize, std::result::Result<Arc<GpuDevice>, String>>>;

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The device `ordinal`, opened on first use.
pub(crate) fn gpu(ordinal: usize) -> Result<Arc<GpuDevice>> {
    let mut r = registry().lock().map_err(|_| Error::Cuda("device registry poisoned".into()))?;
    let entry = r.entry(ordinal).or_insert_with(|| GpuDevice::new(ordinal).map(Arc::new));
    entry.clone().map_err(|e| Error::Cuda(format!("cuda:{ordinal}: {e}")))
}

pub(crate) fn init_device(ordinal: usize) -> Result<()> {
    gpu(ordinal).map(|_| ())
}

/// Lets f32 matmuls on `device` use TF32 tensor cores (off by default, like PyTorch's
/// `torch.backends.cuda.matmul.allow_tf32`).
pub fn set_tf32(device: &Device, on: bool) -> Result<()> {
    match device {
        Device::Cuda(i) => gpu(*i)?.set_tf32(on).map_err(cuda_err),
        Device::Cpu => Ok(()),
    }
}

/// Routes `device`'s convolutions through cuDNN (`true`) or im2col + cuBLAS (`false`,
/// the default until cuDNN has been measured on our GPUs; `LOL_CUDNN=1` flips it).
/// Turning it on is an error naming the reason when cuDNN cannot be opened.
pub fn set_cudnn(device: &Device, on: bool) -> Result<()> {
    match device {
        Device::Cuda(i) => gpu(*i)?.set_cudnn(on).map_err(cuda_err),
        Device::Cpu if on => Err(Error::Cuda("set_cudnn: cuDNN needs a CUDA device, got cpu".into())),
        Device::Cpu => Ok(()),
    }
}

/// Whether `device`'s convolutions go through cuDNN.
pub fn cudnn_enabled(device: &Device) -> bool {
    match device {
        Device::Cuda(i) => gpu(*i).map(|g| g.cudnn_enabled()).unwrap_or(false),
        Device::Cpu => false,
    }
}

/// Waits until all queued work on `device` is done (for timing).
pub fn synchronize(device: &Device) -> Result<()> {
    match device {
        Device::Cuda(i) => gpu(*i)?.synchronize().map_err(cuda_err),
        Device::Cpu => Ok(()),
    }
}

/// Bytes of `device`'s memory handed out to tensors right now (0 on the CPU).
pub fn memory_in_use(device: &Device) -> Result<u64> {
    match device {
        Device::Cuda(i) => {
            let g = gpu(*i)?;
            g.synchronize().map_err(cuda_err)?;
            g.memory_in_use().map_err(cuda_err)
        }
        Device::Cpu => Ok(0),
    }
}

/// Kernel-name suffix of a dtype.
pub(crate) fn suffix(dt: DType) -> &'static str {
    dt.as_str()
}

/// Kernel-name suffix by element size (for kernels that only move bits).
pub(crate) fn bits_suffix(dt: DType) -> &'static str {
    match dt.size_in_bytes() {
        1 => "b1",
        2 => "b2",
        4 => "b4",
        _ => "b8",
    }
}

/// A tensor's elements on a GPU.
pub(crate) struct CudaStorage {
    pub(crate) buf: CudaSlice<u8>,
    pub(crate) dtype: DType,
    pub(crate) len: usize,
    pub(crate) dev: Arc<GpuDevice>,
}

/// Shape and per-operand strides, merged and padded for a strided kernel.
pub(crate) struct Strided<const N: usize> {
    pub rank: i32,
    pub shape: Dims,
    pub strides: [Dims; N],
    pub offsets: [u64; N],
}

impl<const N: usize> Strided<N> {
    /// Pushes `rank, shape, strides₀, offset₀, …, strides_N, offset_N` (the common order).
    pub(crate) fn push<'a>(&'a self, b: &mut lol_kernels::cudarc::driver::LaunchArgs<'a>) {
        b.arg(&self.rank).arg(&self.shape);
        for k in 0..N {
            b.arg(&self.strides[k]).arg(&self.offsets[k]);
        }
    }
}

/// Merges the dims of `layouts` (all over `shape`) for a kernel; more than 8 dims that
/// cannot merge is an error.
pub(crate) fn strided<const N: usize>(op: &'static str, shape: &[usize], layouts: [&Layout; N]) -> Result<Strided<N>> {
    let (mut d, mut s) = coalesce::<N>(shape, std::array::from_fn(|k| layouts[k].strides()));
    if d.is_empty() {
        d.push(1);
        for v in s.iter_mut() {
            v.push(0);
        }
    }
    if d.len() > MAX_RANK {
        bail!(Error::shape(
            op,
            format!(
                "a view of shape {shape:?} has more than {MAX_RANK} dims that cannot merge: make it contiguous first"
            )
        ));
    }
    Ok(Strided {
        rank: d.len() as i32,
        shape: dims(&d),
        strides: std::array::from_fn(|k| dims(&s[k])),
        offsets: std::array::from_fn(|k| layouts[k].offset() as u64),
    })
}

impl CudaStorage {
    pub fn device(&self) -> Device {
        Device::Cuda(self.dev.ordinal)
    }
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn ptr(&self) -> u64 {
        self.dev.ptr(&self.buf)
    }
    /// A new, uninitialised buffer of `len` elements of `dtype` on the same device.
    pub(crate) fn alloc_like(&self, dtype: DType, len: usize) -> Result<CudaStorage> {
        CudaStorage::alloc(&self.dev, dtype, len)
    }
    pub(crate) fn alloc(dev: &Arc<GpuDevice>, dtype: DType, len: usize) -> Result<CudaStorage> {
        let buf = dev.alloc(len * dtype.size_in_bytes()).map_err(cuda_err)?;
        Ok(CudaStorage { buf, dtype, len, dev: dev.clone() })
    }
    pub(crate) fn function(&self, module: &'static str, name: &str) -> Result<CudaFunction> {
        self.dev.function(module, name).map_err(cuda_err)
    }

    pub fn filled(dtype: DType, len: usize, v: f64, device: &Device) -> Result<Self> {
        let Device::Cuda(i) = device else { bail!(Error::msg("internal: CUDA storage for a CPU device")) };
        let dev = gpu(*i)?;
        let s = CudaStorage::alloc(&dev, dtype, len)?;
        s.fill(v)?;
        Ok(s)
    }

    /// Every element set to `v` (in this storage's dtype).
    pub(crate) fn fill(&self, v: f64) -> Result<()> {
        let bits: u64 = match self.dtype {
            DType::F32 => (v as f32).to_bits() as u64,
            DType::F64 => v.to_bits(),
            DType::F16 => half::f16::from_f64(v).to_bits() as u64,
            DType::BF16 => half::bf16::from_f64(v).to_bits() as u64,
            DType::U8 => v as u8 as u64,
            DType::U32 => v as u32 as u64,
            DType::I64 => v as i64 as u64,
        };
        let f = self.function("elementwise", &format!("fill_{}", bits_suffix(self.dtype)))?;
        let (n, y) = (self.len as u64, self.ptr());
        let mut b = self.dev.stream.launch_builder(&f);
        b.arg(&n);
        let (v1, v2, v4, v8) = (bits as u8, bits as u16, bits as u32, bits);
        match self.dtype.size_in_bytes() {
            1 => b.arg(&v1),
            2 => b.arg(&v2),
            4 => b.arg(&v4),
            _ => b.arg(&v8),
        };
        b.arg(&y);
        launch(b, lol_kernels::grid_1d(self.len), "fill")
    }

    pub fn from_cpu(s: &CpuStorage, device: &Device) -> Result<Self> {
        let Device::Cuda(i) = device else { bail!(Error::msg("internal: CUDA storage for a CPU device")) };
        let dev = gpu(*i)?;
        let bytes = crate::cpu::storage::cpu_dispatch!(s, v => as_bytes(v));
        let buf = dev.upload(bytes).map_err(cuda_err)?;
        Ok(CudaStorage { buf, dtype: s.dtype(), len: s.len(), dev })
    }

    /// The view's elements as a contiguous host buffer. Reports an out-of-range index
    /// met by an earlier kernel on this device (this is where the host syncs).
    pub fn to_cpu(&self, l: &Layout) -> Result<CpuStorage> {
        let dense;
        let (src, start) = match l.contiguous_range() {
            Some((a, _)) => (self, a),
            None => {
                dense = self.contiguous(l)?;
                (&dense, 0)
            }
        };
        let size = self.dtype.size_in_bytes();
        let bytes = src.dev.download(&src.buf, start * size, l.numel() * size).map_err(cuda_err)?;
        if self.dev.take_index_error().map_err(cuda_err)? {
            bail!(Error::index(
                "cuda",
                "an index was out of range in an earlier index_select, gather or scatter_add on this device; those elements were read as 0"
            ));
        }
        Ok(from_bytes(self.dtype, &bytes))
    }
}

/// Launches a prepared kernel; errors name the kernel.
pub(crate) fn launch(mut b: lol_kernels::cudarc::driver::LaunchArgs<'_>, cfg: LaunchConfig, what: &str) -> Result<()> {
    // SAFETY: every argument was pushed in the kernel's declared order and type by the
    // caller, and the buffers behind the pointers are sized for `cfg`'s elements.
    unsafe { b.launch(cfg) }.map(|_| ()).map_err(|e| Error::Cuda(format!("launching {what}: {e:?}")))
}

fn as_bytes<T: Copy>(v: &[T]) -> &[u8] {
    // SAFETY: plain numeric values; any byte view of them is valid.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

fn from_bytes(dtype: DType, bytes: &[u8]) -> CpuStorage {
    let n = bytes.len() / dtype.size_in_bytes();
    let mut s = CpuStorage::zeros(dtype, n);
    crate::cpu::storage::cpu_dispatch!(&mut s, v => {
        // SAFETY: `v` holds n elements of the dtype whose n·size bytes are `bytes`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), v.as_mut_ptr().cast::<u8>(), bytes.len()) }
    });
    s
}

/// Every (module, kernel) this backend may launch, for the NVRTC check that they all
/// exist (a misspelt name would otherwise surface only on a GPU).
#[doc(hidden)]
pub fn kernel_names() -> Vec<(&'static str, String)> {
    let floats = [DType::F32, DType::F64, DType::F16, DType::BF16];
    let all = [DType::F32, DType::F64, DType::F16, DType::BF16, DType::U8, DType::U32, DType::I64];
    let bits = ["b1", "b2", "b4", "b8"];
    let ids = ["u32", "i64", "u8"];
    let mut v: Vec<(&'static str, String)> = Vec::new();
    let mut add = |m: &'static str, n: String| v.push((m, n));
    for d in floats {
        for k in ["unary", "axpy", "channel_bias"] {
            add("elementwise", format!("{k}_{}", suffix(d)));
        }
        add("softmax", format!("softmax_{}", suffix(d)));
        for k in ["im2col", "col2im"] {
            add("conv", format!("{k}_{}", suffix(d)));
        }
        for k in ["maxpool", "avgpool", "avgpool_backward"] {
            add("pool", format!("{k}_{}", suffix(d)));
        }
    }
    for d in all {
        for k in ["binary", "cmp"] {
            add("elementwise", format!("{k}_{}", suffix(d)));
        }
        for t in all {
            add("elementwise", format!("cast_{}_{}", suffix(d), suffix(t)));
        }
        add("reduce", format!("arg_{}", suffix(d)));
        if d != DType::U8 {
            add("reduce", format!("reduce_{}", suffix(d)));
        }
    }
    for b in bits {
        for k in ["where", "copy", "fill"] {
            add("elementwise", format!("{k}_{b}"));
        }
        for i in ids {
            add("index", format!("index_select_{b}_{i}"));
            add("index", format!("gather_{b}_{i}"));
        }
    }
    for d in [DType::F32, DType::F64, DType::U32, DType::I64] {
        for i in ids {
            add("index", format!("scatter_add_{}_{i}", suffix(d)));
        }
    }
    for k in ["sgd_f32", "adam_f32", "rmsprop_f32", "adagrad_f32"] {
        add("optim", k.to_string());
    }
    for k in ["rand_uniform_f32", "rand_normal_f32"] {
        add("rand", k.to_string());
    }
    v
}
