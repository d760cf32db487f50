//! The path generated code names its helpers by: `::keras::__private` for a crate that
//! depends on `keras` (under whatever name its Cargo.toml gives it), else the facade
//! `::lol::__private`, else `::lolcore::__private`, so a program that depends on any one
//! of them alone can derive.

use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};

pub fn runtime_path() -> TokenStream {
    runtime_path_at(Span::call_site())
}

/// The same path with every token at `span` (so an error about a field points there).
pub fn runtime_path_at(span: Span) -> TokenStream {
    let name = ["keras", "lol", "lolcore"]
        .into_iter()
        .find_map(|krate| match crate_name(krate) {
            // Both crates declare `extern crate self as <name>`, so inside them (their
            // unit tests, doctests, integration tests) the plain name resolves.
            Ok(FoundCrate::Itself) => Some(krate.to_string()),
            Ok(FoundCrate::Name(n)) => Some(n),
            Err(_) => None,
        })
        .unwrap_or_else(|| "keras".into());
    let id = syn::Ident::new(&name, span);
    quote::quote_spanned!(span=> ::#id::__private)
}
