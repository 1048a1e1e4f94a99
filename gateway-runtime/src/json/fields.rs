//! One call per field for generated `JsonMessage` impls.
//!
//! The JSON form of a field depends only on how prost stores it (plain,
//! `Option`, `Vec`, map, boxed) and on its Rust type, which already has a
//! `JsonMessage` impl (scalars as their wrapper types, messages as
//! themselves). Keeping that logic here keeps generated code short, which
//! matters for generation time and for the user's compile time.
//!
//! `json` and `proto` are the field's keys in their JSON form, quoted and
//! followed by the colon (`"\"fooBar\":"`): see [`JsonWriter::encoded_key`].

use std::borrow::{Borrow, BorrowMut};

use super::{JsonError, JsonMessage, JsonReader, JsonWriter, MapKey, parse_map_key};

/// Writes a map key of any protobuf map key type (JSON object keys are
/// strings: `"7"`, `"true"`).
pub trait MapKeyWrite {
    /// Writes `,"key":`.
    fn write_key(&self, w: &mut JsonWriter);
}

impl MapKeyWrite for String {
    fn write_key(&self, w: &mut JsonWriter) {
        w.map_key(self);
    }
}

impl MapKeyWrite for bool {
    fn write_key(&self, w: &mut JsonWriter) {
        w.map_key_bool(*self);
    }
}

macro_rules! int_keys {
    ($($t:ty),*) => {$(
        impl MapKeyWrite for $t {
            fn write_key(&self, w: &mut JsonWriter) {
                w.map_key_display(*self);
            }
        }
    )*};
}

int_keys!(i32, i64, u32, u64);

/// Name of an enum value (`E::try_from(v).ok().map(|e| e.as_str_name())`).
pub type EnumName = fn(i32) -> Option<&'static str>;

/// Number of an enum value name (`E::from_str_name(s).map(|e| e as i32)`).
pub type EnumNumber = fn(&str) -> Option<i32>;

/// A field without presence (proto3 scalar, proto2 required): written
/// unless it has its default value and defaults are not emitted.
pub fn write_plain<T: JsonMessage + PartialEq>(w: &mut JsonWriter, json: &str, proto: &str, v: &T) {
    if w.emit_defaults() || *v != T::default() {
        w.encoded_key(json, proto);
        v.write_json(w);
    }
}

/// A scalar with presence (proto3 `optional`, proto2 optional): written
/// only when set.
pub fn write_optional<T: JsonMessage>(w: &mut JsonWriter, json: &str, proto: &str, v: &Option<T>) {
    if let Some(v) = v {
        w.encoded_key(json, proto);
        v.write_json(w);
    }
}

/// A proto2 optional scalar: written when set (even to its declared
/// default), `null` when unset and defaults are emitted, as Go's protojson
/// does with `EmitUnpopulated`.
pub fn write_proto2_optional<T: JsonMessage>(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    v: &Option<T>,
) {
    match v {
        Some(v) => {
            w.encoded_key(json, proto);
            v.write_json(w);
        }
        None => {
            if w.emit_defaults() {
                w.encoded_key(json, proto);
                w.null();
            }
        }
    }
}

/// A proto2 `required` scalar (or wrapper): always written. prost stores it
/// as a plain `T`, so "unset" cannot be told from a value.
pub fn write_required<T: JsonMessage>(w: &mut JsonWriter, json: &str, proto: &str, v: &T) {
    w.encoded_key(json, proto);
    v.write_json(w);
}

/// A proto2 `required` message field: always written. `B` is `T` or
/// prost's `Box<T>`.
pub fn write_message_required<T: JsonMessage, B: Borrow<T>>(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    v: &B,
) {
    w.encoded_key(json, proto);
    v.borrow().write_json(w);
}

/// A message field (or wrapper): its JSON, or `null` when unset and
/// defaults are emitted. `B` is `T` or prost's `Box<T>`.
pub fn write_message<T: JsonMessage, B: Borrow<T>>(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    v: Option<&B>,
) {
    match v {
        Some(v) => {
            w.encoded_key(json, proto);
            v.borrow().write_json(w);
        }
        None => {
            if w.emit_defaults() {
                w.encoded_key(json, proto);
                w.null();
            }
        }
    }
}

