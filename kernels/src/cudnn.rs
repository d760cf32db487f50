//! cuDNN convolutions for dense NCHW tensors: forward, input gradient, weight gradient.
//!
//! cuDNN is optional: it is opened at run time (from the library path, or from a pip
//! install of `nvidia-cudnn-cu13` such as PyTorch's, or from `LOL_CUDNN_LIB`), and every
//! failure here is an `Err` the caller answers by falling back to im2col + GEMM.
//! Descriptors and the algorithms cuDNN's heuristics pick are planned once per shape.

use crate::blas::GemmType;
use crate::device::GpuDevice;
use crate::Result;
use cudarc::cudnn::{result as dnn, sys};
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::path::{Path, PathBuf};

/// The geometry of one 2-D convolution (cross-correlation, as in PyTorch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvShape {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub ho: usize,
    pub wo: usize,
    pub pad: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

/// Which of the three convolution products to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvPass {
    /// `y = conv(x, w)`: `a` = x, `b` = w, `out` = y.
    Forward,
    /// `dx` from `w` and `dy`: `a` = w, `b` = dy, `out` = dx.
    BackwardData,
    /// `dw` from `x` and `dy`: `a` = x, `b` = dy, `out` = dw.
    BackwardFilter,
}

/// Largest workspace an algorithm may ask for.
const MAX_WORKSPACE: usize = 1 << 30;
/// Plans kept per device before the cache starts over.
const MAX_PLANS: usize = 512;

fn check(what: &str, r: std::result::Result<(), dnn::CudnnError>) -> Result<()> {
    r.map_err(|e| format!("cuDNN {what}: {e:?}"))
}

fn int(v: usize, what: &str) -> Result<c_int> {
    c_int::try_from(v).map_err(|_| format!("cuDNN: {what} {v} exceeds its 32-bit sizes"))
}

/// Opens libcudnn once per process. PyTorch's wheels keep it under
/// `site-packages/nvidia/cudnn/lib`, off the library path: loading it from there by full
/// path first lets cudarc's later `dlopen("libcudnn.so.9")` find it by its soname.
pub fn library_present() -> Result<()> {
    static PRESENT: std::sync::OnceLock<std::result::Result<(), String>> = std::sync::OnceLock::new();
    PRESENT
        .get_or_init(|| {
            preload_from_known_places();
            // SAFETY: only tries to open a shared library.
            if unsafe { sys::is_culib_present() } {
                Ok(())
            } else {
                Err("libcudnn was not found (put it on the library path or set LOL_CUDNN_LIB)".into())
            }
        })
        .clone()
}

fn preload_from_known_places() {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("LOL_CUDNN_LIB") {
        let p = PathBuf::from(p);
        dirs.push(if p.is_dir() { p } else { p.parent().map(Path::to_path_buf).unwrap_or_default() });
    }
    let mut roots: Vec<PathBuf> = ["/usr/local/lib", "/usr/lib", "/opt/conda/lib"].map(PathBuf::from).to_vec();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(v) = std::env::var_os(var) {
            roots.push(PathBuf::from(v).join("lib"));
        }
    }
    if let Some(h) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(h).join(".local/lib"));
    }
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else { continue };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("python3") {
                for pkgs in ["site-packages", "dist-packages"] {
                    dirs.push(e.path().join(pkgs).join("nvidia/cudnn/lib"));
                }
            }
        }
    }
    let Some(dir) = dirs.into_iter().find(|d| d.join("libcudnn.so.9").is_file()) else { return };
    // cuDNN 9 is split into sub-libraries it opens itself; load them from the same
    // directory too (two passes, since they need each other), the front library last.
    let listed: Vec<PathBuf> =
        std::fs::read_dir(&dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    let parts: Vec<&PathBuf> =
        listed.iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libcudnn_"))).collect();
    for _ in 0..2 {
        for part in &parts {
            keep_loaded(part);
        }
    }
    keep_loaded(&dir.join("libcudnn.so.9"));
}

