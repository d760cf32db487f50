//! Every kernel module compiles under NVRTC for sm_80 and sm_90, on a machine with no
//! GPU (CI installs NVRTC from PyPI's nvidia-cuda-nvrtc; see .ci/run), and a broken
//! kernel is rejected with NVRTC's log. Skips, saying why, when libnvrtc is absent.
use lol_kernels::compile::{compile_cubin, nvrtc_available};
use lol_kernels::sources::{full_source, MODULES};

fn nvrtc_or_skip() -> bool {
    match nvrtc_available() {
        Ok(()) => true,
        Err(why) => {
            println!("skipped: {why}");
            false
        }
    }
}

#[test]
fn every_module_compiles_for_sm80_and_sm90() {
    if !nvrtc_or_skip() {
        return;
    }
    for arch in ["sm_80", "sm_90"] {
        for (name, _) in MODULES {
            let src = full_source(name).unwrap();
            let cubin = compile_cubin(name, &src, arch).unwrap_or_else(|e| panic!("{e}"));
            // An ELF image.
            assert_eq!(&cubin[..4], b"\x7fELF", "{name} for {arch}");
        }
    }
}

#[test]
fn a_broken_kernel_is_rejected_with_the_log() {
    if !nvrtc_or_skip() {
        return;
    }
    let e = compile_cubin("broken", "extern \"C\" __global__ void k(float* x) { x[0] = undefined_name; }", "sm_90")
        .unwrap_err();
    assert!(e.contains("undefined_name"), "{e}");
}
