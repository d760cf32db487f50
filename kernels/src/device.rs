//! One GPU: its context, the single stream all work goes on, compiled kernel modules,
//! the cuBLAS handle, and the error flag kernels raise for out-of-range indices.

use crate::compile::{compile_cubin, fnv1a, nvrtc_version};
use crate::cudnn::Dnn;
use crate::sources;
use crate::Result;
use cudarc::cublas::CudaBlas;
use cudarc::driver::{sys as dsys, CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DevicePtr};
use cudarc::nvrtc::Ptx;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

fn err<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

/// Checks that the CUDA libraries open here, so cudarc never panics on a missing one.
pub fn libraries_present() -> Result<()> {
    // SAFETY: each call only tries to open a shared library.
    unsafe {
        if !dsys::is_culib_present() {
            return Err("no CUDA driver (libcuda) on this machine".into());
        }
        if !cudarc::cublas::sys::is_culib_present() {
            return Err("libcublas was not found (CUDA 13's cuBLAS must be on the library path)".into());
        }
    }
    crate::compile::nvrtc_available()
}

pub struct GpuDevice {
    /// cuDNN, opened on first use (first, so it is dropped before the stream).
    dnn: OnceLock<std::result::Result<Mutex<Dnn>, String>>,
    cudnn_on: AtomicBool,
    pub ordinal: usize,
    pub ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    /// `sm_XY` of this device.
    pub arch: String,
    pub blas: CudaBlas,
    modules: Mutex<HashMap<&'static str, Arc<CudaModule>>>,
    functions: Mutex<HashMap<String, CudaFunction>>,
    /// Raised (non-zero) by a kernel that met an out-of-range index.
    pub err_flag: CudaSlice<i32>,
    tf32: AtomicBool,
}

impl GpuDevice {
    /// Opens device `ordinal`: context, one stream, a memory pool that keeps freed memory
    /// for reuse (so a training step does no cudaMalloc/cudaFree), and cuBLAS.
    pub fn new(ordinal: usize) -> Result<GpuDevice> {
        libraries_present()?;
        let count = CudaContext::device_count().map_err(err("cuDeviceGetCount"))?;
        if ordinal >= count.max(0) as usize {
            return Err(format!("cuda:{ordinal} does not exist ({count} device(s) found)"));
        }
        let ctx = CudaContext::new(ordinal).map_err(err("creating the CUDA context"))?;
        // One stream carries everything, so cudarc's per-allocation events are not needed.
        // SAFETY: no work has been issued on this context yet.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().map_err(err("creating a stream"))?;
        let (major, minor) = ctx.compute_capability().map_err(err("reading the compute capability"))?;
        keep_pool_memory(&ctx);
        let blas = CudaBlas::new(stream.clone()).map_err(err("creating the cuBLAS handle"))?;
        let err_flag = stream.alloc_zeros::<i32>(1).map_err(err("allocating the error flag"))?;
        Ok(GpuDevice {
            dnn: OnceLock::new(),
            cudnn_on: AtomicBool::new(crate::cudnn::enabled_by_env()),
            ordinal,
            ctx,
            stream,
            arch: format!("sm_{major}{minor}"),
            blas,
            modules: Mutex::new(HashMap::new()),
            functions: Mutex::new(HashMap::new()),
            err_flag,
            tf32: AtomicBool::new(false),
        })
    }

    /// A kernel of a module, compiling and loading the module on first use.
    pub fn function(&self, module: &'static str, name: &str) -> Result<CudaFunction> {
        if let Some(f) = self.functions.lock().map_err(|_| "kernel cache poisoned")?.get(name) {
            return Ok(f.clone());
        }
        let m = self.module(module)?;
        let f = m.load_function(name).map_err(err(&format!("loading kernel {name} from module {module}")))?;
        self.functions.lock().map_err(|_| "kernel cache poisoned")?.insert(name.to_string(), f.clone());
        Ok(f)
    }