fn keep_loaded(path: &Path) {
    if path.is_file() {
        // SAFETY: a vendor library whose initialisers are safe to run; it stays loaded for
        // the life of the process (the handle is leaked on purpose).
        if let Ok(lib) = unsafe { libloading::Library::new(path) } {
            std::mem::forget(lib);
        }
    }
}

/// A cuDNN handle on a device's stream, and the plans made so far.
pub struct Dnn {
    handle: sys::cudnnHandle_t,
    plans: HashMap<(ConvShape, GemmType, bool), Plan>,
}

// SAFETY: the handle is only used under the device's mutex, one thread at a time,
// which is what cuDNN requires.
unsafe impl Send for Dnn {}

impl Drop for Dnn {
    fn drop(&mut self) {
        self.plans.clear();
        // SAFETY: created by `Dnn::new`, destroyed once.
        let _ = unsafe { dnn::destroy_handle(self.handle) };
    }
}

impl Dnn {
    pub fn new(dev: &GpuDevice) -> Result<Dnn> {
        library_present()?;
        dev.ctx.bind_to_thread().map_err(|e| format!("binding the CUDA context: {e:?}"))?;
        let handle = dnn::create_handle().map_err(|e| format!("cudnnCreate: {e:?}"))?;
        let d = Dnn { handle, plans: HashMap::new() };
        // SAFETY: a live handle and the device's live stream.
        check("cudnnSetStream", unsafe { dnn::set_stream(d.handle, dev.stream.cu_stream() as sys::cudaStream_t) })?;
        Ok(d)
    }

    /// Runs one pass of a convolution, overwriting `out`. Pointers are device addresses of
    /// dense NCHW (`x`, `dx`, `y`, `dy`) and OIHW (`w`, `dw`) buffers of type `ty`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv(
        &mut self,
        dev: &GpuDevice,
        ty: GemmType,
        s: &ConvShape,
        pass: ConvPass,
        a: u64,
        b: u64,
        out: u64,
    ) -> Result<()> {
        dev.ctx.bind_to_thread().map_err(|e| format!("binding the CUDA context: {e:?}"))?;
        let tf32 = dev.tf32();
        if self.plans.len() >= MAX_PLANS && !self.plans.contains_key(&(*s, ty, tf32)) {
            self.plans.clear();
        }
        let plan = match self.plans.entry((*s, ty, tf32)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(Plan::new(self.handle, ty, s, tf32)?),
        };
        plan.run(self.handle, dev, pass, a, b, out)
    }
}

/// Descriptors for one shape and the algorithm chosen for each pass.
struct Plan {
    x: sys::cudnnTensorDescriptor_t,
    y: sys::cudnnTensorDescriptor_t,
    w: sys::cudnnFilterDescriptor_t,
    conv: sys::cudnnConvolutionDescriptor_t,
    double: bool,
    fwd: (sys::cudnnConvolutionFwdAlgo_t, sys::cudnnMathType_t, usize),
    bwd_data: (sys::cudnnConvolutionBwdDataAlgo_t, sys::cudnnMathType_t, usize),
    bwd_filter: (sys::cudnnConvolutionBwdFilterAlgo_t, sys::cudnnMathType_t, usize),
}

impl Drop for Plan {
    fn drop(&mut self) {
        // SAFETY: each descriptor was created by `Plan::new` (or is null) and is freed once.
        unsafe {
            if !self.x.is_null() {
                let _ = dnn::destroy_tensor_descriptor(self.x);
            }
            if !self.y.is_null() {
                let _ = dnn::destroy_tensor_descriptor(self.y);
            }
            if !self.w.is_null() {
                let _ = dnn::destroy_filter_descriptor(self.w);
            }
            if !self.conv.is_null() {
                let _ = dnn::destroy_convolution_descriptor(self.conv);
            }
        }
    }
}

/// Whether cuDNN's math mode may use tensor cores with reduced precision for `ty`.
fn math_allowed(ty: GemmType, tf32: bool, m: sys::cudnnMathType_t) -> bool {
    use sys::cudnnMathType_t::*;
    match ty {
        // Exact f32 unless TF32 is on (PyTorch's allow_tf32 for cuDNN): on Ampere and
        // later even the default math mode may use TF32, so only FMA kernels qualify.
        GemmType::F32 => tf32 || m == CUDNN_FMA_MATH,
        _ => true,
    }
}

