//! JSON of the well-known types (except `Any`, see [`super::any`]).
//!
//! | type | JSON |
//! |---|---|
//! | `Timestamp` | RFC 3339 string, always `Z`, 0/3/6/9 fraction digits: `"2024-02-29T12:00:00.500Z"`; offsets accepted on input |
//! | `Duration` | `"1.500s"`, `"-0.000001s"`, `"0s"` |
//! | `FieldMask` | one string, lowerCamelCase paths joined by `,`: `"a.fooBar,b"` |
//! | `Struct` | object |
//! | `Value` | any JSON value (`null` is `NULL_VALUE`; a NaN or infinite number is written as `null`) |
//! | `ListValue` | array |
//! | `Empty` (`()` in prost) | `{}` |
//! | wrappers (`f64` = `DoubleValue`, `f32`, `i64`, `u64`, `i32`, `u32`, `bool`, `String`, `Vec<u8>`/`Bytes`) | the wrapped scalar |
//!
//! The writer never fails: a Timestamp or Duration out of its valid range (or with
//! inconsistent nanos) is written in best-effort normalized form, which the reader rejects;
//! use [`format_timestamp`] / [`format_duration`] to get an error instead. For all these types
//! `merge_json` treats a top-level `null` as "nothing" (except `Value`, where it is `NULL_VALUE`).

use prost_types::value::Kind;
use prost_types::{Duration, FieldMask, ListValue, Struct, Timestamp, Value};

use super::error::{JsonError, JsonErrorKind};
use super::reader::show;
use super::time::{
    duration_from_str, duration_message, timestamp_from_str, timestamp_message, write_duration,
    write_timestamp,
};
use super::{JsonMessage, JsonReader, JsonWriter};

impl JsonMessage for Timestamp {
    const FULL_NAME: &'static str = "google.protobuf.Timestamp";

    fn write_json(&self, w: &mut JsonWriter) {
        let buf = w.buf_mut();
        buf.push(b'"');
        write_timestamp(buf, self.seconds, self.nanos);
        buf.push(b'"');
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if r.try_null()? {
            return Ok(());
        }
        let (at, s) = r.read_str_at()?;
        *self = timestamp_from_str(&s)
            .map_err(|reason| r.invalid(at, timestamp_message(&s, reason)))?;
        Ok(())
    }
}

impl JsonMessage for Duration {
    const FULL_NAME: &'static str = "google.protobuf.Duration";

    fn write_json(&self, w: &mut JsonWriter) {
        let buf = w.buf_mut();
        buf.push(b'"');
        write_duration(buf, self.seconds, self.nanos);
        buf.push(b'"');
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if r.try_null()? {
            return Ok(());
        }
        let (at, s) = r.read_str_at()?;
        *self =
            duration_from_str(&s).map_err(|reason| r.invalid(at, duration_message(&s, reason)))?;
        Ok(())
    }
}

// ----- FieldMask ----------------------------------------------------------------------------

