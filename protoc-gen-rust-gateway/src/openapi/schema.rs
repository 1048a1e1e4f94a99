//! JSON Schemas of messages and enums, following the canonical proto3 JSON
//! mapping exactly as the runtime writes it (`gateway-runtime/src/json/`):
//! 64-bit integers as strings, enums by name, bytes as base64, the
//! well-known types in their special forms, maps as objects.
//!
//! Messages and enums become components referenced with `$ref`; well-known
//! types are written inline, since their JSON is not an object of fields.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{
    Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, OneofDescriptor,
};
use serde_json::{Map, Value, json};

use super::comments::description;
use super::overrides::Overrides;
use crate::model::WellKnown;

/// Full name of the error message every error body has the shape of.
pub const STATUS: &str = "google.rpc.Status";

/// Schemas referenced so far, by full proto name, and their component names.
#[derive(Default)]
pub struct Schemas {
    messages: BTreeMap<String, MessageDescriptor>,
    enums: BTreeMap<String, EnumDescriptor>,
    /// Component names, fixed once every reference is known.
    names: BTreeMap<String, String>,
}

/// Where a reference points before names are resolved: a placeholder that
/// [`Schemas::finish`] replaces.
const PENDING: &str = "#/components/schemas/\u{0}";

impl Schemas {
    /// A reference to a message's schema (or its inline form for a
    /// well-known type).
    pub fn message(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(wkt) = WellKnown::of(message) {
            return well_known(&wkt, message);
        }
        let mut pending = vec![message.clone()];
        while let Some(m) = pending.pop() {
            if self.messages.contains_key(m.full_name()) || WellKnown::of(&m).is_some() {
                continue;
            }
            self.messages.insert(m.full_name().to_string(), m.clone());
            for field in m.fields() {
                match field.kind() {
                    Kind::Message(inner) if inner.is_map_entry() => {
                        match inner.map_entry_value_field().kind() {
                            Kind::Message(v) => pending.push(v),
                            Kind::Enum(e) => {
                                self.enums.insert(e.full_name().to_string(), e);
                            }
                            _ => {}
                        }
                    }
                    Kind::Message(inner) => pending.push(inner),
                    Kind::Enum(e) => {
                        self.enums.insert(e.full_name().to_string(), e);
                    }
                    _ => {}
                }
            }
        }
        reference(message.full_name())
    }

    /// A reference to the `google.rpc.Status` error schema.
    pub fn status(&mut self) -> Value {
        self.names.insert(STATUS.to_string(), String::new());
        reference(STATUS)
    }

    /// The schema of one value of a field (not repeated, not a map).
    pub fn single(&mut self, field: &FieldDescriptor) -> Value {
        match field.kind() {
            Kind::Message(m) => self.message(&m),
            Kind::Enum(e) => {
                if e.full_name() == "google.protobuf.NullValue" {
                    return json!({"type": "null"});
                }
                self.enums.insert(e.full_name().to_string(), e.clone());
                // A value without a name is written as its number.
                json!({"anyOf": [
                    reference(e.full_name()),
                    {"type": "integer", "format": "int32", "description": "A value without a name in this schema, as its number."}
                ]})
            }
            kind => scalar(&kind),
        }
    }

