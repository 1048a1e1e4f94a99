//! The truth check: a response body of the gateway must validate against
//! the schema the generated OpenAPI document gives for its operation, status
//! and content type. Every request of `Env::send` goes through it, and the
//! streaming suites check each SSE data, NDJSON line and WebSocket frame.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

/// The documents, parsed once.
fn documents() -> &'static Vec<Value> {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        gateway_e2e::OPENAPI
            .iter()
            .map(|(name, text)| {
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
            })
            .collect()
    })
}

/// One piece of a path template.
enum Part {
    Literal(String),
    /// Exactly one segment.
    One,
    /// Any number of segments.
    Many,
}

fn template_parts(template: &str, op: &Value) -> (Vec<Part>, Option<String>) {
    let (template, verb) = match template.rsplit_once(':') {
        Some((t, v)) if !v.contains('/') && !v.contains('}') => (t, Some(v.to_string())),
        _ => (template, None),
    };
    let mut parts = Vec::new();
    for segment in template.trim_start_matches('/').split('/') {
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            parts.push(Part::Literal(segment.to_string()));
            continue;
        };
        let pattern = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == name && p["in"] == "path")
            .and_then(|p| p["schema"]["pattern"].as_str());
        // Only a pattern with a slash spans segments; others are about the
        // value (int64 digits, a duration).
        match pattern {
            Some("^.*$") => parts.push(Part::Many),
            Some(p) if !p.contains('/') => parts.push(Part::One),
            None => parts.push(Part::One),
            Some(p) => {
                // `[^/]+` has a slash of its own.
                let p = p.replace("[^/]+", "\u{0}");
                for piece in p.trim_start_matches('^').trim_end_matches('$').split('/') {
                    parts.push(match piece {
                        "\u{0}" => Part::One,
                        ".*" => Part::Many,
                        literal => Part::Literal(literal.replace('\\', "")),
                    });
                }
            }
        }
    }
    (parts, verb)
}

fn matches(parts: &[Part], segments: &[&str]) -> bool {
    match parts.split_first() {
        None => segments.is_empty(),
        Some((Part::Many, rest)) => (0..=segments.len()).any(|n| matches(rest, &segments[n..])),
        Some((part, rest)) => {
            let Some((first, others)) = segments.split_first() else {
                return false;
            };
            let ok = match part {
                Part::Literal(l) => l == first,
                _ => !first.is_empty(),
            };
            ok && matches(rest, others)
        }
    }
}

/// The operation serving `method path`: the matching template with the most
/// literal segments. `None` when no document has one.
pub fn operation(method: &str, path: &str) -> Option<(usize, &'static Value)> {
    let path = path.split('?').next().unwrap();
    let method = method.to_ascii_lowercase();
    let mut best: Option<(usize, usize, &Value)> = None;
    for (d, doc) in documents().iter().enumerate() {
        for (template, item) in doc["paths"].as_object().unwrap() {
            let Some(op) = item.get(&method) else {
                continue;
            };
            let (parts, verb) = template_parts(template, op);
            let rest = match &verb {
                Some(v) => match path.strip_suffix(&format!(":{v}")) {
                    Some(r) => r,
                    None => continue,
                },
                None => path,
            };
            let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
            if matches(&parts, &segments) {
                // A custom verb is a literal too (`{id}:stream` beats `{id}`).
                let literals = parts
                    .iter()
                    .filter(|p| matches!(p, Part::Literal(_)))
                    .count()
                    + usize::from(verb.is_some());
                if best.is_none_or(|(_, l, _)| literals > l) {
                    best = Some((d, literals, op));
                }
            }
        }
    }
    best.map(|(d, _, op)| (d, op))
}

/// The methods a Path Item Object can hold.
const STANDARD_METHODS: &[&str] = &[
    "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
];

type Validator = Arc<jsonschema::Validator>;

/// A validator of `schema`, resolving `#/components/...` in document `doc`.
fn validator(doc: usize, schema: &Value) -> Validator {
    static CACHE: OnceLock<Mutex<HashMap<String, Validator>>> = OnceLock::new();
    let key = format!("{doc}:{schema}");
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(key)
        .or_insert_with(|| {
            let mut root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": documents()[doc]["components"].clone(),
                "allOf": [schema],
            });
            if schema.is_boolean() {
                root["allOf"] = json!([schema]);
            }
            Arc::new(
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema}")),
            )
        })
        .clone()
}