/// snake_case → lowerCamelCase, exactly like Go's `strs.JSONCamelCase`: an `_` followed by a
/// lowercase letter makes it uppercase; every `_` is dropped.
pub(crate) fn snake_to_camel(s: &str, out: &mut String) {
    let mut was_underscore = false;
    for c in s.chars() {
        if c != '_' {
            out.push(if was_underscore && c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        was_underscore = c == '_';
    }
}

/// lowerCamelCase → snake_case, exactly like Go's `strs.JSONSnakeCase`: each uppercase ASCII
/// letter becomes `_` + lowercase.
pub(crate) fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A protobuf full name: identifiers (`[A-Za-z_][A-Za-z0-9_]*`) separated by `.`.
pub(crate) fn is_valid_path(s: &str) -> bool {
    s.split('.').all(|id| {
        let mut b = id.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
    })
}

fn field_mask_error(msg: String) -> JsonError {
    JsonError::new(JsonErrorKind::InvalidValue, msg)
}

#[cfg(test)]
/// Formats a FieldMask as its JSON string: paths converted snake_case → lowerCamelCase and
/// joined by `,` (`["a.foo_bar", "b"]` → `"a.fooBar,b"`). Errors when a path does not survive
/// the round trip (e.g. it contains uppercase letters or `__`), as Go's `protojson` does.
pub(crate) fn format_field_mask(m: &FieldMask) -> Result<String, JsonError> {
    let mut out = String::new();
    for (i, p) in m.paths.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let start = out.len();
        snake_to_camel(p, &mut out);
        if camel_to_snake(&out[start..]) != *p {
            return Err(field_mask_error(format!(
                "google.protobuf.FieldMask path {} cannot be converted to JSON",
                show(p, true)
            )));
        }
    }
    Ok(out)
}

/// Parses the JSON string form of a FieldMask: splits on `,` and converts each lowerCamelCase
/// path to snake_case (`"a.fooBar,b"` → `["a.foo_bar", "b"]`); `""` gives no paths. Paths
/// containing `_` or that are not valid names are an error (as in Go's `protojson`).
pub(crate) fn parse_field_mask(s: &str) -> Result<FieldMask, JsonError> {
    let mut mask = FieldMask::default();
    if s.is_empty() {
        return Ok(mask);
    }
    for p in s.split(',') {
        let snake = camel_to_snake(p);
        if p.contains('_') || !is_valid_path(&snake) {
            return Err(field_mask_error(format!(
                "google.protobuf.FieldMask contains invalid path {}",
                show(p, true)
            )));
        }
        mask.paths.push(snake);
    }
    Ok(mask)
}

impl JsonMessage for FieldMask {
    const FULL_NAME: &'static str = "google.protobuf.FieldMask";

    fn write_json(&self, w: &mut JsonWriter) {
        let mut out = String::new();
        for (i, p) in self.paths.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            snake_to_camel(p, &mut out);
        }
        w.string(&out);
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if r.try_null()? {
            return Ok(());
        }
        let (at, s) = r.read_str_at()?;
        let mask = parse_field_mask(&s).map_err(|e| r.invalid(at, e.message().to_owned()))?;
        self.paths.extend(mask.paths);
        Ok(())
    }
}

// ----- Struct, Value, ListValue ---------------------------------------------------------------

impl JsonMessage for Struct {
    const FULL_NAME: &'static str = "google.protobuf.Struct";

    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        for (k, v) in &self.fields {
            w.map_key(k);
            v.write_json(w);
        }
        w.end_object();
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        // The Struct is a message level, each of its entries (a map entry) another.
        r.enter_message()?;
        let mut seen = std::collections::BTreeSet::new();
        r.map(|r, key| {
            // A key given twice is an error, as in Go's protojson.
            if !seen.insert(key.to_owned()) {
                return Err(JsonError::custom(format!(
                    "duplicate map key {}",
                    show(key, true)
                )));
            }
            let mut v = Value::default();
            v.merge_json(r)?;
            self.fields.insert(key.to_owned(), v);
            Ok(())
        })?;
        r.leave_message();
        Ok(())
    }
}

impl JsonMessage for Value {
    const FULL_NAME: &'static str = "google.protobuf.Value";

    fn write_json(&self, w: &mut JsonWriter) {
        match &self.kind {
            None | Some(Kind::NullValue(_)) => w.null(),
            Some(Kind::NumberValue(n)) if n.is_finite() => w.f64(*n),
            Some(Kind::NumberValue(_)) => w.null(),
            Some(Kind::StringValue(s)) => w.string(s),
            Some(Kind::BoolValue(b)) => w.bool(*b),
            Some(Kind::StructValue(s)) => s.write_json(w),
            Some(Kind::ListValue(l)) => l.write_json(w),
        }
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        r.enter_message()?;
        let kind = match r.peek_value() {
            Some(b'n') => {
                r.try_null()?;
                Kind::NullValue(0)
            }
            Some(b't' | b'f') => Kind::BoolValue(r.read_bool()?),
            Some(b'"') => Kind::StringValue(r.read_string()?),
            Some(b'{') => {
                let mut s = match self.kind.take() {
                    Some(Kind::StructValue(s)) => s,
                    _ => Struct::default(),
                };
                s.merge_json(r)?;
                Kind::StructValue(s)
            }
            Some(b'[') => {
                let mut l = match self.kind.take() {
                    Some(Kind::ListValue(l)) => l,
                    _ => ListValue::default(),
                };
                l.merge_json(r)?;
                Kind::ListValue(l)
            }
            // numbers, and the syntax error for anything else
            _ => Kind::NumberValue(r.read_f64()?),
        };
        self.kind = Some(kind);
        r.leave_message();
        Ok(())
    }
}

