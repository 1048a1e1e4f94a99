//! One HTTP binding resolved against the descriptors: template, path
//! variables, body, response body, streaming modes, HttpBody rules.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};

use super::query::resolve_query;
use crate::diagnostic::Diagnostics;
use crate::model::{
    BindingModel, BodyModel, FieldPath, HttpMethod, MethodKind, PathParam, StreamModes, WellKnown,
};
use crate::options::{Options, StarVariable};
use crate::spec::{self, BindingSpec};
use crate::template::PathTemplate;

pub(super) fn resolve_binding(
    method: &MethodDescriptor,
    kind: MethodKind,
    index: usize,
    spec: BindingSpec,
    options: &Options,
    diags: &mut Diagnostics,
) -> Option<BindingModel> {
    let location = spec.location.clone();
    let error_count = diags.error_count();
    let err = |diags: &mut Diagnostics, message: String| diags.error(location.clone(), message);
    let input = method.input();
    let output = method.output();
    let what = format!(
        "binding {} {} of `{}`",
        spec.method,
        spec.path,
        method.full_name()
    );

    let star = match spec.family {
        spec::Family::Meshapi => options.star_variable,
        spec::Family::Google => StarVariable::OneSegment,
    };
    let template = match PathTemplate::parse_with(&spec.path, star) {
        Ok(t) => Some(t),
        Err(e) => {
            err(diags, format!("{what}: {e}"));
            None
        }
    };

    // Path variables.
    let mut path_params: Vec<PathParam> = Vec::new();
    if let Some(template) = &template {
        for (capture, variable) in template.variables().enumerate() {
            let selector = variable.field_path_string();
            match resolve_field_path(&input, &selector) {
                Ok(field) => {
                    if let Some(problem) = path_field_problem(field.leaf()) {
                        err(
                            diags,
                            format!("{what}: path variable `{selector}` {problem}"),
                        );
                        continue;
                    }
                    if let Some(other) = path_params.iter().find(|p| p.field.overlaps(&field)) {
                        err(
                            diags,
                            format!(
                                "{what}: field `{}` is bound twice in the path (also by `{{{}}}`)",
                                field, other.field
                            ),
                        );
                        continue;
                    }
                    if let Some((other, oneof)) = path_params
                        .iter()
                        .find_map(|p| oneof_clash(&p.field, &field).map(|o| (&p.field, o)))
                    {
                        err(
                            diags,
                            format!(
                                "{what}: path variables `{other}` and `{field}` are members of the same oneof `{oneof}`, which holds one of them at a time"
                            ),
                        );
                        continue;
                    }
                    path_params.push(PathParam {
                        field,
                        capture,
                        multi_segment: variable.is_multi_segment(),
                    });
                }
                Err(e) => err(diags, format!("{what}: path variable `{selector}`: {e}")),
            }
        }
    }

    // Body.
    let body = match spec.body.as_str() {
        "" => BodyModel::None,
        "*" => BodyModel::Whole,
        selector => match resolve_field_path(&input, selector) {
            Ok(field) => {
                // A path variable inside the body field (`{book.name}` with
                // body `book`, as AIP-134 does) overrides the body's value;
                // the body field itself, or one inside a path variable, would
                // be bound twice.
                if let Some(p) = path_params.iter().find(|p| field.starts_with(&p.field)) {
                    err(
                        diags,
                        format!(
                            "{what}: field `{}` is bound twice: by the body `{selector}` and by the path variable `{}`",
                            field, p.field
                        ),
                    );
                }
                if let Some((p, oneof)) = path_params
                    .iter()
                    .find_map(|p| oneof_clash(&p.field, &field).map(|o| (p, o)))
                {
                    err(
                        diags,
                        format!(
                            "{what}: the body `{selector}` and the path variable `{}` are members of the same oneof `{oneof}`, which holds one of them at a time",
                            p.field
                        ),
                    );
                }
                BodyModel::Field(field)
            }
            Err(e) => {
                err(diags, format!("{what}: body `{selector}`: {e}"));
                BodyModel::None
            }
        },
    };
    if !spec.body.is_empty() {
        if spec.method == HttpMethod::Get && !kind.streams_requests() {
            err(
                diags,
                format!(
                    "{what}: GET cannot have a body; remove `body` or use POST/PUT/PATCH (only streaming-request methods may set `body` on GET, where it describes WebSocket frames)"
                ),
            );
        }
        if spec.method == HttpMethod::Delete && !options.allow_delete_body {
            err(
                diags,
                format!(
                    "{what}: DELETE with a body needs the plugin option `allow_delete_body=true`"
                ),
            );
        }
    }

    // Response body.
    let response_body = match spec.response_body.as_str() {
        "" | "*" => None,
        selector => match resolve_response_field_path(&output, selector) {
            Ok(field) => Some(field),
            Err(e) => {
                err(diags, format!("{what}: response_body `{selector}`: {e}"));
                None
            }
        },
    };

    // Query parameters.
    let query = resolve_query(
        &input,
        &spec,
        &path_params,
        &body,
        &what,
        diags,
        location.as_ref(),
    );

    // google.api.HttpBody: raw bytes instead of JSON.
    let raw_request = is_http_body(&input);
    let raw_response = is_http_body(&output);
    let raw_body_field = matches!(&body, BodyModel::Field(f)
        if f.leaf().kind().as_message().is_some_and(is_http_body));
    if raw_response && response_body.is_some() {
        err(
            diags,
            format!(
                "{what}: the method returns google.api.HttpBody, whose bytes are the whole response; remove `response_body`"
            ),
        );
    }
    if raw_response && kind.streams_requests() {
        err(
            diags,
            format!(
                "{what}: a {} method returning google.api.HttpBody is not supported (HttpBody responses are for unary and server-streaming methods)",
                kind.name()
            ),
        );
    }
    if raw_request && kind == MethodKind::BidiStreaming {
        err(
            diags,
            format!(
                "{what}: a bidi-streaming method taking google.api.HttpBody is not supported (HttpBody requests are for unary, server- and client-streaming methods)"
            ),
        );
    }
    if raw_request && matches!(body, BodyModel::Field(_)) {
        err(
            diags,
            format!(
                "{what}: the request is google.api.HttpBody, which takes the whole body; use `body: \"*\"`"
            ),
        );
    }
    if raw_body_field && kind.streams_requests() {
        err(
            diags,
            format!(
                "{what}: a google.api.HttpBody body field is for unary and server-streaming methods; stream the HttpBody messages themselves instead"
            ),
        );
    }

    // Streaming modes.
    let toggles = spec.stream;
    let modes = if kind == MethodKind::Unary {
        StreamModes::default()
    } else if raw_response || raw_request {
        // Raw bytes have no SSE events or WebSocket frames: the body is the
        // stream (a download, or an upload).
        StreamModes {
            sse: false,
            websocket: false,
            chunked: !toggles.disable_chunked_transfer,
        }
    } else {
        let get = spec.method == HttpMethod::Get;
        // SSE on any HTTP method for server streams: fetch-based SSE clients
        // POST a JSON body with `Accept: text/event-stream` (EventSource
        // itself can only GET). Request streams keep SSE to GET, where the
        // request is read from the path and query.
        let sse_method = get || kind == MethodKind::ServerStreaming;
        StreamModes {
            sse: sse_method && kind.streams_responses() && !toggles.disable_sse,
            websocket: get && !toggles.disable_websockets,
            chunked: !toggles.disable_chunked_transfer,
        }
    };
    if kind != MethodKind::Unary && modes.is_empty() {
        err(
            diags,
            format!(
                "{what}: {} method with no streaming mode left: {}",
                kind.name(),
                no_mode_reason(kind, &spec)
            ),
        );
    }

    // PATCH update_mask.
    let update_mask = if options.allow_patch_feature
        && spec.method == HttpMethod::Patch
        && matches!(body, BodyModel::Field(_))
    {
        input
            .get_field_by_name("update_mask")
            .filter(|f| {
                !f.is_list()
                    && f.kind()
                        .as_message()
                        .is_some_and(|m| m.full_name() == "google.protobuf.FieldMask")
            })
            .map(|f| FieldPath(vec![f]))
            .filter(|mask| {
                !path_params.iter().any(|p| p.field.overlaps(mask))
                    && !matches!(&body, BodyModel::Field(b) if b.overlaps(mask))
            })
    } else {
        None
    };

    if diags.error_count() > error_count {
        return None;
    }
    Some(BindingModel {
        index,
        method: spec.method,
        template: template?,
        path_params,
        body,
        response_body,
        query,
        query_discovery: !spec.disable_query_param_discovery,
        stream: toggles,
        modes,
        update_mask,
        location,
    })
}