fn check(doc: usize, schema: &Value, text: &str, what: &str) {
    let instance: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {text}"));
    let errors: Vec<String> = validator(doc, schema)
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the body does not match the OpenAPI document:\n{text}\n{}\nschema: {schema}",
        errors.join("\n")
    );
}

/// The schema for a response of `op`: the status's entry, else `default`.
fn media_schema<'a>(op: &'a Value, status: u16, content_type: &str) -> Option<&'a Value> {
    let responses = &op["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))?;
    let content = response["content"].as_object()?;
    content
        .get(content_type)
        .or_else(|| content.get("*/*"))
        .map(|m| &m["schema"])
}

/// Checks a whole response body (JSON responses only); returns whether a
/// schema was found and checked.
pub fn check_response(
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let what = format!("{method} {path} -> {status}");
    match media {
        "text/event-stream" => {
            check_sse(method, path, body);
            return true;
        }
        "application/x-ndjson" => {
            for line in body.lines().filter(|l| !l.trim().is_empty()) {
                check_item(method, path, media, line);
            }
            return true;
        }
        "application/json" => {}
        _ => return false,
    }
    match operation(method, path) {
        Some((doc, op)) => {
            let schema = media_schema(op, status, media).unwrap_or_else(|| {
                panic!("{what}: the document gives no {media} body for {status}")
            });
            check(doc, schema, body, &what);
            true
        }
        None if status >= 400 => {
            check_error(body, &what);
            true
        }
        // OpenAPI has no place for methods like `SEARCH`; every other
        // binding must be in the documents.
        None if !STANDARD_METHODS.contains(&method) => false,
        None => panic!("{what}: no operation of the OpenAPI documents serves this request"),
    }
}

/// Checks an error body against the documents' `Status` schema.
pub fn check_error(body: &str, what: &str) {
    let status = json!({"$ref": "#/components/schemas/Status"});
    check(0, &status, body, what);
}

/// Checks one message of a stream (SSE data, NDJSON line) against the item
/// schema of the operation's `200` response in `media`.
pub fn check_item(method: &str, path: &str, media: &str, item: &str) {
    let what = format!("{method} {path} ({media} item)");
    let (doc, op) = operation(method, path).unwrap_or_else(|| panic!("{what}: no operation"));
    let schema = op["responses"]["200"]["content"][media]
        .get("schema")
        .unwrap_or_else(|| panic!("{what}: the document gives no {media} response"));
    check(doc, schema, item, &what);
}

/// Checks one WebSocket text frame from the server against the operation's
/// frame schema (`serverFrame`, or `errorFrame` for the error frame).
pub fn check_frame(path: &str, frame: &str, error: bool) {
    let what = format!("GET {path} (WebSocket frame)");
    let (doc, op) = operation("GET", path).unwrap_or_else(|| panic!("{what}: no operation"));
    let ws = op
        .get("x-gateway-websocket")
        .unwrap_or_else(|| panic!("{what}: the document gives no WebSocket"));
    let schema = &ws[if error { "errorFrame" } else { "serverFrame" }];
    check(doc, schema, frame, &what);
}

/// Checks the events of an SSE body: message data against the item schema,
/// the `failure` event's data against the error schema, the `EOS` event as
/// the document describes it.
pub fn check_sse(method: &str, path: &str, body: &str) {
    for block in body.split("\n\n").filter(|b| !b.is_empty()) {
        let (mut event, mut id, mut data) = (None, None, Vec::new());
        for line in block.lines() {
            match line
                .split_once(": ")
                .unwrap_or((line.trim_end_matches(':'), ""))
            {
                ("event", v) => event = Some(v),
                ("id", v) => id = Some(v),
                ("data", v) => data.push(v),
                _ => {} // comments (heartbeats), retry
            }
        }
        let data = data.join("\n");
        match event {
            Some("EOS") => assert_eq!((id, data.as_str()), (Some("EOS"), ""), "{block}"),
            Some("failure") => check_error(&data, &format!("{method} {path} (SSE failure)")),
            _ if block.lines().all(|l| !l.starts_with("data")) => {}
            _ => check_item(method, path, "text/event-stream", &data),
        }
    }
}