/// The first of cuDNN's ranked candidates that succeeded, fits the workspace limit and
/// keeps the precision asked for.
fn pick<A: Copy>(
    ranked: &[(A, sys::cudnnStatus_t, usize, sys::cudnnMathType_t)],
    ty: GemmType,
    tf32: bool,
    what: &str,
) -> Result<(A, sys::cudnnMathType_t)> {
    ranked
        .iter()
        .find(|(_, st, mem, m)| {
            *st == sys::cudnnStatus_t::CUDNN_STATUS_SUCCESS && *mem <= MAX_WORKSPACE && math_allowed(ty, tf32, *m)
        })
        .map(|&(a, _, _, m)| (a, m))
        .ok_or_else(|| format!("cuDNN has no {what} algorithm for this shape and precision"))
}

impl Plan {
    fn new(handle: sys::cudnnHandle_t, ty: GemmType, s: &ConvShape, tf32: bool) -> Result<Plan> {
        use sys::cudnnDataType_t::*;
        let (data, compute) = match ty {
            GemmType::F32 => (CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT),
            GemmType::F64 => (CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE),
            GemmType::F16 => (CUDNN_DATA_HALF, CUDNN_DATA_FLOAT),
            GemmType::BF16 => (CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT),
        };
        for (v, what) in [(s.n * s.c * s.h * s.w, "input size"), (s.n * s.o * s.ho * s.wo, "output size")] {
            int(v, what)?;
        }
        let nchw = sys::cudnnTensorFormat_t::CUDNN_TENSOR_NCHW;
        let mut p = Plan {
            x: std::ptr::null_mut(),
            y: std::ptr::null_mut(),
            w: std::ptr::null_mut(),
            conv: std::ptr::null_mut(),
            double: ty == GemmType::F64,
            fwd: (
                sys::cudnnConvolutionFwdAlgo_t::CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                sys::cudnnMathType_t::CUDNN_DEFAULT_MATH,
                0,
            ),
            bwd_data: (
                sys::cudnnConvolutionBwdDataAlgo_t::CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
                sys::cudnnMathType_t::CUDNN_DEFAULT_MATH,
                0,
            ),
            bwd_filter: (
                sys::cudnnConvolutionBwdFilterAlgo_t::CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0,
                sys::cudnnMathType_t::CUDNN_DEFAULT_MATH,
                0,
            ),
        };
        let err = |what: &'static str| move |e: dnn::CudnnError| format!("cuDNN {what}: {e:?}");
        p.x = dnn::create_tensor_descriptor().map_err(err("cudnnCreateTensorDescriptor"))?;
        p.y = dnn::create_tensor_descriptor().map_err(err("cudnnCreateTensorDescriptor"))?;
        p.w = dnn::create_filter_descriptor().map_err(err("cudnnCreateFilterDescriptor"))?;
        p.conv = dnn::create_convolution_descriptor().map_err(err("cudnnCreateConvolutionDescriptor"))?;
        let xd = [int(s.n, "n")?, int(s.c, "c")?, int(s.h, "h")?, int(s.w, "w")?];
        let yd = [int(s.n, "n")?, int(s.o, "o")?, int(s.ho, "ho")?, int(s.wo, "wo")?];
        let wd = [int(s.o, "o")?, int(s.c / s.groups.max(1), "c/groups")?, int(s.kh, "kh")?, int(s.kw, "kw")?];
        let requested = match (ty, tf32) {
            (GemmType::F32, false) => sys::cudnnMathType_t::CUDNN_FMA_MATH,
            (GemmType::F64, _) => sys::cudnnMathType_t::CUDNN_DEFAULT_MATH,
            _ => sys::cudnnMathType_t::CUDNN_TENSOR_OP_MATH,
        };
        // SAFETY: the descriptors were just created; every size fits an int.
        unsafe {
            check("cudnnSetTensor4dDescriptor", dnn::set_tensor4d_descriptor(p.x, nchw, data, xd))?;
            check("cudnnSetTensor4dDescriptor", dnn::set_tensor4d_descriptor(p.y, nchw, data, yd))?;
            check("cudnnSetFilter4dDescriptor", dnn::set_filter4d_descriptor(p.w, data, nchw, wd))?;
            check(
                "cudnnSetConvolution2dDescriptor",
                dnn::set_convolution2d_descriptor(
                    p.conv,
                    int(s.pad[0], "padding")?,
                    int(s.pad[1], "padding")?,
                    int(s.stride[0], "stride")?,
                    int(s.stride[1], "stride")?,
                    int(s.dilation[0], "dilation")?,
                    int(s.dilation[1], "dilation")?,
                    sys::cudnnConvolutionMode_t::CUDNN_CROSS_CORRELATION,
                    compute,
                ),
            )?;
            check("cudnnSetConvolutionGroupCount", dnn::set_convolution_group_count(p.conv, int(s.groups, "groups")?))?;
            check("cudnnSetConvolutionMathType", dnn::set_convolution_math_type(p.conv, requested))?;
        }
        p.choose(handle, ty, tf32)?;
        Ok(p)
    }