/// `google.api.HttpBody`, the message that is a raw HTTP body.
pub fn is_http_body(message: &MessageDescriptor) -> bool {
    message.full_name() == HTTP_BODY
}

/// Full name of `google.api.HttpBody`.
pub const HTTP_BODY: &str = "google.api.HttpBody";

pub(super) fn no_mode_reason(kind: MethodKind, spec: &BindingSpec) -> String {
    let t = spec.stream;
    let mut reasons = Vec::new();
    if t.disable_chunked_transfer {
        reasons.push("chunked transfer is disabled".to_string());
    }
    if spec.method != HttpMethod::Get {
        if kind == MethodKind::ServerStreaming {
            if t.disable_sse {
                reasons.push("SSE is disabled".into());
            }
            reasons.push(format!(
                "WebSocket needs GET, this binding is {}",
                spec.method
            ));
        } else {
            reasons.push(format!(
                "SSE and WebSocket need GET for request streams, this binding is {}",
                spec.method
            ));
        }
    } else {
        if t.disable_websockets {
            reasons.push("WebSocket is disabled".into());
        }
        if !kind.streams_responses() {
            reasons.push("SSE needs a method that streams responses".into());
        } else if t.disable_sse {
            reasons.push("SSE is disabled".into());
        }
    }
    reasons.join("; ")
}

