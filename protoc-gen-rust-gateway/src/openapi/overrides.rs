//! The `meshapi.gateway.openapi` options (the six `1191` extensions) and the
//! `openapi:` section of binding files, turned into OpenAPI JSON and merged
//! into what is generated.
//!
//! As in the Go plugin (whose default `merge_with_overwrite` is on), objects
//! merge key by key and everything else, arrays included, is replaced.
//! Sources apply in this order, later ones winning: the global binding file,
//! proto options, the proto file's binding file.

use std::collections::BTreeMap;

use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FileDescriptor, MapKey, ReflectMessage,
    Value as PValue,
};
use serde_json::{Map, Value};

use crate::config::{self, ConfigSource};
use crate::diagnostic::{Diagnostic, Location};
use crate::options::Options;

/// A field's overrides.
#[derive(Debug, Clone, Default)]
pub struct FieldOverride {
    /// Schema keys merged into the field's schema.
    pub schema: Value,
    /// `config.required`: list the field as required.
    pub required: bool,
    /// `config.path_param_name`: the parameter name when bound to the path.
    pub path_param_name: Option<String>,
}

/// Every override that applies to the files being generated.
#[derive(Debug, Default)]
pub struct Overrides {
    /// Document settings of the global binding file.
    pub global: Value,
    /// Document settings by proto file name (options, then binding file).
    pub files: BTreeMap<String, Value>,
    /// Document settings by service full name.
    pub services: BTreeMap<String, Value>,
    /// Operation settings by method full name.
    pub operations: BTreeMap<String, Value>,
    messages: BTreeMap<String, Value>,
    enums: BTreeMap<String, Value>,
    fields: BTreeMap<(String, String), FieldOverride>,
    /// Selectors of `openapi:` sections, checked once all are read: (what
    /// they name, selector, binding file).
    selectors: Vec<(Named, String, String)>,
}

/// What a selector of an `openapi:` section names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Service,
    Method,
    Message,
    Field,
    Enum,
}

impl Overrides {
    /// Overrides of a message's schema.
    pub fn message(&self, full_name: &str) -> Option<&Value> {
        self.messages.get(full_name)
    }

    /// Overrides of an enum's schema.
    pub fn enumeration(&self, full_name: &str) -> Option<&Value> {
        self.enums.get(full_name)
    }

    /// Overrides of a field's schema.
    pub fn field(&self, message: &str, field: &str) -> Option<&FieldOverride> {
        self.fields.get(&(message.to_string(), field.to_string()))
    }

