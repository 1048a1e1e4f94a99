//! How prost lays out each field, and the expressions that read, write and
//! assign it. Everything that knows prost's field representation is here.

use proc_macro2::TokenStream;
use prost_reflect::{
    Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, OneofDescriptor, Syntax,
};
use quote::quote;

use crate::resolve::is_http_body;

use super::naming::{ident, message_module_path, to_snake, to_upper_camel, type_path};

/// Where generated code is: the package module, `depth` modules deeper.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Package of the generated file.
    pub package: &'a str,
    /// 0 at package level, 1 inside a service's gateway module.
    pub depth: usize,
}

impl Scope<'_> {
    /// Path of a message or enum type from here.
    pub fn type_path(&self, full_name: &str) -> TokenStream {
        type_path(self.package, self.depth, full_name)
    }

    /// Path of the oneof enum prost generates.
    pub fn oneof_path(&self, oneof: &OneofDescriptor) -> TokenStream {
        let module =
            message_module_path(self.package, self.depth, oneof.parent_message().full_name());
        let name = ident(&to_upper_camel(oneof.name()));
        quote!(#module::#name)
    }
}

/// A scalar as prost represents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// f64
    F64,
    /// f32
    F32,
    /// i32 (int32, sint32, sfixed32)
    I32,
    /// i64 (int64, sint64, sfixed64)
    I64,
    /// u32 (uint32, fixed32)
    U32,
    /// u64 (uint64, fixed64)
    U64,
    /// bool
    Bool,
    /// String
    String,
    /// `Vec<u8>` or `Bytes`
    Bytes,
}

impl Scalar {
    fn of(kind: &Kind) -> Option<Scalar> {
        Some(match kind {
            Kind::Double => Scalar::F64,
            Kind::Float => Scalar::F32,
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Scalar::I32,
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Scalar::I64,
            Kind::Uint32 | Kind::Fixed32 => Scalar::U32,
            Kind::Uint64 | Kind::Fixed64 => Scalar::U64,
            Kind::Bool => Scalar::Bool,
            Kind::String => Scalar::String,
            Kind::Bytes => Scalar::Bytes,
            _ => return None,
        })
    }

    /// The Rust type (for map keys and text parsing).
    pub fn rust_type(self) -> TokenStream {
        match self {
            Scalar::F64 => quote!(f64),
            Scalar::F32 => quote!(f32),
            Scalar::I32 => quote!(i32),
            Scalar::I64 => quote!(i64),
            Scalar::U32 => quote!(u32),
            Scalar::U64 => quote!(u64),
            Scalar::Bool => quote!(bool),
            Scalar::String => quote!(::std::string::String),
            Scalar::Bytes => quote!(::std::vec::Vec<u8>),
        }
    }