/// A wrapper field (`google.protobuf.Int32Value`…, which prost stores as
/// `Option<i32>`): the plain value, or `null` when unset and defaults are
/// emitted.
pub fn write_wrapper<T: JsonMessage>(w: &mut JsonWriter, json: &str, proto: &str, v: &Option<T>) {
    write_message::<T, T>(w, json, proto, v.as_ref());
}

/// A repeated field.
pub fn write_list<T: JsonMessage>(w: &mut JsonWriter, json: &str, proto: &str, v: &[T]) {
    if w.emit_defaults() || !v.is_empty() {
        w.encoded_key(json, proto);
        w.begin_array();
        for item in v {
            w.element();
            item.write_json(w);
        }
        w.end_array();
    }
}

/// A map field (`HashMap` or `BTreeMap`, through `.iter()`).
pub fn write_map<'a, K, V>(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    entries: impl ExactSizeIterator<Item = (&'a K, &'a V)>,
) where
    K: MapKeyWrite + 'a,
    V: JsonMessage + 'a,
{
    if w.emit_defaults() || entries.len() > 0 {
        w.encoded_key(json, proto);
        w.begin_object();
        for (k, v) in entries {
            k.write_key(w);
            v.write_json(w);
        }
        w.end_object();
    }
}

/// An enum field without presence: its name, or its number when unknown.
pub fn write_enum(w: &mut JsonWriter, json: &str, proto: &str, v: i32, name: EnumName) {
    if w.emit_defaults() || v != 0 {
        w.encoded_key(json, proto);
        w.enum_value(v, name(v));
    }
}

/// An enum field with presence.
pub fn write_enum_optional(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    v: Option<i32>,
    name: EnumName,
) {
    if let Some(v) = v {
        w.encoded_key(json, proto);
        w.enum_value(v, name(v));
    }
}

/// A proto2 optional enum field: written when set, `null` when unset and
/// defaults are emitted.
pub fn write_proto2_enum_optional(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    v: Option<i32>,
    name: EnumName,
) {
    match v {
        Some(v) => {
            w.encoded_key(json, proto);
            w.enum_value(v, name(v));
        }
        None => {
            if w.emit_defaults() {
                w.encoded_key(json, proto);
                w.null();
            }
        }
    }
}

/// A proto2 `required` enum field: always written, by name or, for a
/// number the enum does not define, as the number.
pub fn write_enum_required(w: &mut JsonWriter, json: &str, proto: &str, v: i32, name: EnumName) {
    w.encoded_key(json, proto);
    w.enum_value(v, name(v));
}

/// A repeated enum field.
pub fn write_enum_list(w: &mut JsonWriter, json: &str, proto: &str, v: &[i32], name: EnumName) {
    if w.emit_defaults() || !v.is_empty() {
        w.encoded_key(json, proto);
        w.begin_array();
        for &item in v {
            w.element();
            w.enum_value(item, name(item));
        }
        w.end_array();
    }
}

/// A map field with enum values.
pub fn write_enum_map<'a, K: MapKeyWrite + 'a>(
    w: &mut JsonWriter,
    json: &str,
    proto: &str,
    entries: impl ExactSizeIterator<Item = (&'a K, &'a i32)>,
    name: EnumName,
) {
    if w.emit_defaults() || entries.len() > 0 {
        w.encoded_key(json, proto);
        w.begin_object();
        for (k, &v) in entries {
            k.write_key(w);
            w.enum_value(v, name(v));
        }
        w.end_object();
    }
}

/// Reads one value into a fresh `T`.
fn read_new<T: JsonMessage>(r: &mut JsonReader<'_>) -> Result<T, JsonError> {
    let mut value = T::default();
    value.merge_json(r)?;
    Ok(value)
}

