//! Round trips of a message with every kind of field through the JSON codec, written
//! the way generated code uses the API, and a robustness test feeding pseudo-random input.

use std::collections::{BTreeMap, HashMap};

use crate::json::{
    self, JsonError, JsonErrorKind, JsonMessage, JsonOptions, JsonReader, JsonWriter, parse_map_key,
};
use crate::text;
use prost_types::{Any, Duration, FieldMask, ListValue, Struct, Timestamp, Value};

#[derive(Clone, PartialEq, prost::Message)]
struct Everything {
    #[prost(int32, tag = "1")]
    int32: i32,
    #[prost(uint32, tag = "2")]
    uint32: u32,
    #[prost(int64, tag = "3")]
    int64: i64,
    #[prost(uint64, tag = "4")]
    uint64: u64,
    #[prost(float, tag = "5")]
    float: f32,
    #[prost(double, tag = "6")]
    double: f64,
    #[prost(bool, tag = "7")]
    flag: bool,
    #[prost(string, tag = "8")]
    single_string: String,
    #[prost(bytes = "vec", tag = "9")]
    data: Vec<u8>,
    #[prost(enumeration = "Color", tag = "10")]
    color: i32,
    #[prost(int64, repeated, tag = "11")]
    ids: Vec<i64>,
    #[prost(map = "string, int32", tag = "12")]
    labels: HashMap<String, i32>,
    #[prost(btree_map = "int64, string", tag = "13")]
    by_id: BTreeMap<i64, String>,
    #[prost(btree_map = "bool, bool", tag = "14")]
    flags: BTreeMap<bool, bool>,
    #[prost(message, optional, boxed, tag = "15")]
    child: Option<Box<Everything>>,
    #[prost(message, repeated, tag = "16")]
    children: Vec<Everything>,
    #[prost(message, optional, tag = "17")]
    ts: Option<Timestamp>,
    #[prost(message, optional, tag = "18")]
    dur: Option<Duration>,
    #[prost(message, optional, tag = "19")]
    st: Option<Struct>,
    #[prost(message, optional, tag = "20")]
    val: Option<Value>,
    #[prost(message, optional, tag = "21")]
    any: Option<Any>,
    #[prost(message, optional, tag = "22")]
    mask: Option<FieldMask>,
    #[prost(message, optional, tag = "23")]
    wrapped: Option<i64>,
    #[prost(enumeration = "Color", repeated, tag = "24")]
    colors: Vec<i32>,
    #[prost(oneof = "Choice", tags = "25, 26")]
    choice: Option<Choice>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
enum Color {
    Unspecified = 0,
    Red = 1,
    Green = 2,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Choice {
    #[prost(string, tag = "25")]
    Name(String),
    #[prost(int32, tag = "26")]
    Number(i32),
}

fn color_name(n: i32) -> Option<&'static str> {
    match Color::try_from(n).ok()? {
        Color::Unspecified => Some("UNSPECIFIED"),
        Color::Red => Some("RED"),
        Color::Green => Some("GREEN"),
    }
}

fn color_from_name(s: &str) -> Option<i32> {
    let c = match s {
        "UNSPECIFIED" => Color::Unspecified,
        "RED" => Color::Red,
        "GREEN" => Color::Green,
        _ => return None,
    };
    Some(c as i32)
}

impl JsonMessage for Everything {
    const FULL_NAME: &'static str = "test.Everything";

