//! One module per service: `router()`, the per-route dispatchers, and a
//! handler and binding function per HTTP binding.

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenStream};
use prost_reflect::{Kind, MessageDescriptor};
use quote::{format_ident, quote};

use super::bind::bind_fn;
use super::fields::Scope;
use super::handler;
use super::naming::{bare, ident, naive_snake_case, to_snake, to_upper_camel};
use super::routes::{self, BindingRef};
use super::{doc_attrs, symbol};
use crate::model::{BodyModel, HttpMethod, MethodKind, MethodModel, ServiceModel, WellKnown};
use crate::options::Options;
use crate::template::FlatSegment;

/// The names of one binding's generated items.
pub struct BindingNames {
    /// `handle_<method>_<index>`
    pub handler: Ident,
    /// `bind_<method>_<index>`
    pub bind: Ident,
    /// `TEMPLATE_<METHOD>_<INDEX>`
    pub template: Ident,
}

fn names(method: &MethodModel, index: usize) -> BindingNames {
    let snake = to_snake(method.descriptor.name());
    let snake = bare(&snake);
    BindingNames {
        handler: format_ident!("handle_{}_{}", snake, index),
        bind: format_ident!("bind_{}_{}", snake, index),
        template: format_ident!("TEMPLATE_{}_{}", snake.to_uppercase(), index),
    }
}

