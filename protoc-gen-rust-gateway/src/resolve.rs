//! From descriptors, annotations and binding files to a validated
//! [`Model`], with a diagnostic for every mistake.

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{
    DescriptorPool, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor, MethodDescriptor,
};

use crate::config::{self, ConfigSource, FileEndpoint, RawEndpoint};
use crate::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::model::{
    BindingModel, BodyModel, FieldPath, HttpMethod, MethodKind, MethodModel, Model, Origin,
    PathParam, QueryParam, QueryShape, ServiceModel, StreamModes, WellKnown,
};
use crate::options::{Options, StarVariable};
use crate::service_config::{self, ServiceRule};
use crate::spec::{self, BindingSpec};
use crate::template::PathTemplate;

/// Deepest message nesting explored when discovering query parameters.
const MAX_QUERY_DEPTH: usize = 8;

/// Builds and checks the model for `files_to_generate`. Warnings are
/// returned with the model; errors replace it.
pub fn build_model(
    pool: &DescriptorPool,
    files_to_generate: &[String],
    options: &Options,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let files: Vec<FileDescriptor> = files_to_generate
        .iter()
        .filter_map(|name| {
            let file = pool.get_file_by_name(name);
            if file.is_none() {
                diags.error(
                    Some(Location::file(name)),
                    "file to generate is missing from the request",
                );
            }
            file
        })
        .collect();
    let file_bindings = load_binding_files(pool, &files, options, &mut diags);
    let service_rules = load_service_config(pool, &files, options, &mut diags);
    let extension = spec::http_extension(pool);
    let google_extension = spec::google_http_extension(pool);

    let mut model = Model::default();
    for file in &files {
        for service in file.services() {
            let mut methods = Vec::new();
            for method in service.methods() {
                let location = method_location(&method);
                let annotation = match spec::read_annotation(&method, extension.as_ref(), &location)
                {
                    Ok(a) => a,
                    Err(e) => {
                        diags.push(e);
                        continue;
                    }
                };
                let google_annotation = match spec::read_google_annotation(
                    &method,
                    google_extension.as_ref(),
                    &location,
                ) {
                    Ok(a) => a,
                    Err(e) => {
                        diags.push(e);
                        continue;
                    }
                };
                let file_entry = file_bindings.get(method.full_name());
                // The Google family: configuration rules first, then the
                // annotation, every one served (as grpc-gateway does).
                let mut google: Vec<(RawEndpoint, Location)> = service_rules
                    .get(method.full_name())
                    .into_iter()
                    .flatten()
                    .map(|rule| (rule.endpoint.clone(), rule.location.clone()))
                    .collect();
                if let Some(rule) = google_annotation {
                    google.push((rule, location.clone()));
                }
                let meshapi = match (annotation, file_entry) {
                    (None, None) => None,
                    (Some(a), None) => Some((a, Origin::Annotation(location.clone()))),
                    (None, Some(f)) => Some((f.endpoint.clone(), Origin::File(f.location.clone()))),
                    (Some(a), Some(f)) => Some((
                        spec::merge(a, f.endpoint.clone()),
                        Origin::Merged {
                            annotation: location.clone(),
                            file: f.location.clone(),
                        },
                    )),
                };
                let specs = match (meshapi, google.is_empty()) {
                    (None, true) => {
                        if options.generate_unbound_methods {
                            methods.push(unbound_method(&method, options));
                        } else if options.warn_on_unbound_methods {
                            diags.warning(
                                Some(location.clone()),
                                format!(
                                    "method `{}` has no HTTP binding and is not reachable through the gateway",
                                    method.full_name()
                                ),
                            );
                        }
                        continue;
                    }
                    (Some((_, origin)), false) => {
                        let here = origin.location().cloned();
                        diags.push(
                            Diagnostic::error(
                                here,
                                format!(
                                    "method `{}` is bound by `meshapi.gateway.http` ({origin}) and by `google.api.http` ({}); a method takes its bindings from one of the two: remove the other",
                                    method.full_name(),
                                    Origin::Google(google.iter().map(|(_, l)| l.clone()).collect())
                                ),
                            )
                            .with_note(google[0].1.clone(), "bound by google.api.http here"),
                        );
                        continue;
                    }
                    (Some((raw, origin)), true) => {
                        let text = file_entry
                            .map(|f| (f.location.file.clone(), read_text(&f.location.file)));
                        let extra_location = |i: usize, extra: &RawEndpoint| {
                            additional_location(&origin, text.as_ref(), i, extra)
                        };
                        match spec::split(&raw, origin.location(), &extra_location) {
                            Ok(specs) => (specs, origin),
                            Err(errors) => {
                                errors.into_iter().for_each(|e| diags.push(e));
                                continue;
                            }
                        }
                    }
                    (None, false) => {
                        let mut specs = Vec::new();
                        let mut failed = false;
                        for (raw, rule_location) in &google {
                            let origin = Origin::File(rule_location.clone());
                            let text = (rule_location.file != location.file).then(|| {
                                (rule_location.file.clone(), read_text(&rule_location.file))
                            });
                            let extra_location = |i: usize, extra: &RawEndpoint| {
                                additional_location(&origin, text.as_ref(), i, extra)
                            };
                            match spec::split(raw, Some(rule_location), &extra_location) {
                                Ok(more) => specs.extend(more),
                                Err(errors) => {
                                    errors.into_iter().for_each(|e| diags.push(e));
                                    failed = true;
                                }
                            }
                        }
                        if failed {
                            continue;
                        }
                        for spec in &mut specs {
                            spec.family = spec::Family::Google;
                        }
                        let origin =
                            Origin::Google(google.iter().map(|(_, l)| l.clone()).collect());
                        (specs, origin)
                    }
                };
                let (specs, origin) = specs;
                let kind = MethodKind::of(&method);
                let bindings: Vec<BindingModel> = specs
                    .into_iter()
                    .enumerate()
                    .filter_map(|(index, spec)| {
                        resolve_binding(&method, kind, index, spec, options, &mut diags)
                    })
                    .collect();
                methods.push(MethodModel {
                    descriptor: method.clone(),
                    kind,
                    bindings,
                    origin,
                });
            }
            if !methods.is_empty() {
                model.services.push(ServiceModel {
                    descriptor: service.clone(),
                    methods,
                });
            }
        }
    }
    check_duplicate_routes(&model, &mut diags);
    if diags.has_errors() {
        Err(diags
            .into_vec()
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect())
    } else {
        Ok((model, diags.into_vec()))
    }
}