/// Why a field cannot be a path variable, if it cannot.
pub(super) fn path_field_problem(field: &FieldDescriptor) -> Option<String> {
    if field.is_map() {
        return Some(format!(
            "names map field `{}`; path variables must be scalars",
            field.name()
        ));
    }
    match field.kind() {
        Kind::Message(m) => match WellKnown::of(&m) {
            // Written as their JSON strings (`2024-05-01T10:00:00Z`, `1.5s`,
            // `a,b.c`), as the Go gateways accept them.
            Some(
                WellKnown::Wrapper(_)
                | WellKnown::Timestamp
                | WellKnown::Duration
                | WellKnown::FieldMask,
            ) if !field.is_list() => None,
            _ => Some(format!(
                "names field `{}` of message type `{}`; path variables must be scalars, enums, repeated scalars, well-known wrappers, Timestamp, Duration or FieldMask",
                field.name(),
                m.full_name()
            )),
        },
        _ => None,
    }
}

/// The oneof that makes `a` and `b` exclusive: where the two paths part,
/// in the same message, both fields are members of it. Binding both would
/// let the second overwrite the first (grpc-gateway refuses such a request
/// at run time); since every request would, it is refused here.
fn oneof_clash(a: &FieldPath, b: &FieldPath) -> Option<String> {
    let (x, y) = a.0.iter().zip(&b.0).find(|(x, y)| x != y)?;
    let (ox, oy) = (x.containing_oneof()?, y.containing_oneof()?);
    (ox == oy && !ox.is_synthetic()).then(|| ox.name().to_string())
}

/// Resolves a dotted selector (proto field names) in a message. Every field
/// but the last must be a singular message field.
pub fn resolve_field_path(
    message: &MessageDescriptor,
    selector: &str,
) -> Result<FieldPath, String> {
    resolve_path(message, selector, true)
}

/// [`resolve_field_path`] for a field read from a response: selectors do
/// not go through oneof members there (which member is set is the
/// service's choice, and the JSON of an unset one would be invented).
pub fn resolve_response_field_path(
    message: &MessageDescriptor,
    selector: &str,
) -> Result<FieldPath, String> {
    resolve_path(message, selector, false)
}

/// The most fields a selector may go through. The code that reaches the
/// field nests once per field, and the generator's own formatting of it
/// recurses as deep: a selector of a few dozen fields (through a recursive
/// message) overflowed its stack. Real APIs select a few levels deep.
const MAX_SELECTOR_FIELDS: usize = 16;

pub(super) fn resolve_path(
    message: &MessageDescriptor,
    selector: &str,
    through_oneof: bool,
) -> Result<FieldPath, String> {
    let mut fields = Vec::new();
    let mut current = message.clone();
    let parts: Vec<&str> = selector.split('.').collect();
    if parts.len() > MAX_SELECTOR_FIELDS {
        return Err(format!(
            "goes through {} fields; at most {MAX_SELECTOR_FIELDS} are supported",
            parts.len()
        ));
    }
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            return Err(format!("`{selector}` is not a valid field path"));
        }
        let Some(field) = current.get_field_by_name(part) else {
            let hint = current
                .fields()
                .find(|f| f.json_name() == *part)
                .map(|f| {
                    format!(
                        "; did you mean `{}` (field selectors use proto names)?",
                        f.name()
                    )
                })
                .unwrap_or_default();
            return Err(format!(
                "message `{}` has no field `{part}`{hint}",
                current.full_name()
            ));
        };
        if i + 1 < parts.len() {
            if !through_oneof && field.containing_oneof().is_some_and(|o| !o.is_synthetic()) {
                return Err(format!(
                    "`{part}` in `{selector}` is a member of oneof `{}`; selectors cannot go through a oneof member",
                    field
                        .containing_oneof()
                        .map(|o| o.name().to_string())
                        .unwrap_or_default()
                ));
            }
            match field.kind() {
                Kind::Message(m) if !field.is_list() && !field.is_map() => current = m,
                _ => {
                    return Err(format!(
                        "`{part}` in `{selector}` is not a singular message field, so nothing can be selected inside it"
                    ));
                }
            }
        }
        fields.push(field);
    }
    Ok(FieldPath(fields))
}