    /// The schema of a field as it appears in its message's JSON.
    pub fn field(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!("map fields are messages")
            };
            let value = self.single(&entry.map_entry_value_field());
            let mut schema = json!({"type": "object", "additionalProperties": value});
            if let Some(pattern) = map_key_pattern(&entry.map_entry_key_field().kind()) {
                schema["propertyNames"] = json!({"pattern": pattern});
            }
            schema
        } else if field.is_list() {
            json!({"type": "array", "items": self.single(field)})
        } else {
            self.single(field)
        }
    }

    /// The schema of a field as a property of its message: with
    /// `emit_defaults`, the runtime writes an unset field that has presence
    /// (message, oneof member, `optional`) as `null`.
    fn property(&mut self, field: &FieldDescriptor) -> Value {
        let schema = self.field(field);
        if field.is_list() || field.is_map() || !field.supports_presence() {
            return schema;
        }
        nullable(schema)
    }

    /// Component schemas of everything referenced, with names resolved, and
    /// the references in `values` rewritten to the resolved names.
    pub fn finish(
        mut self,
        overrides: &Overrides,
        values: &mut [&mut Value],
    ) -> Map<String, Value> {
        // Messages reached only from other components must be collected
        // before names are chosen: build every message schema first.
        let mut built = BTreeMap::new();
        let mut done = BTreeSet::new();
        loop {
            let todo: Vec<MessageDescriptor> = self
                .messages
                .values()
                .filter(|m| !done.contains(m.full_name()))
                .cloned()
                .collect();
            if todo.is_empty() {
                break;
            }
            for m in todo {
                done.insert(m.full_name().to_string());
                let schema = self.message_schema(&m, overrides);
                built.insert(m.full_name().to_string(), schema);
            }
        }
        for (name, e) in &self.enums {
            built.insert(name.clone(), enum_schema(e, overrides));
        }
        if self.names.contains_key(STATUS) {
            let any = json!({
                "type": "object",
                "description": "A message of any type, with its type URL in `@type` and its fields (or `value`, for types with a special JSON form and for types the gateway does not know) next to it.",
                "properties": {"@type": {"type": "string"}},
                "required": ["@type"],
                "additionalProperties": true
            });
            built.insert(
                STATUS.to_string(),
                json!({
                    "type": "object",
                    "title": "Status",
                    "description": "The error body: the gRPC status code, its message and the status details.",
                    "properties": {
                        "code": {"type": "integer", "format": "int32", "description": "The gRPC status code (`google.rpc.Code`)."},
                        "message": {"type": "string", "description": "What went wrong."},
                        "details": {"type": "array", "items": any, "description": "The status details the service sent."}
                    },
                    "required": ["code", "message", "details"],
                    "additionalProperties": false
                }),
            );
        }
        let names = component_names(built.keys().map(String::as_str));
        let mut out = Map::new();
        for (full, mut schema) in built {
            rename_refs(&mut schema, &names);
            out.insert(names[&full].clone(), schema);
        }
        for value in values {
            rename_refs(value, &names);
        }
        self.names = names;
        out
    }

    fn message_schema(&mut self, message: &MessageDescriptor, overrides: &Overrides) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in message.fields() {
            let mut schema = self.property(&field);
            let text = description(&field.parent_file(), field.path());
            if !text.is_empty() {
                schema = with_description(schema, text);
            }
            if field
                .field_descriptor_proto()
                .options
                .as_ref()
                .is_some_and(|o| o.deprecated())
                && let Some(map) = schema.as_object_mut()
            {
                map.insert("deprecated".into(), Value::Bool(true));
            }
            let name = field.json_name().to_string();
            if field.cardinality() == Cardinality::Required {
                required.push(Value::String(name.clone()));
            }
            if let Some(o) = overrides.field(message.full_name(), field.name()) {
                if o.required {
                    required.push(Value::String(name.clone()));
                }
                super::overrides::merge(&mut schema, o.schema.clone());
            }
            properties.insert(name, schema);
        }
        // The runtime writes exactly these names; anything else would be
        // drift between document and gateway.
        let mut schema = json!({
            "type": "object",
            "title": message.name(),
            "additionalProperties": false,
        });
        let text = description(&message.parent_file(), message.path());
        if !text.is_empty() {
            schema["description"] = Value::String(text);
        }
        if message
            .descriptor_proto()
            .options
            .as_ref()
            .is_some_and(|o| o.deprecated())
        {
            schema["deprecated"] = Value::Bool(true);
        }
        schema["properties"] = Value::Object(properties);
        if !required.is_empty() {
            required.dedup();
            schema["required"] = Value::Array(required);
        }
        let exclusive: Vec<Value> = message
            .oneofs()
            .filter(|o| !o.is_synthetic())
            .flat_map(|o| one_of_rules(&o))
            .collect();
        if !exclusive.is_empty() {
            // At most one member of a oneof is set.
            schema["allOf"] = Value::Array(exclusive);
        }
        if let Some(o) = overrides.message(message.full_name()) {
            super::overrides::merge(&mut schema, o.clone());
        }
        schema
    }
}

