//! `google.protobuf.Any` and the global type registry it needs.
//!
//! JSON of an `Any` (as Go's `protojson`):
//! * registered ordinary message: `{"@type":"type.googleapis.com/pkg.Msg","field":...}` (the
//!   message's own fields after `@type`);
//! * registered well-known type (Any, Timestamp, Duration, FieldMask, Struct, Value, ListValue,
//!   Empty and the wrappers): `{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1.5s"}`;
//! * empty `Any` (no type URL, no bytes): `{}`.
//! * **Fallback** (the writer never fails): an unregistered type, bytes that do not decode
//!   as the registered type, or an `Any` nested in more than [`MAX_ANY_DEPTH`] others, are
//!   written losslessly as `{"@type":"<type url>","value":"<standard base64 of the bytes>"}`.
//!   The reader does not accept this form back (it cannot know the type) and reports the
//!   unknown type.
//!
//! Reading finds `"@type"` wherever it is among the top-level keys, then reads the object again
//! with the registered type and encodes it to protobuf bytes. A missing `@type` (in a non-empty
//! object) or an unregistered type is an error naming it. The type is looked up by the part
//! of the type URL after the last `/`.
//!
//! All well-known types are registered from the start; generated code (or the application)
//! calls [`register`] for each message type that may travel inside an `Any`.

use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use prost_types::{Any, Duration, FieldMask, ListValue, Struct, Timestamp, Value};

use super::reader::show;
use super::{JsonError, JsonMessage, JsonReader, JsonWriter};

#[cfg(test)]
/// The prefix of type URLs written by [`type_url`] and [`pack`].
pub(crate) const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