impl JsonMessage for ListValue {
    const FULL_NAME: &'static str = "google.protobuf.ListValue";

    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_array();
        for v in &self.values {
            w.element();
            v.write_json(w);
        }
        w.end_array();
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        r.enter_message()?;
        r.array(|r| {
            let mut v = Value::default();
            v.merge_json(r)?;
            self.values.push(v);
            Ok(())
        })?;
        r.leave_message();
        Ok(())
    }
}

/// `google.protobuf.Empty` (prost maps it to `()`): `{}`.
impl JsonMessage for () {
    const FULL_NAME: &'static str = "google.protobuf.Empty";

    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.end_object();
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        r.object(|_, _| Ok(false))
    }
}

// ----- wrappers -------------------------------------------------------------------------------

macro_rules! wrapper {
    ($($t:ty => $name:literal, $write:ident, $read:ident;)*) => {$(
        #[doc = concat!("`", $name, "`: the wrapped value itself.")]
        impl JsonMessage for $t {
            const FULL_NAME: &'static str = $name;

            fn write_json(&self, w: &mut JsonWriter) {
                w.$write(*self);
            }

            fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
                if !r.try_null()? {
                    *self = r.$read()?;
                }
                Ok(())
            }
        }
    )*};
}

wrapper! {
    f64 => "google.protobuf.DoubleValue", f64, read_f64;
    f32 => "google.protobuf.FloatValue", f32, read_f32;
    i64 => "google.protobuf.Int64Value", i64, read_i64;
    u64 => "google.protobuf.UInt64Value", u64, read_u64;
    i32 => "google.protobuf.Int32Value", i32, read_i32;
    u32 => "google.protobuf.UInt32Value", u32, read_u32;
    bool => "google.protobuf.BoolValue", bool, read_bool;
}

/// `google.protobuf.StringValue`: a JSON string.
impl JsonMessage for String {
    const FULL_NAME: &'static str = "google.protobuf.StringValue";

    fn write_json(&self, w: &mut JsonWriter) {
        w.string(self);
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if !r.try_null()? {
            *self = r.read_string()?;
        }
        Ok(())
    }
}

/// `google.protobuf.BytesValue`: base64 in a JSON string.
impl JsonMessage for Vec<u8> {
    const FULL_NAME: &'static str = "google.protobuf.BytesValue";

    fn write_json(&self, w: &mut JsonWriter) {
        w.bytes(self);
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if !r.try_null()? {
            *self = r.read_bytes()?;
        }
        Ok(())
    }
}

/// `google.protobuf.BytesValue` (prost's `bytes` option): base64 in a JSON string.
impl JsonMessage for bytes::Bytes {
    const FULL_NAME: &'static str = "google.protobuf.BytesValue";