/// For each pair of members of a oneof: "not both set" (`null` is unset).
fn one_of_rules(oneof: &OneofDescriptor) -> Vec<Value> {
    let members: Vec<String> = oneof.fields().map(|f| f.json_name().to_string()).collect();
    let mut rules = Vec::new();
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            let set = json!({"not": {"type": "null"}});
            rules.push(json!({"not": {
                "required": [a, b],
                "properties": {a.as_str(): set.clone(), b.as_str(): set}
            }}));
        }
    }
    rules
}

/// A schema that also allows `null`.
fn nullable(mut schema: Value) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(t)) if schema.get("$ref").is_none() => {
            schema["type"] = json!([t, "null"]);
            schema
        }
        Some(Value::Array(types)) if types.contains(&json!("null")) => schema,
        None if schema
            .as_object()
            .is_some_and(|m| m.is_empty() || m.len() == 1 && m.contains_key("description")) =>
        {
            schema
        }
        _ => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

fn enum_schema(e: &EnumDescriptor, overrides: &Overrides) -> Value {
    let names: Vec<String> = e.values().map(|v| v.name().to_string()).collect();
    let mut schema = json!({"type": "string", "title": e.name(), "enum": names});
    let mut text = description(&e.parent_file(), e.path());
    let values: Vec<String> = e
        .values()
        .filter_map(|v| {
            let d = description(&e.parent_file(), v.path());
            (!d.is_empty()).then(|| format!("- `{}`: {}", v.name(), d.replace('\n', " ")))
        })
        .collect();
    if !values.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&values.join("\n"));
    }
    if !text.is_empty() {
        schema["description"] = Value::String(text);
    }
    if let Some(o) = overrides.enumeration(e.full_name()) {
        super::overrides::merge(&mut schema, o.clone());
    }
    schema
}

/// Adds a description next to a schema; a `$ref` keeps its siblings in
/// OpenAPI 3.1.
fn with_description(mut schema: Value, text: String) -> Value {
    if let Some(map) = schema.as_object_mut()
        && !map.contains_key("description")
    {
        map.insert("description".into(), Value::String(text));
    }
    schema
}

fn reference(full_name: &str) -> Value {
    json!({"$ref": format!("{PENDING}{full_name}")})
}

fn rename_refs(value: &mut Value, names: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(full) = r.strip_prefix(PENDING)
            {
                *r = format!("#/components/schemas/{}", names[full]);
            }
            map.values_mut().for_each(|v| rename_refs(v, names));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, names)),
        _ => {}
    }
}

