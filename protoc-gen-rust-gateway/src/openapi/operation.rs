//! One OpenAPI operation per binding: path and query parameters as the
//! binding resolved them, the request body from `body`, responses from
//! `response_body`, and each streaming mode the binding serves.

use std::collections::BTreeSet;

use prost_reflect::{Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::comments::description;
use super::overrides::Overrides;
use super::schema::Schemas;
use super::{OpenApiOptions, OperationIdMode};
use crate::model::{BindingModel, BodyModel, FieldPath, MethodKind, MethodModel, QueryShape};
use crate::options::Options;
use crate::resolve::is_http_body;
use crate::template::Segment;

/// `x-` extension describing a stream's framing on a media type.
pub const STREAM_EXTENSION: &str = "x-gateway-stream";
/// `x-` extension describing the WebSocket face of a GET operation.
pub const WEBSOCKET_EXTENSION: &str = "x-gateway-websocket";

/// The OpenAPI path of a binding (`/v1/{name}:cancel`) and, for each path
/// parameter in order, its name and the regular expression its value
/// matches (when it is more than one segment of anything).
pub fn openapi_path(
    binding: &BindingModel,
    overrides: &Overrides,
) -> (String, Vec<(String, Option<String>)>) {
    let mut path = String::new();
    let mut params = Vec::new();
    let mut unnamed = 0;
    for segment in &binding.template.segments {
        path.push('/');
        match segment {
            Segment::Literal(l) => path.push_str(l),
            Segment::Wildcard | Segment::DeepWildcard => {
                // Matched but not read: still a parameter in OpenAPI terms.
                unnamed += 1;
                let name = format!("_{unnamed}");
                path.push_str(&format!("{{{name}}}"));
                let pattern = matches!(segment, Segment::DeepWildcard).then(|| "^.*$".to_string());
                params.push((name, pattern));
            }
            Segment::Variable(v) => {
                let param = binding
                    .path_params
                    .iter()
                    .find(|p| p.field.proto_path() == v.field_path_string());
                let name = param
                    .and_then(|p| path_param_name(&p.field, overrides))
                    .unwrap_or_else(|| v.field_path_string());
                path.push_str(&format!("{{{name}}}"));
                let pattern = if v.rooted {
                    // The URL holds the rest of the path; the field gets a `/` before it.
                    Some("^.*$".to_string())
                } else if v.segments != [Segment::Wildcard] {
                    Some(format!("^{}$", segments_pattern(&v.segments)))
                } else {
                    None
                };
                params.push((name, pattern));
            }
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    if let Some(verb) = &binding.template.verb {
        path.push(':');
        path.push_str(verb);
    }
    (path, params)
}

fn segments_pattern(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Literal(l) => regex_escape(l),
            Segment::Wildcard => "[^/]+".to_string(),
            Segment::DeepWildcard => ".*".to_string(),
            Segment::Variable(_) => String::new(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

fn path_param_name(field: &FieldPath, overrides: &Overrides) -> Option<String> {
    let leaf = field.leaf();
    overrides
        .field(leaf.parent_message().full_name(), leaf.name())
        .and_then(|o| o.path_param_name.clone())
}

/// The operation of one binding: `(path, lower-case method, operation)`.
pub fn operation(
    method: &MethodModel,
    binding: &BindingModel,
    schemas: &mut Schemas,
    overrides: &Overrides,
    options: &Options,
    openapi: &OpenApiOptions,
    ambiguous: &BTreeSet<&str>,
) -> (String, String, Value) {
    let descriptor = &method.descriptor;
    let service = descriptor.parent_service();
    let mut id = match openapi.operation_ids {
        OperationIdMode::ServiceAndMethod => format!("{}_{}", service.name(), descriptor.name()),
        // A name two services of the document share would repeat an id
        // (the Go plugin repeats it): those get the service too.
        OperationIdMode::Method if ambiguous.contains(descriptor.name()) => {
            format!("{}_{}", service.name(), descriptor.name())
        }
        OperationIdMode::Method => descriptor.name().to_string(),
        OperationIdMode::Fqn => descriptor.full_name().to_string(),
    };
    if binding.index > 0 {
        id.push_str(&(binding.index + 1).to_string());
    }
    let mut op = json!({"operationId": id, "tags": [service.name()]});
    // `option deprecated = true` on the method or its service.
    let method_deprecated = descriptor
        .method_descriptor_proto()
        .options
        .as_ref()
        .is_some_and(|o| o.deprecated());
    let service_deprecated = service
        .service_descriptor_proto()
        .options
        .as_ref()
        .is_some_and(|o| o.deprecated());
    if method_deprecated || service_deprecated {
        op["deprecated"] = Value::Bool(true);
    }
    let text = description(&descriptor.parent_file(), descriptor.path());
    if !text.is_empty() {
        let mut lines = text.splitn(2, "\n\n");
        op["summary"] = Value::String(lines.next().unwrap_or_default().replace('\n', " "));
        if let Some(rest) = lines.next() {
            op["description"] = Value::String(rest.to_string());
        }
    }

    let (path, patterns) = openapi_path(binding, overrides);
    let mut parameters = Vec::new();
    let mut param_index = 0;
    for segment in &binding.template.segments {
        match segment {
            Segment::Literal(_) => {}
            Segment::Wildcard | Segment::DeepWildcard => {
                let (name, pattern) = &patterns[param_index];
                param_index += 1;
                let mut schema = json!({"type": "string"});
                if let Some(p) = pattern {
                    schema["pattern"] = json!(p);
                }
                parameters.push(json!({
                    "name": name, "in": "path", "required": true, "schema": schema,
                    "description": "Any path segment (matched, not read)."
                }));
            }
            Segment::Variable(v) => {
                let (name, pattern) = &patterns[param_index];
                param_index += 1;
                let Some(param) = binding
                    .path_params
                    .iter()
                    .find(|p| p.field.proto_path() == v.field_path_string())
                else {
                    continue;
                };
                let leaf = param.field.leaf();
                let mut schema = schemas.field(leaf);
                if leaf.is_list() {
                    schema["description"] = json!(format!(
                        "Values separated by `{}`.",
                        options
                            .repeated_path_param_separator
                            .char()
                            .escape_default()
                    ));
                }
                if let Some(p) = pattern
                    && leaf.kind() == Kind::String
                {
                    schema["pattern"] = json!(p);
                }
                let mut parameter =
                    json!({"name": name, "in": "path", "required": true, "schema": schema});
                let mut text = description(&leaf.parent_file(), leaf.path());
                if param.multi_segment {
                    if !text.is_empty() {
                        text.push_str("\n\n");
                    }
                    text.push_str(if v.rooted {
                        "Takes the rest of the path, slashes included; the field receives it with a leading `/`."
                    } else {
                        "Spans several path segments; slashes are kept."
                    });
                }
                if !text.is_empty() {
                    parameter["description"] = Value::String(text);
                }
                parameters.push(parameter);
            }
        }
    }
    for query in &binding.query {
        if binding.update_mask.as_ref() == Some(&query.field) {
            continue; // Filled from the body (allow_patch_feature).
        }
        parameters.push(query_parameter(query, schemas));
    }
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }

    let input = descriptor.input();
    let output = descriptor.output();
    let kind = method.kind;
    let modes = binding.modes;

    // Request body.
    let body_schema = match &binding.body {
        BodyModel::None => None,
        BodyModel::Whole => Some(schemas.message(&input)),
        BodyModel::Field(path) => Some(schemas.field(path.leaf())),
    };
    let raw_request = is_http_body(&input)
        || matches!(&binding.body, BodyModel::Field(p) if p.leaf().kind().as_message().is_some_and(is_http_body));
    let mut content = Map::new();
    if raw_request && binding.body != BodyModel::None {
        content.insert("*/*".into(), raw_media(if kind.streams_requests() {
            "The raw body, streamed: each piece becomes one google.api.HttpBody request message, the first with the request's Content-Type."
        } else {
            "The raw body; its Content-Type is passed on as the HttpBody's `content_type`."
        }));
    } else if kind.streams_requests() {
        if modes.chunked {
            let item = body_schema
                .clone()
                .unwrap_or_else(|| schemas.message(&input));
            content.insert("application/x-ndjson".into(), json!({
                "schema": item,
                STREAM_EXTENSION: {
                    "framing": "ndjson",
                    "description": "The request stream: one JSON message per line, each of this schema; the end of the body ends the stream."
                }
            }));
        }
    } else if let Some(schema) = body_schema {
        content.insert("application/json".into(), json!({"schema": schema}));
    }
    if !content.is_empty() {
        op["requestBody"] = json!({"required": !kind.streams_requests(), "content": content});
    }

    // Responses.
    let item = match &binding.response_body {
        Some(field) => schemas.field(field.leaf()),
        None => schemas.message(&output),
    };
    let raw_response = is_http_body(&output);
    let mut content = Map::new();
    if raw_response {
        content.insert("*/*".into(), raw_media(if kind.streams_responses() {
            "The raw body, streamed: the Content-Type of the first google.api.HttpBody message, then each message's data."
        } else {
            "The raw body, with the HttpBody's `content_type` as Content-Type."
        }));
    } else if kind.streams_responses() {
        if modes.sse {
            content.insert("text/event-stream".into(), sse_media(item.clone(), schemas));
        }
        if modes.chunked {
            let error_line = json!({
                "type": "object",
                "properties": {"error": schemas.status()},
                "required": ["error"],
                "additionalProperties": false
            });
            content.insert("application/x-ndjson".into(), json!({
                "schema": {"anyOf": [item.clone(), error_line]},
                STREAM_EXTENSION: {
                    "framing": "ndjson",
                    "description": "One JSON message per line, flushed as it arrives. A gRPC error after the first line is the last line, `{\"error\": <error body>}`; an error before it is a normal error response."
                }
            }));
        }
    } else {
        content.insert("application/json".into(), json!({"schema": item.clone()}));
    }
    let mut responses = Map::new();
    if !content.is_empty() {
        responses.insert(
            "200".into(),
            json!({"description": "A successful response.", "content": content}),
        );
    }
    if modes.websocket {
        responses.insert(
            "101".into(),
            json!({"description": "Switching Protocols: the connection continues as a WebSocket (see `x-gateway-websocket`)."}),
        );
        let request = body_schema_for_frames(binding, schemas, &input);
        op[WEBSOCKET_EXTENSION] = json!({
            "description": websocket_text(kind),
            "clientFrame": request,
            "serverFrame": item,
            "errorFrame": schemas.status(),
            "subprotocols": [],
            "closeCodes": {
                "1000": "the call ended normally",
                "1001": "the peer went silent (ping timeout) or away",
                "1002": "a frame RFC 6455 forbids",
                "1007": "a frame that is not a JSON request message (after an error frame), or not UTF-8",
                "1009": "a message over the size limit",
                "1011": "the gRPC call failed (after an error frame)"
            }
        });
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "An error: the gRPC status as JSON, with the HTTP status of its code.",
            "content": {"application/json": {"schema": schemas.status()}}
        }),
    );
    op["responses"] = Value::Object(responses);
    (path, binding.method.as_str().to_ascii_lowercase(), op)
}

fn body_schema_for_frames(
    binding: &BindingModel,
    schemas: &mut Schemas,
    input: &MessageDescriptor,
) -> Value {
    match &binding.body {
        BodyModel::Field(path) => schemas.field(path.leaf()),
        _ => schemas.message(input),
    }
}

fn websocket_text(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::ServerStreaming => {
            "A GET with `Upgrade: websocket` (or an HTTP/2 extended CONNECT). The first client frame is the request (merged over path and query values; an empty frame keeps them); each response is one text frame. After the last response the server closes with 1000; a gRPC error sends an error frame, then closes with 1011."
        }
        MethodKind::ClientStreaming => {
            "A GET with `Upgrade: websocket` (or an HTTP/2 extended CONNECT). Each client frame is one request; an empty frame ends the requests. The response is one text frame, then close 1000; a gRPC error sends an error frame, then closes with 1011."
        }
        _ => {
            "A GET with `Upgrade: websocket` (or an HTTP/2 extended CONNECT). Each client frame is one request; an empty frame ends the requests while responses keep coming. Each response is one text frame; after the last the server closes with 1000; a gRPC error sends an error frame, then closes with 1011."
        }
    }
}

fn raw_media(text: &str) -> Value {
    json!({"schema": {"description": text}})
}

fn sse_media(item: Value, schemas: &mut Schemas) -> Value {
    json!({
        "schema": item,
        STREAM_EXTENSION: {
            "framing": "sse",
            "description": "Server-Sent Events, chosen by `Accept: text/event-stream`. Each message is one event whose `data` is the JSON of this schema. The end of the stream is the event `id: EOS`, `event: EOS` with empty data; an error after the first event is the event `failure` whose data is the error body.",
            "events": {
                "message": {"data": "the schema above"},
                "EOS": {"id": "EOS", "data": ""},
                "failure": {"data": schemas.status()}
            },
            "heartbeat": ": keep-alive"
        }
    })
}

fn query_parameter(query: &crate::model::QueryParam, schemas: &mut Schemas) -> Value {
    let leaf = query.field.leaf();
    // Discovered parameters are named by their JSON path (the Go plugin's
    // default); the other spellings are accepted too.
    let name = if query.explicit {
        query.names[0].clone()
    } else {
        query.names.last().cloned().unwrap_or_default()
    };
    let schema = schemas.field(leaf);
    let mut parameter = json!({"name": name, "in": "query", "schema": schema});
    match query.shape {
        QueryShape::Single => {}
        QueryShape::Repeated => {
            parameter["style"] = json!("form");
            parameter["explode"] = json!(true);
        }
        QueryShape::Map => {
            // `?m[key]=value`
            parameter["style"] = json!("deepObject");
            parameter["explode"] = json!(true);
        }
    }
    let mut text = description(&leaf.parent_file(), leaf.path());
    let aliases: Vec<String> = query
        .names
        .iter()
        .filter(|n| **n != name)
        .map(|n| format!("`{n}`"))
        .collect();
    if !aliases.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("Also accepted as {}.", aliases.join(", ")));
    }
    if !text.is_empty() {
        parameter["description"] = Value::String(text);
    }
    parameter
}
