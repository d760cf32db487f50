//! Modules: the `Module`/`Forward` traits, initialisers, the functional form of each
//! layer, and the layer trace behind `summary()`.

pub mod functional;
pub mod init;
mod module;
pub mod trace;

pub use init::Init;
pub use module::{
    check_layer, join_name, lambda, layer_error, short_type_name, visit_as_buffer, visit_mut_as_buffer, Forward,
    Lambda, LazyModule, Module, TensorKind, Visit, VisitLazy, VisitLazyMut, VisitMut,
};
