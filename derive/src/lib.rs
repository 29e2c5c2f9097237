//! `#[derive(Model)]`: one struct is a resource's (or a nested block's)
//! schema and its state. The derive writes `tf::model::Model` for it: the
//! schema `Block` from the fields and their `#[tf(...)]` attributes, and the
//! conversions between the struct and Terraform's `Value`. It is used inside
//! the provider crate only, so the code it writes names `crate::tf`.
//!
//! On the struct: `#[tf(description = "...")]`, the block's description.
//! On a field, one of:
//!
//! * `#[tf(description = "...", build = required().forces_replacement())]`:
//!   an attribute of the field's type (`tf::model::AttrField`), named after
//!   the field, with the builder calls of `build` (optional);
//! * `#[tf(with = id_attribute("route table"))]`: an attribute built
//!   elsewhere, whose name must be the field's (checked by
//!   `tf::model::check_model`);
//! * `#[tf(block = exactly_one)]` (or `at_most_one`, `single`): a nested
//!   block of the field's model type, the field a `Vec` of it;
//! * `#[tf(block_with = TIMEOUTS.block())]`: a nested block built elsewhere
//!   (its name must be the field's), the field a `Vec` of a model of it.

use proc_macro::TokenStream;
use proc_macro2::{TokenStream as Tokens, TokenTree};
use quote::quote;
use syn::parse::ParseStream;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

/// The tokens of one `key = value` up to the next top-level comma.
fn until_comma(input: ParseStream) -> syn::Result<Tokens> {
    let mut out = Tokens::new();
    while !input.is_empty() && !input.peek(syn::Token![,]) {
        out.extend(std::iter::once(input.parse::<TokenTree>()?));
    }
    Ok(out)
}

enum Kind {
    Attr { description: Option<LitStr>, build: Option<Tokens> },
    With(Tokens),
    Block(syn::Ident),
    BlockWith(Tokens),
}

#[proc_macro_derive(Model, attributes(tf))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let mut description: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("tf")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("description") {
                description = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `description`"))
            }
        })?;
    }
    let description =
        description.ok_or_else(|| syn::Error::new_spanned(name, "a model needs #[tf(description = \"...\")]"))?;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(name, "Model is derived for structs"));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(name, "Model needs named fields"));
    };
    let mut schema = Vec::new();
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut names = Vec::new();
    let mut checks = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().ok_or_else(|| syn::Error::new_spanned(field, "unnamed field"))?;
        let ty = &field.ty;
        let key = ident.to_string();
        let mut kind = Kind::Attr { description: None, build: None };
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("tf")) {
            attr.parse_nested_meta(|meta| {
                let value = meta.value()?;
                if meta.path.is_ident("with") {
                    kind = Kind::With(until_comma(value)?);
                } else if meta.path.is_ident("block") {
                    kind = Kind::Block(value.parse()?);
                } else if meta.path.is_ident("block_with") {
                    kind = Kind::BlockWith(until_comma(value)?);
                } else if meta.path.is_ident("description") {
                    let d: LitStr = value.parse()?;
                    if let Kind::Attr { description, .. } = &mut kind {
                        *description = Some(d);
                    }
                } else if meta.path.is_ident("build") {
                    let b = until_comma(value)?;
                    if let Kind::Attr { build, .. } = &mut kind {
                        *build = Some(b);
                    }
                } else {
                    return Err(meta.error("expected `description`, `build`, `with`, `block` or `block_with`"));
                }
                Ok(())
            })?;
        }
        match kind {
            Kind::Attr { description, build } => {
                let description = description.ok_or_else(|| {
                    syn::Error::new_spanned(ident, "an attribute needs #[tf(description = \"...\")] or `with`")
                })?;
                let build = build.map(|b| quote!(.#b));
                schema.push(quote! {
                    .attr(<#ty as crate::tf::model::AttrField>::attribute(#key, #description) #build)
                });
            }
            Kind::With(expr) => schema.push(quote!(.attr(#expr))),
            Kind::Block(nesting) => {
                let inner = quote!(<<#ty as crate::tf::model::Blocks>::Item as crate::tf::model::Model>::block());
                // A `single` block is an object (`Option`), the others a
                // list (`Vec`): a mismatch would not fit the schema's type.
                let single = nesting == "single";
                checks.push(quote! {
                    const _: () = ::std::assert!(
                        <#ty as crate::tf::model::Blocks>::SINGLE == #single,
                        "a `single` block is an Option of its model, the other nestings a Vec"
                    );
                });
                schema.push(quote!(.block(crate::tf::schema::NestedBlock::#nesting(#key, #inner))));
            }
            Kind::BlockWith(expr) => schema.push(quote!(.block(#expr))),
        }
        reads.push(quote! {
            #ident: crate::tf::model::Field::from_value(v.attr(#key)).map_err(|e| crate::tf::model::at(#key, e))?
        });
        writes.push(quote!((#key.to_string(), crate::tf::model::Field::to_value(&self.#ident))));
        names.push(key);
    }
    Ok(quote! {
        #(#checks)*

        impl crate::tf::model::Model for #name {
            const FIELDS: &'static [&'static str] = &[#(#names),*];

            fn block() -> crate::tf::schema::Block {
                crate::tf::schema::Block::new(#description) #(#schema)*
            }

            fn from_value(v: &crate::tf::value::Value) -> ::std::result::Result<Self, crate::tf::model::ModelError> {
                // Unknown, null or anything but an object is no block of
                // this model (a `v.attr` of it would read every field null).
                if !::std::matches!(v, crate::tf::value::Value::Object(_)) {
                    return ::std::result::Result::Err(crate::tf::model::ModelError::new("expected a block"));
                }
                ::std::result::Result::Ok(#name { #(#reads),* })
            }

            fn to_value(&self) -> crate::tf::value::Value {
                crate::tf::value::Value::Object(::std::collections::BTreeMap::from([#(#writes),*]))
            }
        }
    })
}
