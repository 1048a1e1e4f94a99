//! `impl JsonMessage` for every message prost generates: the canonical
//! proto3 JSON mapping, written out field by field (no reflection at run
//! time).

use proc_macro2::TokenStream;
use prost_reflect::MessageDescriptor;
use quote::quote;

use super::fields::{Scope, merge_field, proto_name, real_oneof, write_field, write_oneof};

/// Every message of a file, nested ones included, except map entries (prost
/// generates no type for them).
pub fn all_messages(
    messages: impl Iterator<Item = MessageDescriptor>,
    out: &mut Vec<MessageDescriptor>,
) {
    for message in messages {
        if message.is_map_entry() {
            continue;
        }
        out.push(message.clone());
        all_messages(message.child_messages(), out);
    }
}

/// The `JsonMessage` impl of one message, at package level.
pub fn message_impl(scope: Scope<'_>, message: &MessageDescriptor) -> TokenStream {
    let p = quote!(__gw);
    let path = scope.type_path(message.full_name());
    let full_name = message.full_name();
    let this = quote!(self);

    // Fields in declaration order; a oneof is written where its first
    // member is declared.
    let mut writes = Vec::new();
    let mut written_oneofs = Vec::new();
    for field in message.fields() {
        match real_oneof(&field) {
            Some(oneof) => {
                if !written_oneofs.contains(&oneof) {
                    writes.push(write_oneof(scope, &oneof, &this));
                    written_oneofs.push(oneof);
                }
            }
            None => writes.push(write_field(scope, &field, &this)),
        }
    }

    let arms = message.fields().map(|field| {
        let json = field.json_name();
        let proto = proto_name(&field);
        let names = if json == proto {
            quote!(#json)
        } else {
            quote!(#json | #proto)
        };
        let merge = merge_field(scope, &field, &this);
        quote! { #names => { #merge } }
    });
    let (merge_body, writer) = if message.fields().len() == 0 {
        (
            quote! { r.object(|_, _| ::core::result::Result::Ok(false)) },
            quote!(_w),
        )
    } else {
        (
            quote! {
                r.object(|r, key| {
                    match key {
                        #(#arms)*
                        _ => return ::core::result::Result::Ok(false),
                    }
                    ::core::result::Result::Ok(true)
                })
            },
            quote!(w),
        )
    };
    let begin = if message.fields().len() == 0 {
        quote! { _w.begin_object(); _w.end_object(); }
    } else {
        quote! { w.begin_object(); #(#writes)* w.end_object(); }
    };
    quote! {
        impl #p::JsonMessage for #path {
            const FULL_NAME: &'static str = #full_name;
            fn write_json(&self, #writer: &mut #p::JsonWriter) {
                #begin
            }
            fn merge_json(&mut self, r: &mut #p::JsonReader<'_>) -> ::core::result::Result<(), #p::JsonError> {
                #merge_body
            }
        }
    }
}

/// `__register_gateway_types()`: registers the package's messages for
/// `google.protobuf.Any` JSON (`@type`); `messages` is empty when no
/// message of the run has an `Any` field.
pub fn register_fn(scope: Scope<'_>, messages: &[MessageDescriptor]) -> TokenStream {
    // Outside the `__gw` alias: this function is called from other packages.
    let p = quote!(::gateway_runtime::__private);
    let calls = messages.iter().map(|m| {
        let path = scope.type_path(m.full_name());
        quote!(#p::register_any::<#path>();)
    });
    let version = |v: &str| proc_macro2::Literal::u64_unsuffixed(v.parse().unwrap_or(0));
    let (major, minor, patch) = (
        version(env!("CARGO_PKG_VERSION_MAJOR")),
        version(env!("CARGO_PKG_VERSION_MINOR")),
        version(env!("CARGO_PKG_VERSION_PATCH")),
    );
    quote! {
        /// This file was written by the generator of this version: with a
        /// `gateway-runtime` of another one, this line fails to compile,
        /// naming both. Use the same version of generator and runtime.
        const _: #p::Version<#major, #minor, #patch> = #p::VERSION;

        /// Registers this package's messages for `google.protobuf.Any` JSON
        /// (`"@type"`) when a message of this generator run has an `Any`
        /// field (otherwise it registers nothing). Generated routers call
        /// it; call it yourself only to encode `Any` values outside a gateway.
        #[doc(hidden)]
        pub fn __register_gateway_types() {
            #(#calls)*
        }
    }
}