    /// Reads the options of every element of `files` and their binding files.
    pub fn load(
        pool: &DescriptorPool,
        files: &[FileDescriptor],
        options: &Options,
    ) -> Result<Overrides, Vec<Diagnostic>> {
        let mut out = Overrides::default();
        let ext = |name: &str| pool.get_extension_by_name(name);
        let (doc_ext, service_ext, op_ext) = (
            ext("meshapi.gateway.openapi_doc"),
            ext("meshapi.gateway.openapi_service_doc"),
            ext("meshapi.gateway.openapi_operation"),
        );
        let (schema_ext, enum_ext, field_ext) = (
            ext("meshapi.gateway.openapi_schema"),
            ext("meshapi.gateway.openapi_enum"),
            ext("meshapi.gateway.openapi_field"),
        );
        let mut errors = Vec::new();
        if let Some(global) = &options.gateway_config
            && global.is_file()
        {
            let source = ConfigSource {
                path: global.clone(),
                package: None,
            };
            match read_section(&source) {
                Ok(Some(section)) => {
                    out.apply_section(&section, None, &global.display().to_string());
                }
                Ok(None) => {}
                Err(e) => errors.extend(e),
            }
        }
        // Schemas of imported messages are written too: read every
        // message's and enum's options.
        {
            for message in pool.all_messages() {
                if let Some(v) = read(&message.options(), schema_ext.as_ref()) {
                    out.messages.insert(message.full_name().to_string(), v);
                }
                for field in message.fields() {
                    if let Some(ext) = field_ext.as_ref()
                        && field.options().has_extension(ext)
                        && let Some(m) = field.options().get_extension(ext).as_message()
                    {
                        out.fields.insert(
                            (message.full_name().to_string(), field.name().to_string()),
                            field_override(m),
                        );
                    }
                }
            }
            for e in pool.all_enums() {
                if let Some(v) = read(&e.options(), enum_ext.as_ref()) {
                    out.enums.insert(e.full_name().to_string(), v);
                }
            }
        }
        for file in files {
            let mut doc = read(&file.options(), doc_ext.as_ref()).unwrap_or(Value::Null);
            for service in file.services() {
                if let Some(v) = read(&service.options(), service_ext.as_ref()) {
                    out.services.insert(service.full_name().to_string(), v);
                }
                for method in service.methods() {
                    if let Some(v) = read(&method.options(), op_ext.as_ref()) {
                        out.operations.insert(method.full_name().to_string(), v);
                    }
                }
            }
            if let Some(path) = config::find_config_file(options, file.name()) {
                let source = ConfigSource {
                    path,
                    package: Some(file.package_name().to_string()),
                };
                match read_section(&source) {
                    Ok(Some(section)) => {
                        let file_doc = out.apply_section(
                            &section,
                            Some(file.package_name()),
                            &source.path.display().to_string(),
                        );
                        merge(&mut doc, file_doc);
                    }
                    Ok(None) => {}
                    Err(e) => errors.extend(e),
                }
            }
            out.files.insert(file.name().to_string(), doc);
        }
        for (named, selector, file) in &out.selectors {
            if let Some(problem) = check_selector(pool, *named, selector) {
                errors.push(Diagnostic::error(
                    Some(Location::file(file)),
                    format!("openapi: selector `{selector}` {problem}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Applies an `openapi:` section; returns its document settings (for
    /// the global file they go to `global`).
    fn apply_section(
        &mut self,
        section: &DynamicMessage,
        package: Option<&str>,
        file: &str,
    ) -> Value {
        let mut named = Vec::new();
        let expand = |selector: &str| match (selector.strip_prefix("~."), package) {
            (Some(rest), Some(p)) if !p.is_empty() => format!("{p}.{rest}"),
            (Some(rest), _) => rest.to_string(),
            (None, _) => selector.trim_start_matches('.').to_string(),
        };
        let get =
            |m: &DynamicMessage, name: &str| m.get_field_by_name(name).map(|v| v.into_owned());
        let doc = get(section, "document")
            .and_then(|v| v.as_message().map(to_json))
            .unwrap_or(Value::Null);
        for service in list(get(section, "services")) {
            let selector = expand(&text(&service, "selector"));
            named.push((Named::Service, selector.clone()));
            if service.has_field_by_name("document")
                && let Some(Some(d)) =
                    get(&service, "document").map(|v| v.as_message().map(to_json))
            {
                merge(
                    self.services.entry(selector.clone()).or_insert(Value::Null),
                    d,
                );
            }
            if let Some(PValue::Map(methods)) = get(&service, "methods") {
                for (name, op) in methods {
                    if let (MapKey::String(name), Some(op)) = (name, op.as_message()) {
                        named.push((Named::Method, format!("{selector}.{name}")));
                        merge(
                            self.operations
                                .entry(format!("{selector}.{name}"))
                                .or_insert(Value::Null),
                            to_json(op),
                        );
                    }
                }
            }
        }
        for message in list(get(section, "messages")) {
            let selector = expand(&text(&message, "selector"));
            named.push((Named::Message, selector.clone()));
            if message.has_field_by_name("schema")
                && let Some(Some(s)) = get(&message, "schema").map(|v| v.as_message().map(to_json))
            {
                merge(
                    self.messages.entry(selector.clone()).or_insert(Value::Null),
                    s,
                );
            }
            if let Some(PValue::Map(fields)) = get(&message, "fields") {
                for (name, schema) in fields {
                    if let (MapKey::String(name), Some(schema)) = (name, schema.as_message()) {
                        named.push((Named::Field, format!("{selector}.{name}")));
                        let entry = self.fields.entry((selector.clone(), name)).or_default();
                        let o = field_override(schema);
                        merge(&mut entry.schema, o.schema);
                        entry.required |= o.required;
                        entry.path_param_name = o.path_param_name.or(entry.path_param_name.take());
                    }
                }
            }
        }
        for e in list(get(section, "enums")) {
            let selector = expand(&text(&e, "selector"));
            named.push((Named::Enum, selector.clone()));
            if e.has_field_by_name("schema")
                && let Some(Some(s)) = get(&e, "schema").map(|v| v.as_message().map(to_json))
            {
                merge(self.enums.entry(selector).or_insert(Value::Null), s);
            }
        }
        // The global file may name services of other protoc runs.
        if package.is_some() {
            self.selectors
                .extend(named.into_iter().map(|(n, s)| (n, s, file.to_string())));
        }
        if package.is_none() {
            merge(&mut self.global, doc);
            Value::Null
        } else {
            doc
        }
    }
}

/// Why a selector names nothing, or `None` when it names what it should.
fn check_selector(pool: &DescriptorPool, named: Named, selector: &str) -> Option<String> {
    let split = || selector.rsplit_once('.').unwrap_or(("", selector));
    let found = match named {
        Named::Service => pool.get_service_by_name(selector).is_some(),
        Named::Message => pool.get_message_by_name(selector).is_some(),
        Named::Enum => pool.get_enum_by_name(selector).is_some(),
        Named::Method => {
            let (service, method) = split();
            pool.get_service_by_name(service)
                .is_some_and(|s| s.methods().any(|m| m.name() == method))
        }
        Named::Field => {
            let (message, field) = split();
            pool.get_message_by_name(message)
                .is_some_and(|m| m.get_field_by_name(field).is_some())
        }
    };
    let what = match named {
        Named::Service => "names no service",
        Named::Method => "names no method (methods are keyed by their name in the service)",
        Named::Message => "names no message",
        Named::Field => "names no field of the message (fields are keyed by their proto name)",
        Named::Enum => "names no enum",
    };
    (!found).then(|| {
        format!(
            "{what}; write the full name (`package.Name`) or `~.Name` for the proto file's package"
        )
    })
}

fn read_section(source: &ConfigSource) -> Result<Option<DynamicMessage>, Vec<Diagnostic>> {
    let (display, text) = config::read_file(source)?;
    let parsed = config::parse_config(&display, &text, source.package.as_deref())?;
    Ok(parsed.openapi.map(|s| s.0))
}

fn list(value: Option<PValue>) -> Vec<DynamicMessage> {
    match value {
        Some(PValue::List(items)) => items
            .into_iter()
            .filter_map(|v| v.as_message().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

fn text(message: &DynamicMessage, field: &str) -> String {
    message
        .get_field_by_name(field)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn read(options: &DynamicMessage, ext: Option<&ExtensionDescriptor>) -> Option<Value> {
    let ext = ext?;
    if !options.has_extension(ext) {
        return None;
    }
    options.get_extension(ext).as_message().map(to_json)
}

fn field_override(schema: &DynamicMessage) -> FieldOverride {
    let config = schema
        .get_field_by_name("config")
        .and_then(|c| c.as_message().cloned());
    FieldOverride {
        schema: to_json(schema),
        required: config
            .as_ref()
            .and_then(|c| c.get_field_by_name("required").and_then(|v| v.as_bool()))
            .unwrap_or(false),
        path_param_name: config
            .as_ref()
            .map(|c| text(c, "path_param_name"))
            .filter(|n| !n.is_empty()),
    }
}

/// Deep merge: objects key by key, anything else replaced.
pub fn merge(target: &mut Value, source: Value) {
    match (target, source) {
        (_, Value::Null) => {}
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, s) => *t = s,
    }
}

/// An options message as the OpenAPI object it stands for.
pub fn to_json(message: &DynamicMessage) -> Value {
    let descriptor = message.descriptor();
    let kind = descriptor.name();
    // A set `ref` makes the whole object a reference.
    if descriptor.full_name() != "meshapi.gateway.openapi.Schema"
        && let Some(r) = message.get_field_by_name("ref")
        && message.has_field_by_name("ref")
        && let Some(r) = r.as_message()
    {
        return to_json(r);
    }
    let mut out = Map::new();
    for (field, value) in message.fields() {
        let name = field.name();
        match (kind, name) {
            (_, "extensions") | ("Schema", "extra") => {
                if let Value::Object(map) = convert(value) {
                    out.extend(map);
                }
                continue;
            }
            ("Schema", "config") => continue,
            ("Schema", "items") => {
                if let Some(item) = value.as_message()
                    && let Some((f, v)) = item.fields().next()
                {
                    let v = convert(v);
                    if f.name() == "list" {
                        out.insert("prefixItems".into(), v["items"].clone());
                    } else {
                        out.insert("items".into(), v);
                    }
                }
                continue;
            }
            ("Schema", "types") => {
                let types = convert(value);
                let types = match types.as_array().map(Vec::as_slice) {
                    Some([one]) => one.clone(),
                    _ => types,
                };
                out.insert("type".into(), types);
                continue;
            }
            ("Document" | "Operation", "security") => {
                let reqs: Vec<Value> = value
                    .as_list()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| r.as_message())
                    .map(|r| {
                        let mut m = Map::new();
                        m.insert(
                            text(r, "name"),
                            convert(&r.get_field_by_name("scopes").unwrap()),
                        );
                        Value::Object(m)
                    })
                    .collect();
                out.insert("security".into(), Value::Array(reqs));
                continue;
            }
            _ => {}
        }
        let key = match (kind, name) {
            ("Schema", "ref") | ("Reference", "uri") => "$ref".to_string(),
            ("Schema", "schema") => "$schema".to_string(),
            ("ServerVariable", "enum_values") => "enum".to_string(),
            ("ServerVariable", "default_value") => "default".to_string(),
            _ => field.json_name().to_string(),
        };
        out.insert(key, convert(value));
    }
    Value::Object(out)
}

fn convert(value: &PValue) -> Value {
    match value {
        PValue::Bool(b) => Value::Bool(*b),
        PValue::I32(n) => Value::from(*n),
        PValue::I64(n) => Value::from(*n),
        PValue::U32(n) => Value::from(*n),
        PValue::U64(n) => Value::from(*n),
        PValue::F32(n) => Value::from(*n as f64),
        PValue::F64(n) => Value::from(*n),
        PValue::String(s) => Value::String(s.clone()),
        PValue::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        // SchemaDataType: JSON Schema type names are the lower-case names.
        PValue::EnumNumber(n) => Value::String(
            [
                "", "array", "boolean", "integer", "null", "number", "object", "string",
            ]
            .get(*n as usize)
            .copied()
            .unwrap_or("")
            .to_string(),
        ),
        PValue::Message(m) if m.descriptor().full_name().starts_with("google.protobuf.") => {
            serde_json::to_value(m).unwrap_or(Value::Null)
        }
        PValue::Message(m) => to_json(m),
        PValue::List(items) => Value::Array(items.iter().map(convert).collect()),
        PValue::Map(entries) => {
            let mut out: Vec<(String, Value)> = entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        MapKey::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    (key, convert(v))
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(out.into_iter().collect())
        }
    }
}
