//! Binding an HTTP request into a request message: what generated binding
//! functions call. The generated code knows every field and its type; this
//! module only hands out the raw values and turns parse failures into typed
//! errors naming the parameter; and, for PATCH without `update_mask`, the
//! mask of the fields the body holds.

use std::borrow::{Borrow, BorrowMut, Cow};
use std::cell::Cell;
use std::fmt::Display;

use prost_types::value::Kind;

use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::json::fields::EnumNumber;
use crate::json::{JsonError, JsonMessage, JsonOptions, JsonReader, JsonWriter, ReaderScratch};
use crate::path::Captures;
use crate::query;
use crate::text::{FromText, parse_enum};

/// The parts of a request that binding reads.
#[derive(Debug)]
pub struct BindContext<'a> {
    captures: &'a Captures,
    query: &'a str,
    body: &'a [u8],
    content_type: ContentType<'a>,
    gateway: &'a Gateway,
}

/// Where a [`BindContext`] has the request's `Content-Type` from: only
/// `google.api.HttpBody` bodies read it, so the unary driver hands over
/// the headers rather than looking it up for every request.
#[derive(Debug, Clone, Copy)]
enum ContentType<'a> {
    Text(&'a str),
    Of(&'a http::HeaderMap),
}

impl<'a> BindContext<'a> {
    /// A context over matched path captures, the raw query string and the
    /// request body (empty when the binding reads none).
    pub fn new(
        captures: &'a Captures,
        query: &'a str,
        body: &'a [u8],
        gateway: &'a Gateway,
    ) -> Self {
        BindContext {
            captures,
            query,
            body,
            content_type: ContentType::Text(""),
            gateway,
        }
    }

    /// JSON options of the gateway.
    pub fn json_options(&self) -> &JsonOptions {
        self.gateway.json_options()
    }

    /// The raw request body.
    pub fn body(&self) -> &[u8] {
        self.body
    }

    /// The same context, knowing the request's `Content-Type`.
    pub fn with_content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = ContentType::Text(content_type);
        self
    }

    /// The same context, reading the `Content-Type` from `headers` when
    /// asked for it.
    pub(crate) fn with_content_type_of(mut self, headers: &'a http::HeaderMap) -> Self {
        self.content_type = ContentType::Of(headers);
        self
    }

    /// The request body as a `google.api.HttpBody`: its `Content-Type` and
    /// bytes, unparsed.
    pub fn raw_body(&self) -> (String, Vec<u8>) {
        let content_type = match self.content_type {
            ContentType::Text(text) => text,
            ContentType::Of(headers) => crate::http_body::request_content_type(headers),
        };
        (content_type.to_string(), self.body.to_vec())
    }

    fn capture(&self, index: usize, name: &str) -> Result<Cow<'a, str>, GatewayError> {
        self.captures
            .decoded(index)
            .map_err(|e| GatewayError::InvalidPathParameter {
                name: name.to_string(),
                message: e.to_string(),
            })
    }

    /// A string path variable.
    pub fn path_string(&self, index: usize, name: &str) -> Result<String, GatewayError> {
        self.capture(index, name).map(Cow::into_owned)
    }

    /// A path variable parsed by `parse`.
    pub fn path_value<T, E: Display>(
        &self,
        index: usize,
        name: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<T, GatewayError> {
        let text = self.capture(index, name)?;
        parse(&text).map_err(|e| GatewayError::InvalidPathParameter {
            name: name.to_string(),
            message: e.to_string(),
        })
    }

    /// A repeated path variable: the capture split by `separator`, each
    /// part parsed by `parse`.
    pub fn path_values<T, E: Display>(
        &self,
        index: usize,
        name: &str,
        separator: char,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<Vec<T>, GatewayError> {
        let text = self.capture(index, name)?;
        text.split(separator)
            .map(|part| {
                parse(part).map_err(|e| GatewayError::InvalidPathParameter {
                    name: name.to_string(),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    fn path_error(name: &str, e: impl Display) -> GatewayError {
        GatewayError::InvalidPathParameter {
            name: name.to_string(),
            message: e.to_string(),
        }
    }

    /// Sets `target` from path variable `index` (named `name` in errors).
    pub fn path<T: FromText>(
        &self,
        index: usize,
        name: &str,
        target: &mut T,
    ) -> Result<(), GatewayError> {
        *target =
            T::from_text(&self.capture(index, name)?).map_err(|e| Self::path_error(name, e))?;
        Ok(())
    }

    /// Sets an `Option` field (proto3 `optional`, wrapper) from a path variable.
    pub fn path_some<T: FromText>(
        &self,
        index: usize,
        name: &str,
        target: &mut Option<T>,
    ) -> Result<(), GatewayError> {
        *target =
            Some(T::from_text(&self.capture(index, name)?).map_err(|e| Self::path_error(name, e))?);
        Ok(())
    }

    /// Sets an enum field from a path variable: a value name or number.
    pub fn path_enum(
        &self,
        index: usize,
        name: &str,
        target: &mut i32,
        number: EnumNumber,
        valid: fn(i32) -> bool,
    ) -> Result<(), GatewayError> {
        *target = parse_enum(&self.capture(index, name)?, number, valid)
            .map_err(|e| Self::path_error(name, e))?;
        Ok(())
    }

    /// Sets a repeated field from a path variable split by `separator`.
    pub fn path_list<T: FromText>(
        &self,
        index: usize,
        name: &str,
        separator: char,
        target: &mut Vec<T>,
    ) -> Result<(), GatewayError> {
        *target = self.path_values(index, name, separator, T::from_text)?;
        Ok(())
    }

    /// Sets a repeated enum field from a path variable split by `separator`.
    pub fn path_enum_list(
        &self,
        index: usize,
        name: &str,
        separator: char,
        target: &mut Vec<i32>,
        number: EnumNumber,
        valid: fn(i32) -> bool,
    ) -> Result<(), GatewayError> {
        *target = self.path_values(index, name, separator, |s| parse_enum(s, number, valid))?;
        Ok(())
    }

    /// Reads the body as one JSON value with `read`; an empty body binds
    /// nothing (the Go gateways accept it too).
    pub fn body_json(
        &self,
        read: impl FnOnce(&mut JsonReader<'_>) -> Result<(), JsonError>,
    ) -> Result<(), GatewayError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        // The reader's lists come from the worker thread's previous body,
        // as a request stream's come from its previous message: a body does
        // not allocate them again.
        thread_local! {
            static SCRATCH: Cell<ReaderScratch> = const { Cell::new(ReaderScratch::EMPTY) };
        }
        let mut scratch = SCRATCH.take();
        let opts = self.gateway.json_options();
        let mut reader = JsonReader::with_scratch(self.body, None, opts, &mut scratch);
        let result = read(&mut reader).and_then(|()| reader.finish());
        reader.into_scratch(&mut scratch);
        if scratch.worth_keeping() {
            SCRATCH.set(scratch);
        }
        result.map_err(GatewayError::InvalidBody)
    }

    /// Calls `set` with each query parameter, in order: the record of the
    /// singular fields set so far, the parameter's name and its value. The
    /// loop is compiled once; a binding compiles only its match on names.
    pub fn query(
        &self,
        set: &mut dyn FnMut(&mut QuerySeen, &str, QueryValue<'_>) -> Result<(), GatewayError>,
    ) -> Result<(), GatewayError> {
        let mut seen = QuerySeen::new();
        for pair in query::pairs(self.query) {
            let (key, value) = pair.map_err(|e| GatewayError::InvalidQueryParameter {
                name: String::new(),
                message: e.to_string(),
            })?;
            set(&mut seen, &key, value)?;
        }
        Ok(())
    }
}

/// A query parameter's value: borrowed from the query string unless it had
/// escapes.
pub type QueryValue<'a> = std::borrow::Cow<'a, str>;

/// Remembers which singular fields the query already set, so that
/// `?a=1&a=2` is refused while two aliases of one field (`?id=1&ident=2`)
/// let the later one win.
#[derive(Debug, Default)]
pub struct QuerySeen {
    /// `(slot, name)` of the first fields set, in place: a query sets a
    /// few fields, and a list would be an allocation per request.
    first: [(u32, u32); 4],
    /// How many fields were set, in `first` and then in `more`.
    len: usize,
    more: Vec<(u32, u32)>,
}

impl QuerySeen {
    /// No field seen yet.
    pub fn new() -> Self {
        QuerySeen::default()
    }

    /// Records that parameter `param` (of name group `name`) sets field
    /// `slot`; an error if the same name already set it.
    pub fn once(&mut self, slot: u32, name: u32, param: &str) -> Result<(), GatewayError> {
        let inline = self.len.min(self.first.len());
        let mut seen = self.first[..inline].iter_mut().chain(&mut self.more);
        match seen.find(|(s, _)| *s == slot) {
            Some((_, n)) if *n == name => Err(GatewayError::InvalidQueryParameter {
                name: param.to_string(),
                message: "given more than once for a field that holds one value".into(),
            }),
            Some((_, n)) => {
                *n = name;
                Ok(())
            }
            None => {
                match self.first.get_mut(self.len) {
                    Some(entry) => *entry = (slot, name),
                    None => self.more.push((slot, name)),
                }
                self.len += 1;
                Ok(())
            }
        }
    }
}

impl QuerySeen {
    /// Sets a singular field from query parameter `key` (slot and name
    /// group as for [`QuerySeen::once`]).
    pub fn set<T: FromText>(
        &mut self,
        slot: u32,
        name: u32,
        key: &str,
        value: &str,
        target: &mut T,
    ) -> Result<(), GatewayError> {
        self.once(slot, name, key)?;
        *target = query_value(key, value, T::from_text)?;
        Ok(())
    }

    /// Sets an `Option` field (proto3 `optional`, wrapper, well-known type).
    pub fn set_some<T: FromText>(
        &mut self,
        slot: u32,
        name: u32,
        key: &str,
        value: &str,
        target: &mut Option<T>,
    ) -> Result<(), GatewayError> {
        self.once(slot, name, key)?;
        *target = Some(query_value(key, value, T::from_text)?);
        Ok(())
    }

    /// Sets an enum field: a value name or number.
    #[allow(clippy::too_many_arguments)]
    pub fn set_enum(
        &mut self,
        slot: u32,
        name: u32,
        key: &str,
        value: &str,
        target: &mut i32,
        number: EnumNumber,
        valid: fn(i32) -> bool,
    ) -> Result<(), GatewayError> {
        self.once(slot, name, key)?;
        *target = query_value(key, value, |s| parse_enum(s, number, valid))?;
        Ok(())
    }

    /// Sets an optional enum field.
    #[allow(clippy::too_many_arguments)]
    pub fn set_enum_some(
        &mut self,
        slot: u32,
        name: u32,
        key: &str,
        value: &str,
        target: &mut Option<i32>,
        number: EnumNumber,
        valid: fn(i32) -> bool,
    ) -> Result<(), GatewayError> {
        self.once(slot, name, key)?;
        *target = Some(query_value(key, value, |s| parse_enum(s, number, valid))?);
        Ok(())
    }
}

/// Appends one occurrence of a repeated query parameter.
pub fn query_push<T: FromText>(
    key: &str,
    value: &str,
    target: &mut Vec<T>,
) -> Result<(), GatewayError> {
    target.push(query_value(key, value, T::from_text)?);
    Ok(())
}

/// Appends one occurrence of a repeated enum query parameter.
pub fn query_push_enum(
    key: &str,
    value: &str,
    target: &mut Vec<i32>,
    number: EnumNumber,
    valid: fn(i32) -> bool,
) -> Result<(), GatewayError> {
    target.push(query_value(key, value, |s| parse_enum(s, number, valid))?);
    Ok(())
}

/// Inserts one `name[key]=value` map entry.
pub fn query_insert<K: FromText, V: FromText, M: Extend<(K, V)>>(
    key: &str,
    map_key: &str,
    value: &str,
    target: &mut M,
) -> Result<(), GatewayError> {
    let k = K::from_text(map_key).map_err(|e| map_key_error(key, e))?;
    let v = query_value(key, value, V::from_text)?;
    target.extend(std::iter::once((k, v)));
    Ok(())
}

/// Inserts one `name[key]=value` entry of a map with enum values.
pub fn query_insert_enum<K: FromText, M: Extend<(K, i32)>>(
    key: &str,
    map_key: &str,
    value: &str,
    target: &mut M,
    number: EnumNumber,
    valid: fn(i32) -> bool,
) -> Result<(), GatewayError> {
    let k = K::from_text(map_key).map_err(|e| map_key_error(key, e))?;
    let v = query_value(key, value, |s| parse_enum(s, number, valid))?;
    target.extend(std::iter::once((k, v)));
    Ok(())
}

/// A query value parsed by `parse`, with errors naming the parameter.
pub fn query_value<T, E: Display>(
    param: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, GatewayError> {
    parse(value).map_err(|e| GatewayError::InvalidQueryParameter {
        name: param.to_string(),
        message: e.to_string(),
    })
}

/// The error for a query parameter that sets a second member of a oneof.
pub fn oneof_conflict(param: &str, oneof: &str) -> GatewayError {
    GatewayError::InvalidQueryParameter {
        name: param.to_string(),
        message: format!("another field of oneof `{oneof}` is already set"),
    }
}

/// The error for a map query parameter whose key does not parse.
pub fn map_key_error(param: &str, message: impl Display) -> GatewayError {
    GatewayError::InvalidQueryParameter {
        name: param.to_string(),
        message: format!("invalid map key: {message}"),
    }
}

/// Merges JSON into a message field that prost may have boxed
/// (`Option<Box<T>>` for recursive types): works on `T` and `Box<T>` alike.
pub fn merge_message<T: JsonMessage, B: BorrowMut<T>>(
    target: &mut B,
    reader: &mut JsonReader<'_>,
) -> Result<(), JsonError> {
    target.borrow_mut().merge_json(reader)
}

/// Writes a message field that prost may have boxed.
pub fn write_message<T: JsonMessage, B: Borrow<T>>(message: &B, writer: &mut JsonWriter) {
    message.borrow().write_json(writer)
}

/// Reads one message value (for repeated and map message fields).
pub fn read_message<T: JsonMessage>(reader: &mut JsonReader<'_>) -> Result<T, JsonError> {
    reader.field_of_request();
    let mut message = T::default();
    message.merge_json(reader)?;
    Ok(message)
}

/// The error for a JSON object that sets two members of one oneof.
pub fn json_oneof_conflict(field: &str, oneof: &str) -> JsonError {
    JsonError::custom(format!(
        "field \"{field}\" sets oneof `{oneof}`, which another field already set"
    ))
}

/// The message inside oneof member `get` of `slot`, switching the oneof to
/// that member (a default message) when another member or none is set: a
/// selector that goes through a oneof member (`choice_nested.text=x`)
/// picks the member, as the last value given for a oneof wins.
pub fn oneof_member<O, M>(
    slot: &mut Option<O>,
    get: impl Fn(&mut O) -> Option<&mut M>,
    make: impl FnOnce() -> O,
) -> &mut M {
    if slot.as_mut().and_then(&get).is_none() {
        *slot = Some(make());
    }
    match slot.as_mut().and_then(get) {
        Some(member) => member,
        None => unreachable!("the oneof was just set to this member"),
    }
}

/// [`oneof_member`], but `None` when another member of the oneof is set:
/// a query parameter may not replace a member another one set.
pub fn oneof_member_unless_other<O, M>(
    slot: &mut Option<O>,
    get: impl Fn(&mut O) -> Option<&mut M>,
    make: impl FnOnce() -> O,
) -> Option<&mut M> {
    if slot.as_mut().is_some_and(|o| get(o).is_none()) {
        return None;
    }
    Some(oneof_member(slot, get, make))
}

// PATCH with `update_mask`: when the client sent no mask, the mask is the
// set of fields present in the JSON body (proto names; nested objects are
// followed into singular message fields; repeated fields, maps and
// well-known types end a path).

/// One field of a message, as the generated code describes it.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// lowerCamelCase JSON name.
    pub json: &'static str,
    /// Proto field name, used in the mask.
    pub proto: &'static str,
    /// Fields of the nested message, for singular message fields.
    pub nested: Option<fn() -> &'static [FieldInfo]>,
}

/// The mask of the fields present in the request body.
pub fn field_mask_from_body(
    cx: &BindContext<'_>,
    fields: &'static [FieldInfo],
) -> Result<prost_types::FieldMask, GatewayError> {
    let mut paths = Vec::new();
    if !cx.body().iter().all(u8::is_ascii_whitespace) {
        let value: prost_types::Value = crate::json::from_slice(cx.body(), cx.json_options())
            .map_err(GatewayError::InvalidBody)?;
        if let Some(Kind::StructValue(object)) = &value.kind {
            collect(object, fields, "", &mut paths);
        }
    }
    // JSON objects are unordered; a sorted mask is deterministic.
    paths.sort();
    Ok(prost_types::FieldMask { paths })
}

fn collect(
    object: &prost_types::Struct,
    fields: &'static [FieldInfo],
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in &object.fields {
        let Some(field) = fields.iter().find(|f| f.json == key || f.proto == key) else {
            continue;
        };
        let path = if prefix.is_empty() {
            field.proto.to_string()
        } else {
            format!("{prefix}.{}", field.proto)
        };
        match (&value.kind, field.nested) {
            (Some(Kind::StructValue(inner)), Some(nested)) => collect(inner, nested(), &path, out),
            _ => out.push(path),
        }
    }
}

#[cfg(test)]
mod oneof_tests {
    use super::oneof_member;

    #[derive(Debug, PartialEq)]
    enum Choice {
        Text(String),
        Nested(Vec<u8>),
    }

    fn nested(slot: &mut Option<Choice>) -> &mut Vec<u8> {
        oneof_member(
            slot,
            |o| match o {
                Choice::Nested(m) => Some(m),
                _ => None,
            },
            || Choice::Nested(Vec::new()),
        )
    }

    #[test]
    fn picks_keeps_and_switches_members() {
        let mut slot = None;
        nested(&mut slot).push(1);
        nested(&mut slot).push(2);
        assert_eq!(slot, Some(Choice::Nested(vec![1, 2])));
        let mut slot = Some(Choice::Text("a".into()));
        nested(&mut slot).push(3);
        assert_eq!(slot, Some(Choice::Nested(vec![3])));
    }

    fn nested_unless_other(slot: &mut Option<Choice>) -> Option<&mut Vec<u8>> {
        super::oneof_member_unless_other(
            slot,
            |o| match o {
                Choice::Nested(m) => Some(m),
                _ => None,
            },
            || Choice::Nested(Vec::new()),
        )
    }

    #[test]
    fn unless_other_refuses_another_member() {
        let mut slot = Some(Choice::Text("a".into()));
        assert!(nested_unless_other(&mut slot).is_none());
        assert_eq!(slot, Some(Choice::Text("a".into())));
        let mut slot = None;
        nested_unless_other(&mut slot).unwrap().push(1);
        nested_unless_other(&mut slot).unwrap().push(2);
        assert_eq!(slot, Some(Choice::Nested(vec![1, 2])));
    }
}

#[cfg(test)]
mod query_seen_tests {
    use super::QuerySeen;

    #[test]
    fn query_seen_refuses_a_repeat_past_its_inline_entries() {
        let mut seen = QuerySeen::new();
        // Seven fields, more than the inline entries hold; field 5 has
        // two names, and an alias may overwrite the other.
        for slot in 0..7 {
            seen.once(slot, 0, "first").unwrap();
        }
        seen.once(5, 1, "alias").unwrap();
        for slot in 0..7 {
            let name = u32::from(slot == 5);
            let err = seen.once(slot, name, "again").unwrap_err();
            assert!(
                err.to_string().contains("given more than once"),
                "slot {slot}: {err}"
            );
        }
        seen.once(7, 0, "new").unwrap();
    }
}
