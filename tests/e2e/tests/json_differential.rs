//! JSON, proven against a reference: random messages of the e2e protos
//! (every scalar kind, enums known and unknown, nested and recursive
//! messages, repeated fields, maps, oneofs, proto3 `optional`, proto2
//! required and optional fields with defaults and groups, and the
//! well-known types: Timestamp, Duration, FieldMask, wrappers, Struct,
//! Value, ListValue, Any) written and read by the runtime's generated codec
//! and by prost-reflect's serde support, in both directions:
//!
//! * written: ours and the reference's JSON of the same message are the same
//!   JSON value (numbers compared as numbers: `1` and `1.0` are equal;
//!   object keys in any order);
//! * read: each side reads the other's JSON back to the original message.
//!
//! Where Go's protojson and prost-reflect differ, ours follows protojson and
//! the comparison allows for it (stated at each place). Any difference fails
//! with the seed, the case and both texts.
//!
//! `JSON_DIFF_CASES` sets the number of cases per message type (default
//! 1000, for nine types),
//! `JSON_DIFF_SEED` the first seed.

#![allow(missing_docs)]

use gateway_e2e::e2e;
use gateway_runtime::JsonOptions;
// The codec as generated code reaches it (not a public API).
use gateway_runtime::__private::{JsonMessage, json};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MapKey,
    MessageDescriptor, ReflectMessage, SerializeOptions, Value,
};
use serde_json::Value as Json;

fn pool() -> DescriptorPool {
    DescriptorPool::decode(include_bytes!(concat!(env!("OUT_DIR"), "/e2e.fds")).as_slice()).unwrap()
}

/// splitmix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % ((high - low) as u64 + 1)) as i64
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

// ------------------------------------------------------------ random values

fn random_i64(rng: &mut Rng) -> i64 {
    match rng.below(6) {
        0 => rng.pick(&[0, 1, -1, i64::MIN, i64::MAX, 1 << 53, (1 << 53) + 1]),
        1 => rng.range(-1000, 1000),
        _ => rng.next() as i64,
    }
}

fn random_i32(rng: &mut Rng) -> i32 {
    match rng.below(4) {
        0 => rng.pick(&[0, 1, -1, i32::MIN, i32::MAX]),
        1 => rng.range(-1000, 1000) as i32,
        _ => rng.next() as i32,
    }
}

fn random_f64(rng: &mut Rng) -> f64 {
    match rng.below(8) {
        0 => rng.pick(&[
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e21,
            1e-7,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]),
        1 => rng.range(-1_000_000, 1_000_000) as f64,
        2 => rng.range(-1_000_000, 1_000_000) as f64 / 1000.0,
        _ => loop {
            let v = f64::from_bits(rng.next());
            if v.is_finite() {
                break v;
            }
        },
    }
}

fn random_f32(rng: &mut Rng) -> f32 {
    match rng.below(8) {
        0 => rng.pick(&[
            0.0,
            -0.0,
            1.0,
            0.1,
            3.4e38,
            1e-7,
            f32::MIN_POSITIVE,
            1e-45,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ]),
        1 => rng.range(-100_000, 100_000) as f32 / 100.0,
        _ => loop {
            let v = f32::from_bits(rng.next() as u32);
            if v.is_finite() {
                break v;
            }
        },
    }
}

fn random_string(rng: &mut Rng) -> String {
    const CHARS: &[char] = &[
        'a',
        'b',
        'z',
        'A',
        '0',
        '9',
        ' ',
        '_',
        '-',
        '.',
        '/',
        '"',
        '\\',
        '\n',
        '\t',
        '\r',
        '\u{0}',
        '\u{1}',
        '\u{1f}',
        '\u{7f}',
        '<',
        '>',
        '&',
        '\'',
        'é',
        'ß',
        '€',
        '\u{2028}',
        '\u{2029}',
        '\u{feff}',
        '日',
        '😀',
        '\u{10ffff}',
    ];
    let len = rng.pick(&[0, 1, 2, 5, 12]);
    (0..len).map(|_| rng.pick(CHARS)).collect()
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = rng.pick(&[0, 1, 2, 3, 4, 7, 20]);
    (0..len).map(|_| rng.next() as u8).collect()
}