/// Component names as the Go plugin's default `simple` strategy chooses
/// them: the shortest dotted suffix of the full name that no other schema
/// shares (a nested message keeps its parents: `Outer.Inner`).
pub fn component_names<'a>(full_names: impl Iterator<Item = &'a str>) -> BTreeMap<String, String> {
    let all: Vec<&str> = full_names.collect();
    let parts: Vec<Vec<&str>> = all.iter().map(|n| n.split('.').collect()).collect();
    let suffix = |p: &Vec<&str>, depth: usize| p[p.len() - depth.min(p.len())..].join(".");
    let mut out = BTreeMap::new();
    for (i, p) in parts.iter().enumerate() {
        // Parents of a nested type start with an upper-case letter.
        let nested = p
            .iter()
            .rev()
            .skip(1)
            .take_while(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            .count();
        let mut depth = nested + 1;
        while depth < p.len()
            && parts
                .iter()
                .enumerate()
                .any(|(j, q)| j != i && suffix(q, depth) == suffix(p, depth))
        {
            depth += 1;
        }
        out.insert(all[i].to_string(), suffix(p, depth));
    }
    out
}

/// The schema of a scalar kind as the runtime writes it.
pub fn scalar(kind: &Kind) -> Value {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Kind::Uint32 | Kind::Fixed32 => {
            json!({"type": "integer", "format": "uint32", "minimum": 0, "maximum": 4294967295u64})
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            json!({"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"})
        }
        Kind::Uint64 | Kind::Fixed64 => {
            json!({"type": "string", "format": "uint64", "pattern": "^[0-9]+$"})
        }
        Kind::Float | Kind::Double => json!({"anyOf": [
            {"type": "number", "format": if *kind == Kind::Float { "float" } else { "double" }},
            {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}
        ]}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::String => json!({"type": "string"}),
        Kind::Bytes => json!({"type": "string", "format": "byte", "contentEncoding": "base64"}),
        Kind::Message(_) | Kind::Enum(_) => json!({}),
    }
}

/// Map keys are strings in JSON; integer and boolean keys have a form.
fn map_key_pattern(kind: &Kind) -> Option<&'static str> {
    match kind {
        Kind::Int32
        | Kind::Sint32
        | Kind::Sfixed32
        | Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64 => Some("^-?[0-9]+$"),
        Kind::Uint32 | Kind::Fixed32 | Kind::Uint64 | Kind::Fixed64 => Some("^[0-9]+$"),
        Kind::Bool => Some("^(true|false)$"),
        _ => None,
    }
}

/// The inline schema of a well-known type.
pub fn well_known(wkt: &WellKnown, message: &MessageDescriptor) -> Value {
    match wkt {
        WellKnown::Wrapper(kind) => {
            let mut inner = scalar(kind);
            // A wrapper is its value, or `null` (unset, with emit_defaults).
            if let Some(t) = inner.get("type").cloned() {
                inner["type"] = json!([t, "null"]);
                inner
            } else {
                json!({"anyOf": [inner, {"type": "null"}]})
            }
        }
        WellKnown::Timestamp => json!({"type": "string", "format": "date-time"}),
        WellKnown::Duration => json!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
            "description": "Seconds with up to nine fractional digits and an `s`, e.g. `1.5s`."
        }),
        WellKnown::FieldMask => json!({
            "type": "string",
            "description": "Field paths in lowerCamelCase, separated by commas, e.g. `user.displayName,photo`."
        }),
        WellKnown::Struct => json!({"type": "object", "additionalProperties": true}),
        WellKnown::Value => json!({"description": "Any JSON value."}),
        WellKnown::ListValue => json!({"type": "array", "items": {}}),
        WellKnown::Empty => json!({"type": "object", "additionalProperties": false}),
        WellKnown::Any => json!({
            "type": "object",
            "description": format!("A message of any type ({}): `@type` is its type URL; its fields (or `value`, for types with a special JSON form) are next to it.", message.full_name()),
            "properties": {"@type": {"type": "string"}},
            "required": ["@type"],
            "additionalProperties": true
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_names_are_the_shortest_unique_suffix() {
        let names = component_names(
            [
                "a.v1.Book",
                "b.v1.Book",
                "a.v1.Shelf",
                "a.v1.Shelf.Row",
                "google.rpc.Status",
            ]
            .into_iter(),
        );
        assert_eq!(names["a.v1.Book"], "a.v1.Book");
        assert_eq!(names["b.v1.Book"], "b.v1.Book");
        assert_eq!(names["a.v1.Shelf"], "Shelf");
        assert_eq!(names["a.v1.Shelf.Row"], "Shelf.Row");
        assert_eq!(names["google.rpc.Status"], "Status");
    }
}
