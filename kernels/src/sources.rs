//! The CUDA C sources. Every module is compiled with the shared prelude in front.

/// Types, half-precision conversions and strided indexing shared by all modules.
pub const PRELUDE: &str = include_str!("cu/prelude.cuh");

/// (module name, source) for every kernel module.
pub const MODULES: &[(&str, &str)] = &[
    ("elementwise", include_str!("cu/elementwise.cu")),
    ("reduce", include_str!("cu/reduce.cu")),
    ("softmax", include_str!("cu/softmax.cu")),
    ("index", include_str!("cu/index.cu")),
    ("conv", include_str!("cu/conv.cu")),
    ("pool", include_str!("cu/pool.cu")),
    ("optim", include_str!("cu/optim.cu")),
    ("rand", include_str!("cu/rand.cu")),
];

/// The full text NVRTC compiles for a module.
pub fn full_source(module: &str) -> Option<String> {
    MODULES.iter().find(|(n, _)| *n == module).map(|(_, src)| format!("{PRELUDE}\n{src}"))
}