    /// The runtime's text parser (`__private::text`) of this scalar.
    pub fn text_parser(self) -> TokenStream {
        let t = quote!(__gw::text);
        match self {
            Scalar::F64 => quote!(#t::parse_f64),
            Scalar::F32 => quote!(#t::parse_f32),
            Scalar::I32 => quote!(#t::parse_i32),
            Scalar::I64 => quote!(#t::parse_i64),
            Scalar::U32 => quote!(#t::parse_u32),
            Scalar::U64 => quote!(#t::parse_u64),
            Scalar::Bool => quote!(#t::parse_bool),
            Scalar::String => quote!(|s: &str| ::core::result::Result::<
                _,
                ::core::convert::Infallible,
            >::Ok(::std::string::String::from(s))),
            Scalar::Bytes => quote!(|s: &str| #t::parse_bytes(s).map(::core::convert::Into::into)),
        }
    }
}

/// The type of one value of a field (an element, for repeated fields and maps).
#[derive(Debug, Clone)]
pub enum ValueKind {
    /// A scalar; also the value of a wrapper inside a repeated field or map.
    Scalar(Scalar),
    /// An enum, stored as `i32`.
    Enum(EnumDescriptor),
    /// `google.protobuf.NullValue`: JSON `null`.
    NullValue,
    /// A message (including well-known types prost takes from prost-types).
    Message(MessageDescriptor),
}

/// If `message` is a wrapper (`google.protobuf.Int32Value`…), its scalar:
/// prost maps wrappers to plain Rust scalars.
pub fn wrapper_scalar(message: &MessageDescriptor) -> Option<Scalar> {
    match message.full_name() {
        "google.protobuf.DoubleValue" => Some(Scalar::F64),
        "google.protobuf.FloatValue" => Some(Scalar::F32),
        "google.protobuf.Int64Value" => Some(Scalar::I64),
        "google.protobuf.UInt64Value" => Some(Scalar::U64),
        "google.protobuf.Int32Value" => Some(Scalar::I32),
        "google.protobuf.UInt32Value" => Some(Scalar::U32),
        "google.protobuf.BoolValue" => Some(Scalar::Bool),
        "google.protobuf.StringValue" => Some(Scalar::String),
        "google.protobuf.BytesValue" => Some(Scalar::Bytes),
        _ => None,
    }
}

impl ValueKind {
    /// The value kind of a field's type.
    pub fn of(kind: &Kind) -> ValueKind {
        match kind {
            Kind::Enum(e) if e.full_name() == "google.protobuf.NullValue" => ValueKind::NullValue,
            Kind::Enum(e) => ValueKind::Enum(e.clone()),
            Kind::Message(m) => match wrapper_scalar(m) {
                Some(s) => ValueKind::Scalar(s),
                None => ValueKind::Message(m.clone()),
            },
            other => ValueKind::Scalar(Scalar::of(other).expect("every other kind is a scalar")),
        }
    }
}

/// How prost stores a field in its struct.
#[derive(Debug, Clone)]
pub enum Shape {
    /// `T`: proto3 scalars and enums without presence.
    Plain(ValueKind),
    /// `T` (`Box<T>` for a boxed message): a proto2 `required` field of any
    /// type. prost always encodes it and has no "unset" state for it.
    Required(ValueKind),
    /// `Option<T>` for a scalar or enum with presence (proto3 `optional`,
    /// proto2 optional) or a wrapper type.
    Optional(ValueKind),
    /// `Option<T>` or `Option<Box<T>>` for a message.
    Message(MessageDescriptor),
    /// `Vec<T>`.
    Repeated(ValueKind),
    /// `HashMap<K, V>` or `BTreeMap<K, V>`.
    Map(Scalar, ValueKind),
    /// A member of a (real) oneof: a variant of the oneof enum.
    OneofMember(OneofDescriptor, ValueKind),
}

/// The real (non-synthetic) oneof a field belongs to.
pub fn real_oneof(field: &FieldDescriptor) -> Option<OneofDescriptor> {
    field.containing_oneof().filter(|o| !o.is_synthetic())
}

impl Shape {
    /// The shape of a field.
    pub fn of(field: &FieldDescriptor) -> Shape {
        let kind = field.kind();
        if field.is_map() {
            let entry = kind.as_message().expect("map fields have entry messages");
            let key =
                Scalar::of(&entry.map_entry_key_field().kind()).expect("map keys are scalars");
            return Shape::Map(key, ValueKind::of(&entry.map_entry_value_field().kind()));
        }
        let value = ValueKind::of(&kind);
        if field.is_list() {
            return Shape::Repeated(value);
        }
        if field.cardinality() == Cardinality::Required {
            return Shape::Required(value);
        }
        if let Some(oneof) = real_oneof(field) {
            return Shape::OneofMember(oneof, value);
        }
        match (&kind, value) {
            (Kind::Message(m), ValueKind::Message(_)) => Shape::Message(m.clone()),
            (Kind::Message(_), scalar) => Shape::Optional(scalar),
            (_, value) if field.supports_presence() => Shape::Optional(value),
            (_, value) => Shape::Plain(value),
        }
    }
}

/// The name protojson uses for a field besides its JSON name (written with
/// `use_proto_names`, accepted when reading): the field name, except for a
/// group, whose name is its message's (`Result`, not `result`).
pub fn proto_name(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(m) if field.is_group() => m.name().to_string(),
        _ => field.name().to_string(),
    }
}

/// A field's two keys as the writer copies them (`JsonWriter::encoded_key`):
/// its JSON name and its proto name, each as JSON text with the colon.
pub fn encoded_keys(field: &FieldDescriptor) -> (proc_macro2::Literal, proc_macro2::Literal) {
    (
        encoded_key(field.json_name()),
        encoded_key(&proto_name(field)),
    )
}

/// `"name":` as JSON text (escaped as the runtime's writer escapes, which
/// is serde_json's escaping: `\"`, `\\`, control characters), as a Rust
/// string literal: a raw one (`r#""name":"#`), which reads as the JSON it
/// is, unless the text contains `"#`.
fn encoded_key(name: &str) -> proc_macro2::Literal {
    let text = format!("{}:", serde_json::Value::from(name));
    if text.contains("\"#") {
        return proc_macro2::Literal::string(&text);
    }
    format!("r#\"{text}\"#")
        .parse()
        .expect("a raw string literal without `\"#` in it")
}

/// Whether an unset field with presence is written as `null` when defaults
/// are emitted: protojson does so for proto2 scalars and enums (proto3
/// `optional` ones are left out here).
fn null_when_unset(field: &FieldDescriptor) -> bool {
    field.parent_file().syntax() == Syntax::Proto2
}

/// `Option<(&str, &[u8])>` of an `Option<HttpBody>` place: the parts the
/// runtime writes.
fn http_body_parts(place: TokenStream) -> TokenStream {
    quote! {
        #place.as_ref().map(|b| (b.content_type.as_str(), ::core::convert::AsRef::<[u8]>::as_ref(&b.data)))
    }
}

/// The struct field name prost gives a field.
pub fn field_ident(field: &FieldDescriptor) -> proc_macro2::Ident {
    ident(&to_snake(field.name()))
}

/// The struct field name of a oneof.
pub fn oneof_ident(oneof: &OneofDescriptor) -> proc_macro2::Ident {
    ident(&to_snake(oneof.name()))
}

/// The oneof enum variant of a member field.
pub fn variant_ident(field: &FieldDescriptor) -> proc_macro2::Ident {
    ident(&to_upper_camel(field.name()))
}

/// Writes one value; `v` is an expression of type `&T` (`&Box<T>` for
/// boxed messages is fine).
pub fn encode_value(scope: Scope<'_>, kind: &ValueKind, v: TokenStream) -> TokenStream {
    encode(scope, kind, quote!(*#v), v)
}

/// Writes one value given as a place (`self.x`), avoiding `*&self.x`.
fn encode_place(scope: Scope<'_>, kind: &ValueKind, place: TokenStream) -> TokenStream {
    encode(scope, kind, place.clone(), quote!(&#place))
}

/// `copy` is the value for `Copy` types, `by_ref` a reference to it.
fn encode(
    scope: Scope<'_>,
    kind: &ValueKind,
    copy: TokenStream,
    by_ref: TokenStream,
) -> TokenStream {
    let p = quote!(__gw);
    let v = by_ref;
    match kind {
        ValueKind::Scalar(s) => match s {
            Scalar::F64 => quote!(w.f64(#copy)),
            Scalar::F32 => quote!(w.f32(#copy)),
            Scalar::I32 => quote!(w.i32(#copy)),
            Scalar::I64 => quote!(w.i64(#copy)),
            Scalar::U32 => quote!(w.u32(#copy)),
            Scalar::U64 => quote!(w.u64(#copy)),
            Scalar::Bool => quote!(w.bool(#copy)),
            Scalar::String => quote!(w.string(#v)),
            Scalar::Bytes => quote!(w.bytes(#v)),
        },
        ValueKind::Enum(e) => {
            let path = scope.type_path(e.full_name());
            quote!(w.enum_value(#copy, #path::try_from(#copy).ok().map(|e| e.as_str_name())))
        }
        ValueKind::NullValue => quote!(w.null()),
        ValueKind::Message(m) => {
            let path = scope.type_path(m.full_name());
            quote!(#p::write_message::<#path, _>(#v, w))
        }
    }
}

/// Reads one value from `r`, producing an owned `T`.
pub fn decode_value(scope: Scope<'_>, kind: &ValueKind) -> TokenStream {
    let p = quote!(__gw);
    match kind {
        ValueKind::Scalar(s) => match s {
            Scalar::F64 => quote!(r.read_f64()?),
            Scalar::F32 => quote!(r.read_f32()?),
            Scalar::I32 => quote!(r.read_i32()?),
            Scalar::I64 => quote!(r.read_i64()?),
            Scalar::U32 => quote!(r.read_u32()?),
            Scalar::U64 => quote!(r.read_u64()?),
            Scalar::Bool => quote!(r.read_bool()?),
            Scalar::String => quote!(r.read_string()?),
            Scalar::Bytes => quote!(::core::convert::Into::into(r.read_bytes()?)),
        },
        ValueKind::Enum(e) => {
            let path = scope.type_path(e.full_name());
            quote!(r.read_enum(|name| #path::from_str_name(name).map(|e| e as i32))?)
        }
        ValueKind::NullValue => quote!({
            r.skip_value()?;
            0
        }),
        ValueKind::Message(m) => {
            let path = scope.type_path(m.full_name());
            quote!(::core::convert::Into::into(#p::read_message::<#path>(r)?))
        }
    }
}

/// `|v| E::try_from(v).ok().map(|e| e.as_str_name())`
fn enum_name(scope: Scope<'_>, e: &EnumDescriptor) -> TokenStream {
    let path = scope.type_path(e.full_name());
    quote!(|v| #path::try_from(v).ok().map(|e| e.as_str_name()))
}

/// `|s| E::from_str_name(s).map(|e| e as i32)`
fn enum_number(scope: Scope<'_>, e: &EnumDescriptor) -> TokenStream {
    let path = scope.type_path(e.full_name());
    quote!(|s| #path::from_str_name(s).map(|e| e as i32))
}

/// The statement of `write_json` for one field that is not in a real
/// oneof: one call into the runtime, which knows the JSON of each shape.
pub fn write_field(scope: Scope<'_>, field: &FieldDescriptor, base: &TokenStream) -> TokenStream {
    let f = quote!(__gw::field);
    let (json, proto) = encoded_keys(field);
    let name = field_ident(field);
    let target = quote!(#base.#name);
    match Shape::of(field) {
        Shape::Plain(ValueKind::Enum(e)) => {
            let name = enum_name(scope, &e);
            quote! { #f::write_enum(w, #json, #proto, #target, #name); }
        }
        Shape::Required(ValueKind::Enum(e)) => {
            let name = enum_name(scope, &e);
            quote! { #f::write_enum_required(w, #json, #proto, #target, #name); }
        }
        Shape::Required(ValueKind::NullValue) => quote! { w.encoded_key(#json, #proto); w.null(); },
        Shape::Required(ValueKind::Message(m)) => {
            let path = scope.type_path(m.full_name());
            quote! { #f::write_message_required::<#path, _>(w, #json, #proto, &#target); }
        }
        Shape::Required(_) => quote! { #f::write_required(w, #json, #proto, &#target); },
        Shape::Plain(ValueKind::NullValue) => {
            quote! { if w.emit_defaults() { w.encoded_key(#json, #proto); w.null(); } }
        }
        Shape::Plain(_) => quote! { #f::write_plain(w, #json, #proto, &#target); },
        Shape::Optional(ValueKind::Enum(e)) if null_when_unset(field) => {
            let name = enum_name(scope, &e);
            quote! { #f::write_proto2_enum_optional(w, #json, #proto, #target, #name); }
        }
        Shape::Optional(ValueKind::Enum(e)) => {
            let name = enum_name(scope, &e);
            quote! { #f::write_enum_optional(w, #json, #proto, #target, #name); }
        }
        Shape::Optional(_) if matches!(field.kind(), Kind::Message(_)) => {
            quote! { #f::write_wrapper(w, #json, #proto, &#target); }
        }
        Shape::Optional(_) if null_when_unset(field) => {
            quote! { #f::write_proto2_optional(w, #json, #proto, &#target); }
        }
        Shape::Optional(_) => quote! { #f::write_optional(w, #json, #proto, &#target); },
        Shape::Message(m) if is_http_body(&m) => {
            let parts = http_body_parts(quote!(#target));
            quote! { #f::write_http_body(w, #json, #proto, #parts); }
        }
        Shape::Message(m) => {
            let path = scope.type_path(m.full_name());
            quote! { #f::write_message::<#path, _>(w, #json, #proto, #target.as_ref()); }
        }
        Shape::Repeated(ValueKind::Enum(e)) => {
            let name = enum_name(scope, &e);
            quote! { #f::write_enum_list(w, #json, #proto, &#target, #name); }
        }
        Shape::Repeated(_) => quote! { #f::write_list(w, #json, #proto, &#target); },
        Shape::Map(_, ValueKind::Enum(e)) => {
            let name = enum_name(scope, &e);
            quote! { #f::write_enum_map(w, #json, #proto, #target.iter(), #name); }
        }
        Shape::Map(..) => quote! { #f::write_map(w, #json, #proto, #target.iter()); },
        Shape::OneofMember(..) => unreachable!("oneofs are written by write_oneof"),
    }
}

/// Statements of `write_json` for a real oneof: the set member, if any.
pub fn write_oneof(scope: Scope<'_>, oneof: &OneofDescriptor, base: &TokenStream) -> TokenStream {
    let f = oneof_ident(oneof);
    let path = scope.oneof_path(oneof);
    let arms = oneof.fields().map(|field| {
        let variant = variant_ident(&field);
        let (json, proto) = encoded_keys(&field);
        let value = encode_value(scope, &ValueKind::of(&field.kind()), quote!(v));
        quote! { ::core::option::Option::Some(#path::#variant(v)) => { w.encoded_key(#json, #proto); #value; } }
    });
    quote! {
        match &#base.#f {
            #(#arms)*
            ::core::option::Option::None => {}
        }
    }
}

/// Statements that read one JSON value into a field; `base` is the struct
/// expression holding the field (`self`, or a nested message). Used for
/// message fields and for `body: "field"` alike.
pub fn merge_field(scope: Scope<'_>, field: &FieldDescriptor, base: &TokenStream) -> TokenStream {
    let p = quote!(__gw);
    let f = quote!(#p::field);
    let name = field_ident(field);
    let target = quote!(#base.#name);
    match Shape::of(field) {
        Shape::Plain(ValueKind::Enum(e)) => {
            let number = enum_number(scope, &e);
            quote! { #f::read_enum(r, &mut #target, #number)?; }
        }
        Shape::Plain(ValueKind::NullValue) => quote! { r.skip_value()?; #target = 0; },
        Shape::Plain(_) => quote! { #f::read_plain(r, &mut #target)?; },
        Shape::Required(ValueKind::Enum(e)) => {
            let number = enum_number(scope, &e);
            quote! { #f::read_enum_required(r, &mut #target, #number)?; }
        }
        Shape::Required(ValueKind::NullValue) => quote! { r.skip_value()?; },
        Shape::Required(ValueKind::Message(m)) if m.full_name() == "google.protobuf.Value" => {
            // `null` is a value here, not "unset".
            let path = scope.type_path(m.full_name());
            quote! {
                #p::JsonMessage::merge_json(::core::borrow::BorrowMut::<#path>::borrow_mut(&mut #target), r)?;
            }
        }
        Shape::Required(ValueKind::Message(m)) => {
            let path = scope.type_path(m.full_name());
            quote! { #f::read_message_required::<#path, _>(r, &mut #target)?; }
        }
        Shape::Required(_) => quote! { #f::read_required(r, &mut #target)?; },
        Shape::Optional(ValueKind::Enum(e)) => {
            let number = enum_number(scope, &e);
            quote! { #f::read_enum_optional(r, &mut #target, #number)?; }
        }
        Shape::Optional(_) => quote! { #f::read_optional(r, &mut #target)?; },
        Shape::Message(m) if is_http_body(&m) => quote! {
            match #f::read_http_body(r)? {
                ::core::option::Option::Some((content_type, data)) => {
                    let b = #target.get_or_insert_with(::core::default::Default::default);
                    b.content_type = content_type;
                    b.data = ::core::convert::Into::into(data);
                }
                ::core::option::Option::None => #target = ::core::option::Option::None,
            }
        },
        Shape::Message(m) if m.full_name() == "google.protobuf.Value" => {
            quote! { #f::read_value(r, &mut #target)?; }
        }
        Shape::Message(m) => {
            let path = scope.type_path(m.full_name());
            quote! { #f::read_message::<#path, _>(r, &mut #target)?; }
        }
        Shape::Repeated(ValueKind::Enum(e)) => {
            let number = enum_number(scope, &e);
            quote! { #f::read_enum_list(r, &mut #target, #number)?; }
        }
        Shape::Repeated(_) => quote! { #f::read_list(r, &mut #target)?; },
        Shape::Map(key, ValueKind::Enum(e)) => {
            let number = enum_number(scope, &e);
            let key = key.rust_type();
            quote! { #f::read_enum_map::<#key, _>(r, &mut #target, #number)?; }
        }
        Shape::Map(key, _) => {
            let key = key.rust_type();
            quote! { #f::read_map::<#key, _, _>(r, &mut #target)?; }
        }
        Shape::OneofMember(oneof, kind) => {
            let o = oneof_ident(&oneof);
            let path = scope.oneof_path(&oneof);
            let variant = variant_ident(field);
            let value = decode_value(scope, &kind);
            let json = field.json_name();
            let oneof_name = oneof.name();
            let target = quote!(#base.#o);
            // An enum name this build does not know leaves the oneof unset
            // while unknown fields are ignored, as Go's protojson does.
            let set = match &kind {
                ValueKind::Enum(e) => {
                    let number = enum_number(scope, e);
                    quote! {
                        if let ::core::option::Option::Some(v) = r.read_known_enum(#number)? {
                            #target = ::core::option::Option::Some(#path::#variant(v));
                        }
                    }
                }
                _ => quote!(#target = ::core::option::Option::Some(#path::#variant(#value));),
            };
            quote! {
                if !r.try_null()? {
                    if matches!(&#target, ::core::option::Option::Some(other) if !matches!(other, #path::#variant(_))) {
                        return ::core::result::Result::Err(#p::json_oneof_conflict(#json, #oneof_name));
                    }
                    #set
                }
            }
        }
    }
}

/// Writes a field's value on its own (no key), for `response_body`: the
/// field as it would appear as a value inside its message.
pub fn write_field_value(
    scope: Scope<'_>,
    field: &FieldDescriptor,
    base: &TokenStream,
) -> TokenStream {
    let f = field_ident(field);
    let target = quote!(#base.#f);
    match Shape::of(field) {
        Shape::Plain(kind) | Shape::Required(kind) => encode_place(scope, &kind, target),
        Shape::Optional(kind) => {
            let value = encode_value(scope, &kind, quote!(v));
            quote! {
                match &#target {
                    ::core::option::Option::Some(v) => { #value; }
                    ::core::option::Option::None => w.null(),
                }
            }
        }
        Shape::Message(m) if is_http_body(&m) => {
            let parts = http_body_parts(target);
            quote! { __gw::field::write_http_body_value(w, #parts); }
        }
        Shape::Message(m) => {
            let value = encode_value(scope, &ValueKind::Message(m), quote!(v));
            quote! {
                match &#target {
                    ::core::option::Option::Some(v) => { #value; }
                    ::core::option::Option::None => { w.begin_object(); w.end_object(); }
                }
            }
        }
        Shape::Repeated(kind) => {
            let value = encode_value(scope, &kind, quote!(v));
            quote! {
                w.begin_array();
                for v in &#target { w.element(); #value; }
                w.end_array();
            }
        }
        Shape::Map(key_kind, kind) => {
            let value = encode_value(scope, &kind, quote!(v));
            let map_key = match key_kind {
                Scalar::String => quote!(w.map_key(k)),
                Scalar::Bool => quote!(w.map_key_bool(*k)),
                _ => quote!(w.map_key_display(*k)),
            };
            quote! {
                w.begin_object();
                for (k, v) in &#target { #map_key; #value; }
                w.end_object();
            }
        }
        Shape::OneofMember(oneof, kind) => {
            let o = oneof_ident(&oneof);
            let path = scope.oneof_path(&oneof);
            let variant = variant_ident(field);
            let value = encode_value(scope, &kind, quote!(v));
            quote! {
                match &#base.#o {
                    ::core::option::Option::Some(#path::#variant(v)) => { #value; }
                    _ => w.null(),
                }
            }
        }
    }
}

/// `base.a.get_or_insert_with(Default::default).b…` for every field but the
/// last of a path: the message that holds the last field, created as
/// needed. Intermediate fields are singular message fields; one that is a
/// oneof member sets the oneof to that member (a path variable or body
/// field overrides what the body set).
pub fn holder_of(scope: Scope<'_>, base: TokenStream, path: &[FieldDescriptor]) -> TokenStream {
    holder(scope, base, path, false)
}

/// [`holder_of`] for a query parameter (named by `key` in the generated
/// code): going through a oneof member while another member is set is the
/// same error as setting a second scalar member.
pub fn query_holder_of(
    scope: Scope<'_>,
    base: TokenStream,
    path: &[FieldDescriptor],
) -> TokenStream {
    holder(scope, base, path, true)
}

fn holder(
    scope: Scope<'_>,
    base: TokenStream,
    path: &[FieldDescriptor],
    conflict_is_error: bool,
) -> TokenStream {
    let mut expr = base;
    for field in &path[..path.len() - 1] {
        expr = match Shape::of(field) {
            Shape::OneofMember(oneof, _) => {
                let o = oneof_ident(&oneof);
                let path = scope.oneof_path(&oneof);
                let variant = variant_ident(field);
                let get = quote! {
                    |o| match o {
                        #path::#variant(m) => ::core::option::Option::Some(m),
                        #[allow(unreachable_patterns)]
                        _ => ::core::option::Option::None,
                    }
                };
                let make = quote!(|| #path::#variant(::core::default::Default::default()));
                if conflict_is_error {
                    let name = oneof.name();
                    quote! {
                        match __gw::oneof_member_unless_other(&mut #expr.#o, #get, #make) {
                            ::core::option::Option::Some(m) => m,
                            ::core::option::Option::None => {
                                return ::core::result::Result::Err(__gw::oneof_conflict(&key, #name));
                            }
                        }
                    }
                } else {
                    quote!(__gw::oneof_member(&mut #expr.#o, #get, #make))
                }
            }
            // A required message is always there (`T` or `Box<T>`).
            Shape::Required(_) => {
                let f = field_ident(field);
                quote!((&mut #expr.#f))
            }
            _ => {
                let f = field_ident(field);
                quote!(#expr.#f.get_or_insert_with(::core::default::Default::default))
            }
        };
    }
    expr
}

/// Assigns an owned value to the last field of a path (a scalar, enum,
/// wrapper, well-known leaf type or oneof member), as path and query
/// parameters do.
pub fn assign_leaf(
    scope: Scope<'_>,
    holder: &TokenStream,
    field: &FieldDescriptor,
    value: TokenStream,
) -> TokenStream {
    let f = field_ident(field);
    match Shape::of(field) {
        Shape::Plain(_) => quote!(#holder.#f = #value;),
        Shape::Required(_) => quote!(#holder.#f = ::core::convert::Into::into(#value);),
        Shape::Optional(_) | Shape::Message(_) => {
            quote!(#holder.#f = ::core::option::Option::Some(::core::convert::Into::into(#value));)
        }
        Shape::Repeated(_) => quote!(#holder.#f.push(#value);),
        Shape::Map(..) => unreachable!("maps are assigned entry by entry"),
        Shape::OneofMember(oneof, _) => {
            let o = oneof_ident(&oneof);
            let path = scope.oneof_path(&oneof);
            let variant = variant_ident(field);
            quote!(#holder.#o = ::core::option::Option::Some(#path::#variant(::core::convert::Into::into(#value)));)
        }
    }
}