fn random_name(rng: &mut Rng) -> String {
    let len = rng.range(1, 4);
    (0..len)
        .map(|_| rng.pick(&['a', 'b', 'c', 'x', 'y']))
        .collect()
}

fn random_scalar(rng: &mut Rng, kind: &Kind, depth: u32) -> Value {
    match kind {
        Kind::Double => Value::F64(random_f64(rng)),
        Kind::Float => Value::F32(random_f32(rng)),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(random_i32(rng)),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(random_i64(rng)),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(random_i32(rng) as u32),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(random_i64(rng) as u64),
        Kind::Bool => Value::Bool(rng.chance(50)),
        Kind::String => Value::String(random_string(rng)),
        Kind::Bytes => Value::Bytes(random_bytes(rng).into()),
        Kind::Enum(e) => {
            // Mostly known values; sometimes a number the enum does not
            // define (written as a number by both).
            if rng.chance(85) {
                let values: Vec<i32> = e.values().map(|v| v.number()).collect();
                Value::EnumNumber(rng.pick(&values))
            } else {
                Value::EnumNumber(rng.range(3, 100) as i32)
            }
        }
        Kind::Message(m) => Value::Message(random_message(rng, m, depth + 1)),
    }
}

fn random_map_key(rng: &mut Rng, kind: &Kind) -> MapKey {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(random_i32(rng)),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(random_i64(rng)),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(random_i32(rng) as u32),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(random_i64(rng) as u64),
        Kind::Bool => MapKey::Bool(rng.chance(50)),
        Kind::String => MapKey::String(random_string(rng)),
        other => panic!("map key kind {other:?}"),
    }
}

