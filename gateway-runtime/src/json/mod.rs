//! The canonical proto3 JSON mapping (<https://protobuf.dev/programming-guides/json/>),
//! behaving like Go's `protojson` where it matters.
//!
//! No serde and no reflection: the code generator emits, for every message `M`, an
//! `impl JsonMessage for M` that drives a [`JsonWriter`] (output into one `Vec<u8>`) and a
//! [`JsonReader`] (pull parser over `&[u8]` that borrows strings without escapes).
//! This module implements [`JsonMessage`] for the well-known types of `prost_types`
//! (see [`wkt`] and [`any`]) and for the Rust types prost uses for the wrapper types
//! (`f64` = `google.protobuf.DoubleValue`, `f32`, `i64`, `u64`, `i32`, `u32`, `bool`,
//! `String`, `Vec<u8>` / `bytes::Bytes` = `BytesValue`) and for `()` (`google.protobuf.Empty`).
//!
//! # Mapping summary
//!
//! | proto | JSON written | JSON accepted |
//! |---|---|---|
//! | `int32`, `uint32` and friends | number | number or string; `1e2`, `"1.0"` are fine, `1.5` is not |
//! | `int64`, `uint64` and friends | string `"123"` | string or number, exact |
//! | `float`, `double` | number, `"NaN"`, `"Infinity"`, `"-Infinity"` | number or string |
//! | `bool` | `true`/`false` | `true`/`false` |
//! | `string` | string | string |
//! | `bytes` | standard base64 with padding | standard or URL-safe, padded or not |
//! | enum | name (number when unknown) | name or number |
//! | message | object | object |
//! | `repeated` | array | array, `null` = empty |
//! | `map<K,V>` | object, keys as strings | object, `null` = empty |
//! | Timestamp, Duration, FieldMask, Struct, Value, ListValue, Empty, Any, wrappers | see [`wkt`], [`any`] | |
//!
//! # Conventions for generated code
//!
//! * Writing: `begin_object`, then per field `if w.emit_defaults() || !is_default {
//!   w.encoded_key(json_key, proto_key); <value> }`, then `end_object`. The keys are the field's
//!   names as JSON text with the colon (`"\"fooBar\":"`, `"\"foo_bar\":"`), made by the generator;
//!   the functions of [`fields`] take them in that form. Repeated fields: `begin_array`, `element()`
//!   before each value, `end_array`. Maps: `begin_object`, `map_key*` then the value, `end_object`.
//!   Unset message fields and unset oneofs are omitted (or written as `null` with `emit_defaults`,
//!   as Go's `EmitUnpopulated` does).
//! * Reading: `r.object(|r, key| match key { "fooBar" | "foo_bar" => { ...; Ok(true) } _ => Ok(false) })`.
//!   A JSON `null` as a field value means "not set": check [`JsonReader::try_null`] first, except
//!   for `google.protobuf.Value` fields (there `null` is the value `NULL_VALUE`; pass it on to
//!   `Value::merge_json`) and for the `google.protobuf.NullValue` enum.
//! * Errors from closures (e.g. [`JsonError::custom`]`("oneof field already set")`) get the
//!   position and JSON path of the value automatically.
//!
//! Nesting deeper than [`MAX_DEPTH`](reader::MAX_DEPTH) levels is an error, never a stack overflow; so is
//! protobuf message nesting the decoder would refuse ([`MAX_MESSAGE_DEPTH`](reader::MAX_MESSAGE_DEPTH)), and a field or
//! map key given twice (as in Go's protojson).

pub(crate) mod any;
#[cfg(test)]
mod codec_tests;
mod error;
pub mod fields;
mod frame;
pub(crate) mod reader;
pub(crate) mod time;
pub(crate) mod wkt;
mod writer;

pub use error::{JsonError, JsonErrorKind};
pub(crate) use frame::json_frame;
pub use reader::{JsonReader, parse_map_key};
pub(crate) use reader::{MapKey, ReaderScratch};
pub use writer::JsonWriter;

/// Options of the JSON writer and reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonOptions {
    /// Write fields that have their default value (like Go's `EmitUnpopulated`). Default: true.
    pub emit_defaults: bool,
    /// Write proto field names (`foo_bar`) instead of lowerCamelCase JSON names (`fooBar`).
    /// Default: false. The reader accepts both always.
    pub use_proto_names: bool,
    /// Skip unknown object keys when reading; when false, they are an error. Default: true.
    pub ignore_unknown_fields: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            emit_defaults: true,
            use_proto_names: false,
            ignore_unknown_fields: true,
        }
    }
}

/// A message with a proto3 JSON mapping (implemented by generated code and by this crate for
/// the well-known types).
pub trait JsonMessage: Default + Send + Sync + 'static {
    /// Fully qualified protobuf name, e.g. `"echo.v1.EchoRequest"` (no leading dot).
    const FULL_NAME: &'static str;

    /// Writes this message as one complete JSON value (an object for ordinary messages).
    fn write_json(&self, w: &mut JsonWriter);

    /// Reads one complete JSON value and merges it into `self` (fields present in the JSON
    /// overwrite or append, as protobuf merge does).
    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError>;
}

/// Writes `msg` as JSON into a new buffer.
pub fn to_vec<T: JsonMessage>(msg: &T, opts: &JsonOptions) -> Vec<u8> {
    write_to(msg, opts, Vec::with_capacity(256))
}

/// Writes `msg` as JSON into `buf` (cleared first, capacity reused) and returns it.
pub(crate) fn write_to<T: JsonMessage>(msg: &T, opts: &JsonOptions, buf: Vec<u8>) -> Vec<u8> {
    let mut w = JsonWriter::with_buffer(buf, opts);
    msg.write_json(&mut w);
    w.into_bytes()
}

/// Reads a message from JSON; the whole input must be one value (plus whitespace).
pub fn from_slice<T: JsonMessage>(input: &[u8], opts: &JsonOptions) -> Result<T, JsonError> {
    let mut msg = T::default();
    merge_from_slice(&mut msg, input, opts)?;
    Ok(msg)
}

/// Reads JSON and merges it into `msg`; the whole input must be one value (plus whitespace).
pub fn merge_from_slice<T: JsonMessage>(
    msg: &mut T,
    input: &[u8],
    opts: &JsonOptions,
) -> Result<(), JsonError> {
    let mut r = JsonReader::new(input, opts);
    let start = r.peek_value().map_or(input.len(), |_| r.position());
    match msg.merge_json(&mut r) {
        Ok(()) => r.finish(),
        Err(e) => Err(r.locate(e, start)),
    }
}