/// A field without presence; `null` means the default value.
pub fn read_plain<T: JsonMessage>(r: &mut JsonReader<'_>, target: &mut T) -> Result<(), JsonError> {
    *target = if r.try_null()? {
        T::default()
    } else {
        read_new(r)?
    };
    Ok(())
}

/// A scalar with presence, or a wrapper; `null` unsets it.
pub fn read_optional<T: JsonMessage>(
    r: &mut JsonReader<'_>,
    target: &mut Option<T>,
) -> Result<(), JsonError> {
    *target = if r.try_null()? {
        None
    } else {
        Some(read_new(r)?)
    };
    Ok(())
}

/// A message field, merged into what is there (as protobuf merges); `null`
/// unsets it. `B` is `T` or prost's `Box<T>`.
pub fn read_message<T: JsonMessage, B: BorrowMut<T> + Default>(
    r: &mut JsonReader<'_>,
    target: &mut Option<B>,
) -> Result<(), JsonError> {
    r.field_of_request();
    if r.try_null()? {
        *target = None;
        Ok(())
    } else {
        target
            .get_or_insert_with(B::default)
            .borrow_mut()
            .merge_json(r)
    }
}

/// A proto2 `required` scalar (or wrapper). `null` means "not set", which
/// prost cannot store: the field keeps what it has (its declared default,
/// or what an earlier source set), as when the key is absent.
pub fn read_required<T: JsonMessage>(
    r: &mut JsonReader<'_>,
    target: &mut T,
) -> Result<(), JsonError> {
    if !r.try_null()? {
        *target = read_new(r)?;
    }
    Ok(())
}

/// A proto2 `required` message field, merged into what is there; `null`
/// leaves it as it is (see [`read_required`]). `B` is `T` or `Box<T>`.
pub fn read_message_required<T: JsonMessage, B: BorrowMut<T>>(
    r: &mut JsonReader<'_>,
    target: &mut B,
) -> Result<(), JsonError> {
    if r.try_null()? {
        Ok(())
    } else {
        target.borrow_mut().merge_json(r)
    }
}

/// A `google.protobuf.Value` field, where `null` is a value, not "unset".
pub fn read_value(
    r: &mut JsonReader<'_>,
    target: &mut Option<prost_types::Value>,
) -> Result<(), JsonError> {
    r.field_of_request();
    target.get_or_insert_with(Default::default).merge_json(r)
}

/// A repeated field; `null` adds nothing.
pub fn read_list<T: JsonMessage>(
    r: &mut JsonReader<'_>,
    target: &mut Vec<T>,
) -> Result<(), JsonError> {
    r.field_of_request();
    r.array(|r| {
        target.push(read_new(r)?);
        Ok(())
    })
}