/// A `google.protobuf.Value` that JSON can hold (finite numbers only).
fn random_json_value(rng: &mut Rng, depth: u32) -> prost_types::Value {
    use prost_types::value::Kind as K;
    let kind = match rng.below(if depth > 2 { 4 } else { 6 }) {
        0 => K::NullValue(0),
        1 => K::NumberValue(match random_f64(rng) {
            v if v.is_finite() => v,
            _ => 2.5,
        }),
        2 => K::StringValue(random_string(rng)),
        3 => K::BoolValue(rng.chance(50)),
        4 => K::StructValue(random_struct(rng, depth + 1)),
        _ => K::ListValue(prost_types::ListValue {
            values: (0..rng.below(3))
                .map(|_| random_json_value(rng, depth + 1))
                .collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

fn random_struct(rng: &mut Rng, depth: u32) -> prost_types::Struct {
    prost_types::Struct {
        fields: (0..rng.below(3))
            .map(|_| (random_string(rng), random_json_value(rng, depth + 1)))
            .collect(),
    }
}

/// A dynamic message from a prost message of the same type.
fn from_prost(desc: &MessageDescriptor, m: &impl Message) -> DynamicMessage {
    DynamicMessage::decode(desc.clone(), m.encode_to_vec().as_slice()).unwrap()
}

/// Well-known types whose JSON has rules of its own get values within those
/// rules: an out-of-range Timestamp has no JSON form at all.
fn random_well_known(
    rng: &mut Rng,
    desc: &MessageDescriptor,
    depth: u32,
) -> Option<DynamicMessage> {
    let nanos = |rng: &mut Rng| match rng.below(4) {
        0 => 0,
        1 => rng.range(0, 999) as i32 * 1_000_000,
        2 => rng.range(0, 999_999) as i32 * 1_000,
        _ => rng.range(0, 999_999_999) as i32,
    };
    let message = match desc.full_name() {
        "google.protobuf.Timestamp" => from_prost(
            desc,
            &prost_types::Timestamp {
                seconds: rng.range(-62_135_596_800, 253_402_300_799),
                nanos: nanos(rng),
            },
        ),
        "google.protobuf.Duration" => {
            let seconds = rng.range(-315_576_000_000, 315_576_000_000);
            let n = nanos(rng);
            let nanos = if seconds < 0 || (seconds == 0 && rng.chance(50)) {
                -n
            } else {
                n
            };
            from_prost(desc, &prost_types::Duration { seconds, nanos })
        }
        "google.protobuf.FieldMask" => {
            let paths = (0..rng.below(3))
                .map(|_| {
                    (0..rng.range(1, 3))
                        .map(|_| {
                            (0..rng.range(1, 2))
                                .map(|_| random_name(rng))
                                .collect::<Vec<_>>()
                                .join("_")
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect();
            from_prost(desc, &prost_types::FieldMask { paths })
        }
        "google.protobuf.Value" => from_prost(desc, &random_json_value(rng, depth)),
        "google.protobuf.Struct" => from_prost(desc, &random_struct(rng, depth)),
        "google.protobuf.ListValue" => from_prost(
            desc,
            &prost_types::ListValue {
                values: (0..rng.below(3))
                    .map(|_| random_json_value(rng, depth + 1))
                    .collect(),
            },
        ),
        "google.protobuf.Any" => {
            // A registered type inside: messages of the e2e packages and
            // well-known types (their JSON goes under "value").
            let pool = desc.parent_pool();
            let inner = rng.pick(&[
                "e2e.echo.v1.Nested",
                "e2e.common.Money",
                "e2e.echo.v1.Kitchen",
                "google.protobuf.Duration",
                "google.protobuf.Timestamp",
                "google.protobuf.Struct",
                "google.protobuf.Int64Value",
            ]);
            if inner == "e2e.echo.v1.Kitchen" && depth > 1 {
                return random_well_known(rng, desc, depth);
            }
            let inner_desc = pool.get_message_by_name(inner).unwrap();
            let value = random_message(rng, &inner_desc, depth + 1);
            from_prost(
                desc,
                &prost_types::Any {
                    type_url: format!("type.googleapis.com/{inner}"),
                    value: value.encode_to_vec(),
                },
            )
        }
        _ => return None,
    };
    Some(message)
}

/// Messages nest at most this deep (Kitchen is recursive).
const MAX_DEPTH: u32 = 3;

fn random_message(rng: &mut Rng, desc: &MessageDescriptor, depth: u32) -> DynamicMessage {
    if let Some(m) = random_well_known(rng, desc, depth) {
        return m;
    }
    let mut message = DynamicMessage::new(desc.clone());
    // One member per oneof at most; proto3 `optional` is a oneof of one.
    let mut oneofs_done = Vec::new();
    for field in desc.fields() {
        if let Some(oneof) = field.containing_oneof() {
            if oneofs_done.contains(&oneof.name().to_string()) || !rng.chance(30) {
                continue;
            }
            oneofs_done.push(oneof.name().to_string());
        } else if !field.is_required() && !rng.chance(60) {
            // proto2 `required` fields are always set: prost stores them
            // as plain values, always encoded and always written.
            continue;
        }
        if depth >= MAX_DEPTH && matches!(field.kind(), Kind::Message(_)) && !field.is_required() {
            continue;
        }
        let value = random_field(rng, &field, depth);
        message.set_field(&field, value);
    }
    message
}

fn random_field(rng: &mut Rng, field: &FieldDescriptor, depth: u32) -> Value {
    let kind = field.kind();
    if field.is_map() {
        let entry = kind.as_message().unwrap().clone();
        let key_kind = entry.map_entry_key_field().kind();
        let value_kind = entry.map_entry_value_field().kind();
        let map = (0..rng.below(4))
            .map(|_| {
                (
                    random_map_key(rng, &key_kind),
                    random_scalar(rng, &value_kind, depth),
                )
            })
            .collect();
        Value::Map(map)
    } else if field.is_list() {
        Value::List(
            (0..rng.below(4))
                .map(|_| random_scalar(rng, &kind, depth))
                .collect(),
        )
    } else {
        random_scalar(rng, &kind, depth)
    }
}

// ------------------------------------------------------------- comparison

/// Same JSON value: numbers compare as numbers; `nulls_optional` lets keys
/// that are `null` on the left be absent on the right (Go's
/// `EmitUnpopulated` writes `null` for an unset message field; prost-reflect
/// leaves it out).
fn same(left: &Json, right: &Json, nulls_optional: bool) -> bool {
    match (left, right) {
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b, nulls_optional))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.iter().all(|(k, v)| match b.get(k) {
                Some(w) => same(v, w, nulls_optional),
                None => nulls_optional && v.is_null(),
            }) && b.keys().all(|k| a.contains_key(k))
        }
        (a, b) => a == b,
    }
}

/// Where `left` and `right` first differ (for failure messages).
fn difference(left: &Json, right: &Json, path: &str, nulls_optional: bool) -> String {
    match (left, right) {
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find(|(_, (a, b))| !same(a, b, nulls_optional))
            .map(|(i, (a, b))| difference(a, b, &format!("{path}[{i}]"), nulls_optional))
            .unwrap_or_default(),
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) if !same(v, w, nulls_optional) => {
                        return difference(v, w, &format!("{path}.{k}"), nulls_optional);
                    }
                    None if !(nulls_optional && v.is_null()) => {
                        return format!("{path}.{k}: {v} vs absent");
                    }
                    _ => {}
                }
            }
            match b.keys().find(|k| !a.contains_key(*k)) {
                Some(k) => format!("{path}.{k}: absent vs {}", b[k]),
                None => String::new(),
            }
        }
        (a, b) => format!("{path}: {a} vs {b}"),
    }
}

/// The reference's JSON text (serde_json writes `f32` with its own shortest
/// digits, as ours does).
fn reference_json(message: &DynamicMessage, emit_defaults: bool, proto_names: bool) -> String {
    let options = SerializeOptions::new()
        .skip_default_fields(!emit_defaults)
        .use_proto_field_name(proto_names);
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    message
        .serialize_with_options(&mut serializer, &options)
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn reference_read(desc: &MessageDescriptor, text: &str) -> Result<DynamicMessage, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    DynamicMessage::deserialize_with_options(
        desc.clone(),
        &mut deserializer,
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .map_err(|e| e.to_string())
}

/// Two messages are the same when the reference writes the same JSON for
/// both (this compares NaN with NaN, and maps in any order), as prost holds
/// them (required fields set).
fn same_message(a: &DynamicMessage, b: &DynamicMessage) -> Result<(), String> {
    let (a, b) = (with_required(a), with_required(b));
    let a: Json = serde_json::from_str(&reference_json(&a, false, false)).unwrap();
    let b: Json = serde_json::from_str(&reference_json(&b, false, false)).unwrap();
    if same(&a, &b, false) {
        Ok(())
    } else {
        Err(difference(&a, &b, "", false))
    }
}

/// Applies `f` to every message held in `value` (a message, or the
/// messages of a list or map).
fn map_messages(value: Value, f: &impl Fn(&DynamicMessage) -> DynamicMessage) -> Value {
    match value {
        Value::Message(m) => Value::Message(f(&m)),
        Value::List(items) => Value::List(items.into_iter().map(|v| map_messages(v, f)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, map_messages(v, f)))
                .collect(),
        ),
        other => other,
    }
}

/// proto2 `required` fields set to their defaults where unset, at every
/// depth: prost's view of the message.
fn with_required(message: &DynamicMessage) -> DynamicMessage {
    let mut message = message.clone();
    for field in message.descriptor().fields() {
        if field.is_required() && !message.has_field(&field) {
            let default = message.get_field(&field).into_owned();
            message.set_field(&field, default);
        }
        if message.has_field(&field) && matches!(field.kind(), Kind::Message(_)) {
            let value = map_messages(message.get_field(&field).into_owned(), &with_required);
            message.set_field(&field, value);
        }
    }
    message
}

/// Renames keys written under a group's type name to the group field's
/// name (or back, when `to_field_names` is false), at every depth.
fn rename_groups(json: &mut Json, pool: &DescriptorPool, to_field_names: bool) {
    let groups: Vec<(String, String)> = pool
        .all_messages()
        .flat_map(|m| m.fields().collect::<Vec<_>>())
        .filter(|f| f.is_group())
        .map(|f| {
            let type_name = f.kind().as_message().unwrap().name().to_string();
            let field_name = f.name().to_string();
            if to_field_names {
                (type_name, field_name)
            } else {
                (field_name, type_name)
            }
        })
        .collect();
    fn walk(json: &mut Json, groups: &[(String, String)]) {
        match json {
            Json::Object(map) => {
                for (from, to) in groups {
                    if let Some(v) = map.remove(from) {
                        map.insert(to.clone(), v);
                    }
                }
                map.values_mut().for_each(|v| walk(v, groups));
            }
            Json::Array(items) => items.iter_mut().for_each(|v| walk(v, groups)),
            _ => {}
        }
    }
    walk(json, &groups);
}

/// What a reader makes of the JSON written with defaults emitted: an unset
/// `google.protobuf.Value` field was written `null`, which reads back as the
/// value `NULL_VALUE` (as in Go's protojson: `null` is a value there).
fn with_null_values(message: &DynamicMessage) -> DynamicMessage {
    let mut message = message.clone();
    let desc = message.descriptor();
    if desc.full_name() == "google.protobuf.Any" {
        let any: prost_types::Any = message.transcode_to().unwrap();
        let name = any.type_url.rsplit('/').next().unwrap();
        if let Some(inner) = desc.parent_pool().get_message_by_name(name) {
            let inner = DynamicMessage::decode(inner, any.value.as_slice()).unwrap();
            let any = prost_types::Any {
                type_url: any.type_url.clone(),
                value: with_null_values(&inner).encode_to_vec(),
            };
            return from_prost(&desc, &any);
        }
        return message;
    }
    for field in desc.fields() {
        let Kind::Message(kind) = field.kind() else {
            continue;
        };
        if kind.full_name() == "google.protobuf.Value"
            && !field.is_list()
            && !field.is_map()
            && field.containing_oneof().is_none()
            && !message.has_field(&field)
        {
            let null = prost_types::Value {
                kind: Some(prost_types::value::Kind::NullValue(0)),
            };
            message.set_field(&field, Value::Message(from_prost(&kind, &null)));
            continue;
        }
        // Well-known types other than Any hold no such field.
        let well_known = kind.full_name().starts_with("google.protobuf.")
            && kind.full_name() != "google.protobuf.Any";
        if !message.has_field(&field) || (well_known && !field.is_map()) {
            continue;
        }
        let value = match message.get_field(&field).into_owned() {
            Value::Message(m) => Value::Message(with_null_values(&m)),
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::Message(m) => Value::Message(with_null_values(&m)),
                        other => other,
                    })
                    .collect(),
            ),
            Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::Message(m) => (k, Value::Message(with_null_values(&m))),
                        other => (k, other),
                    })
                    .collect(),
            ),
            other => other,
        };
        message.set_field(&field, value);
    }
    message
}