    fn module(&self, module: &'static str) -> Result<Arc<CudaModule>> {
        let mut mods = self.modules.lock().map_err(|_| "module cache poisoned")?;
        if let Some(m) = mods.get(module) {
            return Ok(m.clone());
        }
        let cubin = cubin_for(module, &self.arch)?;
        let m = self.ctx.load_module(Ptx::from_binary(cubin)).map_err(err(&format!("loading module {module}")))?;
        mods.insert(module, m.clone());
        Ok(m)
    }

    /// Uninitialised device memory from the stream-ordered pool.
    pub fn alloc(&self, bytes: usize) -> Result<CudaSlice<u8>> {
        // SAFETY: callers overwrite every byte before reading it.
        unsafe { self.stream.alloc::<u8>(bytes.max(1)) }.map_err(err("cuMemAllocAsync"))
    }

    /// The device address of a buffer.
    pub fn ptr(&self, s: &CudaSlice<u8>) -> u64 {
        let (p, _sync) = s.device_ptr(&self.stream);
        p
    }

    /// Host bytes to a new device buffer.
    pub fn upload(&self, bytes: &[u8]) -> Result<CudaSlice<u8>> {
        let mut d = self.alloc(bytes.len())?;
        if !bytes.is_empty() {
            self.stream.memcpy_htod(bytes, &mut d).map_err(err("cuMemcpyHtoDAsync"))?;
        }
        Ok(d)
    }

    /// `len` bytes at byte `offset` of a device buffer, to the host (waits for the stream).
    pub fn download(&self, s: &CudaSlice<u8>, offset: usize, len: usize) -> Result<Vec<u8>> {
        let mut out = vec![0u8; len];
        if len > 0 {
            let view = s.slice(offset..offset + len);
            self.stream.memcpy_dtoh(&view, &mut out[..]).map_err(err("cuMemcpyDtoHAsync"))?;
        }
        self.stream.synchronize().map_err(err("cuStreamSynchronize"))?;
        Ok(out)
    }

    /// The device address of the out-of-range-index flag (an `int`).
    pub fn err_flag_ptr(&self) -> u64 {
        let (p, _sync) = self.err_flag.device_ptr(&self.stream);
        p
    }

    /// Reads and clears the out-of-range-index flag (a host sync).
    pub fn take_index_error(&self) -> Result<bool> {
        let mut flag = [0i32];
        self.stream.memcpy_dtoh(&self.err_flag, &mut flag[..]).map_err(err("reading the error flag"))?;
        self.stream.synchronize().map_err(err("cuStreamSynchronize"))?;
        if flag[0] != 0 {
            let (p, _sync) = self.err_flag.device_ptr(&self.stream);
            // SAFETY: the flag is a live 4-byte buffer on this stream.
            unsafe { cudarc::driver::result::memset_d8_async(p, 0, 4, self.stream.cu_stream()) }
                .map_err(err("clearing the error flag"))?;
        }
        Ok(flag[0] != 0)
    }

    /// Bytes of the device's memory pool currently handed out (not counting what the
    /// pool keeps cached for reuse).
    pub fn memory_in_use(&self) -> Result<u64> {
        // SAFETY: plain driver queries on this context's device.
        unsafe {
            let mut pool: dsys::CUmemoryPool = std::ptr::null_mut();
            let r = dsys::cuDeviceGetDefaultMemPool(&mut pool, self.ctx.cu_device());
            if r != dsys::CUresult::CUDA_SUCCESS {
                return Err(format!("cuDeviceGetDefaultMemPool: {r:?}"));
            }
            let mut used: u64 = 0;
            let r = dsys::cuMemPoolGetAttribute(
                pool,
                dsys::CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_CURRENT,
                &mut used as *mut u64 as *mut std::ffi::c_void,
            );
            if r != dsys::CUresult::CUDA_SUCCESS {
                return Err(format!("cuMemPoolGetAttribute: {r:?}"));
            }
            Ok(used)
        }
    }

    pub fn synchronize(&self) -> Result<()> {
        self.stream.synchronize().map_err(err("cuStreamSynchronize"))
    }