/// A map field (`HashMap` or `BTreeMap`); `null` adds nothing.
pub fn read_map<K, V, M>(r: &mut JsonReader<'_>, target: &mut M) -> Result<(), JsonError>
where
    K: MapKey + Ord + Clone,
    V: JsonMessage,
    M: Extend<(K, V)>,
{
    r.field_of_request();
    let mut seen = KeysSeen::default();
    r.map(|r, raw| {
        let key = seen.first(raw, parse_map_key::<K>(raw)?)?;
        let value = read_new::<V>(r)?;
        target.extend(std::iter::once((key, value)));
        Ok(())
    })
}

// Enum fields: a name this build does not know is an error, or, when
// unknown fields are ignored, dropped as Go's protojson drops it (the field
// keeps its value, a list element or map entry is left out).

/// An enum field without presence: a name or a number; `null` is 0.
pub fn read_enum(
    r: &mut JsonReader<'_>,
    target: &mut i32,
    number: EnumNumber,
) -> Result<(), JsonError> {
    if r.try_null()? {
        *target = 0;
    } else if let Some(value) = r.read_known_enum(number)? {
        *target = value;
    }
    Ok(())
}

/// An enum field with presence; `null` unsets it.
pub fn read_enum_optional(
    r: &mut JsonReader<'_>,
    target: &mut Option<i32>,
    number: EnumNumber,
) -> Result<(), JsonError> {
    if r.try_null()? {
        *target = None;
    } else if let Some(value) = r.read_known_enum(number)? {
        *target = Some(value);
    }
    Ok(())
}

/// A proto2 `required` enum field: a name or a number; `null` leaves it as
/// it is (see [`read_required`]).
pub fn read_enum_required(
    r: &mut JsonReader<'_>,
    target: &mut i32,
    number: EnumNumber,
) -> Result<(), JsonError> {
    if !r.try_null()? {
        *target = r.read_enum(number)?;
    }
    Ok(())
}

/// A repeated enum field.
pub fn read_enum_list(
    r: &mut JsonReader<'_>,
    target: &mut Vec<i32>,
    number: EnumNumber,
) -> Result<(), JsonError> {
    r.array(|r| {
        target.extend(r.read_known_enum(number)?);
        Ok(())
    })
}

/// A map field with enum values.
pub fn read_enum_map<K, M>(
    r: &mut JsonReader<'_>,
    target: &mut M,
    number: EnumNumber,
) -> Result<(), JsonError>
where
    K: MapKey + Ord + Clone,
    M: Extend<(K, i32)>,
{
    let mut seen = KeysSeen::default();
    r.map(|r, raw| {
        let key = seen.first(raw, parse_map_key::<K>(raw)?)?;
        if let Some(value) = r.read_known_enum(number)? {
            target.extend(std::iter::once((key, value)));
        }
        Ok(())
    })
}

/// The keys of one JSON map so far: a key given twice (`{"1": …, "01": …}` counts for
/// integer keys) is an error, as in Go's protojson, not "last one wins".
struct KeysSeen<K>(std::collections::BTreeSet<K>);

impl<K> Default for KeysSeen<K> {
    fn default() -> Self {
        KeysSeen(std::collections::BTreeSet::new())
    }
}

impl<K: Ord + Clone> KeysSeen<K> {
    fn first(&mut self, raw: &str, key: K) -> Result<K, JsonError> {
        if self.0.insert(key.clone()) {
            Ok(key)
        } else {
            Err(JsonError::custom(format!(
                "duplicate map key {}",
                crate::json::reader::show(raw, true)
            )))
        }
    }
}

/// A `google.api.HttpBody` field inside a JSON message (the prost type is
/// the user's, so the generated code hands over its two parts):
/// `{"contentType": …, "data": base64}` as protojson writes it (empty parts
/// left out unless defaults are emitted; `extensions` are not written), or
/// `null` when unset and defaults are emitted.
pub fn write_http_body(w: &mut JsonWriter, json: &str, proto: &str, v: Option<(&str, &[u8])>) {
    let Some((content_type, data)) = v else {
        if w.emit_defaults() {
            w.encoded_key(json, proto);
            w.null();
        }
        return;
    };
    w.encoded_key(json, proto);
    write_http_body_value(w, Some((content_type, data)));
}

/// The value of a `google.api.HttpBody` field (see [`write_http_body`]);
/// `None` writes `{}`.
pub fn write_http_body_value(w: &mut JsonWriter, v: Option<(&str, &[u8])>) {
    let (content_type, data) = v.unwrap_or(("", &[]));
    w.begin_object();
    if !content_type.is_empty() || w.emit_defaults() {
        w.encoded_key(r#""contentType":"#, r#""content_type":"#);
        w.string(content_type);
    }
    if !data.is_empty() || w.emit_defaults() {
        w.encoded_key(r#""data":"#, r#""data":"#);
        w.bytes(data);
    }
    w.end_object();
}

/// Reads a `google.api.HttpBody` field: `None` for `null`, else its content
/// type and bytes (`extensions` are skipped).
pub fn read_http_body(r: &mut JsonReader<'_>) -> Result<Option<(String, Vec<u8>)>, JsonError> {
    if r.try_null()? {
        return Ok(None);
    }
    let (mut content_type, mut data) = (String::new(), Vec::new());
    r.object(|r, key| {
        match key {
            "contentType" | "content_type" => content_type = r.read_string()?,
            "data" => data = r.read_bytes()?,
            "extensions" => r.skip_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Some((content_type, data)))
}