type WriteFn = fn(&[u8], &mut JsonWriter) -> bool;
type ReadFn = fn(&mut JsonReader<'_>) -> Result<Vec<u8>, JsonError>;

/// How many `Any` may be written inside each other before the next one is
/// written in the fallback form. Each `Any`'s bytes are decoded on their
/// own, so protobuf's nesting limit (100 message levels) starts again
/// inside each: without a bound, a response of `Any` in `Any` in `Any`…
/// (a few dozen bytes a level) would recurse until the stack overflowed,
/// and each level holds a copy of the bytes below it. 32 levels of up to
/// 100 messages each stay well within a 2 MiB thread stack, in debug
/// builds too, and are far more than any real API nests.
pub(crate) const MAX_ANY_DEPTH: u32 = 32;

#[derive(Clone, Copy)]
struct Entry {
    write: WriteFn,
    read: ReadFn,
    /// Well-known type with a special JSON form: written under a `"value"` key.
    value_form: bool,
}

static REGISTRY: OnceLock<RwLock<HashMap<&'static str, Entry>>> = OnceLock::new();

fn is_well_known(name: &str) -> bool {
    matches!(
        name.strip_prefix("google.protobuf."),
        Some(
            "Any"
                | "Timestamp"
                | "Duration"
                | "FieldMask"
                | "Struct"
                | "Value"
                | "ListValue"
                | "Empty"
                | "DoubleValue"
                | "FloatValue"
                | "Int64Value"
                | "UInt64Value"
                | "Int32Value"
                | "UInt32Value"
                | "BoolValue"
                | "StringValue"
                | "BytesValue"
        )
    )
}

fn write_as<T: JsonMessage + prost::Message>(bytes: &[u8], w: &mut JsonWriter) -> bool {
    match T::decode(bytes) {
        Ok(m) => {
            m.write_json(w);
            true
        }
        Err(_) => false,
    }
}

fn read_as<T: JsonMessage + prost::Message>(r: &mut JsonReader<'_>) -> Result<Vec<u8>, JsonError> {
    let mut m = T::default();
    m.merge_json(r)?;
    Ok(m.encode_to_vec())
}

/// Reads the message inside an `Any`. Its bytes are decoded on their own (by the
/// service, and by the writer when echoed), so its message levels count from 0.
fn read_contents(
    r: &mut JsonReader<'_>,
    read: fn(&mut JsonReader<'_>) -> Result<Vec<u8>, JsonError>,
) -> Result<Vec<u8>, JsonError> {
    let saved = r.set_message_depth(0);
    let bytes = read(r)?;
    r.set_message_depth(saved);
    Ok(bytes)
}

fn entry<T: JsonMessage + prost::Message>() -> (&'static str, Entry) {
    (
        T::FULL_NAME,
        Entry {
            write: write_as::<T>,
            read: read_as::<T>,
            value_form: is_well_known(T::FULL_NAME),
        },
    )
}

fn registry() -> &'static RwLock<HashMap<&'static str, Entry>> {
    REGISTRY.get_or_init(|| {
        let map = HashMap::from([
            entry::<Any>(),
            entry::<Timestamp>(),
            entry::<Duration>(),
            entry::<FieldMask>(),
            entry::<Struct>(),
            entry::<Value>(),
            entry::<ListValue>(),
            entry::<()>(),
            entry::<f64>(),
            entry::<f32>(),
            entry::<i64>(),
            entry::<u64>(),
            entry::<i32>(),
            entry::<u32>(),
            entry::<bool>(),
            entry::<String>(),
            entry::<Vec<u8>>(),
        ]);
        RwLock::new(map)
    })
}

/// Registers `T` for use inside `Any` (key: [`JsonMessage::FULL_NAME`]). Idempotent and
/// thread-safe; registering another type under the same name replaces it.
pub fn register<T: JsonMessage + prost::Message>() {
    let (name, e) = entry::<T>();
    registry()
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name, e);
}

#[cfg(test)]
/// Whether a message with this full name (e.g. `"echo.v1.EchoRequest"`) is registered.
pub(crate) fn is_registered(full_name: &str) -> bool {
    registry()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains_key(full_name)
}

#[cfg(test)]
/// The type URL of `T`: `type.googleapis.com/<full name>`.
pub(crate) fn type_url<T: JsonMessage>() -> String {
    format!("{TYPE_URL_PREFIX}{}", T::FULL_NAME)
}

#[cfg(test)]
/// Packs a message into an `Any` with the [`type_url`] of `T`.
pub(crate) fn pack<T: JsonMessage + prost::Message>(m: &T) -> Any {
    Any {
        type_url: type_url::<T>(),
        value: m.encode_to_vec(),
    }
}

fn lookup(type_url: &str) -> Option<Entry> {
    let name = type_url.rsplit_once('/').map_or(type_url, |(_, n)| n);
    registry()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .copied()
}

impl JsonMessage for Any {
    const FULL_NAME: &'static str = "google.protobuf.Any";

    fn write_json(&self, w: &mut JsonWriter) {
        if self.type_url.is_empty() && self.value.is_empty() {
            w.begin_object();
            w.end_object();
            return;
        }
        w.begin_object();
        w.encoded_key(r#""@type":"#, r#""@type":"#);
        w.string(&self.type_url);
        // The registry lock is released before calling into the message (nested Any).
        if let Some(e) = lookup(&self.type_url)
            && w.any_depth < MAX_ANY_DEPTH
        {
            let mark = w.len();
            let write = |w: &mut JsonWriter| {
                w.any_depth += 1;
                let written = (e.write)(&self.value, w);
                w.any_depth -= 1;
                written
            };
            if e.value_form {
                w.encoded_key(r#""value":"#, r#""value":"#);
                if write(w) {
                    w.end_object();
                    return;
                }
            } else if write(w) {
                // The message wrote `{...}` right after `"@type":"..."`: splice its members in.
                let tail = &w.as_bytes()[mark..];
                if tail == b"{}" {
                    w.truncate(mark);
                    w.end_object();
                    return;
                }
                if tail.first() == Some(&b'{') && tail.last() == Some(&b'}') {
                    w.buf_mut()[mark] = b',';
                    return;
                }
            }
            w.truncate(mark);
        }
        w.encoded_key(r#""value":"#, r#""value":"#);
        w.bytes(&self.value);
        w.end_object();
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if r.peek_value() != Some(b'{') {
            // `null`, or the type error
            return r.object(|_, _| Ok(false));
        }
        let start = r.position();
        let mut type_url: Option<(usize, String)> = None;
        let mut other_keys = false;
        r.object_unchecked(|r, key| {
            if key == "@type" {
                if type_url.is_some() {
                    return Err(r.error("duplicate field \"@type\""));
                }
                type_url = Some((r.position(), r.read_string()?));
            } else {
                other_keys = true;
                r.skip_value()?;
            }
            Ok(true)
        })?;
        let end = r.position();
        let Some((at, url)) = type_url else {
            if other_keys {
                return Err(r.invalid(start, "missing \"@type\" field in google.protobuf.Any"));
            }
            return Ok(());
        };
        let Some(e) = lookup(&url) else {
            return Err(r.invalid(
                at,
                format!(
                    "unknown type {} in google.protobuf.Any (not registered)",
                    show(&url, true)
                ),
            ));
        };
        r.set_position(start);
        let value = if e.value_form {
            let mut value = None;
            r.object(|r, key| match key {
                "@type" => r.skip_value().map(|_| true),
                "value" => {
                    value = Some(read_contents(r, e.read)?);
                    Ok(true)
                }
                _ => Ok(false),
            })?;
            match value {
                Some(v) => v,
                // tolerated for Empty, as in Go's protojson
                None if url.ends_with("/google.protobuf.Empty")
                    || url == "google.protobuf.Empty" =>
                {
                    Vec::new()
                }
                None => {
                    return Err(r.invalid(start, "missing \"value\" field in google.protobuf.Any"));
                }
            }
        } else {
            let saved = r.set_any_type_depth(r.depth() + 1);
            let res = read_contents(r, e.read);
            r.set_any_type_depth(saved);
            res?
        };
        debug_assert_eq!(r.position(), end);
        self.type_url = url;
        self.value = value;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{JsonOptions, from_slice, to_vec};

    #[derive(Clone, PartialEq, prost::Message)]
    struct Pet {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(int64, tag = "2")]
        age: i64,
        #[prost(message, optional, tag = "3")]
        born: Option<Timestamp>,
        #[prost(message, optional, tag = "4")]
        extra: Option<Any>,
    }

    impl JsonMessage for Pet {
        const FULL_NAME: &'static str = "test.v1.Pet";

        fn write_json(&self, w: &mut JsonWriter) {
            w.begin_object();
            if w.emit_defaults() || !self.name.is_empty() {
                w.key("name", "name");
                w.string(&self.name);
            }
            if w.emit_defaults() || self.age != 0 {
                w.key("age", "age");
                w.i64(self.age);
            }
            if let Some(b) = &self.born {
                w.key("born", "born");
                w.message(b);
            }
            if let Some(x) = &self.extra {
                w.key("extra", "extra");
                w.message(x);
            }
            w.end_object();
        }

        fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
            r.object(|r, key| {
                if !matches!(key, "name" | "age" | "born" | "extra") {
                    return Ok(false);
                }
                if r.try_null()? {
                    return Ok(true);
                }
                match key {
                    "name" => self.name = r.read_string()?,
                    "age" => self.age = r.read_i64()?,
                    "born" => r.read_message(self.born.get_or_insert_with(Default::default))?,
                    _ => r.read_message(self.extra.get_or_insert_with(Default::default))?,
                }
                Ok(true)
            })
        }
    }

    fn sparse() -> JsonOptions {
        JsonOptions {
            emit_defaults: false,
            ..JsonOptions::default()
        }
    }

    fn json(a: &Any, opts: &JsonOptions) -> String {
        String::from_utf8(to_vec(a, opts)).unwrap()
    }

    fn parse(s: &str) -> Result<Any, JsonError> {
        from_slice(s.as_bytes(), &JsonOptions::default())
    }

    fn rex() -> Pet {
        Pet {
            name: "Rex".into(),
            age: 3,
            born: Some(Timestamp {
                seconds: 0,
                nanos: 0,
            }),
            extra: None,
        }
    }

    #[test]
    fn registered_message() {
        register::<Pet>();
        register::<Pet>();
        assert!(is_registered("test.v1.Pet"));
        let a = pack(&rex());
        assert_eq!(a.type_url, "type.googleapis.com/test.v1.Pet");
        let want = r#"{"@type":"type.googleapis.com/test.v1.Pet","name":"Rex","age":"3","born":"1970-01-01T00:00:00Z"}"#;
        assert_eq!(json(&a, &JsonOptions::default()), want);
        assert_eq!(parse(want).unwrap(), a);
        // @type anywhere
        let moved = r#" { "name" : "Rex", "born": "1970-01-01T00:00:00Z", "@type" : "type.googleapis.com/test.v1.Pet", "age": 3 } "#;
        assert_eq!(parse(moved).unwrap(), a);
        // any prefix is fine; lookup is by the last segment
        let b = parse(r#"{"@type":"example.com/x/test.v1.Pet","name":"Rex"}"#).unwrap();
        assert_eq!(b.type_url, "example.com/x/test.v1.Pet");
        assert_eq!(
            <Pet as prost::Message>::decode(&*b.value).unwrap().name,
            "Rex"
        );
        // empty message
        let empty = pack(&Pet::default());
        assert_eq!(
            json(&empty, &sparse()),
            r#"{"@type":"type.googleapis.com/test.v1.Pet"}"#
        );
        assert_eq!(
            json(&empty, &JsonOptions::default()),
            r#"{"@type":"type.googleapis.com/test.v1.Pet","name":"","age":"0"}"#
        );
        assert_eq!(
            parse(r#"{"@type":"type.googleapis.com/test.v1.Pet"}"#).unwrap(),
            empty
        );
        // proto names do not change "@type"
        let opts = JsonOptions {
            use_proto_names: true,
            ..sparse()
        };
        assert_eq!(
            json(&empty, &opts),
            r#"{"@type":"type.googleapis.com/test.v1.Pet"}"#
        );
    }

    #[test]
    fn registered_message_errors() {
        register::<Pet>();
        let strict = JsonOptions {
            ignore_unknown_fields: false,
            ..JsonOptions::default()
        };
        let input = "{\"@type\":\"type.googleapis.com/test.v1.Pet\",\n\"nick\":1}";
        let e = from_slice::<Any>(input.as_bytes(), &strict).unwrap_err();
        assert_eq!(e.to_string(), "unknown field \"nick\" at line 2 column 1");
        // ignored by default
        assert_eq!(parse(input).unwrap(), pack(&Pet::default()));
        let e = parse(r#"{"@type":"type.googleapis.com/test.v1.Pet","age":"x"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"age\": expected an int64, found \"x\" at line 1 column 50"
        );
        // nested Any keeps track of the path
        let e = parse(
            r#"{"@type":"type.googleapis.com/test.v1.Pet","extra":{"age":1,"@type":"type.googleapis.com/test.v1.Pet","born":1}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for field \"extra.born\": expected a string, found number at line 1 column 110"
        );
    }

    #[test]
    fn nested_any_in_message() {
        register::<Pet>();
        let inner = pack(&Duration {
            seconds: 1,
            nanos: 500_000_000,
        });
        let pet = Pet {
            extra: Some(inner),
            ..Pet::default()
        };
        let a = pack(&pet);
        let want = r#"{"@type":"type.googleapis.com/test.v1.Pet","extra":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1.500s"}}"#;
        assert_eq!(json(&a, &sparse()), want);
        assert_eq!(parse(want).unwrap(), a);
    }

    #[test]
    fn well_known_types_use_value() {
        let d = pack(&Duration {
            seconds: -1,
            nanos: -500_000_000,
        });
        let want = r#"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"-1.500s"}"#;
        assert_eq!(json(&d, &JsonOptions::default()), want);
        assert_eq!(parse(want).unwrap(), d);
        assert_eq!(
            parse(r#"{"value":"-1.5s","@type":"type.googleapis.com/google.protobuf.Duration"}"#)
                .unwrap(),
            d
        );
        let i = pack(&5i64);
        let want = r#"{"@type":"type.googleapis.com/google.protobuf.Int64Value","value":"5"}"#;
        assert_eq!(json(&i, &JsonOptions::default()), want);
        assert_eq!(parse(want).unwrap(), i);
        let e = pack(&());
        let want = r#"{"@type":"type.googleapis.com/google.protobuf.Empty","value":{}}"#;
        assert_eq!(json(&e, &JsonOptions::default()), want);
        assert_eq!(parse(want).unwrap(), e);
        assert_eq!(
            parse(r#"{"@type":"type.googleapis.com/google.protobuf.Empty"}"#).unwrap(),
            e
        );
        let nested = pack(&d);
        let want = r#"{"@type":"type.googleapis.com/google.protobuf.Any","value":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"-1.500s"}}"#;
        assert_eq!(json(&nested, &JsonOptions::default()), want);
        assert_eq!(parse(want).unwrap(), nested);
        let s: Struct = from_slice(br#"{"a":[1,"x"]}"#, &JsonOptions::default()).unwrap();
        let sa = pack(&s);
        let want =
            r#"{"@type":"type.googleapis.com/google.protobuf.Struct","value":{"a":[1,"x"]}}"#;
        assert_eq!(json(&sa, &JsonOptions::default()), want);
        assert_eq!(parse(want).unwrap(), sa);
        assert_eq!(
            parse(r#"{"@type":"type.googleapis.com/google.protobuf.Duration"}"#)
                .unwrap_err()
                .to_string(),
            "invalid value: missing \"value\" field in google.protobuf.Any at line 1 column 1"
        );
    }

    #[test]
    fn unregistered_and_empty() {
        let a = Any {
            type_url: "type.googleapis.com/x.Unknown".into(),
            value: vec![1, 2],
        };
        let want = r#"{"@type":"type.googleapis.com/x.Unknown","value":"AQI="}"#;
        assert_eq!(json(&a, &JsonOptions::default()), want);
        assert_eq!(
            parse(want).unwrap_err().to_string(),
            "invalid value: unknown type \"type.googleapis.com/x.Unknown\" in google.protobuf.Any (not registered) at line 1 column 10"
        );
        // registered, but the bytes do not decode: lossless fallback too
        let bad = Any {
            type_url: "type.googleapis.com/google.protobuf.Duration".into(),
            value: vec![0xff],
        };
        assert_eq!(
            json(&bad, &JsonOptions::default()),
            r#"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"/w=="}"#
        );
        register::<Pet>();
        let bad = Any {
            type_url: "type.googleapis.com/test.v1.Pet".into(),
            value: vec![0x0a, 0x05],
        };
        assert_eq!(
            json(&bad, &JsonOptions::default()),
            r#"{"@type":"type.googleapis.com/test.v1.Pet","value":"CgU="}"#
        );
        assert_eq!(json(&Any::default(), &JsonOptions::default()), "{}");
        assert_eq!(parse("{}").unwrap(), Any::default());
        assert_eq!(parse("null").unwrap(), Any::default());
        assert_eq!(
            parse(r#"{"name":"x"}"#).unwrap_err().to_string(),
            "invalid value: missing \"@type\" field in google.protobuf.Any at line 1 column 1"
        );
        assert!(parse(r#"{"@type":1}"#).is_err());
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"@type":"type.googleapis.com/x.Unknown","#).is_err());
    }

    #[test]
    fn register_from_many_threads() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..100 {
                        register::<Pet>();
                        assert!(is_registered("test.v1.Pet"));
                        assert!(is_registered("google.protobuf.Timestamp"));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    /// A message that nests itself and holds an `Any`: the deepest shape
    /// a response can take between two `Any`.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Node {
        #[prost(message, optional, boxed, tag = "1")]
        child: Option<Box<Node>>,
        #[prost(message, optional, tag = "2")]
        inner: Option<Any>,
    }

    impl JsonMessage for Node {
        const FULL_NAME: &'static str = "test.v1.Node";

        fn write_json(&self, w: &mut JsonWriter) {
            w.begin_object();
            if let Some(child) = &self.child {
                w.key("child", "child");
                child.write_json(w);
            }
            if let Some(inner) = &self.inner {
                w.key("inner", "inner");
                inner.write_json(w);
            }
            w.end_object();
        }

        fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
            r.skip_value()
        }
    }

    fn any_of<T: JsonMessage + prost::Message>(m: &T) -> Any {
        Any {
            type_url: format!("type.googleapis.com/{}", T::FULL_NAME),
            value: m.encode_to_vec(),
        }
    }

    /// `Any` in `Any`, `levels` deep, around an empty `Any`.
    fn nested_any(levels: usize) -> Any {
        (0..levels).fold(Any::default(), |inner, _| any_of(&inner))
    }

    /// Runs `f` on a thread with tokio's default worker stack (2 MiB).
    fn on_a_worker_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn nested_any_is_written_out_to_its_limit_then_as_bytes() {
        let depth = MAX_ANY_DEPTH as usize;
        let json =
            String::from_utf8(to_vec(&nested_any(depth + 3), &JsonOptions::default())).unwrap();
        let opening = r#"{"@type":"type.googleapis.com/google.protobuf.Any","value":"#;
        // The 33rd `Any` from the outside, written as its bytes.
        let bytes = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            nested_any(3).value,
        );
        let want = format!(
            "{}{opening}\"{bytes}\"}}{}",
            opening.repeat(depth),
            "}".repeat(depth)
        );
        assert_eq!(json, want);
        // Within the limit, every level is written out.
        let json = String::from_utf8(to_vec(&nested_any(depth), &JsonOptions::default())).unwrap();
        assert_eq!(
            json,
            format!("{}{{}}{}", opening.repeat(depth), "}".repeat(depth))
        );
    }

    /// A backend's response of `Any` nested 20 000 deep (about 500 KB,
    /// under the default 4 MiB message limit) overflowed the stack before
    /// the limit: on a worker's stack it now writes out.
    #[test]
    fn deeply_nested_any_does_not_overflow_the_stack() {
        on_a_worker_stack(|| {
            let json = to_vec(&nested_any(20_000), &JsonOptions::default());
            assert!(json.ends_with(&[b'}'; MAX_ANY_DEPTH as usize]));
        });
    }

    /// The deepest a response can nest within the limit: each `Any` holds
    /// a chain of messages as deep as protobuf's decoder allows, whose
    /// last holds the next `Any`.
    #[test]
    fn the_deepest_allowed_nesting_fits_a_worker_stack() {
        register::<Node>();
        on_a_worker_stack(|| {
            let mut any = Any::default();
            for _ in 0..MAX_ANY_DEPTH + 1 {
                let mut node = Node {
                    child: None,
                    inner: Some(any),
                };
                // 97 levels below the `Any`: the decoder's limit is 100.
                for _ in 0..96 {
                    node = Node {
                        child: Some(Box::new(node)),
                        inner: None,
                    };
                }
                any = any_of(&node);
            }
            let json = to_vec(&any, &JsonOptions::default());
            let opened = json.iter().filter(|&&b| b == b'{').count();
            assert!(opened > (MAX_ANY_DEPTH as usize) * 97, "{opened}");
        });
    }
}