// ------------------------------------------------------------------ driver

fn cases() -> u64 {
    std::env::var("JSON_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn first_seed() -> u64 {
    std::env::var("JSON_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed)
}

/// Ours: generated code for type `T`, through the runtime's codec.
fn check<T: Message + Default + JsonMessage>(name: &str) {
    e2e::echo::v1::__register_gateway_types();
    e2e::common::__register_gateway_types();
    let pool = pool();
    let desc = pool.get_message_by_name(name).unwrap();
    for case in 0..cases() {
        let seed = first_seed().wrapping_add(case);
        let mut rng = Rng(seed);
        let random = random_message(&mut rng, &desc, 0);
        let typed = T::decode(random.encode_to_vec().as_slice()).unwrap();
        // The message as prost holds it: prost leaves a map value equal to
        // its default out of the encoding, so a proto2 map value whose
        // required fields hold defaults comes back with them unset.
        // And prost cannot tell an unset required field from its default:
        // it holds one, and writes it.
        let original = with_required(
            &DynamicMessage::decode(desc.clone(), typed.encode_to_vec().as_slice()).unwrap(),
        );
        let emit_defaults = rng.chance(50);
        let proto_names = rng.chance(20);
        let options = JsonOptions {
            emit_defaults,
            use_proto_names: proto_names,
            ignore_unknown_fields: false,
        };
        let context = |what: &str, ours: &str, theirs: &str| {
            format!(
                "{name}, seed {seed} (JSON_DIFF_SEED={seed} JSON_DIFF_CASES=1), \
                 emit_defaults={emit_defaults}, proto_names={proto_names}: {what}\n\
                 ours:   {ours}\ntheirs: {theirs}"
            )
        };

        // Written: the same JSON value.
        let ours = String::from_utf8(json::to_vec(&typed, &options)).unwrap();
        let theirs = reference_json(&original, emit_defaults, proto_names);
        let mut ours_value: Json = serde_json::from_str(&ours).unwrap_or_else(|e| {
            panic!(
                "{}",
                context(&format!("ours is not JSON: {e}"), &ours, &theirs)
            )
        });
        // With proto names, a group field is named after its type (`Note`,
        // as Go's protojson names it); prost-reflect uses the field name
        // (`note`). Compare, and hand the reference, ours under its names.
        let ours = if proto_names {
            rename_groups(&mut ours_value, desc.parent_pool(), true);
            ours_value.to_string()
        } else {
            ours
        };
        let theirs_value: Json = serde_json::from_str(&theirs).unwrap();
        assert!(
            same(&ours_value, &theirs_value, emit_defaults),
            "{}",
            context(
                &format!(
                    "different JSON for the same message at {}",
                    difference(&ours_value, &theirs_value, "", emit_defaults)
                ),
                &ours,
                &theirs
            )
        );

        let expected = if emit_defaults {
            with_null_values(&original)
        } else {
            original.clone()
        };

        // Read: ours reads the reference's JSON back to the message (group
        // keys under their type names, as Go's protojson reads them).
        let theirs_for_us = if proto_names {
            let mut value = theirs_value.clone();
            rename_groups(&mut value, desc.parent_pool(), false);
            value.to_string()
        } else {
            theirs.clone()
        };
        let read: T = json::from_slice(theirs_for_us.as_bytes(), &options).unwrap_or_else(|e| {
            panic!(
                "{}",
                context(&format!("ours cannot read theirs: {e}"), &ours, &theirs)
            )
        });
        let read = DynamicMessage::decode(desc.clone(), read.encode_to_vec().as_slice()).unwrap();
        if let Err(at) = same_message(&read, &original) {
            panic!(
                "{}",
                context(
                    &format!(
                        "ours read theirs as another message (at {at}): {}",
                        reference_json(&read, false, false)
                    ),
                    &ours,
                    &theirs
                )
            );
        }

        // Read: the reference reads ours back to the message.
        let read = reference_read(&desc, &ours).unwrap_or_else(|e| {
            panic!(
                "{}",
                context(&format!("theirs cannot read ours: {e}"), &ours, &theirs)
            )
        });
        if let Err(at) = same_message(&read, &expected) {
            panic!(
                "{}",
                context(
                    &format!(
                        "theirs read ours as another message (at {at}): {}",
                        reference_json(&read, false, false)
                    ),
                    &ours,
                    &theirs
                )
            );
        }
    }
}

#[test]
fn kitchen_every_field_kind() {
    check::<e2e::echo::v1::Kitchen>("e2e.echo.v1.Kitchen");
}

#[test]
fn patch_request_and_keyword_names() {
    check::<e2e::echo::v1::UpdateKitchenRequest>("e2e.echo.v1.UpdateKitchenRequest");
    check::<e2e::awkward::Self_>("e2e.awkward.Self");
}

#[test]
fn grpc_gateway_shapes() {
    // Enum-valued maps, an Empty oneof member, proto3 `optional`.
    check::<e2e::everything::Sample>("e2e.everything.Sample");
    check::<e2e::everything::UpdateRequest>("e2e.everything.UpdateRequest");
    // Two oneofs in one message, one with a message member.
    check::<e2e::compat::Card>("e2e.compat.Card");
}

#[test]
fn proto2_shapes() {
    // Required fields of every kind, optional fields with defaults, groups,
    // required well-known types, a required recursive message.
    check::<e2e::proto2::Record>("e2e.proto2.Record");
    check::<e2e::proto2::Extras>("e2e.proto2.Extras");
    check::<e2e::proto2::PatchRequest>("e2e.proto2.PatchRequest");
}

/// As Go's protojson: an enum name this build does not know is dropped when
/// unknown fields are ignored (the field keeps its value, a list element is
/// left out), and an error naming it when they are not.
#[test]
fn unknown_enum_names_are_dropped_when_unknown_fields_are_ignored() {
    use e2e::echo::v1::{Kitchen, Mood};
    let input = br#"{"mood":"MOOD_ANGRY","moods":["MOOD_HAPPY","MOOD_ANGRY",2],"text":"kept"}"#;
    let lenient = JsonOptions {
        ignore_unknown_fields: true,
        ..JsonOptions::default()
    };
    let kitchen: Kitchen = json::from_slice(input, &lenient).unwrap();
    assert_eq!(kitchen.mood, 0);
    assert_eq!(kitchen.moods, [Mood::Happy as i32, Mood::Sad as i32]);
    assert_eq!(kitchen.text, "kept");
    let strict = JsonOptions {
        ignore_unknown_fields: false,
        ..JsonOptions::default()
    };
    let error = json::from_slice::<Kitchen>(input, &strict).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid value for field \"mood\": unknown enum value \"MOOD_ANGRY\" at line 1 column 9"
    );

    // An enum member of a oneof: the oneof stays unset, or keeps the member
    // set by an earlier key with the same name.
    use e2e::echo::v1::kitchen::Choice;
    let kitchen: Kitchen = json::from_slice(br#"{"choiceMood":"MOOD_ANGRY"}"#, &lenient).unwrap();
    assert_eq!(kitchen.choice, None);
    let kitchen: Kitchen = json::from_slice(br#"{"choiceMood":"MOOD_SAD"}"#, &lenient).unwrap();
    assert_eq!(kitchen.choice, Some(Choice::ChoiceMood(Mood::Sad as i32)));
    let kitchen: Kitchen = json::from_slice(br#"{"choiceMood":2}"#, &lenient).unwrap();
    assert_eq!(kitchen.choice, Some(Choice::ChoiceMood(Mood::Sad as i32)));
    // Another member already set is still a conflict, as in Go (which checks
    // the oneof before it reads the value).
    let error =
        json::from_slice::<Kitchen>(br#"{"choiceText":"a","choiceMood":"MOOD_ANGRY"}"#, &lenient)
            .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("field \"choiceMood\" sets oneof `choice`, which another field already set"),
        "{error}"
    );
    let error =
        json::from_slice::<Kitchen>(br#"{"choiceMood":"MOOD_ANGRY"}"#, &strict).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid value for field \"choiceMood\": unknown enum value \"MOOD_ANGRY\" at line 1 column 15"
    );
}