    fn write_json(&self, w: &mut JsonWriter) {
        w.bytes(self);
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        if !r.try_null()? {
            *self = r.read_bytes()?.into();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{JsonOptions, from_slice, to_vec};
    use std::collections::BTreeMap;

    fn json<T: JsonMessage>(m: &T) -> String {
        String::from_utf8(to_vec(m, &JsonOptions::default())).unwrap()
    }

    fn parse<T: JsonMessage>(s: &str) -> Result<T, JsonError> {
        from_slice(s.as_bytes(), &JsonOptions::default())
    }

    fn err<T: JsonMessage + std::fmt::Debug>(s: &str) -> String {
        parse::<T>(s).unwrap_err().to_string()
    }

    #[test]
    fn timestamp_json() {
        let t = Timestamp {
            seconds: 1_709_208_000,
            nanos: 500_000_000,
        };
        assert_eq!(json(&t), "\"2024-02-29T12:00:00.500Z\"");
        assert_eq!(
            parse::<Timestamp>("\"2024-02-29T12:00:00.500Z\"").unwrap(),
            t
        );
        assert_eq!(
            parse::<Timestamp>(" \"2024-02-29T13:00:00.5+01:00\" ").unwrap(),
            t
        );
        assert_eq!(
            json(&Timestamp {
                seconds: -1,
                nanos: 0
            }),
            "\"1969-12-31T23:59:59Z\""
        );
        assert_eq!(parse::<Timestamp>("null").unwrap(), Timestamp::default());
        assert_eq!(
            err::<Timestamp>("\n \"2024-02-30T00:00:00Z\""),
            "invalid value: invalid google.protobuf.Timestamp \"2024-02-30T00:00:00Z\": day out of range at line 2 column 2"
        );
        assert_eq!(
            err::<Timestamp>("12"),
            "invalid value: expected a string, found number at line 1 column 1"
        );
        assert!(parse::<Timestamp>("\"10000-01-01T00:00:00Z\"").is_err());
    }

    #[test]
    fn duration_json() {
        let d = Duration {
            seconds: -1,
            nanos: -500_000_000,
        };
        assert_eq!(json(&d), "\"-1.500s\"");
        assert_eq!(parse::<Duration>("\"-1.5s\"").unwrap(), d);
        assert_eq!(json(&Duration::default()), "\"0s\"");
        assert_eq!(
            err::<Duration>("\"1.5\""),
            "invalid value: invalid google.protobuf.Duration \"1.5\": expected the form \"-1.5s\" at line 1 column 1"
        );
        assert!(parse::<Duration>("\"315576000001s\"").is_err());
        assert!(parse::<Duration>("1.5").is_err());
    }

    #[test]
    fn field_mask_json() {
        let m = FieldMask {
            paths: vec!["a.foo_bar".into(), "b".into(), "user.display_name".into()],
        };
        assert_eq!(
            format_field_mask(&m).unwrap(),
            "a.fooBar,b,user.displayName"
        );
        assert_eq!(json(&m), "\"a.fooBar,b,user.displayName\"");
        assert_eq!(
            parse::<FieldMask>("\"a.fooBar,b,user.displayName\"").unwrap(),
            m
        );
        assert_eq!(parse_field_mask("a.fooBar,b,user.displayName").unwrap(), m);
        assert_eq!(parse::<FieldMask>("\"\"").unwrap(), FieldMask::default());
        assert_eq!(json(&FieldMask::default()), "\"\"");
        assert!(parse_field_mask("a.foo_bar").is_err());
        assert!(parse_field_mask("a,,b").is_err());
        assert!(parse_field_mask("a.").is_err());
        assert!(parse_field_mask("1a").is_err());
        assert!(parse_field_mask("a-b").is_err());
        for bad in ["fooBar", "foo__bar", "foo_1"] {
            let m = FieldMask {
                paths: vec![bad.into()],
            };
            assert!(format_field_mask(&m).is_err(), "{bad}");
        }
        assert_eq!(
            err::<FieldMask>("\"a,b_c\""),
            "invalid value: google.protobuf.FieldMask contains invalid path \"b_c\" at line 1 column 1"
        );
        // merge appends
        let mut m = FieldMask {
            paths: vec!["x".into()],
        };
        crate::json::merge_from_slice(&mut m, b"\"y\"", &JsonOptions::default()).unwrap();
        assert_eq!(m.paths, ["x", "y"]);
    }

    fn num(n: f64) -> Value {
        Value {
            kind: Some(Kind::NumberValue(n)),
        }
    }

    fn string(s: &str) -> Value {
        Value {
            kind: Some(Kind::StringValue(s.into())),
        }
    }

    #[test]
    fn struct_value_list_json() {
        let input = r#"{"a":1.5,"b":"x","c":true,"d":null,"e":[1,{"f":[]}],"g":{}}"#;
        let s: Struct = parse(input).unwrap();
        let mut want = BTreeMap::new();
        want.insert("a".to_string(), num(1.5));
        want.insert("b".to_string(), string("x"));
        want.insert(
            "c".to_string(),
            Value {
                kind: Some(Kind::BoolValue(true)),
            },
        );
        want.insert(
            "d".to_string(),
            Value {
                kind: Some(Kind::NullValue(0)),
            },
        );
        let mut f = BTreeMap::new();
        f.insert(
            "f".to_string(),
            Value {
                kind: Some(Kind::ListValue(ListValue::default())),
            },
        );
        want.insert(
            "e".to_string(),
            Value {
                kind: Some(Kind::ListValue(ListValue {
                    values: vec![
                        num(1.0),
                        Value {
                            kind: Some(Kind::StructValue(Struct { fields: f })),
                        },
                    ],
                })),
            },
        );
        want.insert(
            "g".to_string(),
            Value {
                kind: Some(Kind::StructValue(Struct::default())),
            },
        );
        assert_eq!(s, Struct { fields: want });
        assert_eq!(json(&s), input);

        assert_eq!(
            parse::<Value>("null").unwrap().kind,
            Some(Kind::NullValue(0))
        );
        assert_eq!(parse::<Value>(" -0.25 ").unwrap(), num(-0.25));
        assert_eq!(parse::<Value>("\"NaN\"").unwrap(), string("NaN"));
        assert_eq!(json(&num(f64::NAN)), "null");
        assert_eq!(json(&num(f64::INFINITY)), "null");
        assert_eq!(json(&num(1e21)), "1e+21");
        assert_eq!(json(&Value::default()), "null");
        assert_eq!(json(&ListValue::default()), "[]");
        assert_eq!(json(&Struct::default()), "{}");
        assert_eq!(parse::<ListValue>("[null, \"a\"]").unwrap().values.len(), 2);
        assert_eq!(parse::<ListValue>("null").unwrap(), ListValue::default());
        assert_eq!(parse::<Struct>("null").unwrap(), Struct::default());
        assert!(parse::<Value>("").is_err());
        assert!(parse::<Value>("1e400").is_err());
        assert!(parse::<Value>("nul").is_err());
        assert!(parse::<Value>("[1,]").is_err());
        assert_eq!(
            err::<Struct>("{\"a\": [1, {\"b\": tru}]}"),
            "invalid literal at line 1 column 17"
        );
        assert_eq!(
            err::<Value>("'x'"),
            "unexpected character ''' at line 1 column 1"
        );
    }

    #[test]
    fn empty_and_wrappers() {
        assert_eq!(json(&()), "{}");
        parse::<()>("{}").unwrap();
        parse::<()>("{\"x\": [1]}").unwrap();
        parse::<()>("null").unwrap();
        let strict = JsonOptions {
            ignore_unknown_fields: false,
            ..JsonOptions::default()
        };
        assert_eq!(
            from_slice::<()>(b"{\"x\": 1}", &strict)
                .unwrap_err()
                .to_string(),
            "unknown field \"x\" at line 1 column 2"
        );
        assert_eq!(json(&1.5f64), "1.5");
        assert_eq!(json(&1.5f32), "1.5");
        assert_eq!(json(&-3i64), "\"-3\"");
        assert_eq!(json(&3u64), "\"3\"");
        assert_eq!(json(&-3i32), "-3");
        assert_eq!(json(&3u32), "3");
        assert_eq!(json(&true), "true");
        assert_eq!(json(&"hi".to_string()), "\"hi\"");
        assert_eq!(json(&b"hi".to_vec()), "\"aGk=\"");
        assert_eq!(json(&bytes::Bytes::from_static(b"hi")), "\"aGk=\"");
        assert_eq!(parse::<f64>("\"Infinity\"").unwrap(), f64::INFINITY);
        assert_eq!(parse::<f32>("1.5").unwrap(), 1.5);
        assert_eq!(parse::<i64>("\"-3\"").unwrap(), -3);
        assert_eq!(parse::<u64>("3").unwrap(), 3);
        assert_eq!(parse::<i32>("-3").unwrap(), -3);
        assert_eq!(parse::<u32>("\"3\"").unwrap(), 3);
        assert!(parse::<bool>("true").unwrap());
        assert_eq!(parse::<String>("\"hi\"").unwrap(), "hi");
        assert_eq!(parse::<Vec<u8>>("\"aGk\"").unwrap(), b"hi");
        assert_eq!(parse::<bytes::Bytes>("\"aGk=\"").unwrap(), &b"hi"[..]);
        assert_eq!(parse::<i32>("null").unwrap(), 0);
        assert!(parse::<u32>("-1").is_err());
    }

    /// The reader refuses exactly the nesting prost's decoder refuses: for each shape,
    /// every depth around the limit is read, encoded and decoded again.
    #[test]
    fn message_depth_matches_the_protobuf_decoder() {
        use prost::Message as _;
        let opts = JsonOptions::default();
        let shapes: [(&str, &str, &str); 4] = [
            ("struct of structs", "{\"a\":", "}"),
            ("struct ending in an empty struct", "{\"a\":", "}"),
            ("list of lists", "[", "]"),
            ("list of structs", "[{\"a\":", "}]"),
        ];
        for (name, open, close) in shapes {
            let leaf = if name.contains("empty") { "{}" } else { "1" };
            let mut accepted = 0;
            for n in 1..=60 {
                let json = format!("{}{leaf}{}", open.repeat(n), close.repeat(n));
                let read = from_slice::<Value>(json.as_bytes(), &opts);
                let decoded = read
                    .as_ref()
                    .map(|v| Value::decode(v.encode_to_vec().as_slice()).is_ok());
                match read {
                    Ok(_) => {
                        assert_eq!(decoded, Ok(true), "{name}, {n}: read but not decodable");
                        accepted = n;
                    }
                    Err(e) => {
                        assert_eq!(e.kind(), JsonErrorKind::DepthLimit, "{name}, {n}: {e}");
                        assert!(
                            e.to_string().starts_with(
                                "exceeded the maximum protobuf message nesting depth of 100"
                            ),
                            "{e}"
                        );
                        // One more level is what prost refuses.
                        let mut deepest = json.clone();
                        deepest.replace_range(..open.len(), "");
                        deepest.truncate(deepest.len() - close.len());
                        let v = from_slice::<Value>(deepest.as_bytes(), &opts).unwrap();
                        // The same nesting built directly: prost refuses it.
                        let kind = Some(match open {
                            "[" => Kind::ListValue(ListValue { values: vec![v] }),
                            "{\"a\":" => Kind::StructValue(Struct {
                                fields: BTreeMap::from([("a".to_owned(), v)]),
                            }),
                            _ => Kind::ListValue(ListValue {
                                values: vec![Value {
                                    kind: Some(Kind::StructValue(Struct {
                                        fields: BTreeMap::from([("a".to_owned(), v)]),
                                    })),
                                }],
                            }),
                        });
                        let outer = Value { kind };
                        assert!(Value::decode(outer.encode_to_vec().as_slice()).is_err());
                        break;
                    }
                }
            }
            assert!((20..60).contains(&accepted), "{name}: limit at {accepted}");
        }
    }

    #[test]
    fn duplicate_struct_keys() {
        assert_eq!(
            err::<Struct>(r#"{"a":1,"b":2,"a":3}"#),
            "invalid value for field \"[a]\": duplicate map key \"a\" at line 1 column 18"
        );
    }
}
