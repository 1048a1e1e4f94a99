//! Handlers, one generator function per gRPC method shape.

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::{Scope, write_field_value};
use super::service::{BindingNames, client_method};
use crate::model::{BindingModel, BodyModel, MethodModel};

/// The closure that writes a response: the whole message, or only its
/// `response_body` field.
fn write_response(scope: Scope<'_>, method: &MethodModel, binding: &BindingModel) -> TokenStream {
    let p = quote!(::gateway_runtime::__private);
    let output = scope.type_path(method.descriptor.output().full_name());
    match &binding.response_body {
        None => quote! {
            |response: &#output, w: &mut #p::JsonWriter| #p::JsonMessage::write_json(response, w)
        },
        Some(path) => {
            // Walk down the path; an unset message on the way writes the
            // leaf of a default message.
            let mut body = write_field_value(scope, path.leaf(), &quote!(m));
            for field in path.0[..path.0.len() - 1].iter().rev() {
                let f = super::fields::field_ident(field);
                let Some(message) = field.kind().as_message().cloned() else {
                    continue;
                };
                let ty = scope.type_path(message.full_name());
                body = quote! {
                    {
                        let write = |m: &#ty, w: &mut #p::JsonWriter| { #body };
                        match &m.#f {
                            ::core::option::Option::Some(v) => write(v, w),
                            ::core::option::Option::None => write(&<#ty as ::core::default::Default>::default(), w),
                        }
                    }
                };
            }
            quote! {
                |m: &#output, w: &mut #p::JsonWriter| { #body }
            }
        }
    }
}

/// A unary binding's handler.
pub fn unary(
    scope: Scope<'_>,
    client: &TokenStream,
    method: &MethodModel,
    binding: &BindingModel,
    names: &BindingNames,
) -> TokenStream {
    let p = quote!(::gateway_runtime::__private);
    let (handler, bind) = (&names.handler, &names.bind);
    let call = client_method(method);
    let write = write_response(scope, method, binding);
    let reads_body = !matches!(binding.body, BodyModel::None);
    let doc = super::doc_attrs(
        &[format!(
            "`{} {}` → `{}`",
            binding.method,
            binding.template,
            method.descriptor.full_name()
        )]
        .into_iter()
        .chain(
            super::comments_of_method(&method.descriptor)
                .into_iter()
                .map(|l| l.to_string()),
        )
        .collect::<Vec<_>>(),
    );
    quote! {
        #doc
        async fn #handler<T: #p::Transport>(
            state: SvcState<T>,
            request: #p::axum::extract::Request,
            captures: #p::Captures,
        ) -> #p::axum::response::Response {
            static BINDING: #p::UnaryBinding = #p::UnaryBinding { reads_body: #reads_body };
            #p::unary(
                &state,
                request,
                captures,
                &BINDING,
                #bind,
                |mut client: #client, request| async move { client.#call(request).await },
                #write,
            )
            .await
        }
    }
}

/// A streaming binding's handler.
pub fn streaming(
    scope: Scope<'_>,
    client: &TokenStream,
    method: &MethodModel,
    binding: &BindingModel,
    names: &BindingNames,
) -> TokenStream {
    let _ = (scope, client, method, binding);
    let p = quote!(::gateway_runtime::__private);
    let (handler, bind) = (&names.handler, &names.bind);
    quote! {
        async fn #handler<T: #p::Transport>(
            state: SvcState<T>,
            request: #p::axum::extract::Request,
            captures: #p::Captures,
        ) -> #p::axum::response::Response {
            let _ = (captures, #bind);
            #p::not_found(&state.gateway, &request)
        }
    }
}