fn read_text(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Best-effort line of the i-th additional binding in a binding file: the
/// line of its path template after the entry's own line.
fn additional_location(
    origin: &Origin,
    text: Option<&(String, String)>,
    index: usize,
    extra: &RawEndpoint,
) -> Option<Location> {
    let (file, text) = text?;
    let entry = origin.location()?;
    let mut from = line_offset(text, entry.line?);
    let needle = extra
        .get
        .as_ref()
        .or(extra.put.as_ref())
        .or(extra.post.as_ref())
        .or(extra.delete.as_ref())
        .or(extra.patch.as_ref())
        .or(extra.custom.as_ref().and_then(|c| c.path.as_ref()))?;
    // Skip the paths of earlier additional bindings with the same text.
    let mut line = None;
    for _ in 0..=index {
        line = config::find_line(text, needle, &mut from).or(line);
    }
    Some(Location::line(file.clone(), line))
}

fn line_offset(text: &str, line: u32) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum()
}

/// Loads the global file and each proto file's binding file; returns the
/// entries by fully qualified method name.
fn load_binding_files(
    pool: &DescriptorPool,
    files: &[FileDescriptor],
    options: &Options,
    diags: &mut Diagnostics,
) -> BTreeMap<String, FileEndpoint> {
    let mut sources = Vec::new();
    if let Some(global) = &options.gateway_config {
        if global.is_file() {
            sources.push((
                ConfigSource {
                    path: global.clone(),
                    package: None,
                },
                true,
            ));
        } else {
            diags.error(
                Some(Location::file(global.display().to_string())),
                "global binding file (option `gateway_config`) not found",
            );
        }
    }
    for file in files {
        if let Some(path) = config::find_config_file(options, file.name()) {
            sources.push((
                ConfigSource {
                    path,
                    package: Some(file.package_name().to_string()),
                },
                false,
            ));
        }
    }

    let generated: HashSet<&str> = files.iter().map(|f| f.name()).collect();
    let mut by_selector: BTreeMap<String, FileEndpoint> = BTreeMap::new();
    for (source, global) in sources {
        let entries = match config::load_file(&source) {
            Ok(entries) => entries,
            Err(errors) => {
                errors.into_iter().for_each(|e| diags.push(e));
                continue;
            }
        };
        for entry in entries {
            let Some(method) = find_method(pool, &entry.selector) else {
                let package_known = entry
                    .selector
                    .rsplitn(3, '.')
                    .nth(2)
                    .is_some_and(|package| pool.files().any(|f| f.package_name() == package));
                let message = format!(
                    "selector `{}` names no method: {}",
                    entry.selector,
                    explain_missing_method(pool, &entry.selector)
                );
                if global && !package_known {
                    // The global file may bind services compiled by another
                    // protoc run.
                    diags.warning(Some(entry.location.clone()), message);
                } else {
                    diags.error(Some(entry.location.clone()), message);
                }
                continue;
            };
            if !generated.contains(method.parent_file().name()) {
                continue;
            }
            match by_selector.get(&entry.selector) {
                Some(first) if first.endpoint == entry.endpoint => {}
                Some(first) => diags.push(
                    Diagnostic::error(
                        Some(entry.location.clone()),
                        format!(
                            "method `{}` is bound twice in binding files, in different ways; keep one entry",
                            entry.selector
                        ),
                    )
                    .with_note(first.location.clone(), "first bound here"),
                ),
                None => {
                    by_selector.insert(entry.selector.clone(), entry);
                }
            }
        }
    }
    by_selector
}