    /// Lets float matmuls and convolutions use TF32 tensor cores (off by default, as in PyTorch).
    pub fn set_tf32(&self, on: bool) -> Result<()> {
        use cudarc::cublas::sys::{cublasMath_t, cublasSetMathMode};
        let mode = if on { cublasMath_t::CUBLAS_TF32_TENSOR_OP_MATH } else { cublasMath_t::CUBLAS_DEFAULT_MATH };
        // SAFETY: a live handle.
        let r = unsafe { cublasSetMathMode(*self.blas.handle(), mode) };
        if r != cudarc::cublas::sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
            return Err(format!("cublasSetMathMode: {r:?}"));
        }
        self.tf32.store(on, Ordering::Relaxed);
        Ok(())
    }
    pub fn tf32(&self) -> bool {
        self.tf32.load(Ordering::Relaxed)
    }

    /// Routes convolutions through cuDNN (`on`) or im2col + cuBLAS. Turning it on fails,
    /// and changes nothing, when cuDNN cannot be opened here.
    pub fn set_cudnn(&self, on: bool) -> Result<()> {
        if on {
            self.with_dnn(|_| Ok(()))?;
        }
        self.cudnn_on.store(on, Ordering::Relaxed);
        Ok(())
    }
    /// Whether convolutions go through cuDNN (see `set_cudnn`; `LOL_CUDNN=1` sets the default).
    pub fn cudnn_enabled(&self) -> bool {
        self.cudnn_on.load(Ordering::Relaxed)
    }

    /// Runs `f` with this device's cuDNN handle, opening it on first use.
    pub fn with_dnn<T>(&self, f: impl FnOnce(&mut Dnn) -> Result<T>) -> Result<T> {
        let dnn = self.dnn.get_or_init(|| Dnn::new(self).map(Mutex::new));
        let m = dnn.as_ref().map_err(|e| e.clone())?;
        let mut guard = m.lock().map_err(|_| "cuDNN handle poisoned")?;
        f(&mut guard)
    }
}

/// Raises the default memory pool's release threshold: freed blocks stay cached for
/// the next allocation instead of going back to the driver at every sync.
fn keep_pool_memory(ctx: &CudaContext) {
    // SAFETY: plain driver calls on this context's device; failures only cost speed.
    unsafe {
        let mut pool: dsys::CUmemoryPool = std::ptr::null_mut();
        if dsys::cuDeviceGetDefaultMemPool(&mut pool, ctx.cu_device()) == dsys::CUresult::CUDA_SUCCESS {
            let mut threshold: u64 = u64::MAX;
            let _ = dsys::cuMemPoolSetAttribute(
                pool,
                dsys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                &mut threshold as *mut u64 as *mut std::ffi::c_void,
            );
        }
    }
}

/// Where compiled CUBINs are kept between processes.
fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("LOL_KERNEL_CACHE") {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("lol").join("kernels"))
}

/// The CUBIN of `module` for `arch`: from the disk cache when its source, architecture
/// and NVRTC version match, else compiled (and cached; cache errors are ignored).
pub fn cubin_for(module: &str, arch: &str) -> Result<Vec<u8>> {
    let src = sources::full_source(module).ok_or_else(|| format!("no kernel module {module}"))?;
    let (major, minor) = nvrtc_version().unwrap_or((0, 0));
    let key = fnv1a(&[src.as_bytes(), arch.as_bytes(), &major.to_le_bytes(), &minor.to_le_bytes()]);
    let path = cache_dir().map(|d| d.join(format!("{module}-{arch}-{key:016x}.cubin")));
    if let Some(Ok(bytes)) = path.as_ref().map(std::fs::read) {
        return Ok(bytes);
    }
    let cubin = compile_cubin(module, &src, arch)?;
    if let Some(p) = path {
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &cubin).is_ok() {
            let _ = std::fs::rename(&tmp, &p);
        }
    }
    Ok(cubin)
}
