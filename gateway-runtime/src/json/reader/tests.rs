//! Tests of the JSON reader.

use super::numbers::{IntError, int_from_token};
use super::strings::find_special;
use super::values::same_field;
use super::*;

fn opts() -> JsonOptions {
    JsonOptions::default()
}

fn rd(s: &str) -> JsonReader<'_> {
    JsonReader::new(s.as_bytes(), &DEFAULT)
}

static DEFAULT: JsonOptions = JsonOptions {
    emit_defaults: true,
    use_proto_names: false,
    ignore_unknown_fields: true,
};

/// Runs `f` on a fresh reader over `s`, then requires the end of input.
fn read<T>(
    s: &str,
    f: impl FnOnce(&mut JsonReader<'_>) -> Result<T, JsonError>,
) -> Result<T, JsonError> {
    let mut r = rd(s);
    let v = f(&mut r)?;
    r.finish()?;
    Ok(v)
}

fn err_of<T: std::fmt::Debug>(
    s: &str,
    f: impl FnOnce(&mut JsonReader<'_>) -> Result<T, JsonError>,
) -> String {
    read(s, f).unwrap_err().to_string()
}

fn skip(s: &str) -> Result<(), JsonError> {
    read(s, |r| r.skip_value())
}

#[test]
fn default_options() {
    assert_eq!(opts(), DEFAULT);
    let r = rd("");
    assert_eq!(r.options(), &DEFAULT);
    assert_eq!(r.position(), 0);
}

#[test]
fn skip_accepts_valid_json() {
    for s in [
        "null",
        "true",
        "false",
        "0",
        "-0",
        "1",
        "-1.5e+10",
        "0.0",
        "1E5",
        "1e-0",
        "\"\"",
        "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
        "[]",
        "{}",
        " [ 1 , [ ] , { } ] ",
        "{\"a\":{\"b\":[null,{\"c\":\"d\"}]},\"a\":1}",
        "\"é😀\"",
        "\t\r\n 1 \t\r\n",
    ] {
        skip(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

#[test]
fn skip_rejects_invalid_json() {
    let table: &[(&[u8], &str)] = &[
        (b"", "unexpected end of input at line 1 column 1"),
        (b"  ", "unexpected end of input at line 1 column 3"),
        (b"[1,]", "trailing comma in array at line 1 column 4"),
        (b"{\"a\":1,}", "trailing comma in object at line 1 column 8"),
        (
            b"[1 2]",
            "expected ',' or ']' after an array element at line 1 column 4",
        ),
        (
            b"[1",
            "expected ',' or ']' after an array element at line 1 column 3",
        ),
        (b"[,1]", "unexpected character ',' at line 1 column 2"),
        (b"{,}", "expected a string key or '}' at line 1 column 2"),
        (
            b"{\"a\" 1}",
            "expected ':' after an object key at line 1 column 6",
        ),
        (
            b"{\"a\":1 \"b\":2}",
            "expected ',' or '}' after an object member at line 1 column 8",
        ),
        (
            b"{\"a\":1,2}",
            "expected a string key after ',' at line 1 column 8",
        ),
        (b"{a:1}", "expected a string key or '}' at line 1 column 2"),
        (
            b"{'a':1}",
            "expected a string key or '}' at line 1 column 2",
        ),
        (b"'a'", "unexpected character ''' at line 1 column 1"),
        (
            b"\"a\x01\"",
            "unescaped control character in string at line 1 column 3",
        ),
        (
            b"\"a\nb\"",
            "unescaped control character in string at line 1 column 3",
        ),
        (
            b"\"\\x\"",
            "invalid escape sequence in string at line 1 column 2",
        ),
        (
            b"\"\\u12\"",
            "invalid \\u escape in string at line 1 column 2",
        ),
        (
            b"\"\\u12G4\"",
            "invalid \\u escape in string at line 1 column 2",
        ),
        (
            b"\"\\uD800\"",
            "lone surrogate in string at line 1 column 2",
        ),
        (
            b"\"\\uDC00\"",
            "lone surrogate in string at line 1 column 2",
        ),
        (
            b"\"\\uD800\\u0041\"",
            "lone surrogate in string at line 1 column 2",
        ),
        (
            b"\"\\uD800x\"",
            "lone surrogate in string at line 1 column 2",
        ),
        (b"\"a\xff\"", "invalid UTF-8 in string at line 1 column 3"),
        (b"\"\xc3\"", "invalid UTF-8 in string at line 1 column 2"),
        (
            b"\"\xed\xa0\x80\"",
            "invalid UTF-8 in string at line 1 column 2",
        ),
        (b"\"\\n\xff\"", "invalid UTF-8 in string at line 1 column 4"),
        (b"\"abc", "unterminated string at line 1 column 1"),
        (b"\"abc\\", "unterminated string at line 1 column 1"),
        (b"\"abc\\\"", "unterminated string at line 1 column 1"),
        (b"01", "invalid number at line 1 column 2"),
        (b"-01", "invalid number at line 1 column 3"),
        (b"+1", "unexpected character '+' at line 1 column 1"),
        (b".5", "unexpected character '.' at line 1 column 1"),
        (b"1.", "invalid number at line 1 column 3"),
        (b"1.e5", "invalid number at line 1 column 3"),
        (b"1e", "invalid number at line 1 column 3"),
        (b"1e+", "invalid number at line 1 column 4"),
        (b"-", "invalid number at line 1 column 2"),
        (b"1x", "invalid number at line 1 column 2"),
        (b"0x10", "invalid number at line 1 column 2"),
        (b"1.5.5", "invalid number at line 1 column 4"),
        (b"NaN", "unexpected character 'N' at line 1 column 1"),
        (b"Infinity", "unexpected character 'I' at line 1 column 1"),
        (b"-Infinity", "invalid number at line 1 column 2"),
        (b"tru", "invalid literal at line 1 column 1"),
        (b"nul", "invalid literal at line 1 column 1"),
        (b"nulll", "invalid literal at line 1 column 1"),
        (b"True", "unexpected character 'T' at line 1 column 1"),
        (
            b"1 2",
            "unexpected data after the top-level value at line 1 column 3",
        ),
        (
            b"{} x",
            "unexpected data after the top-level value at line 1 column 4",
        ),
        (b"\xef\xbb\xbf1", "unexpected byte 0xef at line 1 column 1"),
        (b"\x00", "unexpected byte 0x00 at line 1 column 1"),
        (
            b"[1]]",
            "unexpected data after the top-level value at line 1 column 4",
        ),
    ];
    for (input, want) in table {
        let mut r = JsonReader::new(input, &DEFAULT);
        let e = r.skip_value().and_then(|_| r.finish()).unwrap_err();
        assert_eq!(
            e.to_string(),
            *want,
            "input {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(
            matches!(e.kind(), JsonErrorKind::Syntax),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn depth_limit() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    skip(&ok).unwrap();
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let e = skip(&deep).unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::DepthLimit);
    assert_eq!(
        e.to_string(),
        "exceeded the maximum nesting depth of 100 at line 1 column 101"
    );
    let objs = "{\"a\":".repeat(100_000);
    assert_eq!(skip(&objs).unwrap_err().kind(), JsonErrorKind::DepthLimit);
    let arrays = "[".repeat(100_000);
    assert_eq!(skip(&arrays).unwrap_err().kind(), JsonErrorKind::DepthLimit);
    // object()/array() share the same limit
    fn nest(r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        r.array(nest)
    }
    assert_eq!(read(&ok, nest).map(|_| ()), Ok(()));
    assert_eq!(
        read(&deep, nest).unwrap_err().kind(),
        JsonErrorKind::DepthLimit
    );
}

#[derive(Debug, Default, PartialEq)]
struct Item {
    id: i32,
    name: String,
    tags: Vec<String>,
}

fn item(r: &mut JsonReader<'_>) -> Result<Item, JsonError> {
    let mut it = Item::default();
    r.object(|r, key| {
        match key {
            "id" => it.id = r.read_i32()?,
            "name" => it.name = r.read_string()?,
            "tags" => r.array(|r| {
                it.tags.push(r.read_string()?);
                Ok(())
            })?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(it)
}

fn items(r: &mut JsonReader<'_>) -> Result<Vec<Item>, JsonError> {
    let mut out = Vec::new();
    r.object(|r, key| {
        if key != "items" {
            return Ok(false);
        }
        r.array(|r| {
            out.push(item(r)?);
            Ok(())
        })?;
        Ok(true)
    })?;
    Ok(out)
}

#[test]
fn objects_and_arrays() {
    let got = read(
        r#" { "items" : [ {"id": 1, "name": "a", "tags": ["x", "y"]}, {"unknown": {"deep": [1, "x"]}, "id": "2"}, null ], "other": null } "#,
        items,
    )
    .unwrap();
    assert_eq!(
        got,
        vec![
            Item {
                id: 1,
                name: "a".into(),
                tags: vec!["x".into(), "y".into()]
            },
            Item {
                id: 2,
                ..Item::default()
            },
            Item::default(),
        ]
    );
    assert_eq!(read("null", items).unwrap(), vec![]);
    assert_eq!(read("{\"items\": null}", items).unwrap(), vec![]);
    assert_eq!(read("{\"items\": []}", items).unwrap(), vec![]);
    // a field given twice is an error, as in Go's protojson; unknown keys are not
    // checked, and each object has its own keys
    assert_eq!(
        err_of(r#"{"id": 1, "id": 2}"#, item),
        "invalid value for field \"id\": duplicate field \"id\" at line 1 column 11"
    );
    assert_eq!(read(r#"{"x": 1, "x": 2, "id": 3}"#, item).unwrap().id, 3);
    assert_eq!(
        read(r#"{"items": [{"id": 1}, {"id": 2}]}"#, items)
            .unwrap()
            .len(),
        2
    );
    assert!(same_field("foo_bar", "fooBar") && same_field("fooBar", "foo_bar"));
    assert!(same_field("a_b_c", "aBC") && !same_field("foo_bar", "foobar"));
    assert!(!same_field("foo", "fooBar") && same_field("x", "x"));
    assert_eq!(
        err_of("[]", items),
        "invalid value: expected an object, found array at line 1 column 1"
    );
    assert_eq!(
        err_of("{\"items\": {}}", items),
        "invalid value for field \"items\": expected an array, found object at line 1 column 11"
    );
}

#[test]
fn error_paths_and_positions() {
    let input = "{\"items\": [\n  {\"name\": \"a\"}, {\"name\": \"b\"},\n    {\"name\": 5}]}";
    let e = read(input, items).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"items[2].name\": expected a string, found number at line 3 column 14"
    );
    assert_eq!(e.kind(), JsonErrorKind::InvalidValue);
    assert_eq!(e.path(), Some("items[2].name"));
    assert_eq!((e.line(), e.column()), (Some(3), Some(14)));
    assert_eq!(e.offset(), Some(input.find('5').unwrap()));
    assert_eq!(e.message(), "expected a string, found number");

    let e = read("{\"a\": 1, \"b\": 2 \"c\": 3}", |r| r.skip_value()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected ',' or '}' after an object member at line 1 column 17"
    );
    assert_eq!(e.path(), Some("b"));

    let e = read("{\"items\":[{\"tags\":[\"a\",7]}]}", items).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"items[0].tags[1]\": expected a string, found number at line 1 column 24"
    );
    // escaped keys are decoded in the path
    let e = read("{\"it\\u0065ms\":[{\"id\":true}]}", |r| {
        r.object(|r, key| {
            assert_eq!(key, "items");
            r.array(|r| item(r).map(drop))?;
            Ok(true)
        })
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"items[0].id\": expected an int32, found boolean at line 1 column 22"
    );
}

#[test]
fn unknown_fields() {
    let strict = JsonOptions {
        ignore_unknown_fields: false,
        ..JsonOptions::default()
    };
    let input = b"{\"items\":[{\"id\":1,\n\"nope\":[1,2]}]}";
    let mut r = JsonReader::new(input, &strict);
    let e = items(&mut r).unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::UnknownField);
    assert_eq!(
        e.to_string(),
        "unknown field \"items[0].nope\" at line 2 column 1"
    );
    let mut r = JsonReader::new(input, &DEFAULT);
    assert_eq!(items(&mut r).unwrap()[0].id, 1);
    // unknown values are still validated when skipped
    assert!(read("{\"nope\": [1,]}", item).is_err());
}

#[test]
fn custom_errors_get_location_and_path() {
    let input = "{\"a\": {\"b\": 1,\n \"c\": 2}}";
    let e = read(input, |r| {
        r.object(|r, _| {
            r.object(|r, key| {
                if key == "c" {
                    return Err(JsonError::custom("oneof field already set"));
                }
                r.read_i32().map(|_| true)
            })?;
            Ok(true)
        })
    })
    .unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::Custom);
    assert_eq!(
        e.to_string(),
        "invalid value for field \"a.c\": oneof field already set at line 2 column 7"
    );
    let e = read("[1, 2]", |r| {
        r.array(|r| {
            let v = r.read_i32()?;
            if v == 2 {
                return Err(r.error("two"));
            }
            Ok(())
        })
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"[1]\": two at line 1 column 6"
    );
}

#[test]
fn maps() {
    let mut m: Vec<(i64, bool)> = Vec::new();
    read(r#"{"-5": true, "7": false}"#, |r| {
        r.map(|r, k| {
            m.push((parse_map_key(k)?, r.read_bool()?));
            Ok(())
        })
    })
    .unwrap();
    assert_eq!(m, [(-5, true), (7, false)]);
    read("null", |r| r.map(|_, _| panic!("no entries"))).unwrap();
    read("{}", |r| r.map(|_, _| panic!("no entries"))).unwrap();
    assert!(parse_map_key::<bool>("true").unwrap());
    assert!(!parse_map_key::<bool>("false").unwrap());
    assert!(parse_map_key::<bool>("1").is_err());
    assert_eq!(parse_map_key::<String>("x y").unwrap(), "x y");
    assert_eq!(parse_map_key::<i32>("-2147483648").unwrap(), i32::MIN);
    assert!(parse_map_key::<i32>("2147483648").is_err());
    assert_eq!(parse_map_key::<u32>("4294967295").unwrap(), u32::MAX);
    assert!(parse_map_key::<u32>("-1").is_err());
    assert_eq!(
        parse_map_key::<u64>("18446744073709551615").unwrap(),
        u64::MAX
    );
    assert!(parse_map_key::<i64>("1.0").is_err());
    assert!(parse_map_key::<i64>("").is_err());
    let e = read(r#"{"labels": {"a": 1, "x": 2}}"#, |r| {
        r.object(|r, _| {
            r.map(|r, k| {
                let _: u32 = r.read_u32()?;
                parse_map_key::<i32>(k).map(drop)
            })?;
            Ok(true)
        })
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"labels[a]\": invalid map key \"a\": expected an int32 at line 1 column 18"
    );
    assert_eq!(
        err_of(r#"{"a": 1 "b": 2}"#, |r| r
            .map(|r, _| r.read_i32().map(drop))),
        "expected ',' or '}' after a map entry at line 1 column 9"
    );
    assert_eq!(
        err_of(r#"{"a": true}"#, |r| r.map(|r, _| r.read_i32().map(drop))),
        "invalid value for field \"[a]\": expected an int32, found boolean at line 1 column 7"
    );
}

#[test]
fn null_handling() {
    let mut r = rd(" null ");
    assert!(r.try_null().unwrap());
    r.finish().unwrap();
    let mut r = rd(" 1");
    assert!(!r.try_null().unwrap());
    assert_eq!(r.position(), 1);
    assert!(rd("nul").try_null().is_err());
    assert_eq!(
        err_of("null", |r| r.read_i32()),
        "invalid value: expected an int32, found null at line 1 column 1"
    );
    assert_eq!(
        err_of("null", |r| r.read_string()),
        "invalid value: expected a string, found null at line 1 column 1"
    );
}

#[test]
fn bools() {
    assert_eq!(read("true", |r| r.read_bool()), Ok(true));
    assert_eq!(read(" false ", |r| r.read_bool()), Ok(false));
    assert_eq!(
        err_of("\"true\"", |r| r.read_bool()),
        "invalid value: expected a boolean, found string at line 1 column 1"
    );
    assert_eq!(
        err_of("1", |r| r.read_bool()),
        "invalid value: expected a boolean, found number at line 1 column 1"
    );
    assert!(read("truex", |r| r.read_bool()).is_err());
}

#[test]
fn int32_and_uint32() {
    let ok: &[(&str, i32)] = &[
        ("0", 0),
        ("-0", 0),
        ("1", 1),
        ("-2147483648", i32::MIN),
        ("2147483647", i32::MAX),
        ("\"-2147483648\"", i32::MIN),
        ("1e2", 100),
        ("\"1e2\"", 100),
        ("1.0", 1),
        ("1.50e1", 15),
        ("-1.5e1", -15),
        ("0.0001e4", 1),
        ("100e-2", 1),
        ("1E+2", 100),
        ("0e999999999999999999999", 0),
        ("\"\\u0031\"", 1),
        ("2147483647.000000000000000000000000", i32::MAX),
    ];
    for (s, want) in ok {
        assert_eq!(read(s, |r| r.read_i32()), Ok(*want), "{s}");
    }
    let errs: &[(&str, &str)] = &[
        (
            "1.5",
            "invalid value: expected an int32, found 1.5 at line 1 column 1",
        ),
        (
            "\"1.5\"",
            "invalid value: expected an int32, found \"1.5\" at line 1 column 1",
        ),
        (
            "1e-1",
            "invalid value: expected an int32, found 1e-1 at line 1 column 1",
        ),
        (
            "\"abc\"",
            "invalid value: expected an int32, found \"abc\" at line 1 column 1",
        ),
        (
            "\" 1\"",
            "invalid value: expected an int32, found \" 1\" at line 1 column 1",
        ),
        (
            "\"+1\"",
            "invalid value: expected an int32, found \"+1\" at line 1 column 1",
        ),
        (
            "\"01\"",
            "invalid value: expected an int32, found \"01\" at line 1 column 1",
        ),
        (
            "\"\"",
            "invalid value: expected an int32, found \"\" at line 1 column 1",
        ),
        (
            "2147483648",
            "invalid value: int32 value out of range: 2147483648 at line 1 column 1",
        ),
        (
            "-2147483649",
            "invalid value: int32 value out of range: -2147483649 at line 1 column 1",
        ),
        (
            "1e10",
            "invalid value: int32 value out of range: 1e10 at line 1 column 1",
        ),
        (
            "1e99999999999999999999",
            "invalid value: int32 value out of range: 1e99999999999999999999 at line 1 column 1",
        ),
        (
            "true",
            "invalid value: expected an int32, found boolean at line 1 column 1",
        ),
        (
            "[1]",
            "invalid value: expected an int32, found array at line 1 column 1",
        ),
        ("1.", "invalid number at line 1 column 3"),
        ("-", "invalid number at line 1 column 2"),
    ];
    for (s, want) in errs {
        assert_eq!(err_of(s, |r| r.read_i32()), *want, "{s}");
    }
    assert_eq!(read("4294967295", |r| r.read_u32()), Ok(u32::MAX));
    assert_eq!(read("\"4294967295\"", |r| r.read_u32()), Ok(u32::MAX));
    assert_eq!(read("-0", |r| r.read_u32()), Ok(0));
    assert_eq!(
        err_of("-1", |r| r.read_u32()),
        "invalid value: uint32 value out of range: -1 at line 1 column 1"
    );
    assert_eq!(
        err_of("4294967296", |r| r.read_u32()),
        "invalid value: uint32 value out of range: 4294967296 at line 1 column 1"
    );
}

#[test]
fn int64_and_uint64_are_exact() {
    let ok: &[(&str, i64)] = &[
        ("\"-9223372036854775808\"", i64::MIN),
        ("\"9223372036854775807\"", i64::MAX),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
        ("\"9007199254740993\"", 9_007_199_254_740_993),
        ("9007199254740993", 9_007_199_254_740_993),
        ("\"1e18\"", 1_000_000_000_000_000_000),
        ("9.223372036854775807e18", i64::MAX),
    ];
    for (s, want) in ok {
        assert_eq!(read(s, |r| r.read_i64()), Ok(*want), "{s}");
    }
    assert_eq!(
        err_of("\"9223372036854775808\"", |r| r.read_i64()),
        "invalid value: int64 value out of range: \"9223372036854775808\" at line 1 column 1"
    );
    assert!(read("\"-9223372036854775809\"", |r| r.read_i64()).is_err());
    assert!(read("9.2233720368547758075e18", |r| r.read_i64()).is_err());
    assert_eq!(
        read("\"18446744073709551615\"", |r| r.read_u64()),
        Ok(u64::MAX)
    );
    assert_eq!(read("18446744073709551615", |r| r.read_u64()), Ok(u64::MAX));
    assert_eq!(
        err_of("18446744073709551616", |r| r.read_u64()),
        "invalid value: uint64 value out of range: 18446744073709551616 at line 1 column 1"
    );
    assert_eq!(
        err_of("\"-1\"", |r| r.read_u64()),
        "invalid value: uint64 value out of range: \"-1\" at line 1 column 1"
    );
    assert!(read("123456789012345678901234567890", |r| r.read_u64()).is_err());
    assert!(read("1e20", |r| r.read_u64()).is_err());
    assert_eq!(
        read("1e19", |r| r.read_u64()),
        Ok(10_000_000_000_000_000_000)
    );
}

#[test]
fn floats() {
    let ok: &[(&str, f64)] = &[
        ("0", 0.0),
        ("1.5", 1.5),
        ("-1e-7", -1e-7),
        ("\"1.5\"", 1.5),
        ("\"Infinity\"", f64::INFINITY),
        ("\"-Infinity\"", f64::NEG_INFINITY),
        ("1.7976931348623157e308", f64::MAX),
        ("5e-324", 5e-324),
        ("1e-400", 0.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
    ];
    for (s, want) in ok {
        assert_eq!(read(s, |r| r.read_f64()), Ok(*want), "{s}");
    }
    assert!(read("\"NaN\"", |r| r.read_f64()).unwrap().is_nan());
    assert!(read("-0", |r| r.read_f64()).unwrap().is_sign_negative());
    let errs: &[(&str, &str)] = &[
        (
            "1e309",
            "invalid value: double value out of range: 1e309 at line 1 column 1",
        ),
        (
            "\"nan\"",
            "invalid value: expected a double, found \"nan\" at line 1 column 1",
        ),
        (
            "\"inf\"",
            "invalid value: expected a double, found \"inf\" at line 1 column 1",
        ),
        (
            "\"1.5 \"",
            "invalid value: expected a double, found \"1.5 \" at line 1 column 1",
        ),
        (
            "\".5\"",
            "invalid value: expected a double, found \".5\" at line 1 column 1",
        ),
        (
            "true",
            "invalid value: expected a double, found boolean at line 1 column 1",
        ),
        ("NaN", "unexpected character 'N' at line 1 column 1"),
    ];
    for (s, want) in errs {
        assert_eq!(err_of(s, |r| r.read_f64()), *want, "{s}");
    }
    assert_eq!(read("0.1", |r| r.read_f32()), Ok(0.1f32));
    assert_eq!(read("3.4028235e38", |r| r.read_f32()), Ok(f32::MAX));
    assert_eq!(
        read("\"-Infinity\"", |r| r.read_f32()),
        Ok(f32::NEG_INFINITY)
    );
    assert!(read("\"NaN\"", |r| r.read_f32()).unwrap().is_nan());
    assert_eq!(
        err_of("3.5e38", |r| r.read_f32()),
        "invalid value: float value out of range: 3.5e38 at line 1 column 1"
    );
    assert_eq!(
        err_of("[]", |r| r.read_f32()),
        "invalid value: expected a float, found array at line 1 column 1"
    );
}

#[test]
fn strings() {
    let mut r = rd("\"plain é\"");
    assert!(matches!(r.read_str().unwrap(), Cow::Borrowed("plain é")));
    let mut r = rd("\"a\\nb\"");
    assert!(matches!(r.read_str().unwrap(), Cow::Owned(s) if s == "a\nb"));
    let table: &[(&str, &str)] = &[
        ("\"\"", ""),
        ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\u{8}\u{c}\n\r\t"),
        ("\"\\u0000\\u001F\\u00e9\\u20AC\"", "\u{0}\u{1f}é€"),
        ("\"\\uD83D\\uDE00 \\ud83d\\ude00\"", "😀 😀"),
        ("\"x\\u0041y\\u0042\"", "xAyB"),
        ("\"<>&\u{7f}\u{2028}\"", "<>&\u{7f}\u{2028}"),
    ];
    for (s, want) in table {
        assert_eq!(read(s, |r| r.read_string()).as_deref(), Ok(*want), "{s}");
    }
    assert_eq!(
        err_of("5", |r| r.read_string()),
        "invalid value: expected a string, found number at line 1 column 1"
    );
    assert_eq!(
        err_of("{}", |r| r.read_str().map(|_| ())),
        "invalid value: expected a string, found object at line 1 column 1"
    );
}

#[test]
fn bytes() {
    let table: &[(&str, &[u8])] = &[
        ("\"\"", b""),
        ("\"aGk=\"", b"hi"),
        ("\"aGk\"", b"hi"),
        ("\"+/8A\"", b"\xfb\xff\x00"),
        ("\"-_8A\"", b"\xfb\xff\x00"),
        ("\"-_8=\"", b"\xfb\xff"),
        ("\"-_8\"", b"\xfb\xff"),
        ("\"aGVsbG8=\"", b"hello"),
        ("\"aGVsbG9=\"", b"hello"),
    ];
    for (s, want) in table {
        assert_eq!(read(s, |r| r.read_bytes()).as_deref(), Ok(*want), "{s}");
    }
    assert_eq!(
        err_of("\"a\"", |r| r.read_bytes()),
        "invalid value: expected base64 bytes, found \"a\" at line 1 column 1"
    );
    assert!(read("\"a===\"", |r| r.read_bytes()).is_err());
    assert!(read("\"+_8A\"", |r| r.read_bytes()).is_err());
    assert!(read("\"aG k\"", |r| r.read_bytes()).is_err());
    assert!(read("[]", |r| r.read_bytes()).is_err());
}

#[test]
fn enums() {
    let from_name = |s: &str| match s {
        "RED" => Some(1),
        "GREEN" => Some(2),
        _ => None,
    };
    assert_eq!(read("\"GREEN\"", |r| r.read_enum(from_name)), Ok(2));
    assert_eq!(read("1", |r| r.read_enum(from_name)), Ok(1));
    assert_eq!(read("42", |r| r.read_enum(from_name)), Ok(42));
    assert_eq!(read("-1", |r| r.read_enum(from_name)), Ok(-1));
    assert_eq!(
        err_of("{\"color\": \"BLUE\"}", |r| r
            .object(|r, _| r.read_enum(from_name).map(|_| true))),
        "invalid value for field \"color\": unknown enum value \"BLUE\" at line 1 column 11"
    );
    assert_eq!(
        err_of("true", |r| r.read_enum(from_name)),
        "invalid value: expected an enum name or number, found boolean at line 1 column 1"
    );
    assert!(read("1.5", |r| r.read_enum(from_name)).is_err());
    assert!(read("\"1\"", |r| r.read_enum(from_name)).is_err());
}

#[test]
fn show_truncates() {
    assert_eq!(show("abc", true), "\"abc\"");
    assert_eq!(show("abc", false), "abc");
    let long = "é".repeat(30);
    assert_eq!(show(&long, false), format!("{}...", "é".repeat(20)));
}

#[test]
fn exact_integer_conversion() {
    let ok: &[(&str, bool, u64)] = &[
        ("0", false, 0),
        ("-0.0e5", true, 0),
        ("12.3400e2", false, 1234),
        ("1234e-2", false, 12), // not integral → checked below
    ];
    for (s, neg, mag) in &ok[..3] {
        assert!(
            matches!(int_from_token(s.as_bytes()), Ok((n, m)) if n == *neg && m == *mag),
            "{s}"
        );
    }
    assert!(matches!(
        int_from_token(ok[3].0.as_bytes()),
        Err(IntError::NotIntegral)
    ));
    assert!(matches!(
        int_from_token(b"18446744073709551615"),
        Ok((false, u64::MAX))
    ));
    assert!(matches!(
        int_from_token(b"18446744073709551616"),
        Err(IntError::Overflow)
    ));
    assert!(matches!(
        int_from_token(b"1.8446744073709551615e19"),
        Ok((false, u64::MAX))
    ));
    assert!(matches!(
        int_from_token(b"1e-99999999999999999999"),
        Err(IntError::NotIntegral)
    ));
    assert!(matches!(
        int_from_token(b"0.00000000000000000000000000001e29"),
        Ok((false, 1))
    ));
}

/// Reads the keys of one object with a reader that borrows `scratch`'s
/// lists, every key known (so each is checked for duplicates).
fn keys_with_scratch(input: &str, scratch: &mut ReaderScratch) -> Result<Vec<String>, String> {
    let mut r = JsonReader::with_scratch(input.as_bytes(), None, &DEFAULT, scratch);
    let mut keys = Vec::new();
    let result = r
        .object(|r, key| {
            keys.push(key.to_owned());
            r.skip_value()?;
            Ok(true)
        })
        .and_then(|()| r.finish());
    r.into_scratch(scratch);
    result.map(|()| keys).map_err(|e| e.to_string())
}

#[test]
fn scratch_lists_are_reused_and_start_empty() {
    let mut scratch = ReaderScratch::default();
    assert_eq!(
        keys_with_scratch(r#"{"a":1,"b":{"c":2}}"#, &mut scratch).unwrap(),
        ["a", "b"]
    );
    // The allocations stay for the next message...
    assert!(scratch.seen_keys.capacity() > 0 && scratch.path.capacity() > 0);
    let (keys, path) = (scratch.seen_keys.as_ptr(), scratch.path.as_ptr());
    // ...which sees none of the previous message's keys: `a` again is no
    // duplicate, but within one message it is.
    assert_eq!(
        keys_with_scratch(r#"{"a":3}"#, &mut scratch).unwrap(),
        ["a"]
    );
    assert_eq!(scratch.seen_keys.as_ptr(), keys);
    assert_eq!(scratch.path.as_ptr(), path);
    let error = keys_with_scratch(r#"{"a":1,"a":2}"#, &mut scratch).unwrap_err();
    assert!(error.contains("duplicate field \"a\""), "{error}");
    // After an error the lists come back empty too.
    assert!(scratch.seen_keys.is_empty() && scratch.path.is_empty());
    assert_eq!(
        keys_with_scratch("{}", &mut scratch).unwrap(),
        Vec::<String>::new()
    );
}

use crate::test_rng::XorShift;

/// The integer readers' fast path (plain in-range numbers) against the general one, on
/// random tokens: the same value and position, or the same error.
#[test]
fn plain_integers_read_as_the_general_path_does() {
    fn both<T: TryFrom<i128> + PartialEq + std::fmt::Debug>(
        input: &str,
        fast: fn(&mut JsonReader<'_>) -> Result<T, JsonError>,
        ty: &'static str,
        article: &'static str,
    ) {
        let mut a = rd(input);
        let got = fast(&mut a).map_err(|e| e.to_string());
        let mut b = rd(input);
        let want = b
            .read_int_as_slow::<T>(ty, article)
            .map_err(|e| e.to_string());
        assert_eq!(got, want, "{input:?} as {ty}");
        if got.is_ok() {
            assert_eq!(a.position(), b.position(), "{input:?} as {ty}");
        }
    }
    let pieces = [
        "0",
        "1",
        "9",
        "-",
        "00",
        "12",
        "99999",
        "2147483647",
        "2147483648",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        ".",
        ".5",
        "e",
        "E2",
        "e+1",
        "a",
        " ",
        "\n",
        ",",
        "}",
        "]",
        "\"",
        "x",
        "123456789",
        "-0",
    ];
    let mut r = XorShift(0x1357_9BDF_2468_ACE0);
    for _ in 0..20_000 {
        let mut input = String::new();
        for _ in 0..1 + r.below(5) {
            input.push_str(pieces[r.below(pieces.len())]);
        }
        both(&input, |r| r.read_i32(), "int32", "an int32");
        both(&input, |r| r.read_u32(), "uint32", "a uint32");
        both(&input, |r| r.read_i64(), "int64", "an int64");
        both(&input, |r| r.read_u64(), "uint64", "a uint64");
    }
    // Every length of digits around the fast path's 18.
    for n in 1..=25 {
        for lead in ["", "-", "1", "-9"] {
            let input = format!("{lead}{}", "9".repeat(n));
            both(&input, |r| r.read_i64(), "int64", "an int64");
            both(&input, |r| r.read_u64(), "uint64", "a uint64");
            let input = format!("{lead}{} ", "1".repeat(n));
            both(&input, |r| r.read_i64(), "int64", "an int64");
        }
    }
}

/// A member of a generated object: the key as written in JSON and as read, and its
/// value (a nested object, or a scalar).
struct Member {
    json_key: &'static str,
    key: &'static str,
    nested: Option<Vec<Member>>,
}

/// Keys with the same field form under different spellings: escapes, underscores,
/// lowerCamelCase, non-ASCII; `x` and `y` are unknown fields.
const KEYS: [(&str, &str); 16] = [
    ("a", "a"),
    ("\\u0061", "a"),
    ("b", "b"),
    ("foo_bar", "foo_bar"),
    ("fooBar", "fooBar"),
    ("foo\\u005fbar", "foo_bar"),
    ("a_b_c", "a_b_c"),
    ("aBC", "aBC"),
    ("x", "x"),
    ("y", "y"),
    ("_z", "_z"),
    ("Z", "Z"),
    ("z_", "z_"),
    ("\u{e9}t\u{e9}", "\u{e9}t\u{e9}"),
    ("\\u00e9t\\u00e9", "\u{e9}t\u{e9}"),
    ("\u{e9}_t", "\u{e9}_t"),
];

fn gen_members(r: &mut XorShift, depth: usize) -> Vec<Member> {
    (0..r.below(6))
        .map(|_| {
            let (json_key, key) = KEYS[r.below(KEYS.len())];
            let nested = (depth < 2 && r.below(3) == 0).then(|| gen_members(r, depth + 1));
            Member {
                json_key,
                key,
                nested,
            }
        })
        .collect()
}

fn write_members(members: &[Member], out: &mut String) {
    out.push('{');
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(m.json_key);
        out.push_str("\": ");
        match &m.nested {
            Some(inner) => write_members(inner, out),
            None => out.push_str("[1]"),
        }
    }
    out.push('}');
}

/// Reads an object as generated code would: every key but `x` and `y` known, nested
/// objects read as messages.
fn read_members(r: &mut JsonReader<'_>) -> Result<(), JsonError> {
    r.object(|r, key| {
        if key == "x" || key == "y" {
            return Ok(false);
        }
        if r.peek_value() == Some(b'{') {
            read_members(r)?;
        } else {
            r.skip_value()?;
        }
        Ok(true)
    })
}

/// The duplicate check as a model: the first known key (in reading order, a nested
/// object's keys before the key after it) whose field form an earlier key of the same
/// object had; its path and its offset in `json`.
fn first_duplicate(members: &[Member], json: &str, at: &mut usize, path: &str) -> Option<String> {
    fn form(key: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in key.chars() {
            if c == '_' {
                upper = true;
            } else {
                out.push(if upper { c.to_ascii_uppercase() } else { c });
                upper = false;
            }
        }
        out
    }
    *at += 1; // {
    let mut seen: Vec<String> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            *at += 2; // ", "
        }
        let key_pos = *at;
        *at += m.json_key.len() + 4; // quotes, colon, space
        let here = if path.is_empty() {
            m.key.to_owned()
        } else {
            format!("{path}.{}", m.key)
        };
        let unknown = m.key == "x" || m.key == "y";
        match &m.nested {
            // An unknown field's value is skipped, not read as a message.
            Some(inner) if unknown => {
                let mut skipped = String::new();
                write_members(inner, &mut skipped);
                *at += skipped.len();
            }
            Some(inner) => {
                if let Some(e) = first_duplicate(inner, json, at, &here) {
                    return Some(e);
                }
            }
            None => *at += 3,
        }
        if unknown {
            continue;
        }
        let f = form(m.key);
        if seen.contains(&f) {
            let column = json[..key_pos].chars().count() + 1;
            return Some(format!(
                "invalid value for field \"{here}\": duplicate field \"{}\" at line 1 column {column}",
                m.key
            ));
        }
        seen.push(f);
    }
    *at += 1; // }
    None
}

#[test]
fn duplicate_keys_found_as_the_model_finds_them() {
    let mut r = XorShift(0x0F1E_2D3C_4B5A_6978);
    let mut scratch = ReaderScratch::default();
    let mut duplicates = 0;
    for round in 0..5000 {
        let members = gen_members(&mut r, 0);
        let mut json = String::new();
        write_members(&members, &mut json);
        let want = first_duplicate(&members, &json, &mut 0, "");
        duplicates += usize::from(want.is_some());
        // A fresh reader, and one on reused lists (which must start clean every time).
        let got = read(&json, read_members).err().map(|e| e.to_string());
        assert_eq!(got, want, "round {round}: {json}");
        let mut reader =
            JsonReader::with_scratch(json.as_bytes(), Some(&json), &DEFAULT, &mut scratch);
        let got = read_members(&mut reader)
            .and_then(|()| reader.finish())
            .err()
            .map(|e| e.to_string());
        reader.into_scratch(&mut scratch);
        assert_eq!(got, want, "round {round} (scratch): {json}");
    }
    assert!(duplicates > 500 && duplicates < 4500, "{duplicates}");
}

#[test]
fn string_scan_eight_bytes_at_a_time_finds_the_first_special_byte() {
    let naive = |input: &[u8], from: usize| {
        (from..input.len())
            .find(|&i| input[i] < 0x20 || input[i] == b'"' || input[i] == b'\\')
            .unwrap_or(input.len())
    };
    let alphabet = [
        b'a', b'"', b'\\', 0x00, 0x1F, 0x20, 0x21, 0x7F, 0x80, 0xC3, 0xA9, 0xFF, b'!', b'#', b'[',
        b']', 0x5B, 0x5D, 0x1E, 0x01,
    ];
    let mut r = XorShift(0xABCD_EF01_2345_6789);
    for _ in 0..50_000 {
        let len = r.below(40);
        // Mostly plain bytes, so that runs are long.
        let input: Vec<u8> = (0..len)
            .map(|_| {
                if r.below(6) == 0 {
                    alphabet[r.below(alphabet.len())]
                } else {
                    b'a' + r.below(26) as u8
                }
            })
            .collect();
        let from = r.below(len + 1);
        assert_eq!(
            find_special(&input, from),
            naive(&input, from),
            "{input:?} from {from}"
        );
    }
}

/// Every short length (the padded last word) with one byte of every class at every
/// position, scanned from every start: the bytes next to the classes' edges are the ones
/// a word-at-a-time test gets wrong.
#[test]
fn string_scan_of_short_tails_is_exact() {
    let bytes = [
        b'"',
        b'\\',
        0x00,
        0x01,
        0x1F,
        0x20,
        0x21,
        0x22 ^ 0x80,
        0x5B,
        0x5D,
        0x7F,
        0x80,
        0xA2,
        0xDC,
        0xFF,
        b'a',
    ];
    let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    for len in 0..=17usize {
        for at in 0..len.max(1) {
            for &b in &bytes {
                let mut input = vec![b'x'; len];
                if len > 0 {
                    input[at] = b;
                }
                for from in 0..=len {
                    let want = if len > 0 && at >= from && special(b) {
                        at
                    } else {
                        len
                    };
                    assert_eq!(find_special(&input, from), want, "{input:?} from {from}");
                }
            }
        }
    }
    // Past the end: the start itself, as before the tail was read as a word.
    assert_eq!(find_special(b"abc", 5), 5);
}
