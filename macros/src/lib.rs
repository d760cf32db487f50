//! Proc-macros for lol: `#[derive(Module)]` and `sequential![...]`.
//!
//! Generated code names every item through `::keras::__private`, `::lol::__private` or
//! `::lolcore::__private`, whichever the calling crate depends on (see
//! `runtime_path.rs`), so it resolves for a user who depends on any one of them alone;
//! all three re-export the macros.

mod derive_module;
mod runtime_path;
mod sequential;

use proc_macro::TokenStream;

/// Implements `Module` for a struct by visiting its fields: nested modules, tensors
/// (parameters), `Vec<M>`, `Option<M>`, arrays. Names are field paths, as in PyTorch's
/// `state_dict` (`linear1.weight`, `blocks.3.conv.bias`; tuple fields are `0`, `1`, ...).
///
/// Field attributes:
/// - `#[module(skip)]`: plain data, not visited;
/// - `#[module(buffer)]`: tensors that are state but not trained (running statistics);
/// - `#[module(name = "fc")]`: the name this field has in a PyTorch checkpoint;
/// - `#[module(training)]`: a `bool` field that `train()`/`eval()` set.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive_module::expand(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// A chain of layers as a concrete struct (static dispatch) with `Module` and `Forward`:
/// `sequential![Dense::new(784, 256), Relu, Dense::new(256, 10)]` names its children
/// `0`, `1`, `2` like `torch.nn.Sequential`; `sequential![conv1: Conv2D::new(1, 20, 5), ...]`
/// uses the given names. Closures (`|x| x.relu()`) and functions are parameter-free layers.
#[proc_macro]
pub fn sequential(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as sequential::Layers);
    sequential::expand(input).unwrap_or_else(syn::Error::into_compile_error).into()
}
