//! `sequential![...]`: a block that declares a generic struct with one field per layer,
//! implements `Module` (children named by index or by the given name) and `Forward`
//! (each layer's output feeds the next; an error says which layer failed), and returns
//! an instance. Each layer expression is checked on its own span, so a value that is
//! not a layer is reported at that layer.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

pub struct Layer {
    name: Option<Ident>,
    expr: Expr,
}

pub struct Layers {
    layers: Vec<Layer>,
    span: Span,
}

impl Parse for Layers {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let span = input.span();
        let mut layers = Vec::new();
        while !input.is_empty() {
            // `name: expr` — but not a path like `layers::Dense` (a `::` token).
            let named = input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]);
            let name = if named {
                let id: Ident = input.parse()?;
                input.parse::<Token![:]>()?;
                Some(id)
            } else {
                None
            };
            let expr: Expr = input.parse()?;
            layers.push(Layer { name, expr });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(Layers { layers, span })
    }
}

pub fn expand(input: Layers) -> syn::Result<TokenStream> {
    let p = crate::runtime_path::runtime_path();
    if input.layers.is_empty() {
        return Err(syn::Error::new(input.span, "sequential! needs at least one layer"));
    }
    let named = input.layers.iter().filter(|l| l.name.is_some()).count();
    if named != 0 && named != input.layers.len() {
        let first = input.layers.iter().find(|l| l.name.is_none()).map(|l| l.expr.span()).unwrap_or(input.span);
        return Err(syn::Error::new(first, "sequential!: name every layer (`name: layer`) or none"));
    }
    let mut seen = std::collections::HashSet::new();
    for l in &input.layers {
        if let Some(n) = &l.name {
            if !seen.insert(n.to_string()) {
                return Err(syn::Error::new(n.span(), format!("sequential!: layer name `{n}` is used twice")));
            }
        }
    }
    let n = input.layers.len();
    let tys: Vec<Ident> = (0..n).map(|i| format_ident!("L{}", i)).collect();
    let fields: Vec<Ident> = (0..n).map(|i| format_ident!("layer{}", i)).collect();
    let names: Vec<String> = input
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| l.name.as_ref().map(|n| n.to_string()).unwrap_or_else(|| i.to_string()))
        .collect();
    // Closures get the layer signature through `lambda`, so `|x| x.relu()` infers.
    let inits = input.layers.iter().zip(&fields).map(|(l, f)| {
        let e = &l.expr;
        let sp = e.span();
        match e {
            Expr::Closure(_) => quote_spanned!(sp=> #f: #p::check_layer(#p::lambda(#e))),
            _ => quote_spanned!(sp=> #f: #p::check_layer(#e)),
        }
    });
    let chain = fields.iter().zip(&names).zip(&tys).map(|((f, name), ty)| {
        quote! {
            let x = #p::Forward::forward(&self.#f, &x)
                .map_err(|e| #p::layer_error(#name, &#p::short_type_name::<#ty>(), e))?;
            #p::trace::record(#name, &#p::short_type_name::<#ty>(), &x, &self.#f);
        }
    });
    Ok(quote! {{
        /// A chain of layers made by `sequential!`.
        #[allow(non_camel_case_types)]
        struct Sequential<#(#tys),*> { #(#fields: #tys),* }

        impl<#(#tys: #p::Module),*> #p::Module for Sequential<#(#tys),*> {
            fn visit(&self, prefix: &str, f: &mut #p::Visit<'_>) {
                #( #p::Module::visit(&self.#fields, &#p::join_name(prefix, #names), f); )*
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut #p::VisitMut<'_>) -> #p::Result<()> {
                #( #p::Module::visit_mut(&mut self.#fields, &#p::join_name(prefix, #names), f)?; )*
                ::core::result::Result::Ok(())
            }
            fn set_training(&mut self, training: bool) {
                #( #p::Module::set_training(&mut self.#fields, training); )*
            }
            fn visit_lazy(&self, prefix: &str, f: &mut #p::VisitLazy<'_>) {
                #( #p::Module::visit_lazy(&self.#fields, &#p::join_name(prefix, #names), f); )*
            }
            fn visit_lazy_mut(&mut self, prefix: &str, f: &mut #p::VisitLazyMut<'_>) -> #p::Result<()> {
                #( #p::Module::visit_lazy_mut(&mut self.#fields, &#p::join_name(prefix, #names), f)?; )*
                ::core::result::Result::Ok(())
            }
        }

        impl<#(#tys: #p::Forward + #p::Module),*> #p::Forward for Sequential<#(#tys),*> {
            fn forward(&self, x: &#p::Tensor) -> #p::Result<#p::Tensor> {
                let _depth = #p::trace::enter();
                let x = x.clone();
                #(#chain)*
                ::core::result::Result::Ok(x)
            }
        }

        Sequential { #(#inits),* }
    }})
}
