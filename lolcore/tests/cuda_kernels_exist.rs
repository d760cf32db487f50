//! Every kernel the CUDA backend may launch exists in its module's CUBIN, checked with
//! NVRTC alone (no GPU): a misspelt name or a missing instantiation fails here, in CI,
//! instead of on a GPU. Skips, saying why, when libnvrtc is absent.
use lol_kernels::compile::{compile_cubin, nvrtc_available};
use lol_kernels::sources::full_source;
use std::collections::HashMap;

#[test]
fn every_launched_kernel_is_in_its_cubin() {
    if let Err(why) = nvrtc_available() {
        println!("skipped: {why}");
        return;
    }
    let mut cubins: HashMap<&str, Vec<u8>> = HashMap::new();
    let names = lolcore::cuda::kernel_names();
    assert!(names.len() > 150);
    for (module, name) in names {
        let cubin = cubins
            .entry(module)
            .or_insert_with(|| compile_cubin(module, &full_source(module).unwrap(), "sm_90").unwrap());
        let needle: Vec<u8> = [&[0u8][..], name.as_bytes(), &[0u8][..]].concat();
        assert!(cubin.windows(needle.len()).any(|w| w == needle.as_slice()), "kernel {name} is not in module {module}");
    }
}
