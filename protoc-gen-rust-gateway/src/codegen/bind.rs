//! The binding function of an HTTP binding: body, then path variables,
//! then query parameters, written into the request message with typed code.

use proc_macro2::TokenStream;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use quote::{format_ident, quote};

use super::fields::{
    Scalar, Scope, Shape, ValueKind, assign_leaf, holder_of, merge_field, oneof_ident,
    query_holder_of, variant_ident,
};
use crate::model::{BindingModel, BodyModel, FieldPath, QueryParam, QueryShape, WellKnown};
use crate::options::Options;
use crate::resolve::is_http_body;

/// A text parser (`Fn(&str) -> Result<T, E>`) for one value of a path or
/// query parameter of this kind.
fn text_parser(scope: Scope<'_>, kind: &ValueKind) -> TokenStream {
    let t = quote!(__gw::text);
    match kind {
        ValueKind::Scalar(s) => s.text_parser(),
        ValueKind::Enum(e) => {
            let path = scope.type_path(e.full_name());
            quote! {
                |s: &str| #t::parse_enum(
                    s,
                    |name| #path::from_str_name(name).map(|e| e as i32),
                    |v| #path::try_from(v).is_ok(),
                )
            }
        }
        ValueKind::NullValue => {
            quote!(|_: &str| ::core::result::Result::<i32, ::core::convert::Infallible>::Ok(0))
        }
        ValueKind::Message(m) => match WellKnown::of(m) {
            Some(WellKnown::Timestamp) => quote!(#t::parse_timestamp),
            Some(WellKnown::Duration) => quote!(#t::parse_duration),
            Some(WellKnown::FieldMask) => quote!(#t::parse_field_mask),
            Some(WellKnown::Struct) => quote!(#t::parse_struct),
            Some(WellKnown::Value) => quote!(#t::parse_value),
            Some(WellKnown::ListValue) => quote!(#t::parse_list_value),
            other => unreachable!("{other:?} is not a query or path leaf; the resolver refuses it"),
        },
    }
}

/// The value kind of one element of a leaf field.
fn leaf_kind(field: &FieldDescriptor) -> ValueKind {
    match Shape::of(field) {
        Shape::Plain(k)
        | Shape::Required(k)
        | Shape::Optional(k)
        | Shape::Repeated(k)
        | Shape::OneofMember(_, k) => k,
        Shape::Message(m) => ValueKind::Message(m),
        Shape::Map(_, k) => k,
    }
}

/// `fn bind_*(cx, msg)`.
pub fn bind_fn(
    scope: Scope<'_>,
    name: &proc_macro2::Ident,
    input: &MessageDescriptor,
    binding: &BindingModel,
    options: &Options,
) -> TokenStream {
    let p = quote!(__gw);
    let request = scope.type_path(input.full_name());
    let body = bind_body(scope, input, binding);
    let path = bind_path(scope, binding, options);
    let query = bind_query(scope, &binding.query);
    let mask = binding
        .update_mask
        .as_ref()
        .map(|mask| update_mask(scope, mask, binding));
    let uses_cx = !matches!(binding.body, BodyModel::None)
        || !binding.path_params.is_empty()
        || !binding.query.is_empty();
    let cx = if uses_cx { quote!(cx) } else { quote!(_cx) };
    let msg = if uses_cx { quote!(msg) } else { quote!(_msg) };
    quote! {
        fn #name(#cx: &#p::BindContext<'_>, #msg: &mut #request) -> ::core::result::Result<(), #p::GatewayError> {
            #body
            #path
            #query
            #mask
            ::core::result::Result::Ok(())
        }
    }
}

fn bind_body(scope: Scope<'_>, input: &MessageDescriptor, binding: &BindingModel) -> TokenStream {
    let p = quote!(__gw);
    match &binding.body {
        BodyModel::None => quote!(),
        // google.api.HttpBody takes the body as it is.
        BodyModel::Whole if is_http_body(input) => quote! {
            let (content_type, data) = cx.raw_body();
            msg.content_type = content_type;
            msg.data = ::core::convert::Into::into(data);
        },
        BodyModel::Field(path) if path.leaf().kind().as_message().is_some_and(is_http_body) => {
            let holder = holder_of(scope, quote!(msg), &path.0);
            let f = super::fields::field_ident(path.leaf());
            quote! {
                let (content_type, data) = cx.raw_body();
                let h = &mut *#holder;
                let b = h.#f.get_or_insert_with(::core::default::Default::default);
                b.content_type = content_type;
                b.data = ::core::convert::Into::into(data);
            }
        }
        BodyModel::Whole => quote! {
            cx.body_json(|r| #p::JsonMessage::merge_json(msg, r))?;
        },
        BodyModel::Field(path) => {
            let holder = holder_of(scope, quote!(msg), &path.0);
            let merge = merge_field(scope, path.leaf(), &quote!(h));
            quote! {
                cx.body_json(|r| {
                    let h = &mut *#holder;
                    #merge
                    ::core::result::Result::Ok(())
                })?;
            }
        }
    }
}

/// `|s| E::from_str_name(s).map(|e| e as i32)` and `|v| E::try_from(v).is_ok()`.
fn enum_fns(scope: Scope<'_>, e: &prost_reflect::EnumDescriptor) -> (TokenStream, TokenStream) {
    let path = scope.type_path(e.full_name());
    (
        quote!(|s| #path::from_str_name(s).map(|e| e as i32)),
        quote!(|v| #path::try_from(v).is_ok()),
    )
}

fn bind_path(scope: Scope<'_>, binding: &BindingModel, options: &Options) -> TokenStream {
    let statements = binding.path_params.iter().map(|param| {
        let index = param.capture;
        let name = param.field.proto_path();
        let leaf = param.field.leaf();
        let holder = holder_of(scope, quote!(msg), &param.field.0);
        let f = super::fields::field_ident(leaf);
        let separator = options.repeated_path_param_separator.char();
        match Shape::of(leaf) {
            Shape::Repeated(ValueKind::Enum(e)) => {
                let (number, valid) = enum_fns(scope, &e);
                quote! { cx.path_enum_list(#index, #name, #separator, &mut #holder.#f, #number, #valid)?; }
            }
            Shape::Repeated(_) => quote! { cx.path_list(#index, #name, #separator, &mut #holder.#f)?; },
            Shape::Plain(ValueKind::Enum(e)) | Shape::Required(ValueKind::Enum(e)) => {
                let (number, valid) = enum_fns(scope, &e);
                quote! { cx.path_enum(#index, #name, &mut #holder.#f, #number, #valid)?; }
            }
            Shape::Plain(ValueKind::Scalar(_)) | Shape::Required(ValueKind::Scalar(_)) => {
                quote! { cx.path(#index, #name, &mut #holder.#f)?; }
            }
            Shape::Optional(ValueKind::Scalar(_)) => quote! { cx.path_some(#index, #name, &mut #holder.#f)?; },
            // Optional enums and oneof members: parse, then assign.
            _ => {
                let kind = leaf_kind(leaf);
                let parser = text_parser(scope, &kind);
                let value = quote!(cx.path_value(#index, #name, #parser)?);
                let assign = assign_leaf(scope, &quote!(h), leaf, value);
                quote! { { let h = &mut *#holder; #assign } }
            }
        }
    });
    quote!(#(#statements)*)
}

/// The statement that sets a singular query parameter's field.
fn query_single(
    scope: Scope<'_>,
    field: &FieldPath,
    slot: &proc_macro2::Ident,
    group: usize,
) -> TokenStream {
    // The name group: which alias of the field the parameter used (0 for
    // every spelling of a discovered field).
    let group = proc_macro2::Literal::usize_unsuffixed(group);
    let leaf = field.leaf();
    let holder = query_holder_of(scope, quote!(msg), &field.0);
    let f = super::fields::field_ident(leaf);
    match Shape::of(leaf) {
        Shape::Plain(ValueKind::Enum(e)) | Shape::Required(ValueKind::Enum(e)) => {
            let (number, valid) = enum_fns(scope, &e);
            quote!(seen.set_enum(#slot, #group, key, &value, &mut #holder.#f, #number, #valid))
        }
        Shape::Optional(ValueKind::Enum(e)) => {
            let (number, valid) = enum_fns(scope, &e);
            quote!(seen.set_enum_some(#slot, #group, key, &value, &mut #holder.#f, #number, #valid))
        }
        Shape::Plain(_) | Shape::Required(ValueKind::Scalar(_) | ValueKind::NullValue) => {
            quote!(seen.set(#slot, #group, key, &value, &mut #holder.#f))
        }
        Shape::Optional(_) | Shape::Message(_) => {
            quote!(seen.set_some(#slot, #group, key, &value, &mut #holder.#f))
        }
        // Oneof members: refuse a second member, then assign.
        _ => {
            let set = query_set(scope, field, false);
            quote!({ seen.once(#slot, #group, key)?; #set ::core::result::Result::Ok(()) })
        }
    }
}

fn bind_query(scope: Scope<'_>, params: &[QueryParam]) -> TokenStream {
    if params.is_empty() {
        return quote!();
    }
    let p = quote!(__gw);
    let mut arms = Vec::new();
    let mut map_arms = Vec::new();
    // One named slot per singular field, so that a second value for the
    // same field is caught whichever spelling or alias it uses.
    let mut slots = Vec::new();
    let mut slot_names: Vec<String> = Vec::new();
    for (index, param) in params.iter().enumerate() {
        if param.shape != QueryShape::Single {
            continue;
        }
        let mut name = param.field.proto_path().replace('.', "__").to_uppercase();
        if slot_names.contains(&name) {
            name = format!("{name}_{index}");
        }
        let ident = format_ident!("{}", name);
        let index = index as u32;
        slots.push(quote!(const #ident: u32 = #index;));
        slot_names.push(name);
    }
    for param in params {
        let slot = || format_ident!("{}", slot_names[slots_before(params, param)]);
        let leaf = param.field.leaf();
        let holder = query_holder_of(scope, quote!(msg), &param.field.0);
        let f = super::fields::field_ident(leaf);
        let names = &param.names;
        match (param.shape, Shape::of(leaf)) {
            (QueryShape::Map, Shape::Map(_, ValueKind::Enum(e))) => {
                let (number, valid) = enum_fns(scope, &e);
                map_arms.push(quote! {
                    ::core::option::Option::Some((#(#names)|*, map_key)) =>
                        #p::query_insert_enum(key, map_key, &value, &mut #holder.#f, #number, #valid),
                });
            }
            (QueryShape::Map, _) => map_arms.push(quote! {
                ::core::option::Option::Some((#(#names)|*, map_key)) =>
                    #p::query_insert(key, map_key, &value, &mut #holder.#f),
            }),
            (QueryShape::Repeated, Shape::Repeated(ValueKind::Enum(e))) => {
                let (number, valid) = enum_fns(scope, &e);
                arms.push(quote! { #(#names)|* => #p::query_push_enum(key, &value, &mut #holder.#f, #number, #valid), });
            }
            (QueryShape::Repeated, _) => {
                arms.push(quote! { #(#names)|* => #p::query_push(key, &value, &mut #holder.#f), });
            }
            (QueryShape::Single, _) if param.explicit => {
                // Each alias is its own name: the later one wins.
                let slot = slot();
                for (group, name) in param.names.iter().enumerate() {
                    let set = query_single(scope, &param.field, &slot, group);
                    arms.push(quote! { #name => #set, });
                }
            }
            (QueryShape::Single, _) => {
                let set = query_single(scope, &param.field, &slot(), 0);
                arms.push(quote! { #(#names)|* => #set, });
            }
        }
    }
    // The loop over the parameters is the runtime's (`BindContext::query`):
    // only the match on their names is the binding's own.
    let seen = if params.iter().any(|p| p.shape == QueryShape::Single) {
        quote!(seen)
    } else {
        quote!(_)
    };
    let fallback = if map_arms.is_empty() {
        quote!(_ => ::core::result::Result::Ok(()))
    } else {
        quote! {
            other => match #p::split_map_key(other) {
                #(#map_arms)*
                _ => ::core::result::Result::Ok(()),
            }
        }
    };
    quote! {
        #(#slots)*
        cx.query(&mut |#seen: &mut #p::QuerySeen, key: &str, value: #p::QueryValue<'_>| match key {
            #(#arms)*
            #fallback
        })?;
    }
}

/// The position of `param`'s slot among the singular parameters.
fn slots_before(params: &[QueryParam], param: &QueryParam) -> usize {
    params
        .iter()
        .take_while(|p| !std::ptr::eq(*p, param))
        .filter(|p| p.shape == QueryShape::Single)
        .count()
}

/// Parses `value` (a `Cow<str>`) as one value of `kind`.
fn query_parse(scope: Scope<'_>, kind: &ValueKind, value: TokenStream) -> TokenStream {
    let p = quote!(__gw);
    match kind {
        ValueKind::Scalar(Scalar::String) => quote!(#value.into_owned()),
        kind => {
            let parser = text_parser(scope, kind);
            quote!(#p::query_value(&key, &#value, #parser)?)
        }
    }
}

fn query_set(scope: Scope<'_>, field: &FieldPath, repeated: bool) -> TokenStream {
    let p = quote!(__gw);
    let leaf = field.leaf();
    let holder = query_holder_of(scope, quote!(msg), &field.0);
    let value = query_parse(scope, &leaf_kind(leaf), quote!(value));
    if repeated {
        let f = super::fields::field_ident(leaf);
        return quote! { #holder.#f.push(::core::convert::Into::into(#value)); };
    }
    let assign = assign_leaf(scope, &quote!(h), leaf, value);
    let oneof_check = match Shape::of(leaf) {
        Shape::OneofMember(oneof, _) => {
            let o = oneof_ident(&oneof);
            let path = scope.oneof_path(&oneof);
            let variant = variant_ident(leaf);
            let oneof_name = oneof.name();
            quote! {
                if matches!(&h.#o, ::core::option::Option::Some(other) if !matches!(other, #path::#variant(_))) {
                    return ::core::result::Result::Err(#p::oneof_conflict(&key, #oneof_name));
                }
            }
        }
        _ => quote!(),
    };
    quote! { let h = &mut *#holder; #oneof_check #assign }
}

/// PATCH: fill `update_mask` from the fields present in the body when the
/// client sent no mask.
fn update_mask(scope: Scope<'_>, mask: &FieldPath, binding: &BindingModel) -> TokenStream {
    let BodyModel::Field(body) = &binding.body else {
        return quote!();
    };
    let Kind::Message(body_type) = body.leaf().kind() else {
        return quote!();
    };
    let p = quote!(__gw);
    let holder = holder_of(scope, quote!(msg), &mask.0);
    let f = super::fields::field_ident(mask.leaf());
    let table = format_ident!("fields_{}", super::symbol(body_type.full_name()));
    // A proto2 required mask is always there: an empty one counts as unset.
    let fill = match Shape::of(mask.leaf()) {
        Shape::Required(_) => quote! {
            if h.#f.paths.is_empty() {
                h.#f = ::core::convert::Into::into(#p::field_mask_from_body(cx, #table())?);
            }
        },
        _ => quote! {
            if h.#f.is_none() {
                h.#f = ::core::option::Option::Some(#p::field_mask_from_body(cx, #table())?);
            }
        },
    };
    quote! {
        {
            let h = &mut *#holder;
            #fill
        }
    }
}