    fn write_json(&self, w: &mut JsonWriter) {
        let d = w.emit_defaults();
        w.begin_object();
        if d || self.int32 != 0 {
            w.key("int32", "int32");
            w.i32(self.int32);
        }
        if d || self.uint32 != 0 {
            w.key("uint32", "uint32");
            w.u32(self.uint32);
        }
        if d || self.int64 != 0 {
            w.key("int64", "int64");
            w.i64(self.int64);
        }
        if d || self.uint64 != 0 {
            w.key("uint64", "uint64");
            w.u64(self.uint64);
        }
        if d || self.float != 0.0 {
            w.key("float", "float");
            w.f32(self.float);
        }
        if d || self.double != 0.0 {
            w.key("double", "double");
            w.f64(self.double);
        }
        if d || self.flag {
            w.key("flag", "flag");
            w.bool(self.flag);
        }
        if d || !self.single_string.is_empty() {
            w.key("singleString", "single_string");
            w.string(&self.single_string);
        }
        if d || !self.data.is_empty() {
            w.key("data", "data");
            w.bytes(&self.data);
        }
        if d || self.color != 0 {
            w.key("color", "color");
            w.enum_value(self.color, color_name(self.color));
        }
        if d || !self.ids.is_empty() {
            w.key("ids", "ids");
            w.begin_array();
            for v in &self.ids {
                w.element();
                w.i64(*v);
            }
            w.end_array();
        }
        if d || !self.labels.is_empty() {
            w.key("labels", "labels");
            w.begin_object();
            let mut keys: Vec<_> = self.labels.iter().collect();
            keys.sort();
            for (k, v) in keys {
                w.map_key(k);
                w.i32(*v);
            }
            w.end_object();
        }
        if d || !self.by_id.is_empty() {
            w.key("byId", "by_id");
            w.begin_object();
            for (k, v) in &self.by_id {
                w.map_key_display(*k);
                w.string(v);
            }
            w.end_object();
        }
        if d || !self.flags.is_empty() {
            w.key("flags", "flags");
            w.begin_object();
            for (k, v) in &self.flags {
                w.map_key_bool(*k);
                w.bool(*v);
            }
            w.end_object();
        }
        macro_rules! opt {
            ($f:ident, $json:literal, $proto:literal) => {
                match &self.$f {
                    Some(v) => {
                        w.key($json, $proto);
                        w.message(v);
                    }
                    None if d => {
                        w.key($json, $proto);
                        w.null();
                    }
                    None => {}
                }
            };
        }
        match &self.child {
            Some(c) => {
                w.key("child", "child");
                w.message(c.as_ref());
            }
            None if d => {
                w.key("child", "child");
                w.null();
            }
            None => {}
        }
        if d || !self.children.is_empty() {
            w.key("children", "children");
            w.begin_array();
            for c in &self.children {
                w.element();
                w.message(c);
            }
            w.end_array();
        }
        opt!(ts, "ts", "ts");
        opt!(dur, "dur", "dur");
        opt!(st, "st", "st");
        opt!(val, "val", "val");
        opt!(any, "any", "any");
        opt!(mask, "mask", "mask");
        match &self.wrapped {
            Some(v) => {
                w.key("wrapped", "wrapped");
                w.message(v);
            }
            None if d => {
                w.key("wrapped", "wrapped");
                w.null();
            }
            None => {}
        }
        if d || !self.colors.is_empty() {
            w.key("colors", "colors");
            w.begin_array();
            for c in &self.colors {
                w.element();
                w.enum_value(*c, color_name(*c));
            }
            w.end_array();
        }
        match &self.choice {
            Some(Choice::Name(s)) => {
                w.key("name", "name");
                w.string(s);
            }
            Some(Choice::Number(n)) => {
                w.key("number", "number");
                w.i32(*n);
            }
            None => {}
        }
        w.end_object();
    }