/// Loads the service configuration (`grpc_api_configuration`), if any; returns
/// its rules by fully qualified method name, in file order. A rule naming no
/// method is an error.
fn load_service_config(
    pool: &DescriptorPool,
    files: &[FileDescriptor],
    options: &Options,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Vec<ServiceRule>> {
    let mut by_method: BTreeMap<String, Vec<ServiceRule>> = BTreeMap::new();
    let Some(path) = &options.grpc_api_configuration else {
        return by_method;
    };
    if !path.is_file() {
        diags.error(
            Some(Location::file(path.display().to_string())),
            "service configuration (option `grpc_api_configuration`) not found",
        );
        return by_method;
    }
    let rules = match service_config::load(path) {
        Ok(rules) => rules,
        Err(errors) => {
            errors.into_iter().for_each(|e| diags.push(e));
            return by_method;
        }
    };
    let generated: HashSet<&str> = files.iter().map(|f| f.name()).collect();
    for rule in rules {
        let Some(method) = find_method(pool, &rule.selector) else {
            diags.error(
                Some(rule.location.clone()),
                format!(
                    "selector `{}` names no method: {}",
                    rule.selector,
                    explain_missing_method(pool, &rule.selector)
                ),
            );
            continue;
        };
        if generated.contains(method.parent_file().name()) {
            by_method
                .entry(rule.selector.clone())
                .or_default()
                .push(rule);
        }
    }
    by_method
}

/// The binding files a run reads: the global file and each proto file's
/// file, where they exist, and the service configuration.
pub fn binding_files(
    files_to_generate: &[String],
    pool: &DescriptorPool,
    options: &Options,
) -> Vec<std::path::PathBuf> {
    let mut out: Vec<std::path::PathBuf> = options
        .gateway_config
        .iter()
        .chain(&options.grpc_api_configuration)
        .cloned()
        .collect();
    for name in files_to_generate {
        if pool.get_file_by_name(name).is_some()
            && let Some(path) = config::find_config_file(options, name)
        {
            out.push(path);
        }
    }
    out
}

fn find_method(pool: &DescriptorPool, selector: &str) -> Option<MethodDescriptor> {
    let (service, method) = selector.rsplit_once('.')?;
    pool.get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == method)
}

