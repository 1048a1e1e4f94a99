//! Binding specs: annotations and binding-file entries read, merged and split
//! into one spec per HTTP binding, before they are resolved against the
//! descriptors.

use prost_reflect::{DescriptorPool, DynamicMessage, ExtensionDescriptor, MethodDescriptor, Value};

use crate::config::{RawEndpoint, RawQueryParam, RawStreamConfig};
use crate::diagnostic::{Diagnostic, Location};
use crate::model::{HttpMethod, StreamToggles};

/// Full name of the method option extension.
pub const HTTP_EXTENSION: &str = "meshapi.gateway.http";
/// `google.api.http` (extension 72295728 of `MethodOptions`), the binding
/// of grpc-gateway, Envoy and Cloud Endpoints.
pub const GOOGLE_HTTP_EXTENSION: &str = "google.api.http";
/// Its message type.
const GOOGLE_HTTP_RULE: &str = "google.api.HttpRule";
/// Its message type.
const HTTP_EXTENSION_TYPE: &str = "meshapi.gateway.ProtoEndpointBinding";

/// Which schema a binding was written in; it decides what a template means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// `(meshapi.gateway.http)` annotations and binding files: the Go
    /// project's meaning (`{f=*}` last is a catch-all, per `star_variable`).
    #[default]
    Meshapi,
    /// `(google.api.http)` annotations and service configurations: Google's
    /// meaning (`{f=*}` is one segment).
    Google,
}

/// One HTTP binding as written, before resolution.
#[derive(Debug, Clone)]
pub struct BindingSpec {
    /// The schema it was written in.
    pub family: Family,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template text.
    pub path: String,
    /// Body selector (`""`, `"*"` or a field path).
    pub body: String,
    /// Response body selector (`""`/`"*"` for all, or a field path).
    pub response_body: String,
    /// Explicit query parameter bindings, in order.
    pub query_params: Vec<RawQueryParam>,
    /// `disable_query_param_discovery`.
    pub disable_query_param_discovery: bool,
    /// `stream` toggles.
    pub stream: StreamToggles,
    /// Where the binding was written.
    pub location: Option<Location>,
}

/// Finds the `(meshapi.gateway.http)` extension in the pool, if any file
/// imported the annotations.
pub fn http_extension(pool: &DescriptorPool) -> Option<ExtensionDescriptor> {
    extension_of_type(pool, HTTP_EXTENSION, HTTP_EXTENSION_TYPE)
}

/// Finds the `(google.api.http)` extension in the pool, if any file imported
/// `google/api/annotations.proto` (ours or a vendored googleapis copy).
pub fn google_http_extension(pool: &DescriptorPool) -> Option<ExtensionDescriptor> {
    extension_of_type(pool, GOOGLE_HTTP_EXTENSION, GOOGLE_HTTP_RULE)
}

fn extension_of_type(
    pool: &DescriptorPool,
    name: &str,
    message: &str,
) -> Option<ExtensionDescriptor> {
    pool.get_extension_by_name(name).filter(|ext| {
        ext.kind()
            .as_message()
            .is_some_and(|m| m.full_name() == message)
    })
}

/// Reads a method's `(meshapi.gateway.http)` annotation as a raw record.
pub fn read_annotation(
    method: &MethodDescriptor,
    extension: Option<&ExtensionDescriptor>,
    location: &Location,
) -> Result<Option<RawEndpoint>, Diagnostic> {
    read_option::<RawEndpoint>(
        method,
        extension,
        location,
        "(meshapi.gateway.http) annotation",
    )
}

/// Reads a method's `(google.api.http)` option as a raw record: an
/// `HttpRule` is our binding record with `custom.kind` for `custom.method`
/// and without the meshapi-only fields. Its `selector`, meaningless in an
/// annotation, is dropped.
pub fn read_google_annotation(
    method: &MethodDescriptor,
    extension: Option<&ExtensionDescriptor>,
    location: &Location,
) -> Result<Option<RawEndpoint>, Diagnostic> {
    let rule = read_option::<crate::service_config::RawHttpRule>(
        method,
        extension,
        location,
        "(google.api.http) option",
    )?;
    Ok(rule.map(|rule| RawEndpoint {
        selector: None,
        ..rule.into_endpoint()
    }))
}

/// A method option read into `T` through its JSON form (proto field names),
/// so that annotations and binding files share one record type.
fn read_option<T: serde::de::DeserializeOwned>(
    method: &MethodDescriptor,
    extension: Option<&ExtensionDescriptor>,
    location: &Location,
    what: &str,
) -> Result<Option<T>, Diagnostic> {
    let Some(extension) = extension else {
        return Ok(None);
    };
    let options = method.options();
    if !options.has_extension(extension) {
        return Ok(None);
    }
    let value = options.get_extension(extension);
    let Value::Message(message) = value.as_ref() else {
        return Ok(None);
    };
    to_record(message).map(Some).map_err(|e| {
        Diagnostic::error(
            Some(location.clone()),
            format!("cannot read the {what} of `{}`: {e}", method.full_name()),
        )
    })
}

