//! Handlers, one generator function per gRPC method shape.

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::{Scope, write_field_value};
use super::service::{BindingNames, method_ident};
use crate::model::{BindingModel, BodyModel, HttpMethod, MethodKind, MethodModel};
use crate::resolve::is_http_body;

/// The closure that writes a response: the whole message, or only its
/// `response_body` field.
fn write_response(scope: Scope<'_>, method: &MethodModel, binding: &BindingModel) -> TokenStream {
    let p = quote!(__gw);
    let output = scope.type_path(method.descriptor.output().full_name());
    match &binding.response_body {
        None => quote!(<#output as #p::JsonMessage>::write_json),
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
    method: &MethodModel,
    binding: &BindingModel,
    names: &BindingNames,
) -> TokenStream {
    let p = quote!(__gw);
    let (handler, bind) = (&names.handler, &names.bind);
    let call = method_ident(method);
    let reads_body = !matches!(binding.body, BodyModel::None);
    let rpc = rpc_name(method, binding);
    let doc = doc_of(method, binding);
    let (start, respond) = if is_http_body(&method.descriptor.output()) {
        (quote!(#p::unary_raw_call), raw_parts(scope, method))
    } else {
        (
            quote!(#p::unary_call),
            write_response(scope, method, binding),
        )
    };
    quote! {
        #doc
        fn #handler<B: Backend>(
            state: #p::RouterState,
            request: #p::axum::extract::Request,
            captures: #p::Captures,
        ) -> #p::RouteFuture {
            static BINDING: #p::UnaryBinding = #p::UnaryBinding {
                reads_body: #reads_body,
                rpc: #rpc,
            };
            #p::unary(
                state,
                request,
                captures,
                &BINDING,
                |client: B, input: &mut #p::UnaryInput<'_>| #start(
                    client,
                    input,
                    #bind,
                    <B as Backend>::#call,
                    #respond,
                ),
            )
        }
    }
}

/// `|m: HttpBody| RawBody { .. }`: a `google.api.HttpBody` response taken
/// apart (prost's `data` is `Vec<u8>` or `Bytes`).
fn raw_parts(scope: Scope<'_>, method: &MethodModel) -> TokenStream {
    let p = quote!(__gw);
    let output = scope.type_path(method.descriptor.output().full_name());
    quote! {
        |m: #output| #p::RawBody {
            content_type: m.content_type,
            data: ::core::convert::Into::into(m.data),
        }
    }
}

/// `|content_type, data| HttpBody { .. }`: one piece of an upload.
fn raw_upload_piece(scope: Scope<'_>, method: &MethodModel) -> TokenStream {
    let p = quote!(__gw);
    let input = scope.type_path(method.descriptor.input().full_name());
    let _ = p;
    quote! {
        |content_type: ::std::string::String, data: __gw::Bytes| #input {
            content_type,
            data: ::core::convert::Into::into(data.to_vec()),
            ..::core::default::Default::default()
        }
    }
}

/// The `RpcName` of a binding: its route template and gRPC method, as
/// tracing spans and metrics name them.
fn rpc_name(method: &MethodModel, binding: &BindingModel) -> TokenStream {
    let p = quote!(__gw);
    let route = &binding.template.source;
    let service = method.descriptor.parent_service().full_name().to_owned();
    let name = method.descriptor.name().to_owned();
    quote! {
        #p::RpcName { route: #route, service: #service, method: #name }
    }
}