fn explain_missing_method(pool: &DescriptorPool, selector: &str) -> String {
    let Some((service, method)) = selector.rsplit_once('.') else {
        return "expected `package.Service.Method`".into();
    };
    match pool.get_service_by_name(service) {
        Some(s) => format!(
            "service `{service}` has no method `{method}`; it has {}",
            s.methods()
                .map(|m| format!("`{}`", m.name()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!("there is no service `{service}` in the protos given to protoc"),
    }
}

/// File and line of a method in its proto file (from source info).
pub fn method_location(method: &MethodDescriptor) -> Location {
    let file = method.parent_file();
    let service = method.parent_service();
    // `index()` counts across the whole pool; source paths count per file.
    let service_index = file.services().position(|s| &s == service).unwrap_or(0);
    let method_index = service.methods().position(|m| &m == method).unwrap_or(0);
    let path = [6, service_index as i32, 2, method_index as i32];
    let line = file
        .file_descriptor_proto()
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|l| l.path == path))
        .and_then(|l| l.span.first())
        .map(|line| *line as u32 + 1);
    Location::line(file.name(), line)
}

fn unbound_method(method: &MethodDescriptor, options: &Options) -> MethodModel {
    let service = method.parent_service();
    let path = format!("/{}/{}", service.full_name(), method.name());
    let kind = MethodKind::of(method);
    let spec = BindingSpec {
        family: spec::Family::Meshapi,
        method: HttpMethod::Post,
        path,
        body: "*".into(),
        response_body: String::new(),
        query_params: Vec::new(),
        disable_query_param_discovery: false,
        stream: Default::default(),
        location: None,
    };
    let mut diags = Diagnostics::default();
    let binding = resolve_binding(method, kind, 0, spec, options, &mut diags)
        .expect("the default binding of an unbound method is always valid");
    MethodModel {
        descriptor: method.clone(),
        kind,
        bindings: vec![binding],
        origin: Origin::Unbound,
    }
}

fn resolve_binding(
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

fn no_mode_reason(kind: MethodKind, spec: &BindingSpec) -> String {
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
fn path_field_problem(field: &FieldDescriptor) -> Option<String> {
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

fn resolve_path(
    message: &MessageDescriptor,
    selector: &str,
    through_oneof: bool,
) -> Result<FieldPath, String> {
    let mut fields = Vec::new();
    let mut current = message.clone();
    let parts: Vec<&str> = selector.split('.').collect();
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

/// How a field can appear in the query string, if it can.
fn query_shape(field: &FieldDescriptor) -> Option<QueryShape> {
    if field.is_map() {
        let value = field.kind().as_message()?.map_entry_value_field();
        return (!matches!(value.kind(), Kind::Message(_))).then_some(QueryShape::Map);
    }
    let leaf = match field.kind() {
        Kind::Message(m) => WellKnown::of(&m).is_some_and(|w| w.is_query_leaf()),
        _ => true,
    };
    if !leaf {
        return None;
    }
    Some(if field.is_list() {
        QueryShape::Repeated
    } else {
        QueryShape::Single
    })
}

#[allow(clippy::too_many_arguments)]
fn resolve_query(
    input: &MessageDescriptor,
    spec: &BindingSpec,
    path_params: &[PathParam],
    body: &BodyModel,
    what: &str,
    diags: &mut Diagnostics,
    location: Option<&Location>,
) -> Vec<QueryParam> {
    let bound_elsewhere = |field: &FieldPath| -> Option<String> {
        if let Some(p) = path_params.iter().find(|p| p.field.overlaps(field)) {
            return Some(format!("the path variable `{}`", p.field));
        }
        match body {
            BodyModel::Whole => Some("the body (`*`)".into()),
            BodyModel::Field(b) if b.overlaps(field) => Some(format!("the body `{b}`")),
            _ => None,
        }
    };

    let mut explicit: Vec<QueryParam> = Vec::new();
    let mut ignored: Vec<FieldPath> = Vec::new();
    for q in &spec.query_params {
        let selector = q.selector.as_deref().unwrap_or("");
        if selector.is_empty() {
            diags.error(
                location.cloned(),
                format!("{what}: a `query_params` entry has no `selector`"),
            );
            continue;
        }
        let field = match resolve_field_path(input, selector) {
            Ok(f) => f,
            Err(e) => {
                diags.error(
                    location.cloned(),
                    format!("{what}: query parameter `{selector}`: {e}"),
                );
                continue;
            }
        };
        if q.ignore.unwrap_or(false) {
            ignored.push(field);
            continue;
        }
        let name = q.name.as_deref().unwrap_or("");
        if name.is_empty() {
            diags.error(
                location.cloned(),
                format!("{what}: query parameter `{selector}` needs a `name` (or `ignore: true`)"),
            );
            continue;
        }
        if let Some(other) = bound_elsewhere(&field) {
            diags.error(
                location.cloned(),
                format!("{what}: query parameter `{name}` names field `{field}`, which is already bound by {other}"),
            );
            continue;
        }
        let Some(shape) = query_shape(field.leaf()) else {
            diags.error(
                location.cloned(),
                format!(
                    "{what}: query parameter `{name}` names field `{field}`, which cannot be written in a query string (messages other than well-known types, repeated messages and maps of messages cannot)"
                ),
            );
            continue;
        };
        // A name bound twice: the later entry wins. A field bound under
        // several names: every name sets it (the later in the query wins).
        for p in explicit.iter_mut() {
            p.names.retain(|n| n != name);
        }
        explicit.retain(|p| !p.names.is_empty());
        match explicit.iter_mut().find(|p| p.field == field) {
            Some(p) => p.names.push(name.to_string()),
            None => explicit.push(QueryParam {
                field,
                shape,
                names: vec![name.to_string()],
                explicit: true,
            }),
        }
    }

    let mut params = explicit;
    if matches!(body, BodyModel::Whole) || spec.disable_query_param_discovery {
        return params;
    }
    let mut discovered = Vec::new();
    let mut stack = vec![input.full_name().to_string()];
    discover(input, &mut Vec::new(), &mut stack, &mut discovered);
    let mut taken: HashSet<String> = params.iter().flat_map(|p| p.names.clone()).collect();
    for field in discovered {
        if bound_elsewhere(&field).is_some() || ignored.iter().any(|i| field.starts_with(i)) {
            continue;
        }
        if let Some(aliased) = params.iter_mut().find(|p| p.field == field) {
            // The Go gateway blocks only an aliased field's proto-name path:
            // its other spellings (`displayName` for `display_name`) still
            // bind it. Each is one more name of the explicit entry.
            let proto_path = field.proto_path();
            for name in spellings(&field) {
                if name != proto_path && taken.insert(name.clone()) {
                    aliased.names.push(name);
                }
            }
            continue;
        }
        let Some(shape) = query_shape(field.leaf()) else {
            continue;
        };
        let names: Vec<String> = spellings(&field)
            .into_iter()
            .filter(|n| !taken.contains(n))
            .collect();
        if names.is_empty() {
            continue;
        }
        params.push(QueryParam {
            field,
            shape,
            names,
            explicit: false,
        });
    }
    params
}

/// Collects every query-bindable leaf under `message`.
fn discover(
    message: &MessageDescriptor,
    prefix: &mut Vec<FieldDescriptor>,
    stack: &mut Vec<String>,
    out: &mut Vec<FieldPath>,
) {
    for field in message.fields() {
        prefix.push(field.clone());
        match field.kind() {
            Kind::Message(m)
                if !field.is_list() && !field.is_map() && WellKnown::of(&m).is_none() =>
            {
                // Recurse, but never into a type already on the path
                // (recursive messages) and not deeper than a sane limit.
                if !stack.iter().any(|s| s == m.full_name()) && prefix.len() < MAX_QUERY_DEPTH {
                    stack.push(m.full_name().to_string());
                    discover(&m, prefix, stack, out);
                    stack.pop();
                }
            }
            _ => {
                if query_shape(&field).is_some() {
                    out.push(FieldPath(prefix.clone()));
                }
            }
        }
        prefix.pop();
    }
}

/// Every spelling of a dotted path where each segment may be its proto name
/// or its JSON name; capped, falling back to all-proto and all-JSON.
fn spellings(field: &FieldPath) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for (i, f) in field.0.iter().enumerate() {
        let variants: Vec<&str> = if f.name() == f.json_name() {
            vec![f.name()]
        } else {
            vec![f.name(), f.json_name()]
        };
        let mut next = Vec::new();
        for prefix in &out {
            for v in &variants {
                next.push(if i == 0 {
                    (*v).to_string()
                } else {
                    format!("{prefix}.{v}")
                });
            }
        }
        out = next;
        if out.len() > 16 {
            let mut capped = vec![field.proto_path(), field.json_path()];
            capped.dedup();
            return capped;
        }
    }
    out
}

/// Two bindings with the same HTTP method and the same template shape would
/// shadow each other.
fn check_duplicate_routes(model: &Model, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(HttpMethod, String), (String, Option<Location>)> = BTreeMap::new();
    for service in &model.services {
        for method in &service.methods {
            for binding in &method.bindings {
                let key = (binding.method.clone(), binding.template.shape());
                let here = binding
                    .location
                    .clone()
                    .or_else(|| method.origin.location().cloned());
                if let Some((other, other_location)) = seen.get(&key) {
                    let mut d = Diagnostic::error(
                        here.clone(),
                        format!(
                            "{} {} of `{}` matches exactly the same requests as a binding of `{other}`; change one template or method",
                            binding.method,
                            binding.template,
                            method.descriptor.full_name()
                        ),
                    );
                    if let Some(l) = other_location {
                        d = d.with_note(l.clone(), format!("`{other}` is bound here"));
                    }
                    diags.push(d);
                } else {
                    seen.insert(key, (method.descriptor.full_name().to_string(), here));
                }
            }
        }
    }
}

#[cfg(all(test, feature = "build"))]
mod tests {
    use super::*;
    use crate::config::RawQueryParam;

    /// A pool from proto source, compiled in-process with protox.
    fn pool(source: &str) -> DescriptorPool {
        struct One(String);
        impl protox::file::FileResolver for One {
            fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
                if name == "t.proto" {
                    protox::file::File::from_source(name, &self.0)
                } else {
                    Err(protox::Error::file_not_found(name))
                }
            }
        }
        let mut resolver = protox::file::ChainFileResolver::new();
        resolver.add(One(source.to_string()));
        resolver.add(protox::file::GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true);
        compiler.open_file("t.proto").unwrap();
        compiler.descriptor_pool()
    }

    const PROTO: &str = r#"
        syntax = "proto3";
        package t;
        import "google/protobuf/timestamp.proto";
        message Inner { string a = 1; int32 b_count = 2; Inner again = 3; repeated string tags = 4; }
        message Req {
          string name = 1;
          Inner inner = 2;
          map<string, int32> counts = 3;
          map<string, Inner> inners = 4;
          repeated Inner list = 5;
          google.protobuf.Timestamp at = 6;
          oneof pick { string x = 7; Inner y = 8; }
        }
    "#;

    fn spec(params: &[(&str, Option<&str>, bool)], discovery_off: bool) -> BindingSpec {
        BindingSpec {
            family: spec::Family::Meshapi,
            method: HttpMethod::Get,
            path: "/x".into(),
            body: String::new(),
            response_body: String::new(),
            query_params: params
                .iter()
                .map(|(selector, name, ignore)| RawQueryParam {
                    selector: Some(selector.to_string()),
                    name: name.map(str::to_string),
                    ignore: Some(*ignore),
                })
                .collect(),
            disable_query_param_discovery: discovery_off,
            stream: Default::default(),
            location: None,
        }
    }

    /// Query parameters of a GET binding; `body` is `""`, `"*"` or a field.
    fn query(
        params: &[(&str, Option<&str>, bool)],
        discovery_off: bool,
        path: &[&str],
        body: &str,
    ) -> Vec<String> {
        let pool = pool(PROTO);
        let req = pool.get_message_by_name("t.Req").unwrap();
        let body = &match body {
            "" => BodyModel::None,
            "*" => BodyModel::Whole,
            field => BodyModel::Field(resolve_field_path(&req, field).unwrap()),
        };
        let path_params: Vec<PathParam> = path
            .iter()
            .enumerate()
            .map(|(i, p)| PathParam {
                field: resolve_field_path(&req, p).unwrap(),
                capture: i,
                multi_segment: false,
            })
            .collect();
        let mut diags = Diagnostics::default();
        let q = resolve_query(
            &req,
            &spec(params, discovery_off),
            &path_params,
            body,
            "b",
            &mut diags,
            None,
        );
        assert!(!diags.has_errors(), "{}", diags.render_errors());
        q.iter()
            .map(|p| {
                format!(
                    "{}={}{}",
                    p.field,
                    p.names.join("|"),
                    if p.shape == QueryShape::Map {
                        "[map]"
                    } else if p.shape == QueryShape::Repeated {
                        "[]"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    }

    #[test]
    fn selectors_resolve_through_singular_messages_only() {
        let pool = pool(PROTO);
        let req = pool.get_message_by_name("t.Req").unwrap();
        assert_eq!(
            resolve_field_path(&req, "inner.again.b_count")
                .unwrap()
                .proto_path(),
            "inner.again.b_count"
        );
        assert_eq!(
            resolve_field_path(&req, "inner.again.b_count")
                .unwrap()
                .json_path(),
            "inner.again.bCount"
        );
        let err = |s: &str| resolve_field_path(&req, s).unwrap_err();
        assert_eq!(err("nope"), "message `t.Req` has no field `nope`");
        assert_eq!(
            err("inner.bCount"),
            "message `t.Inner` has no field `bCount`; did you mean `b_count` (field selectors use proto names)?"
        );
        assert!(err("list.a").contains("`list` in `list.a` is not a singular message field"));
        assert!(err("counts.a").contains("not a singular message field"));
        assert_eq!(resolve_field_path(&req, "y.a").unwrap().proto_path(), "y.a");
        assert!(
            resolve_response_field_path(&req, "y.a")
                .unwrap_err()
                .contains("is a member of oneof `pick`")
        );
        assert!(err("inner..a").contains("not a valid field path"));
    }

    #[test]
    fn discovery_recurses_lists_repeated_and_maps_and_stops_at_cycles() {
        assert_eq!(
            query(&[], false, &[], ""),
            [
                "name=name",
                "inner.a=inner.a",
                "inner.b_count=inner.b_count|inner.bCount",
                "inner.tags=inner.tags[]",
                "counts=counts[map]",
                "at=at",
                "x=x",
                // Through the oneof member `y`, and not into `y.again`
                // (Inner is already on the path).
                "y.a=y.a",
                "y.b_count=y.b_count|y.bCount",
                "y.tags=y.tags[]",
            ]
        );
    }

    #[test]
    fn path_and_body_fields_are_not_query_parameters() {
        assert_eq!(
            query(&[], false, &["name"], "inner"),
            [
                "counts=counts[map]",
                "at=at",
                "x=x",
                "y.a=y.a",
                "y.b_count=y.b_count|y.bCount",
                "y.tags=y.tags[]"
            ]
        );
        // A body field inside the oneof member takes the member's fields.
        assert_eq!(
            query(&[], false, &["name"], "y"),
            [
                "inner.a=inner.a",
                "inner.b_count=inner.b_count|inner.bCount",
                "inner.tags=inner.tags[]",
                "counts=counts[map]",
                "at=at",
                "x=x"
            ]
        );
        assert!(query(&[], false, &[], "*").is_empty());
    }

    #[test]
    fn aliases_ignores_and_precedence() {
        // Two names for one field; a name reused for another field: the later wins.
        let q = query(
            &[
                ("name", Some("n"), false),
                ("name", Some("nm"), false),
                ("inner.a", Some("nm"), false),
                ("inner", None, true),
            ],
            false,
            &[],
            "",
        );
        assert_eq!(
            q,
            [
                "name=n",
                "inner.a=nm",
                "counts=counts[map]",
                "at=at",
                "x=x",
                "y.a=y.a",
                "y.b_count=y.b_count|y.bCount",
                "y.tags=y.tags[]"
            ]
        );
        // Discovery off: only explicit names.
        assert_eq!(
            query(&[("at", Some("when"), false)], true, &[], ""),
            ["at=when"]
        );
        assert!(query(&[], true, &[], "").is_empty());
    }

    #[test]
    fn an_aliased_field_still_binds_by_its_json_name_as_in_go() {
        let q = query(&[("y.b_count", Some("bc"), false)], false, &[], "");
        assert!(q.contains(&"y.b_count=bc|y.bCount".to_string()), "{q:?}");
        assert!(!q.iter().any(|p| p.contains("y.b_count|")), "{q:?}");
        // Ignored: no spelling binds it (the Go gateway still binds the JSON
        // name; docs/migrating.md lists the difference).
        let q = query(&[("y.b_count", None, true)], false, &[], "");
        assert!(!q.iter().any(|p| p.starts_with("y.b_count")), "{q:?}");
        // Discovery off: the alias only.
        assert_eq!(
            query(&[("y.b_count", Some("bc"), false)], true, &[], ""),
            ["y.b_count=bc"]
        );
        // A JSON spelling another alias took stays with that alias.
        let q = query(
            &[
                ("y.b_count", Some("bc"), false),
                ("x", Some("y.bCount"), false),
            ],
            false,
            &[],
            "",
        );
        assert!(q.contains(&"y.b_count=bc".to_string()), "{q:?}");
        assert!(q.contains(&"x=y.bCount".to_string()), "{q:?}");
    }

    #[test]
    fn a_discovered_name_taken_by_an_alias_goes_to_the_alias() {
        let q = query(&[("inner.a", Some("name"), false)], false, &[], "");
        assert_eq!(q[0], "inner.a=name");
        assert!(!q.iter().any(|p| p.starts_with("name=")), "{q:?}");
    }
}