fn to_record<T: serde::de::DeserializeOwned>(message: &DynamicMessage) -> Result<T, String> {
    let options = prost_reflect::SerializeOptions::new().use_proto_field_name(true);
    let json = message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| e.to_string())?;
    serde_json::from_value(json).map_err(|e| e.to_string())
}

/// Merges an annotation with a binding-file entry for the same method: a
/// scalar set in the file wins, lists are concatenated (annotation first),
/// `stream` is merged toggle by toggle. The pattern counts as one scalar: a
/// file entry with a pattern replaces the annotation's.
pub fn merge(annotation: RawEndpoint, file: RawEndpoint) -> RawEndpoint {
    let file_has_pattern = pattern_count(&file) > 0;
    let (get, put, post, delete, patch, custom) = if file_has_pattern {
        (
            file.get,
            file.put,
            file.post,
            file.delete,
            file.patch,
            file.custom,
        )
    } else {
        (
            annotation.get,
            annotation.put,
            annotation.post,
            annotation.delete,
            annotation.patch,
            annotation.custom,
        )
    };
    RawEndpoint {
        selector: file.selector,
        get,
        put,
        post,
        delete,
        patch,
        custom,
        body: file.body.or(annotation.body),
        response_body: file.response_body.or(annotation.response_body),
        query_params: concat(annotation.query_params, file.query_params),
        additional_bindings: concat(annotation.additional_bindings, file.additional_bindings),
        disable_query_param_discovery: file
            .disable_query_param_discovery
            .or(annotation.disable_query_param_discovery),
        stream: match (annotation.stream, file.stream) {
            (Some(a), Some(f)) => Some(RawStreamConfig {
                disable_websockets: f.disable_websockets.or(a.disable_websockets),
                disable_sse: f.disable_sse.or(a.disable_sse),
                disable_chunked_transfer: f.disable_chunked_transfer.or(a.disable_chunked_transfer),
            }),
            (a, f) => f.or(a),
        },
    }
}

fn concat<T>(a: Option<Vec<T>>, b: Option<Vec<T>>) -> Option<Vec<T>> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

fn pattern_count(e: &RawEndpoint) -> usize {
    [&e.get, &e.put, &e.post, &e.delete, &e.patch]
        .iter()
        .filter(|p| p.is_some())
        .count()
        + usize::from(e.custom.is_some())
}