/// Why a mode is unavailable for a binding, or `Ok(())`.
fn availability(available: bool, reason: String) -> TokenStream {
    if available {
        quote!(::core::result::Result::Ok(()))
    } else {
        quote!(::core::result::Result::Err(#reason))
    }
}

/// The `StreamBinding` static of a streaming binding: which modes it
/// serves (with the reason for each it does not) and where requests come
/// from.
fn stream_binding(method: &MethodModel, binding: &BindingModel) -> TokenStream {
    let p = quote!(__gw);
    let get = binding.method == HttpMethod::Get;
    let t = binding.stream;
    let disabled = |what: &str| format!("disabled by the binding's `stream.{what}` setting");
    let raw = is_http_body(&method.descriptor.input()) || is_http_body(&method.descriptor.output());
    let raw_reason =
        "its messages are google.api.HttpBody: the HTTP body itself is the stream".to_string();
    let sse = availability(
        binding.modes.sse,
        if raw {
            raw_reason.clone()
        } else if !method.kind.streams_responses() {
            "the method does not stream responses".to_string()
        } else if t.disable_sse {
            disabled("disable_sse")
        } else if !get {
            format!(
                "SSE for a request stream needs a GET binding; this one is {}",
                binding.method
            )
        } else {
            String::new()
        },
    );
    let websocket = availability(
        binding.modes.websocket,
        if raw {
            raw_reason
        } else if !get {
            format!(
                "WebSocket needs a GET binding; this one is {}",
                binding.method
            )
        } else {
            disabled("disable_websockets")
        },
    );
    let chunked = availability(binding.modes.chunked, disabled("disable_chunked_transfer"));
    let body_stream = method.kind.streams_requests()
        && !matches!(binding.method, HttpMethod::Get)
        && !matches!(&binding.method, HttpMethod::Custom(m) if m.eq_ignore_ascii_case("HEAD"));
    let reads_body = !matches!(binding.body, BodyModel::None);
    let rpc = rpc_name(method, binding);
    quote! {
        static BINDING: #p::StreamBinding = #p::StreamBinding {
            rpc: #rpc,
            sse: #sse,
            websocket: #websocket,
            chunked: #chunked,
            body_stream: #body_stream,
            reads_body: #reads_body,
        };
    }
}

/// The function that merges one JSON request value (WebSocket frame or
/// NDJSON value) into a request: into the body field when there is one.
fn frame_fn(scope: Scope<'_>, method: &MethodModel, binding: &BindingModel) -> TokenStream {
    let p = quote!(__gw);
    let input = scope.type_path(method.descriptor.input().full_name());
    match &binding.body {
        BodyModel::Field(path) => {
            let holder = super::fields::holder_of(scope, quote!(msg), &path.0);
            let merge = super::fields::merge_field(scope, path.leaf(), &quote!(h));
            quote! {
                {
                    #[allow(clippy::useless_conversion, clippy::needless_borrow)]
                    fn frame(msg: &mut #input, r: &mut #p::JsonReader<'_>) -> ::core::result::Result<(), #p::JsonError> {
                        let h = &mut *#holder;
                        #merge
                        ::core::result::Result::Ok(())
                    }
                    frame
                }
            }
        }
        _ => quote!(<#input as #p::JsonMessage>::merge_json),
    }
}

/// The function that reads a top-level scalar field of a response by name
/// (SSE `id:` and `event:` values).
fn field_fn(scope: Scope<'_>, method: &MethodModel) -> TokenStream {
    let p = quote!(__gw);
    let output = method.descriptor.output();
    let ty = scope.type_path(output.full_name());
    let arms = output.fields().filter_map(|field| {
        let names: Vec<&str> = if field.name() == field.json_name() {
            vec![field.name()]
        } else {
            vec![field.name(), field.json_name()]
        };
        let f = super::fields::field_ident(&field);
        let value = match super::fields::Shape::of(&field) {
            super::fields::Shape::Plain(super::fields::ValueKind::Scalar(super::fields::Scalar::String))
            | super::fields::Shape::Required(super::fields::ValueKind::Scalar(super::fields::Scalar::String)) => {
                quote!(::core::option::Option::Some(m.#f.clone()))
            }
            super::fields::Shape::Plain(super::fields::ValueKind::Scalar(s))
            | super::fields::Shape::Required(super::fields::ValueKind::Scalar(s)) if s != super::fields::Scalar::Bytes => {
                quote!(::core::option::Option::Some(m.#f.to_string()))
            }
            super::fields::Shape::Plain(super::fields::ValueKind::Enum(e))
            | super::fields::Shape::Required(super::fields::ValueKind::Enum(e)) => {
                let path = scope.type_path(e.full_name());
                quote!(::core::option::Option::Some(
                    #path::try_from(m.#f).map(|e| e.as_str_name().to_string()).unwrap_or_else(|_| m.#f.to_string())
                ))
            }
            super::fields::Shape::Optional(super::fields::ValueKind::Scalar(s)) if s != super::fields::Scalar::Bytes => {
                quote!(m.#f.as_ref().map(|v| v.to_string()))
            }
            _ => return None,
        };
        Some(quote! { #(#names)|* => #value, })
    });
    let arms: Vec<TokenStream> = arms.collect();
    let _ = p;
    if arms.is_empty() {
        return quote!(|_: &#ty, _: &str| ::core::option::Option::None);
    }
    quote! {
        |m: &#ty, name: &str| -> ::core::option::Option<::std::string::String> {
            match name {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    }
}

fn doc_of(method: &MethodModel, binding: &BindingModel) -> TokenStream {
    let shape = match method.kind {
        MethodKind::Unary => String::new(),
        kind => format!(" ({}; modes: {})", kind.name(), binding.modes),
    };
    super::doc_attrs(
        &[format!(
            "`{} {}` → `{}`{shape}",
            binding.method,
            binding.template,
            method.descriptor.full_name(),
        )]
        .into_iter()
        .chain(super::comments_of_method(&method.descriptor))
        .collect::<Vec<_>>(),
    )
}

/// A streaming binding's handler: one driver per gRPC shape.
pub fn streaming(
    scope: Scope<'_>,
    method: &MethodModel,
    binding: &BindingModel,
    names: &BindingNames,
) -> TokenStream {
    let p = quote!(__gw);
    let (handler, bind) = (&names.handler, &names.bind);
    let call = method_ident(method);
    let write = if is_http_body(&method.descriptor.output()) {
        quote!(())
    } else {
        write_response(scope, method, binding)
    };
    let frame = if is_http_body(&method.descriptor.input()) {
        quote!(())
    } else {
        frame_fn(scope, method, binding)
    };
    let static_binding = stream_binding(method, binding);
    let doc = doc_of(method, binding);
    let raw_response = is_http_body(&method.descriptor.output());
    let raw_request = is_http_body(&method.descriptor.input());
    let websocket = |driver: TokenStream| {
        if binding.modes.websocket {
            quote!(::core::option::Option::Some(#driver))
        } else {
            quote!(::core::option::Option::None)
        }
    };
    let body = match method.kind {
        MethodKind::ServerStreaming if raw_response => {
            let raw = raw_parts(scope, method);
            quote! {
                ::std::boxed::Box::pin(async move {
                    #p::server_streaming_raw(
                        &state, request, captures, &BINDING, #bind,
                        <B as Backend>::#call,
                        #raw,
                    )
                    .await
                })
            }
        }
        MethodKind::ClientStreaming if raw_request => {
            let make = raw_upload_piece(scope, method);
            quote! {
                ::std::boxed::Box::pin(async move {
                    #p::client_streaming_raw(
                        &state, request, captures, &BINDING, #bind,
                        <B as Backend>::#call,
                        #make,
                        #write,
                    )
                    .await
                })
            }
        }
        MethodKind::ServerStreaming => {
            let field = field_fn(scope, method);
            let websocket = websocket(quote!(#p::server_websocket));
            quote! {
                #p::server_streaming(
                    state, request, captures, &BINDING, #bind, #frame,
                    <B as Backend>::#call,
                    #write,
                    #field,
                    #websocket,
                )
            }
        }
        MethodKind::ClientStreaming => {
            let websocket = websocket(quote!(#p::client_websocket));
            quote! {
                #p::client_streaming(
                    state, request, captures, &BINDING, #bind, #frame,
                    <B as Backend>::#call,
                    #write,
                    #websocket,
                )
            }
        }
        MethodKind::BidiStreaming => {
            let field = field_fn(scope, method);
            let websocket = websocket(quote!(#p::bidi_websocket));
            quote! {
                #p::bidi_streaming(
                    state, request, captures, &BINDING, #bind, #frame,
                    <B as Backend>::#call,
                    #write,
                    #field,
                    #websocket,
                )
            }
        }
        MethodKind::Unary => unreachable!("unary methods have their own handler"),
    };
    quote! {
        #doc
        fn #handler<B: Backend>(
            state: #p::RouterState,
            request: #p::axum::extract::Request,
            captures: #p::Captures,
        ) -> #p::RouteFuture {
            #static_binding
            #body
        }
    }
}
