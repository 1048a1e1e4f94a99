//! Parsing of single path and query parameter values (already percent-decoded) into field
//! values, with the same spellings as the JSON mapping where one exists.
//!
//! | field type | accepted text |
//! |---|---|
//! | `bool` | `1 t T TRUE true True 0 f F FALSE false False` (Go's `strconv.ParseBool`) |
//! | integers | decimal digits, a leading `-` for signed types; no `+`; range checked |
//! | `float`, `double` | decimal or exponent notation, `NaN`, `Infinity`, `-Infinity` |
//! | `bytes` | standard or URL-safe base64, padded or not |
//! | enum | the value name, or the number of a known value |
//! | `Timestamp` | RFC 3339 (as in JSON) |
//! | `Duration` | `1.5s` (as in JSON) |
//! | `FieldMask` | comma-separated paths, snake_case or lowerCamelCase (stored as snake_case) |
//! | `Struct`, `Value`, `ListValue` | JSON text |

use std::fmt;

use prost_types::{Duration, FieldMask, ListValue, Struct, Timestamp, Value};

use crate::json::{self, JsonMessage, JsonOptions};

/// A path or query parameter value that does not parse as its field's type.
///
/// `Display`: `invalid value "abc" for int32`, with `: <reason>` appended when there is more
/// to say (e.g. `invalid value "3000000000" for int32: out of range`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    value: String,
    expected: &'static str,
    reason: Option<String>,
}

impl TextError {
    fn new(value: &str, expected: &'static str) -> Self {
        TextError {
            value: value.to_owned(),
            expected,
            reason: None,
        }
    }

    fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The text that failed to parse.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The expected type, e.g. `int32` or `google.protobuf.Timestamp`.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// Why the text does not parse, beyond its type, if known.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value {} for {}",
            json::reader::show(&self.value, true),
            self.expected
        )?;
        if let Some(reason) = &self.reason {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TextError {}

/// `-?[0-9]+` → (negative, magnitude); `None` when malformed or beyond `u64`.
/// The text grammar of integers (see `decimal.rs` for how it differs from JSON's).
pub(crate) fn parse_decimal(s: &str) -> Option<(bool, u64)> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((neg, crate::decimal::magnitude(digits.bytes())?))
}

fn parse_int<T: TryFrom<i128>>(
    s: &str,
    expected: &'static str,
    signed: bool,
) -> Result<T, TextError> {
    let well_formed = |s: &str| {
        let d = s.strip_prefix('-').filter(|_| signed).unwrap_or(s);
        !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
    };
    if !well_formed(s) {
        return Err(TextError::new(s, expected));
    }
    let out_of_range = || TextError::new(s, expected).with_reason("out of range");
    let (neg, mag) = parse_decimal(s).ok_or_else(out_of_range)?;
    let v = if neg { -(mag as i128) } else { mag as i128 };
    T::try_from(v).map_err(|_| out_of_range())
}

/// Parses a `bool`: `1 t T TRUE true True` or `0 f F FALSE false False`.
pub fn parse_bool(s: &str) -> Result<bool, TextError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(TextError::new(s, "bool")),
    }
}

/// Parses an `int32` (`sint32`, `sfixed32`): decimal with an optional leading `-`.
pub fn parse_i32(s: &str) -> Result<i32, TextError> {
    parse_int(s, "int32", true)
}

/// Parses a `uint32` (`fixed32`): decimal digits.
pub fn parse_u32(s: &str) -> Result<u32, TextError> {
    parse_int(s, "uint32", false)
}

/// Parses an `int64` (`sint64`, `sfixed64`): decimal with an optional leading `-`.
pub fn parse_i64(s: &str) -> Result<i64, TextError> {
    parse_int(s, "int64", true)
}

/// Parses a `uint64` (`fixed64`): decimal digits.
pub fn parse_u64(s: &str) -> Result<u64, TextError> {
    parse_int(s, "uint64", false)
}