/// Splits a (merged) record into its primary and additional binding specs.
pub fn split(
    endpoint: &RawEndpoint,
    location: Option<&Location>,
    additional_locations: &dyn Fn(usize, &RawEndpoint) -> Option<Location>,
) -> Result<Vec<BindingSpec>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut specs = Vec::new();
    match one_spec(endpoint, location.cloned()) {
        Ok(spec) => specs.push(spec),
        Err(e) => errors.push(e),
    }
    for (i, extra) in endpoint.additional_bindings.iter().flatten().enumerate() {
        let extra_location = additional_locations(i, extra).or_else(|| location.cloned());
        if extra.additional_bindings.is_some() {
            errors.push(Diagnostic::error(
                extra_location.clone(),
                "additional bindings cannot have `additional_bindings` of their own",
            ));
            continue;
        }
        if extra.selector.is_some() {
            errors.push(Diagnostic::error(
                extra_location.clone(),
                "additional bindings take the selector of their endpoint; remove `selector`",
            ));
            continue;
        }
        match one_spec(extra, extra_location) {
            Ok(spec) => specs.push(spec),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

fn one_spec(e: &RawEndpoint, location: Option<Location>) -> Result<BindingSpec, Diagnostic> {
    let mut patterns: Vec<(HttpMethod, &str)> = Vec::new();
    for (method, path) in [
        (HttpMethod::Get, &e.get),
        (HttpMethod::Put, &e.put),
        (HttpMethod::Post, &e.post),
        (HttpMethod::Delete, &e.delete),
        (HttpMethod::Patch, &e.patch),
    ] {
        if let Some(path) = path {
            patterns.push((method, path));
        }
    }
    if let Some(custom) = &e.custom {
        let method = custom.method.as_deref().unwrap_or("");
        let path = custom.path.as_deref().unwrap_or("");
        if method.is_empty() {
            return Err(Diagnostic::error(
                location,
                "`custom` pattern needs a `method`",
            ));
        }
        if !method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        {
            return Err(Diagnostic::error(
                location,
                format!("`custom` method `{method}` is not a valid HTTP method token"),
            ));
        }
        // The Go project upper-cases custom methods (`test` answers `TEST`);
        // HTTP methods are case-sensitive, so that is the one spelling served.
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => HttpMethod::Get,
            "PUT" => HttpMethod::Put,
            "POST" => HttpMethod::Post,
            "DELETE" => HttpMethod::Delete,
            "PATCH" => HttpMethod::Patch,
            upper => HttpMethod::Custom(upper.to_string()),
        };
        patterns.push((method, path));
    }
    let (method, path) = match patterns.as_slice() {
        [] => {
            return Err(Diagnostic::error(
                location,
                "binding has no pattern: set one of `get`, `put`, `post`, `delete`, `patch` or `custom`",
            ));
        }
        [one] => one.clone(),
        [first, second, ..] => {
            return Err(Diagnostic::error(
                location,
                format!(
                    "binding sets both {} and {}; a binding has exactly one pattern (use `additional_bindings` for more)",
                    first.0, second.0
                ),
            ));
        }
    };
    let stream = e.stream.unwrap_or_default();
    Ok(BindingSpec {
        family: Family::Meshapi,
        method,
        path: path.to_string(),
        body: e.body.clone().unwrap_or_default(),
        response_body: e.response_body.clone().unwrap_or_default(),
        query_params: e.query_params.clone().unwrap_or_default(),
        disable_query_param_discovery: e.disable_query_param_discovery.unwrap_or(false),
        stream: StreamToggles {
            disable_websockets: stream.disable_websockets.unwrap_or(false),
            disable_sse: stream.disable_sse.unwrap_or(false),
            disable_chunked_transfer: stream.disable_chunked_transfer.unwrap_or(false),
        },
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawCustomPattern;

    fn raw(get: Option<&str>, body: Option<&str>) -> RawEndpoint {
        RawEndpoint {
            get: get.map(str::to_string),
            body: body.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn file_scalars_win_lists_concatenate_stream_merges() {
        let mut a = raw(Some("/a"), Some("x"));
        a.response_body = Some("r".into());
        a.query_params = Some(vec![RawQueryParam {
            selector: Some("q1".into()),
            name: Some("one".into()),
            ignore: None,
        }]);
        a.stream = Some(RawStreamConfig {
            disable_sse: Some(true),
            ..Default::default()
        });
        let mut f = RawEndpoint {
            post: Some("/f".into()),
            ..Default::default()
        };
        f.query_params = Some(vec![RawQueryParam {
            selector: Some("q2".into()),
            name: Some("two".into()),
            ignore: None,
        }]);
        f.stream = Some(RawStreamConfig {
            disable_websockets: Some(true),
            ..Default::default()
        });
        let m = merge(a, f);
        assert_eq!(m.get, None, "the file's pattern replaces the annotation's");
        assert_eq!(m.post.as_deref(), Some("/f"));
        assert_eq!(
            m.body.as_deref(),
            Some("x"),
            "unset in the file: the annotation's stays"
        );
        assert_eq!(m.response_body.as_deref(), Some("r"));
        let names: Vec<_> = m
            .query_params
            .unwrap()
            .into_iter()
            .map(|q| q.name.unwrap())
            .collect();
        assert_eq!(names, ["one", "two"]);
        let s = m.stream.unwrap();
        assert_eq!(
            (s.disable_sse, s.disable_websockets),
            (Some(true), Some(true))
        );
    }

    #[test]
    fn file_without_pattern_keeps_the_annotation_pattern() {
        let m = merge(raw(Some("/a"), None), raw(None, Some("*")));
        assert_eq!(m.get.as_deref(), Some("/a"));
        assert_eq!(m.body.as_deref(), Some("*"));
    }

    #[test]
    fn pattern_errors() {
        let none = |_: usize, _: &RawEndpoint| None;
        let e = split(&RawEndpoint::default(), None, &none).unwrap_err();
        assert!(e[0].message.contains("binding has no pattern"));
        let mut two = raw(Some("/a"), None);
        two.post = Some("/b".into());
        let e = split(&two, None, &none).unwrap_err();
        assert!(
            e[0].message.contains("binding sets both GET and POST"),
            "{}",
            e[0]
        );
        let custom = RawEndpoint {
            custom: Some(RawCustomPattern {
                method: Some("HEAD".into()),
                path: Some("/h".into()),
            }),
            ..Default::default()
        };
        let specs = split(&custom, None, &none).unwrap();
        assert_eq!(specs[0].method, HttpMethod::Custom("HEAD".into()));
        let lower_get = RawEndpoint {
            custom: Some(RawCustomPattern {
                method: Some("get".into()),
                path: Some("/h".into()),
            }),
            ..Default::default()
        };
        assert_eq!(
            split(&lower_get, None, &none).unwrap()[0].method,
            HttpMethod::Get
        );
        let lower_custom = RawEndpoint {
            custom: Some(RawCustomPattern {
                method: Some("test".into()),
                path: Some("/t".into()),
            }),
            ..Default::default()
        };
        assert_eq!(
            split(&lower_custom, None, &none).unwrap()[0].method,
            HttpMethod::Custom("TEST".into())
        );
        let bad = RawEndpoint {
            custom: Some(RawCustomPattern {
                method: Some("BAD METHOD".into()),
                path: Some("/h".into()),
            }),
            ..Default::default()
        };
        assert!(
            split(&bad, None, &none).unwrap_err()[0]
                .message
                .contains("not a valid HTTP method")
        );
        let mut nested = raw(Some("/a"), None);
        nested.additional_bindings = Some(vec![RawEndpoint {
            additional_bindings: Some(vec![]),
            ..raw(Some("/b"), None)
        }]);
        assert!(
            split(&nested, None, &none).unwrap_err()[0]
                .message
                .contains("cannot have `additional_bindings`")
        );
    }
}
