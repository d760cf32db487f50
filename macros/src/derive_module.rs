//! `#[derive(Module)]`: one generated method per trait method, each a walk over the
//! fields; `FieldInfo` reads a field's `#[module(...)]` attribute once.

use crate::runtime_path::{runtime_path, runtime_path_at};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Index, LitStr};

enum Role {
    Module,
    Buffer,
    Skip,
    Training,
}

struct FieldInfo {
    /// `self.<access>`
    access: TokenStream,
    /// The name in the state dict.
    name: String,
    ty: syn::Type,
    role: Role,
    span: proc_macro2::Span,
}

fn field_info(i: usize, f: &syn::Field) -> syn::Result<FieldInfo> {
    let (access, mut name) = match &f.ident {
        Some(id) => (quote!(#id), id.to_string().trim_start_matches("r#").to_string()),
        None => {
            let idx = Index::from(i);
            (quote!(#idx), i.to_string())
        }
    };
    let mut role = Role::Module;
    for attr in f.attrs.iter().filter(|a| a.path().is_ident("module")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                role = Role::Skip;
            } else if meta.path.is_ident("buffer") {
                role = Role::Buffer;
            } else if meta.path.is_ident("training") {
                role = Role::Training;
            } else if meta.path.is_ident("name") {
                name = meta.value()?.parse::<LitStr>()?.value();
            } else {
                return Err(
                    meta.error("unknown #[module(...)] option: expected skip, buffer, training or name = \"...\"")
                );
            }
            Ok(())
        })?;
    }
    Ok(FieldInfo { access, name, ty: f.ty.clone(), role, span: f.ty.span() })
}

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => n.named.iter().collect::<Vec<_>>(),
            Fields::Unnamed(u) => u.unnamed.iter().collect(),
            Fields::Unit => vec![],
        },
        _ => return Err(syn::Error::new(input.ident.span(), "#[derive(Module)] supports structs only")),
    };
    let infos = fields.iter().enumerate().map(|(i, f)| field_info(i, f)).collect::<syn::Result<Vec<_>>>()?;
    let p = runtime_path();
    let name = &input.ident;

    // Fields whose type involves a type parameter need `Module` bounds; a concrete field
    // type that is not a module is reported by the visit call below, at the field.
    let params: Vec<String> = input.generics.type_params().map(|t| t.ident.to_string()).collect();
    let mut generics = input.generics.clone();
    {
        let wc = generics.make_where_clause();
        for f in infos.iter().filter(|f| matches!(f.role, Role::Module | Role::Buffer)) {
            let ty = &f.ty;
            if mentions_any(ty, &params) {
                wc.predicates.push(syn::parse_quote!(#ty: #p::Module));
            }
        }
    }
    let (impl_g, ty_g, where_c) = generics.split_for_impl();

    let visit = infos.iter().filter_map(|f| {
        let (acc, n) = (&f.access, &f.name);
        match f.role {
            Role::Module => {
                let pf = runtime_path_at(f.span);
                Some(quote_spanned!(f.span=> #pf::Module::visit(&self.#acc, &#p::join_name(prefix, #n), f);))
            }
            Role::Buffer => {
                Some(quote_spanned!(f.span=> #p::visit_as_buffer(&self.#acc, &#p::join_name(prefix, #n), f);))
            }
            _ => None,
        }
    });
    let visit_mut = infos.iter().filter_map(|f| {
        let (acc, n) = (&f.access, &f.name);
        match f.role {
            Role::Module => {
                let pf = runtime_path_at(f.span);
                Some(quote_spanned!(f.span=> #pf::Module::visit_mut(&mut self.#acc, &#p::join_name(prefix, #n), f)?;))
            }
            Role::Buffer => {
                Some(quote_spanned!(f.span=> #p::visit_mut_as_buffer(&mut self.#acc, &#p::join_name(prefix, #n), f)?;))
            }
            _ => None,
        }
    });
    let training = infos.iter().filter_map(|f| {
        let acc = &f.access;
        match f.role {
            Role::Module | Role::Buffer => {
                let pf = runtime_path_at(f.span);
                Some(quote_spanned!(f.span=> #pf::Module::set_training(&mut self.#acc, training);))
            }
            Role::Training => Some(quote!(self.#acc = training;)),
            Role::Skip => None,
        }
    });
    let visit_lazy = infos.iter().filter(|f| matches!(f.role, Role::Module)).map(|f| {
        let (acc, n) = (&f.access, &f.name);
        let pf = runtime_path_at(f.span);
        quote_spanned!(f.span=> #pf::Module::visit_lazy(&self.#acc, &#p::join_name(prefix, #n), f);)
    });
    let visit_lazy_mut = infos.iter().filter(|f| matches!(f.role, Role::Module)).map(|f| {
        let (acc, n) = (&f.access, &f.name);
        let pf = runtime_path_at(f.span);
        quote_spanned!(f.span=> #pf::Module::visit_lazy_mut(&mut self.#acc, &#p::join_name(prefix, #n), f)?;)
    });
    let is_training = infos.iter().find(|f| matches!(f.role, Role::Training)).map(|f| {
        let acc = &f.access;
        quote!(fn is_training(&self) -> ::core::option::Option<bool> { ::core::option::Option::Some(self.#acc) })
    });
    Ok(quote! {
        impl #impl_g #p::Module for #name #ty_g #where_c {
            fn visit(&self, prefix: &str, f: &mut #p::Visit<'_>) {
                #(#visit)*
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut #p::VisitMut<'_>) -> #p::Result<()> {
                #(#visit_mut)*
                ::core::result::Result::Ok(())
            }
            fn set_training(&mut self, training: bool) {
                #(#training)*
            }
            #is_training
            fn visit_lazy(&self, prefix: &str, f: &mut #p::VisitLazy<'_>) {
                #(#visit_lazy)*
            }
            fn visit_lazy_mut(&mut self, prefix: &str, f: &mut #p::VisitLazyMut<'_>) -> #p::Result<()> {
                #(#visit_lazy_mut)*
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// Whether a type mentions any of the named type parameters.
fn mentions_any(ty: &syn::Type, params: &[String]) -> bool {
    if params.is_empty() {
        return false;
    }
    ty.to_token_stream().into_iter().any(|t| mentions_tree(&t, params))
}

fn mentions_tree(t: &proc_macro2::TokenTree, params: &[String]) -> bool {
    match t {
        proc_macro2::TokenTree::Ident(i) => params.iter().any(|p| i == p),
        proc_macro2::TokenTree::Group(g) => g.stream().into_iter().any(|t| mentions_tree(&t, params)),
        _ => false,
    }
}