/// Decimal or exponent notation (`-1`, `1.5`, `.5`, `1.`, `1e-3`); no `+` sign, no `inf`.
fn float_syntax(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

fn parse_float<T: std::str::FromStr + Copy>(
    s: &str,
    expected: &'static str,
    specials: [T; 3],
    finite: impl Fn(T) -> bool,
) -> Result<T, TextError> {
    match s {
        "NaN" => return Ok(specials[0]),
        "Infinity" => return Ok(specials[1]),
        "-Infinity" => return Ok(specials[2]),
        _ => {}
    }
    if !float_syntax(s) {
        return Err(TextError::new(s, expected));
    }
    match s.parse::<T>() {
        Ok(v) if finite(v) => Ok(v),
        _ => Err(TextError::new(s, expected).with_reason("out of range")),
    }
}

/// Parses a `double`: decimal or exponent notation, `NaN`, `Infinity`, `-Infinity`.
/// Values beyond the `f64` range are an error.
pub fn parse_f64(s: &str) -> Result<f64, TextError> {
    parse_float(
        s,
        "double",
        [f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
        f64::is_finite,
    )
}

/// Parses a `float` (see [`parse_f64`]); values beyond the `f32` range are an error.
pub fn parse_f32(s: &str) -> Result<f32, TextError> {
    parse_float(
        s,
        "float",
        [f32::NAN, f32::INFINITY, f32::NEG_INFINITY],
        f32::is_finite,
    )
}

/// Parses `bytes`: standard or URL-safe base64, padded or not.
pub fn parse_bytes(s: &str) -> Result<Vec<u8>, TextError> {
    crate::base64_rule::decode(s.as_bytes()).ok_or_else(|| TextError::new(s, "bytes (base64)"))
}

/// Parses an enum: a value name (`from_name`), or the number of a known value (`is_valid`).
pub fn parse_enum(
    s: &str,
    from_name: impl Fn(&str) -> Option<i32>,
    is_valid: impl Fn(i32) -> bool,
) -> Result<i32, TextError> {
    if let Some(v) = from_name(s) {
        return Ok(v);
    }
    match parse_i32(s) {
        Ok(n) if is_valid(n) => Ok(n),
        _ => Err(TextError::new(s, "enum")),
    }
}

/// Parses a `google.protobuf.Timestamp` in RFC 3339 form (the JSON form, without quotes).
pub fn parse_timestamp(s: &str) -> Result<Timestamp, TextError> {
    json::time::timestamp_from_str(s)
        .map_err(|reason| TextError::new(s, Timestamp::FULL_NAME).with_reason(reason))
}

/// Parses a `google.protobuf.Duration` in `1.5s` form (the JSON form, without quotes).
pub fn parse_duration(s: &str) -> Result<Duration, TextError> {
    json::time::duration_from_str(s)
        .map_err(|reason| TextError::new(s, Duration::FULL_NAME).with_reason(reason))
}

/// Parses a `google.protobuf.FieldMask`: comma-separated paths in snake_case or lowerCamelCase,
/// stored as snake_case (`"user.displayName,id"` → `["user.display_name", "id"]`); `""` gives
/// no paths.
pub fn parse_field_mask(s: &str) -> Result<FieldMask, TextError> {
    let mut mask = FieldMask::default();
    if s.is_empty() {
        return Ok(mask);
    }
    for p in s.split(',') {
        let path = if p.bytes().any(|c| c.is_ascii_uppercase()) {
            json::wkt::camel_to_snake(p)
        } else {
            p.to_owned()
        };
        if !json::wkt::is_valid_path(&path) {
            return Err(TextError::new(s, FieldMask::FULL_NAME)
                .with_reason(format!("invalid path {}", json::reader::show(p, true))));
        }
        mask.paths.push(path);
    }
    Ok(mask)
}

fn parse_json<T: JsonMessage>(s: &str) -> Result<T, TextError> {
    json::from_slice(s.as_bytes(), &JsonOptions::default())
        .map_err(|e| TextError::new(s, T::FULL_NAME).with_reason(e.to_string()))
}

/// Parses a `google.protobuf.Struct` from JSON text (an object).
pub fn parse_struct(s: &str) -> Result<Struct, TextError> {
    parse_json(s)
}

/// Parses a `google.protobuf.Value` from JSON text (any JSON value).
pub fn parse_value(s: &str) -> Result<Value, TextError> {
    parse_json(s)
}

/// Parses a `google.protobuf.ListValue` from JSON text (an array).
pub fn parse_list_value(s: &str) -> Result<ListValue, TextError> {
    parse_json(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools() {
        for s in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(s), Ok(true), "{s}");
        }
        for s in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(s), Ok(false), "{s}");
        }
        for s in ["", "yes", "tRUE", " true", "2"] {
            assert!(parse_bool(s).is_err(), "{s}");
        }
        assert_eq!(
            parse_bool("yes").unwrap_err().to_string(),
            "invalid value \"yes\" for bool"
        );
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i32("0"), Ok(0));
        assert_eq!(parse_i32("-2147483648"), Ok(i32::MIN));
        assert_eq!(parse_i32("2147483647"), Ok(i32::MAX));
        assert_eq!(parse_i32("007"), Ok(7));
        assert_eq!(parse_u32("4294967295"), Ok(u32::MAX));
        assert_eq!(parse_i64("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
        let errs: Vec<(Result<(), TextError>, &str)> = vec![
            (
                parse_i32("abc").map(drop),
                "invalid value \"abc\" for int32",
            ),
            (parse_i32("").map(drop), "invalid value \"\" for int32"),
            (parse_i32("+1").map(drop), "invalid value \"+1\" for int32"),
            (parse_i64("-").map(drop), "invalid value \"-\" for int64"),
            (
                parse_i64("1.0").map(drop),
                "invalid value \"1.0\" for int64",
            ),
            (
                parse_i64("1e3").map(drop),
                "invalid value \"1e3\" for int64",
            ),
            (parse_i64(" 1").map(drop), "invalid value \" 1\" for int64"),
            (parse_u32("-1").map(drop), "invalid value \"-1\" for uint32"),
            (parse_u64("-0").map(drop), "invalid value \"-0\" for uint64"),
            (
                parse_i32("2147483648").map(drop),
                "invalid value \"2147483648\" for int32: out of range",
            ),
            (
                parse_i32("-2147483649").map(drop),
                "invalid value \"-2147483649\" for int32: out of range",
            ),
            (
                parse_u32("4294967296").map(drop),
                "invalid value \"4294967296\" for uint32: out of range",
            ),
            (
                parse_i64("9223372036854775808").map(drop),
                "invalid value \"9223372036854775808\" for int64: out of range",
            ),
            (
                parse_u64("18446744073709551616").map(drop),
                "invalid value \"18446744073709551616\" for uint64: out of range",
            ),
            (
                parse_u64("99999999999999999999999").map(drop),
                "invalid value \"99999999999999999999999\" for uint64: out of range",
            ),
        ];
        for (res, want) in errs {
            assert_eq!(res.unwrap_err().to_string(), want);
        }
        let e = parse_i32("x").unwrap_err();
        assert_eq!((e.value(), e.expected(), e.reason()), ("x", "int32", None));
    }

    #[test]
    fn floats() {
        let ok: &[(&str, f64)] = &[
            ("0", 0.0),
            ("-1.5", -1.5),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("2.5e+2", 250.0),
            (".5", 0.5),
            ("1.", 1.0),
            ("007", 7.0),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ];
        for (s, v) in ok {
            assert_eq!(parse_f64(s).unwrap(), *v, "{s}");
        }
        assert!(parse_f64("NaN").unwrap().is_nan());
        assert!(parse_f32("NaN").unwrap().is_nan());
        assert_eq!(parse_f32("0.1").unwrap(), 0.1f32);
        assert_eq!(parse_f32("3.4028235e38").unwrap(), f32::MAX);
        for s in [
            "", "-", ".", "e5", "1e", "1e+", "+1", "inf", "-inf", "nan", "infinity", "1.5x", " 1",
            "0x10", "1_000",
        ] {
            assert!(parse_f64(s).is_err(), "{s}");
        }
        assert_eq!(
            parse_f64("1e400").unwrap_err().to_string(),
            "invalid value \"1e400\" for double: out of range"
        );
        assert_eq!(
            parse_f32("3.5e38").unwrap_err().to_string(),
            "invalid value \"3.5e38\" for float: out of range"
        );
        assert_eq!(
            parse_f32("inf").unwrap_err().to_string(),
            "invalid value \"inf\" for float"
        );
    }

    #[test]
    fn bytes_and_enums() {
        assert_eq!(parse_bytes("aGk=").unwrap(), b"hi");
        assert_eq!(parse_bytes("aGk").unwrap(), b"hi");
        assert_eq!(parse_bytes("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(parse_bytes("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(parse_bytes("").unwrap(), b"");
        assert_eq!(
            parse_bytes("a").unwrap_err().to_string(),
            "invalid value \"a\" for bytes (base64)"
        );
        assert!(parse_bytes("a$==").is_err());
        let from_name = |s: &str| match s {
            "RED" => Some(1),
            "GREEN" => Some(2),
            _ => None,
        };
        let valid = |n: i32| (0..=2).contains(&n);
        assert_eq!(parse_enum("GREEN", from_name, valid), Ok(2));
        assert_eq!(parse_enum("1", from_name, valid), Ok(1));
        assert_eq!(parse_enum("0", from_name, valid), Ok(0));
        assert!(parse_enum("3", from_name, valid).is_err());
        assert!(parse_enum("green", from_name, valid).is_err());
        assert_eq!(
            parse_enum("BLUE", from_name, valid)
                .unwrap_err()
                .to_string(),
            "invalid value \"BLUE\" for enum"
        );
    }

    #[test]
    fn well_known_types() {
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00.5Z").unwrap(),
            Timestamp {
                seconds: 1_709_208_000,
                nanos: 500_000_000
            }
        );
        assert_eq!(
            parse_timestamp("2024-02-30T00:00:00Z")
                .unwrap_err()
                .to_string(),
            "invalid value \"2024-02-30T00:00:00Z\" for google.protobuf.Timestamp: day out of range"
        );
        assert_eq!(
            parse_duration("-1.5s").unwrap(),
            Duration {
                seconds: -1,
                nanos: -500_000_000
            }
        );
        assert_eq!(
            parse_duration("1.5").unwrap_err().to_string(),
            "invalid value \"1.5\" for google.protobuf.Duration: expected the form \"-1.5s\""
        );
        assert_eq!(
            parse_field_mask("user.displayName,id,a.b_c").unwrap().paths,
            ["user.display_name", "id", "a.b_c"]
        );
        assert!(parse_field_mask("").unwrap().paths.is_empty());
        assert_eq!(
            parse_field_mask("a,,b").unwrap_err().to_string(),
            "invalid value \"a,,b\" for google.protobuf.FieldMask: invalid path \"\""
        );
        assert!(parse_field_mask("a.").is_err());
        assert!(parse_field_mask("a b").is_err());
        let s = parse_struct(r#"{"a": [1, null]}"#).unwrap();
        assert_eq!(s.fields.len(), 1);
        assert_eq!(
            parse_value("\"x\"").unwrap().kind,
            Some(prost_types::value::Kind::StringValue("x".into()))
        );
        assert_eq!(parse_list_value("[1,2]").unwrap().values.len(), 2);
        assert_eq!(
            parse_struct("[1]").unwrap_err().to_string(),
            "invalid value \"[1]\" for google.protobuf.Struct: invalid value: expected an object, found array at line 1 column 1"
        );
        assert!(parse_value("x").is_err());
        assert!(parse_list_value("[1,]").is_err());
    }
}

/// A type that a path or query value can be parsed into: the scalars as
/// prost stores them, and the well-known types with a text form.
pub trait FromText: Sized {
    /// Parses one (percent-decoded) value.
    fn from_text(s: &str) -> Result<Self, TextError>;
}

macro_rules! from_text {
    ($($t:ty => $parse:path;)*) => {$(
        impl FromText for $t {
            fn from_text(s: &str) -> Result<Self, TextError> {
                $parse(s)
            }
        }
    )*};
}

from_text! {
    bool => parse_bool;
    i32 => parse_i32;
    u32 => parse_u32;
    i64 => parse_i64;
    u64 => parse_u64;
    f32 => parse_f32;
    f64 => parse_f64;
    Vec<u8> => parse_bytes;
    Timestamp => parse_timestamp;
    Duration => parse_duration;
    FieldMask => parse_field_mask;
    Struct => parse_struct;
    Value => parse_value;
    ListValue => parse_list_value;
}

impl FromText for String {
    fn from_text(s: &str) -> Result<Self, TextError> {
        Ok(s.to_owned())
    }
}

impl FromText for bytes::Bytes {
    fn from_text(s: &str) -> Result<Self, TextError> {
        parse_bytes(s).map(Into::into)
    }
}