/// The gateway module of one service.
pub fn service_module(
    package: &str,
    service: &ServiceModel,
    all_packages: &[String],
    options: &Options,
) -> TokenStream {
    let p = quote!(__gw);
    let scope = Scope { package, depth: 1 };
    let descriptor = &service.descriptor;
    let service_name = to_upper_camel(descriptor.name());
    let module = format_ident!("{}_gateway", naive_snake_case(&service_name));
    let server_module = format_ident!("{}_server", naive_snake_case(&service_name));
    let server_trait = format_ident!("{}", service_name);

    let mut items = Vec::new();
    let mut patch_bodies = Vec::new();
    let mut binding_docs = Vec::new();
    for method in &service.methods {
        for (index, binding) in method.bindings.iter().enumerate() {
            let names = names(method, index);
            binding_docs.push(format!(
                "- `{} {}` → `{}`",
                binding.method,
                binding.template,
                method.descriptor.name()
            ));
            items.push(template_static(&names.template, binding));
            items.push(bind_fn(
                scope,
                &names.bind,
                &method.descriptor.input(),
                binding,
                options,
            ));
            items.push(match method.kind {
                MethodKind::Unary => handler::unary(scope, method, binding, &names),
                _ => handler::streaming(scope, method, binding, &names),
            });
            if binding.update_mask.is_some()
                && let BodyModel::Field(body) = &binding.body
                && let Kind::Message(m) = body.leaf().kind()
            {
                patch_bodies.push(m);
            }
        }
    }
    items.extend(field_tables(&patch_bodies));

    let plan = routes::plan(service);
    let mut route_calls = Vec::new();
    for (r, route) in plan.iter().enumerate() {
        let path = routes::render(&route.key);
        let mut chain = Vec::new();
        let mut custom = Vec::new();
        for (http_method, candidates) in &route.methods {
            let dispatcher = format_ident!("route_{}_{}", r, method_suffix(http_method));
            items.push(dispatcher_fn(&dispatcher, service, candidates));
            match http_method {
                HttpMethod::Get => {
                    chain.push(quote!((#p::On::Get, #p::Dispatch(#dispatcher::<B>))))
                }
                HttpMethod::Put => {
                    chain.push(quote!((#p::On::Put, #p::Dispatch(#dispatcher::<B>))))
                }
                HttpMethod::Post => {
                    chain.push(quote!((#p::On::Post, #p::Dispatch(#dispatcher::<B>))))
                }
                HttpMethod::Delete => {
                    chain.push(quote!((#p::On::Delete, #p::Dispatch(#dispatcher::<B>))))
                }
                HttpMethod::Patch => {
                    chain.push(quote!((#p::On::Patch, #p::Dispatch(#dispatcher::<B>))))
                }
                HttpMethod::Custom(m) => match m.to_ascii_uppercase().as_str() {
                    "HEAD" => chain.push(quote!((#p::On::Head, #p::Dispatch(#dispatcher::<B>)))),
                    "OPTIONS" => {
                        chain.push(quote!((#p::On::Options, #p::Dispatch(#dispatcher::<B>))))
                    }
                    "TRACE" => chain.push(quote!((#p::On::Trace, #p::Dispatch(#dispatcher::<B>)))),
                    _ => custom.push((m.clone(), dispatcher)),
                },
            };
        }
        // WebSocket over HTTP/2 (RFC 8441) arrives as CONNECT on the path
        // of the GET binding; only WebSocket-capable bindings take it, and
        // never in place of a binding written for CONNECT itself.
        let binds_connect = route
            .methods
            .keys()
            .any(|m| matches!(m, HttpMethod::Custom(c) if c.eq_ignore_ascii_case("CONNECT")));
        if let Some(get) = route
            .methods
            .get(&HttpMethod::Get)
            .filter(|_| !binds_connect)
        {
            let websocket: Vec<BindingRef> = get
                .iter()
                .filter(|c| {
                    service.methods[c.method].bindings[c.binding]
                        .modes
                        .websocket
                })
                .cloned()
                .collect();
            if !websocket.is_empty() {
                let dispatcher = format_ident!("route_{}_connect", r);
                items.push(dispatcher_fn(&dispatcher, service, &websocket));
                chain.push(quote!((#p::On::Connect, #p::Dispatch(#dispatcher::<B>))));
            }
        }
        if !custom.is_empty() {
            // axum routes only the standard methods; others reach the path's
            // method fallback, which dispatches on the method name.
            let fallback = format_ident!("route_{}_custom", r);
            items.push(custom_fallback_fn(&fallback, &custom));
            chain.push(quote!((#p::On::Fallback, #p::Dispatch(#fallback::<B>))));
        }
        route_calls.push(quote!(.route(#path, &[#(#chain),*])));
    }

    let registers = all_packages.iter().map(|other| {
        let path = super::naming::message_module_path(package, 1, other);
        if other.is_empty() && package.is_empty() {
            quote!(super::__register_gateway_types();)
        } else {
            quote!(#path::__register_gateway_types();)
        }
    });

    let service_doc = doc_attrs(
        &[
            format!("HTTP gateway of `{}`.", descriptor.full_name()),
            String::new(),
        ]
        .into_iter()
        .chain(super::comments_of_service(descriptor))
        .collect::<Vec<_>>(),
    );
    let mut router_doc_lines = vec![
        format!(
            "Routes of `{}`, served through `transport`.",
            descriptor.full_name()
        ),
        String::new(),
        "`transport` is what a tonic client would be built on: a remote".to_string(),
        format!(
            "`tonic::transport::Channel`, an in-process `{service_name}Server::new(service)` (no"
        ),
        "network hop), or either in tower layers (`tonic::service::interceptor::InterceptedService`"
            .to_string(),
        "for an interceptor). Message size limits come from `gateway`. Merge the routers of"
            .to_string(),
        "several services with `axum::Router::merge`, then call".to_string(),
        "`gateway_runtime::RouterExt::with_gateway_fallbacks` once for JSON 404/405 bodies."
            .to_string(),
        String::new(),
        "Bindings:".to_string(),
    ];
    router_doc_lines.extend(binding_docs);
    // A deprecated service's router is deprecated for its callers; inside,
    // the generated code may use deprecated methods and fields freely: it
    // serves what the proto declares.
    let deprecated = if descriptor
        .service_descriptor_proto()
        .options
        .as_ref()
        .is_some_and(|o| o.deprecated())
    {
        quote!(#[deprecated])
    } else {
        quote!()
    };
    let direct_router = if options.direct_calls {
        direct_router(
            descriptor.full_name(),
            &service_name,
            &server_module,
            &server_trait,
            &deprecated,
        )
    } else {
        quote!()
    };
    let router_doc = doc_attrs(&router_doc_lines);
    let backend = super::backend::backend(scope, service, options.direct_calls);

    quote! {
        #service_doc
        // Once for the module's binding functions, not on each.
        #[allow(deprecated, clippy::useless_conversion, clippy::needless_borrow, clippy::single_match, clippy::collapsible_match, unused_mut)]
        pub mod #module {
            use ::gateway_runtime::__private as __gw;

            #router_doc
            #deprecated
            // A program serves a service one way: the other entry point is
            // unused there.
            #[allow(dead_code)]
            pub fn router<T: #p::Transport>(
                transport: T,
                gateway: &::gateway_runtime::Gateway,
            ) -> #p::axum::Router {
                routes(#p::Remote::new(transport, gateway), gateway)
            }

            #direct_router

            fn routes<B: Backend>(backend: B, gateway: &::gateway_runtime::Gateway) -> #p::axum::Router {
                static REGISTER: ::std::sync::Once = ::std::sync::Once::new();
                REGISTER.call_once(|| { #(#registers)* });
                #p::Routes::new()
                    #(#route_calls)*
                    .with_backend(backend, gateway)
            }

            #backend

            #(#items)*
        }
    }
}

/// `direct_router`: the service's routes over `gateway_runtime::Direct`.
fn direct_router(
    full_name: &str,
    service_name: &str,
    server_module: &Ident,
    server_trait: &Ident,
    deprecated: &TokenStream,
) -> TokenStream {
    let p = quote!(__gw);
    let doc = doc_attrs(&[
        format!("Routes of `{full_name}`, served by calling `service` directly, in process:"),
        format!("the `{service_name}` implementation gets its requests as messages, with no"),
        "protobuf encoding or decoding and no tonic server in between. Same routes,".to_string(),
        "errors, deadlines, cancellation and header rules as [`router`].".to_string(),
        String::new(),
        format!("**Tower layers and interceptors around `{service_name}Server` do not run**"),
        format!("on this path, since no `{service_name}Server` is built: an authentication"),
        "check there would be skipped. Give the same check to".to_string(),
        "`gateway_runtime::Direct::with_interceptor`, or layer the returned router.".to_string(),
        "Client- and bidi-streaming requests reach the".to_string(),
        "service as a `tonic::Streaming` fed in memory (an empty 5-byte gRPC frame per".to_string(),
        "message, the message itself handed over as is).".to_string(),
    ]);
    quote! {
        #doc
        #deprecated
        #[allow(dead_code)]
        pub fn direct_router<S: super::#server_module::#server_trait>(
            service: ::gateway_runtime::Direct<S>,
            gateway: &::gateway_runtime::Gateway,
        ) -> #p::axum::Router {
            routes(service, gateway)
        }
    }
}

fn method_suffix(method: &HttpMethod) -> String {
    match method {
        HttpMethod::Custom(m) => format!(
            "x_{}",
            m.chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                })
                .collect::<String>()
        ),
        other => other.as_str().to_ascii_lowercase(),
    }
}

fn template_static(name: &Ident, binding: &crate::model::BindingModel) -> TokenStream {
    let p = quote!(__gw);
    // The Go catch-all (`{f=*}` last) is the only rooted capture; its
    // `Multi` segment is the last one.
    let rooted = binding.template.captures().iter().any(|c| c.rooted);
    let segments = binding
        .template
        .flat_segments()
        .into_iter()
        .map(|s| match s {
            FlatSegment::Literal(l) => quote!(#p::Seg::Lit(#l)),
            FlatSegment::Single => quote!(#p::Seg::Single),
            FlatSegment::Multi if rooted => quote!(#p::Seg::Rest),
            FlatSegment::Multi => quote!(#p::Seg::Multi),
        });
    let verb = match &binding.template.verb {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let captures = binding.template.captures().into_iter().map(|c| {
        let (start, len) = (c.start, c.len);
        quote!(#p::CaptureSpec { start: #start, len: #len })
    });
    let doc = format!(" `{} {}`", binding.method, binding.template);
    quote! {
        #[doc = #doc]
        static #name: #p::Template = #p::Template {
            segments: &[#(#segments),*],
            verb: #verb,
            captures: &[#(#captures),*],
        };
    }
}

fn dispatcher_fn(name: &Ident, service: &ServiceModel, candidates: &[BindingRef]) -> TokenStream {
    let p = quote!(__gw);
    let tries = candidates.iter().map(|c| {
        let method = &service.methods[c.method];
        let names = names(method, c.binding);
        let (template, handler) = (names.template, names.handler);
        quote! {
            if let ::core::option::Option::Some(captures) = #template.match_path(request.uri().path()) {
                return #handler::<B>(state, request, captures);
            }
        }
    });
    quote! {
        fn #name<B: Backend>(
            state: #p::RouterState,
            request: #p::axum::extract::Request,
        ) -> #p::RouteFuture {
            #(#tries)*
            #p::route_not_found(state.gateway(), &request)
        }
    }
}

fn custom_fallback_fn(name: &Ident, custom: &[(String, Ident)]) -> TokenStream {
    let p = quote!(__gw);
    let arms = custom.iter().map(|(method, dispatcher)| {
        quote! { #method => #dispatcher::<B>(state, request), }
    });
    quote! {
        fn #name<B: Backend>(
            state: #p::RouterState,
            request: #p::axum::extract::Request,
        ) -> #p::RouteFuture {
            match request.method().as_str() {
                #(#arms)*
                _ => #p::route_method_not_allowed(state.gateway(), &request),
            }
        }
    }
}

/// Field tables for PATCH bodies: JSON and proto names, and the tables of
/// nested singular messages, so the runtime can list the fields a body sets.
fn field_tables(bodies: &[MessageDescriptor]) -> Vec<TokenStream> {
    let p = quote!(__gw);
    let mut seen = BTreeSet::new();
    let mut todo: Vec<MessageDescriptor> = bodies.to_vec();
    let mut out = Vec::new();
    while let Some(message) = todo.pop() {
        if !seen.insert(message.full_name().to_string()) {
            continue;
        }
        let name = format_ident!("fields_{}", symbol(message.full_name()));
        let entries = message.fields().map(|field| {
            let json = field.json_name();
            let proto = field.name();
            let nested = match field.kind() {
                Kind::Message(m)
                    if !field.is_list() && !field.is_map() && WellKnown::of(&m).is_none() =>
                {
                    let nested = format_ident!("fields_{}", symbol(m.full_name()));
                    todo.push(m);
                    quote!(::core::option::Option::Some(#nested))
                }
                _ => quote!(::core::option::Option::None),
            };
            quote!(#p::FieldInfo { json: #json, proto: #proto, nested: #nested })
        });
        let entries: Vec<TokenStream> = entries.collect();
        out.push(quote! {
            fn #name() -> &'static [#p::FieldInfo] {
                &[#(#entries),*]
            }
        });
    }
    out
}

/// Ident of a gRPC method as tonic names it (its server trait's method,
/// and the generated `Backend` method).
pub fn method_ident(method: &MethodModel) -> Ident {
    ident(&to_snake(method.descriptor.name()))
}
