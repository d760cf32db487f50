//! The path generated code names its helpers by: `::keras::__private` for a crate that
//! depends on `keras` (under whatever name its Cargo.toml gives it), else the facade
//! `::lol::__private`, else `::lolcore::__private`, so a program that depends on any one
//! of them alone can derive. Normal dependencies are preferred: a library on `lolcore`
//! with `keras` only for its tests names `lolcore` (proc-macro-crate, which finds the
//! renamed and the dev-only ones too, is the fallback).

use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};

/// The crates whose `__private` module generated code can name, in order of preference.
const RUNTIMES: [&str; 3] = ["keras", "lol", "lolcore"];

pub fn runtime_path() -> TokenStream {
    runtime_path_at(Span::call_site())
}

/// The same path with every token at `span` (so an error about a field points there).
pub fn runtime_path_at(span: Span) -> TokenStream {
    let name = normal_dependency()
        .or_else(|| {
            RUNTIMES.iter().find_map(|krate| match crate_name(krate) {
                // Each crate declares `extern crate self as <name>`, so inside it (unit
                // tests, doctests, integration tests) the plain name resolves.
                Ok(FoundCrate::Itself) => Some(krate.to_string()),
                Ok(FoundCrate::Name(n)) => Some(n),
                Err(_) => None,
            })
        })
        .unwrap_or_else(|| "keras".into());
    let id = syn::Ident::new(&name, span);
    quote::quote_spanned!(span=> ::#id::__private)
}

/// The name under which the calling crate's manifest lists one of `RUNTIMES` as a normal
/// (not dev-only) dependency, or the runtime it is itself.
fn normal_dependency() -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let text = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")).ok()?;
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    let mut tables: Vec<&dyn toml_edit::TableLike> = Vec::new();
    if let Some(t) = doc.get("dependencies").and_then(|d| d.as_table_like()) {
        tables.push(t);
    }
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table_like()) {
        for (_, target) in targets.iter() {
            if let Some(t) = target.get("dependencies").and_then(|d| d.as_table_like()) {
                tables.push(t);
            }
        }
    }
    let own = doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    RUNTIMES.iter().find_map(|krate| {
        if own == Some(*krate) {
            return Some(krate.to_string());
        }
        tables.iter().find_map(|t| {
            t.iter().find_map(|(key, item)| {
                let package = item.get("package").and_then(|p| p.as_str()).unwrap_or(key);
                (package == *krate).then(|| key.replace('-', "_"))
            })
        })
    })
}
