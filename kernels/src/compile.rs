//! NVRTC: CUDA C → CUBIN for one architecture (`sm_90`, ...). Loading a CUBIN takes
//! ~0.1 ms where PTX would cost ~150 ms of driver JIT, so CUBIN it is.

use crate::Result;
use cudarc::nvrtc::{result, sys};
use std::ffi::{CStr, CString};

/// Whether libnvrtc can be loaded here (it is opened at run time).
pub fn nvrtc_available() -> Result<()> {
    // SAFETY: only tries to open the library.
    if unsafe { sys::is_culib_present() } {
        Ok(())
    } else {
        Err("libnvrtc was not found (install CUDA 13's NVRTC or add its lib directory to LD_LIBRARY_PATH)".into())
    }
}

/// NVRTC's version, `(major, minor)`.
pub fn nvrtc_version() -> Result<(i32, i32)> {
    nvrtc_available()?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: two out-pointers to live integers.
    let r = unsafe { sys::nvrtcVersion(&mut major, &mut minor) };
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!("nvrtcVersion failed: {r:?}"));
    }
    Ok((major, minor))
}

/// Compiles `source` for `arch` (e.g. `"sm_90"`) and returns the CUBIN, or NVRTC's log.
pub fn compile_cubin(name: &str, source: &str, arch: &str) -> Result<Vec<u8>> {
    nvrtc_available()?;
    let src = CString::new(source).map_err(|_| format!("{name}: source contains a NUL byte"))?;
    let cname = CString::new(name).map_err(|_| format!("{name}: bad module name"))?;
    let prog = result::create_program(&src, Some(&cname)).map_err(|e| format!("{name}: nvrtcCreateProgram: {e:?}"))?;
    let options = [format!("--gpu-architecture={arch}"), "-std=c++17".to_string()];
    // SAFETY: `prog` is a live program; it is destroyed on every path below.
    let out = unsafe {
        let compiled = result::compile_program(prog, &options);
        let out = match compiled {
            Err(e) => {
                let log = result::get_program_log(prog)
                    .map(|l| CStr::from_ptr(l.as_ptr()).to_string_lossy().into_owned())
                    .unwrap_or_default();
                Err(format!("{name} for {arch}: NVRTC failed ({e:?}):\n{log}"))
            }
            Ok(()) => cubin(prog).map_err(|e| format!("{name} for {arch}: {e}")),
        };
        let _ = result::destroy_program(prog);
        out
    };
    out
}

/// # Safety
/// `prog` must be a successfully compiled program.
unsafe fn cubin(prog: sys::nvrtcProgram) -> Result<Vec<u8>> {
    let mut size = 0usize;
    let r = sys::nvrtcGetCUBINSize(prog, &mut size);
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!("nvrtcGetCUBINSize: {r:?}"));
    }
    let mut buf = vec![0u8; size];
    let r = sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr() as *mut std::ffi::c_char);
    if r != sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!("nvrtcGetCUBIN: {r:?}"));
    }
    Ok(buf)
}

/// A stable 64-bit FNV-1a hash (for the on-disk CUBIN cache key).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