    fn merge_json(&mut self, r: &mut JsonReader<'_>) -> Result<(), JsonError> {
        r.object(|r, key| {
            match key {
                "val" => r.read_message(self.val.get_or_insert_with(Default::default))?,
                "int32" | "uint32" | "int64" | "uint64" | "float" | "double" | "flag"
                | "singleString" | "single_string" | "data" | "color" | "ids" | "labels"
                | "byId" | "by_id" | "flags" | "child" | "children" | "ts" | "dur" | "st"
                | "any" | "mask" | "wrapped" | "colors" | "name" | "number" => {
                    if r.try_null()? {
                        return Ok(true);
                    }
                    match key {
                        "int32" => self.int32 = r.read_i32()?,
                        "uint32" => self.uint32 = r.read_u32()?,
                        "int64" => self.int64 = r.read_i64()?,
                        "uint64" => self.uint64 = r.read_u64()?,
                        "float" => self.float = r.read_f32()?,
                        "double" => self.double = r.read_f64()?,
                        "flag" => self.flag = r.read_bool()?,
                        "singleString" | "single_string" => self.single_string = r.read_string()?,
                        "data" => self.data = r.read_bytes()?,
                        "color" => self.color = r.read_enum(color_from_name)?,
                        "ids" => r.array(|r| {
                            self.ids.push(r.read_i64()?);
                            Ok(())
                        })?,
                        "labels" => r.map(|r, k| {
                            let k: String = parse_map_key(k)?;
                            self.labels.insert(k, r.read_i32()?);
                            Ok(())
                        })?,
                        "byId" | "by_id" => r.map(|r, k| {
                            let k: i64 = parse_map_key(k)?;
                            self.by_id.insert(k, r.read_string()?);
                            Ok(())
                        })?,
                        "flags" => r.map(|r, k| {
                            let k: bool = parse_map_key(k)?;
                            self.flags.insert(k, r.read_bool()?);
                            Ok(())
                        })?,
                        "child" => {
                            r.read_message(&mut **self.child.get_or_insert_with(Default::default))?
                        }
                        "children" => r.array(|r| {
                            let mut c = Everything::default();
                            r.read_message(&mut c)?;
                            self.children.push(c);
                            Ok(())
                        })?,
                        "ts" => r.read_message(self.ts.get_or_insert_with(Default::default))?,
                        "dur" => r.read_message(self.dur.get_or_insert_with(Default::default))?,
                        "st" => r.read_message(self.st.get_or_insert_with(Default::default))?,
                        "any" => r.read_message(self.any.get_or_insert_with(Default::default))?,
                        "mask" => r.read_message(self.mask.get_or_insert_with(Default::default))?,
                        "wrapped" => {
                            r.read_message(self.wrapped.get_or_insert_with(Default::default))?
                        }
                        "colors" => r.array(|r| {
                            self.colors.push(r.read_enum(color_from_name)?);
                            Ok(())
                        })?,
                        "name" => {
                            if matches!(self.choice, Some(Choice::Number(_))) {
                                return Err(JsonError::custom(
                                    "oneof field \"choice\" is already set",
                                ));
                            }
                            self.choice = Some(Choice::Name(r.read_string()?));
                        }
                        _ => {
                            if matches!(self.choice, Some(Choice::Name(_))) {
                                return Err(JsonError::custom(
                                    "oneof field \"choice\" is already set",
                                ));
                            }
                            self.choice = Some(Choice::Number(r.read_i32()?));
                        }
                    }
                }
                _ => return Ok(false),
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

fn to_string<T: JsonMessage>(m: &T, opts: &JsonOptions) -> String {
    String::from_utf8(json::to_vec(m, opts)).unwrap()
}

fn full() -> Everything {
    json::any::register::<Everything>();
    let leaf = Everything {
        single_string: "leaf".into(),
        ..Everything::default()
    };
    Everything {
        int32: -7,
        uint32: 4_000_000_000,
        int64: i64::MIN,
        uint64: u64::MAX,
        float: 0.1,
        double: 1e-7,
        flag: true,
        single_string: "tab\there \"q\" é".into(),
        data: vec![0, 1, 254, 255],
        color: Color::Green as i32,
        ids: vec![1, -2, 9_007_199_254_740_993],
        labels: HashMap::from([("b".to_string(), 2), ("a".to_string(), 1)]),
        by_id: BTreeMap::from([(-1, "minus".to_string()), (10, "ten".to_string())]),
        flags: BTreeMap::from([(false, true), (true, false)]),
        child: Some(Box::new(leaf.clone())),
        children: vec![leaf.clone(), Everything::default()],
        ts: Some(Timestamp {
            seconds: -1,
            nanos: 1_000,
        }),
        dur: Some(Duration {
            seconds: 3,
            nanos: 0,
        }),
        st: Some(json::from_slice(br#"{"k":[true,null,2.5]}"#, &JsonOptions::default()).unwrap()),
        val: Some(Value {
            kind: Some(prost_types::value::Kind::NullValue(0)),
        }),
        any: Some(json::any::pack(&leaf)),
        mask: Some(FieldMask {
            paths: vec!["a.b_c".into()],
        }),
        wrapped: Some(0),
        colors: vec![1, 5],
        choice: Some(Choice::Number(4)),
    }
}

const FULL_JSON: &str = concat!(
    r#"{"int32":-7,"uint32":4000000000,"int64":"-9223372036854775808","uint64":"18446744073709551615","#,
    r#""float":0.1,"double":1e-7,"flag":true,"singleString":"tab\there \"q\" é","data":"AAH+/w==","#,
    r#""color":"GREEN","ids":["1","-2","9007199254740993"],"labels":{"a":1,"b":2},"#,
    r#""byId":{"-1":"minus","10":"ten"},"flags":{"false":true,"true":false},"#,
    r#""child":{"singleString":"leaf"},"children":[{"singleString":"leaf"},{}],"#,
    r#""ts":"1969-12-31T23:59:59.000001Z","dur":"3s","st":{"k":[true,null,2.5]},"val":null,"#,
    r#""any":{"@type":"type.googleapis.com/test.Everything","singleString":"leaf"},"#,
    r#""mask":"a.bC","wrapped":"0","colors":["RED",5],"number":4}"#
);

#[test]
fn full_message_exact_json_and_round_trip() {
    let m = full();
    assert_eq!(to_string(&m, &sparse()), FULL_JSON);
    let back: Everything = json::from_slice(FULL_JSON.as_bytes(), &JsonOptions::default()).unwrap();
    assert_eq!(back, m);
    // buffer reuse
    let buf = json::write_to(&m, &sparse(), b"junk".to_vec());
    assert_eq!(buf, FULL_JSON.as_bytes());
    // proto names
    let opts = JsonOptions {
        use_proto_names: true,
        ..sparse()
    };
    let s = to_string(&m, &opts);
    assert_eq!(
        s,
        FULL_JSON
            .replace("singleString", "single_string")
            .replace("byId", "by_id")
    );
    let back: Everything = json::from_slice(s.as_bytes(), &JsonOptions::default()).unwrap();
    assert_eq!(back, m);
    // with defaults: unset message fields are written as null, which reads back as unset,
    // except for google.protobuf.Value, where null is NULL_VALUE (as in Go's protojson)
    let s = to_string(&m, &JsonOptions::default());
    assert!(s.starts_with(r#"{"int32":-7,"#), "{s}");
    assert!(
        s.contains(r#""child":{"int32":0,"uint32":0,"int64":"0","#),
        "{s}"
    );
    let back: Everything = json::from_slice(s.as_bytes(), &JsonOptions::default()).unwrap();
    assert_eq!(back.child.as_ref().unwrap().val, m.val);
    assert_eq!(back.ts, m.ts);
}

#[test]
fn default_message() {
    let m = Everything::default();
    assert_eq!(to_string(&m, &sparse()), "{}");
    assert_eq!(
        to_string(&m, &JsonOptions::default()),
        concat!(
            r#"{"int32":0,"uint32":0,"int64":"0","uint64":"0","float":0,"double":0,"flag":false,"#,
            r#""singleString":"","data":"","color":"UNSPECIFIED","ids":[],"labels":{},"byId":{},"#,
            r#""flags":{},"child":null,"children":[],"ts":null,"dur":null,"st":null,"val":null,"#,
            r#""any":null,"mask":null,"wrapped":null,"colors":[]}"#
        )
    );
    // everything null reads back as the default (except Value, where null is a value)
    let input = to_string(&m, &JsonOptions::default());
    let back: Everything = json::from_slice(input.as_bytes(), &JsonOptions::default()).unwrap();
    assert_eq!(
        back,
        Everything {
            val: Some(Value {
                kind: Some(prost_types::value::Kind::NullValue(0)),
            }),
            ..Everything::default()
        }
    );
    let back: Everything = json::from_slice(b" {} ", &JsonOptions::default()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn merge_semantics() {
    let mut m = Everything {
        int32: 1,
        ids: vec![1],
        single_string: "keep".into(),
        ..Everything::default()
    };
    json::merge_from_slice(
        &mut m,
        br#"{"int32": 2, "ids": ["2"], "labels": {"x": 1}}"#,
        &JsonOptions::default(),
    )
    .unwrap();
    assert_eq!(m.int32, 2);
    assert_eq!(m.ids, [1, 2]);
    assert_eq!(m.single_string, "keep");
    assert_eq!(m.labels["x"], 1);
}

#[test]
fn reader_errors_in_context() {
    let e = json::from_slice::<Everything>(
        b"{\n  \"children\": [{}, {\"byId\": {\"x\": \"y\"}}]\n}",
        &JsonOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"children[1].byId[x]\": invalid map key \"x\": expected an int64 at line 2 column 35"
    );
    let e =
        json::from_slice::<Everything>(br#"{"number": 1, "name": "x"}"#, &JsonOptions::default())
            .unwrap_err();
    assert_eq!(e.kind(), JsonErrorKind::Custom);
    assert_eq!(
        e.to_string(),
        "invalid value for field \"name\": oneof field \"choice\" is already set at line 1 column 23"
    );
    let e = json::from_slice::<Everything>(br#"{"color": "BLUE"}"#, &JsonOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"color\": unknown enum value \"BLUE\" at line 1 column 11"
    );
    let e = json::from_slice::<Everything>(br#"{"ts": "yesterday"}"#, &JsonOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for field \"ts\": invalid google.protobuf.Timestamp \"yesterday\": expected the RFC 3339 form 1972-01-01T10:00:20.021Z at line 1 column 8"
    );
    let e =
        json::from_slice::<Everything>(br#"{"int32": 1} {}"#, &JsonOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unexpected data after the top-level value at line 1 column 14"
    );
    let strict = JsonOptions {
        ignore_unknown_fields: false,
        ..JsonOptions::default()
    };
    let e = json::from_slice::<Everything>(br#"{"child": {"nope": 1}}"#, &strict).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown field \"child.nope\" at line 1 column 12"
    );
}

/// xorshift64* — deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ALPHABET: &[u8] = b"{}[]\":,0123456789-+.eE tfnrulasNIy\\/u\n\t\x00\xff\xc3\xa9ZT@_";

fn seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        FULL_JSON,
        r#"{"a":[1,2.5e3,-0,true,false,null,"x\u00e9\ud83d\ude00"],"b":{"c":{}}}"#,
        r#""2024-02-29T12:00:00.500+01:00""#,
        r#""-315576000000.999999999s""#,
        r#""a.fooBar,b""#,
        r#"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1.5s"}"#,
        r#"{"value":{"a":1},"@type":"type.googleapis.com/google.protobuf.Struct"}"#,
        r#"{"@type":"type.googleapis.com/test.Everything","int32":"5","child":{"any":{"@type":"type.googleapis.com/google.protobuf.Any","value":{}}}}"#,
        r#"["9223372036854775807", 1e2, "NaN", "-Infinity", 3.4e38]"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(b"[[[[[[[[[[{\"a\":[[[[[[[[[[]]]]]]]]]]}]]]]]]]]]]".to_vec());
    v
}

fn exercise(input: &[u8]) {
    let strict = JsonOptions {
        ignore_unknown_fields: false,
        ..JsonOptions::default()
    };
    for opts in [&JsonOptions::default(), &strict] {
        let mut r = JsonReader::new(input, opts);
        let _ = r.skip_value().and_then(|_| r.finish());
        assert!(r.position() <= input.len());

        if let Ok(v) = json::from_slice::<Value>(input, opts) {
            // what was read writes and reads back identically
            let out = json::to_vec(&v, opts);
            let again: Value = json::from_slice(&out, opts).unwrap();
            assert_eq!(again, v);
        }
        if let Ok(t) = json::from_slice::<Timestamp>(input, opts) {
            let s = json::time::format_timestamp(&t).unwrap();
            assert_eq!(json::time::parse_timestamp(&s).unwrap(), t);
        }
        if let Ok(d) = json::from_slice::<Duration>(input, opts) {
            let s = json::time::format_duration(&d).unwrap();
            assert_eq!(json::time::parse_duration(&s).unwrap(), d);
        }
        if let Ok(m) = json::from_slice::<Everything>(input, opts) {
            let out = json::to_vec(&m, opts);
            let again: Everything = json::from_slice(&out, opts).unwrap();
            // NaN never equals itself; compare the JSON instead
            assert_eq!(json::to_vec(&again, opts), out);
        }
        let _ = json::from_slice::<Struct>(input, opts);
        let _ = json::from_slice::<ListValue>(input, opts);
        let _ = json::from_slice::<FieldMask>(input, opts);
        if let Ok(a) = json::from_slice::<Any>(input, opts) {
            let _ = json::to_vec(&a, opts);
        }
        let _ = json::from_slice::<()>(input, opts);
        let _ = json::from_slice::<f32>(input, opts);
        let _ = json::from_slice::<Vec<u8>>(input, opts);
        let _ = JsonReader::new(input, opts).read_i32();
        let _ = JsonReader::new(input, opts).read_u64();
        let _ = JsonReader::new(input, opts).read_f64();
        let _ = JsonReader::new(input, opts).read_enum(color_from_name);
        let _ = JsonReader::new(input, opts).read_str();
        let _ = JsonReader::new(input, opts).map(|r, k| {
            let _: i64 = parse_map_key(k)?;
            r.skip_value()
        });
    }
    if let Ok(s) = std::str::from_utf8(input) {
        let _ = text::parse_bool(s);
        let _ = text::parse_i64(s);
        let _ = text::parse_u32(s);
        let _ = text::parse_f64(s);
        let _ = text::parse_f32(s);
        let _ = text::parse_bytes(s);
        let _ = text::parse_enum(s, color_from_name, |n| n < 3);
        let _ = text::parse_timestamp(s);
        let _ = text::parse_duration(s);
        let _ = text::parse_field_mask(s);
        let _ = text::parse_value(s);
        let _ = json::wkt::parse_field_mask(s);
    }
}

#[test]
fn robustness_random_and_mutated_input() {
    json::any::register::<Everything>();
    // JSON_FUZZ_ITERS=200000 JSON_FUZZ_SEED=7 for longer runs
    let iters: usize = std::env::var("JSON_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("JSON_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed | 1);
    for _ in 0..iters {
        let len = rng.below(48);
        let input: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    ALPHABET[rng.below(ALPHABET.len())]
                }
            })
            .collect();
        exercise(&input);
    }
    let seeds = seeds();
    for s in &seeds {
        exercise(s);
    }
    for _ in 0..iters {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(3) {
            let pos = rng.below(input.len() + 1);
            let byte = if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                ALPHABET[rng.below(ALPHABET.len())]
            };
            match rng.below(5) {
                0 if pos < input.len() => input[pos] = byte,
                1 => input.insert(pos, byte),
                2 if pos < input.len() => {
                    input.remove(pos);
                }
                3 => input.truncate(pos),
                _ => {
                    let end = (pos + rng.below(16)).min(input.len());
                    let chunk = input[pos..end].to_vec();
                    input.splice(pos..pos, chunk);
                }
            }
        }
        exercise(&input);
    }
}
