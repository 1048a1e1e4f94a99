//! The backend of a service's handlers: a private trait with one method
//! per bound gRPC method, implemented for the runtime's `Remote<T>` (calls
//! over a tonic transport) and (option `direct_calls`) for
//! `gateway_runtime::Direct<S>` over tonic's server trait. Handlers are generic over it, so one handler serves both and is
//! only instantiated for the backends a program uses.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::fields::Scope;
use super::naming::{naive_snake_case, to_upper_camel};
use super::service::method_ident;
use crate::model::ServiceModel;

/// The `Backend` trait and its impls.
pub fn backend(scope: Scope<'_>, service: &ServiceModel, direct: bool) -> TokenStream {
    let p = quote!(__gw);
    let service_name = to_upper_camel(service.descriptor.name());
    let snake = naive_snake_case(&service_name);
    let server_module = format_ident!("{}_server", snake);
    let server_trait = format_ident!("{}", service_name);
    let full_name = service.descriptor.full_name();

    // Calls name the runtime's call and the server trait's method in
    // full: `Backend` has methods of the same names.
    let mut signatures = Vec::new();
    let mut client_fns = Vec::new();
    let mut direct_fns = Vec::new();
    for method in service.methods.iter().filter(|m| !m.bindings.is_empty()) {
        let name = method_ident(method);
        let proto_name = method.descriptor.name();
        let input = scope.type_path(method.descriptor.input().full_name());
        let output = scope.type_path(method.descriptor.output().full_name());
        let request = if method.kind.streams_requests() {
            quote!(#p::tonic::Request<#p::RequestStream<#input>>)
        } else {
            quote!(#p::tonic::Request<#input>)
        };
        let response = if method.kind.streams_responses() {
            quote!(#p::ResponseStream<#output>)
        } else {
            quote!(#output)
        };
        signatures.push(quote! {
            fn #name(self, request: #request) -> impl #p::ReplyFuture<#response>;
        });
        let call = match (
            method.kind.streams_requests(),
            method.kind.streams_responses(),
        ) {
            (false, false) => quote!(unary),
            (false, true) => quote!(server_streaming),
            (true, false) => quote!(client_streaming),
            (true, true) => quote!(streaming),
        };
        let path = format!("/{full_name}/{proto_name}");
        // Not `async`: the runtime's future is the method's, with no layer
        // around it to move it through.
        client_fns.push(quote! {
            fn #name(self, request: #request) -> impl #p::ReplyFuture<#response> {
                #p::Remote::#call(self, request, #p::Method { path: #path, service: #full_name, method: #proto_name })
            }
        });
        let argument = if method.kind.streams_requests() {
            quote!(request.map(#p::request_streaming))
        } else {
            quote!(request)
        };
        let direct_call = if method.kind.streams_responses() {
            quote! {
                ::core::result::Result::Ok(
                    <S as super::#server_module::#server_trait>::#name(service, #argument).await?.map(#p::ResponseStream::direct),
                )
            }
        } else {
            quote!(<S as super::#server_module::#server_trait>::#name(service, #argument).await)
        };
        // The direct impls as `async fn`: shorter, and the trait's `Send`
        // bound is checked on them all the same. The request is marked and
        // intercepted in place, and the service borrowed from `self`: the
        // message is not moved through the runtime and back.
        direct_fns.push(quote! {
            async fn #name(self, mut request: #request) -> #p::Reply<#response> {
                let service = #p::direct_call(&self, &mut request, #full_name, #proto_name)?;
                #direct_call
            }
        });
    }
    let direct_impl = if direct {
        quote! {
            impl<S: super::#server_module::#server_trait> Backend for ::gateway_runtime::Direct<S> {
                #(#direct_fns)*
            }
        }
    } else {
        quote!()
    };
    quote! {
        /// What the handlers call: the gRPC transport, or the service itself.
        trait Backend: #p::CallTarget + ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#signatures)*
        }

        impl<T: #p::Transport> Backend for #p::Remote<T> {
            #(#client_fns)*
        }

        #direct_impl
    }
}