    /// Asks cuDNN's heuristics for each pass's ranked algorithms and takes the first usable.
    fn choose(&mut self, handle: sys::cudnnHandle_t, ty: GemmType, tf32: bool) -> Result<()> {
        const N: usize = 16;
        let mut count: c_int = 0;
        // SAFETY: live handle and descriptors; `N` zeroed perf records (all-zero is a valid
        // value of each field) of which cuDNN fills `count`.
        unsafe {
            let mut f: [sys::cudnnConvolutionFwdAlgoPerf_t; N] = std::mem::zeroed();
            check(
                "cudnnGetConvolutionForwardAlgorithm_v7",
                dnn::get_convolution_forward_algorithm(
                    handle,
                    self.x,
                    self.w,
                    self.conv,
                    self.y,
                    N as c_int,
                    &mut count,
                    f.as_mut_ptr(),
                ),
            )?;
            let ranked: Vec<_> =
                f[..(count.max(0) as usize).min(N)].iter().map(|r| (r.algo, r.status, r.memory, r.mathType)).collect();
            let (algo, m) = pick(&ranked, ty, tf32, "forward")?;
            self.set_math(m)?;
            let ws = dnn::get_convolution_forward_workspace_size(handle, self.x, self.w, self.conv, self.y, algo)
                .map_err(|e| format!("cuDNN forward workspace: {e:?}"))?;
            self.fwd = (algo, m, ws);

            let mut d: [sys::cudnnConvolutionBwdDataAlgoPerf_t; N] = std::mem::zeroed();
            check(
                "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                dnn::get_convolution_backward_data_algorithm(
                    handle,
                    self.w,
                    self.y,
                    self.conv,
                    self.x,
                    N as c_int,
                    &mut count,
                    d.as_mut_ptr(),
                ),
            )?;
            let ranked: Vec<_> =
                d[..(count.max(0) as usize).min(N)].iter().map(|r| (r.algo, r.status, r.memory, r.mathType)).collect();
            let (algo, m) = pick(&ranked, ty, tf32, "input-gradient")?;
            self.set_math(m)?;
            let ws = dnn::get_convolution_backward_data_workspace_size(handle, self.w, self.y, self.conv, self.x, algo)
                .map_err(|e| format!("cuDNN input-gradient workspace: {e:?}"))?;
            self.bwd_data = (algo, m, ws);

            let mut g: [sys::cudnnConvolutionBwdFilterAlgoPerf_t; N] = std::mem::zeroed();
            check(
                "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
                dnn::get_convolution_backward_filter_algorithm(
                    handle,
                    self.x,
                    self.y,
                    self.conv,
                    self.w,
                    N as c_int,
                    &mut count,
                    g.as_mut_ptr(),
                ),
            )?;
            let ranked: Vec<_> =
                g[..(count.max(0) as usize).min(N)].iter().map(|r| (r.algo, r.status, r.memory, r.mathType)).collect();
            let (algo, m) = pick(&ranked, ty, tf32, "weight-gradient")?;
            self.set_math(m)?;
            let ws =
                dnn::get_convolution_backward_filter_workspace_size(handle, self.x, self.y, self.conv, self.w, algo)
                    .map_err(|e| format!("cuDNN weight-gradient workspace: {e:?}"))?;
            self.bwd_filter = (algo, m, ws);
        }
        Ok(())
    }

    fn set_math(&self, m: sys::cudnnMathType_t) -> Result<()> {
        // SAFETY: a live descriptor.
        check("cudnnSetConvolutionMathType", unsafe { dnn::set_convolution_math_type(self.conv, m) })
    }

    fn run(&self, handle: sys::cudnnHandle_t, dev: &GpuDevice, pass: ConvPass, a: u64, b: u64, out: u64) -> Result<()> {
        let ws_bytes = match pass {
            ConvPass::Forward => self.fwd.2,
            ConvPass::BackwardData => self.bwd_data.2,
            ConvPass::BackwardFilter => self.bwd_filter.2,
        };
        // From the stream-ordered pool: freed (stream-ordered) when this call returns.
        let ws = if ws_bytes > 0 { Some(dev.alloc(ws_bytes)?) } else { None };
        let ws_ptr = ws.as_ref().map(|w| dev.ptr(w) as *mut c_void).unwrap_or(std::ptr::null_mut());
        let (one32, zero32, one64, zero64) = (1.0f32, 0.0f32, 1.0f64, 0.0f64);
        let (alpha, beta): (*const c_void, *const c_void) = if self.double {
            (&one64 as *const f64 as *const c_void, &zero64 as *const f64 as *const c_void)
        } else {
            (&one32 as *const f32 as *const c_void, &zero32 as *const f32 as *const c_void)
        };
        let (pa, pb, po) = (a as *const c_void, b as *const c_void, out as *mut c_void);
        // SAFETY: the caller passes live dense buffers matching this plan's descriptors, on
        // the stream the handle is bound to; the workspace outlives the enqueued call
        // because its free is ordered on the same stream.
        unsafe {
            match pass {
                ConvPass::Forward => {
                    self.set_math(self.fwd.1)?;
                    check(
                        "cudnnConvolutionForward",
                        dnn::convolution_forward(
                            handle, alpha, self.x, pa, self.w, pb, self.conv, self.fwd.0, ws_ptr, ws_bytes, beta,
                            self.y, po,
                        ),
                    )
                }
                ConvPass::BackwardData => {
                    self.set_math(self.bwd_data.1)?;
                    check(
                        "cudnnConvolutionBackwardData",
                        dnn::convolution_backward_data(
                            handle,
                            alpha,
                            self.w,
                            pa,
                            self.y,
                            pb,
                            self.conv,
                            self.bwd_data.0,
                            ws_ptr,
                            ws_bytes,
                            beta,
                            self.x,
                            po,
                        ),
                    )
                }
                ConvPass::BackwardFilter => {
                    self.set_math(self.bwd_filter.1)?;
                    check(
                        "cudnnConvolutionBackwardFilter",
                        dnn::convolution_backward_filter(
                            handle,
                            alpha,
                            self.x,
                            pa,
                            self.y,
                            pb,
                            self.conv,
                            self.bwd_filter.0,
                            ws_ptr,
                            ws_bytes,
                            beta,
                            self.w,
                            po,
                        ),
                    )
                }
            }
        }
    }
}

/// The version of the cuDNN library opened (e.g. 91300 for 9.13.0).
pub fn version() -> Result<usize> {
    library_present()?;
    Ok(dnn::get_version())
}

/// Whether cuDNN should be used for convolutions when `LOL_CUDNN` is unset.
pub fn enabled_by_env() -> bool {
    std::env::var("LOL_CUDNN").map(|v| v == "1" || v.eq_ignore_ascii_case("true")).unwrap_or(false)
}
