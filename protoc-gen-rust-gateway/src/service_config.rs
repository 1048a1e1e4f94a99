//! grpc-gateway's service configuration file (`grpc_api_configuration`): a
//! `google.api.Service` YAML whose `http.rules` bind methods the way
//! `(google.api.http)` annotations do.
//!
//! ```yaml
//! type: google.api.Service
//! config_version: 3
//! http:
//!   rules:
//!     - selector: library.v1.Library.GetBook
//!       get: /v1/{name=shelves/*/books/*}
//! ```
//!
//! grpc-gateway discards every key it does not know. Here the other
//! sections of a `google.api.Service` (documentation, authentication, …)
//! are accepted unread, and any other key, at the top or inside `http`, is
//! an error naming the key, the file and the line, as in binding files.

use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::config::{RawCustomPattern, RawEndpoint};
use crate::diagnostic::{Diagnostic, Location};

/// `google.api.HttpRule`, as written in a service configuration or read from
/// a `(google.api.http)` annotation.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpRule {
    /// Fully qualified method (configuration files only).
    pub selector: Option<String>,
    /// GET path template.
    pub get: Option<String>,
    /// PUT path template.
    pub put: Option<String>,
    /// POST path template.
    pub post: Option<String>,
    /// DELETE path template.
    pub delete: Option<String>,
    /// PATCH path template.
    pub patch: Option<String>,
    /// Other HTTP method.
    pub custom: Option<RawCustomHttpPattern>,
    /// Body selector.
    pub body: Option<String>,
    /// Response body selector.
    #[serde(alias = "responseBody")]
    pub response_body: Option<String>,
    /// More bindings of the same method.
    #[serde(alias = "additionalBindings")]
    pub additional_bindings: Option<Vec<RawHttpRule>>,
}

/// `google.api.CustomHttpPattern`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomHttpPattern {
    /// The HTTP method.
    pub kind: Option<String>,
    /// Path template.
    pub path: Option<String>,
}

impl RawHttpRule {
    /// The same binding as a meshapi record (the fields are the same
    /// concepts; `custom.kind` is `custom.method`).
    pub fn into_endpoint(self) -> RawEndpoint {
        RawEndpoint {
            selector: self.selector,
            get: self.get,
            put: self.put,
            post: self.post,
            delete: self.delete,
            patch: self.patch,
            custom: self.custom.map(|c| RawCustomPattern {
                method: c.kind,
                path: c.path,
            }),
            body: self.body,
            response_body: self.response_body,
            query_params: None,
            additional_bindings: self
                .additional_bindings
                .map(|extra| extra.into_iter().map(RawHttpRule::into_endpoint).collect()),
            disable_query_param_discovery: None,
            stream: None,
        }
    }
}

/// The root of a service configuration (`google.api.Service`). Only `http`
/// is used; the other fields are there so that a key outside the schema is
/// an error.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    /// `google.api.Service`, the YAML format's type marker.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Service configuration format version (3).
    #[serde(alias = "configVersion")]
    config_version: Option<serde_yaml_ng::Value>,
    /// The HTTP rules.
    http: Option<RawHttp>,
    // The other sections of `google.api.Service`: accepted, not read.
    name: Option<IgnoredAny>,
    title: Option<IgnoredAny>,
    #[serde(alias = "producerProjectId")]
    producer_project_id: Option<IgnoredAny>,
    id: Option<IgnoredAny>,
    apis: Option<IgnoredAny>,
    types: Option<IgnoredAny>,
    enums: Option<IgnoredAny>,
    documentation: Option<IgnoredAny>,
    backend: Option<IgnoredAny>,
    quota: Option<IgnoredAny>,
    authentication: Option<IgnoredAny>,
    context: Option<IgnoredAny>,
    usage: Option<IgnoredAny>,
    endpoints: Option<IgnoredAny>,
    control: Option<IgnoredAny>,
    logs: Option<IgnoredAny>,
    metrics: Option<IgnoredAny>,
    #[serde(alias = "monitoredResources")]
    monitored_resources: Option<IgnoredAny>,
    billing: Option<IgnoredAny>,
    logging: Option<IgnoredAny>,
    monitoring: Option<IgnoredAny>,
    #[serde(alias = "systemParameters")]
    system_parameters: Option<IgnoredAny>,
    #[serde(alias = "sourceInfo")]
    source_info: Option<IgnoredAny>,
    publishing: Option<IgnoredAny>,
    #[serde(alias = "systemTypes")]
    system_types: Option<IgnoredAny>,
}

/// `google.api.Http`. `fully_decode_reserved_expansion` is accepted and not
/// applied: multi-segment captures keep `%2F` encoded (docs/migrating.md).
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    rules: Option<Vec<RawHttpRule>>,
    #[serde(alias = "fullyDecodeReservedExpansion")]
    fully_decode_reserved_expansion: Option<bool>,
}

/// One rule of a service configuration, with where it is.
#[derive(Debug, Clone)]
pub struct ServiceRule {
    /// The rule as a binding record; `selector` is the method, checked and
    /// without a leading dot.
    pub endpoint: RawEndpoint,
    /// Fully qualified method name.
    pub selector: String,
    /// File and line of the rule.
    pub location: Location,
}

/// Reads a service configuration file.
pub fn load(path: &Path) -> Result<Vec<ServiceRule>, Vec<Diagnostic>> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            Some(Location::file(&display)),
            format!("cannot read the service configuration (option `grpc_api_configuration`): {e}"),
        )]
    })?;
    parse(&display, &text)
}

/// Parses service configuration text (YAML, or JSON, which YAML reads too).
pub fn parse(file: &str, text: &str) -> Result<Vec<ServiceRule>, Vec<Diagnostic>> {
    let service = serde_yaml_ng::from_str::<Option<RawService>>(text)
        .map_err(|e| vec![crate::config::yaml_error(file, &e)])?
        .unwrap_or_default();
    let mut errors = Vec::new();
    if let Some(kind) = &service.kind
        && kind != "google.api.Service"
    {
        errors.push(Diagnostic::error(
            Some(Location::file(file)),
            format!("`type: {kind}`: a service configuration is `type: google.api.Service`"),
        ));
    }
    let mut rules = Vec::new();
    let mut search_from = crate::config::TextCursor::start();
    for rule in service.http.and_then(|h| h.rules).unwrap_or_default() {
        let written = rule.selector.clone().unwrap_or_default();
        let line = if written.is_empty() {
            None
        } else {
            crate::config::find_line(text, &written, &mut search_from)
        };
        let location = Location::line(file, line);
        let selector = written.trim().trim_start_matches('.').to_string();
        let valid = selector.split('.').count() >= 3
            && selector.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !valid {
            errors.push(Diagnostic::error(
                Some(location),
                if written.is_empty() {
                    "rule has no `selector`; write `selector: package.Service.Method`".to_string()
                } else {
                    format!(
                        "invalid selector `{written}`: a rule names one method, `package.Service.Method` (no wildcards)"
                    )
                },
            ));
            continue;
        }
        let mut endpoint = rule.into_endpoint();
        endpoint.selector = Some(selector.clone());
        rules.push(ServiceRule {
            endpoint,
            selector,
            location,
        });
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"type: google.api.Service
config_version: 3
name: library.example.com
documentation:
  summary: A library
http:
  rules:
    - selector: library.v1.Library.GetBook
      get: /v1/{name=shelves/*/books/*}
      additional_bindings:
        - get: /v1/books/{name}
    - selector: .library.v1.Library.MoveBook
      custom: {kind: MOVE, path: "/v1/{name=**}"}
      body: "*"
      responseBody: book
"#;

    #[test]
    fn rules_with_their_lines() {
        let rules = parse("api.yaml", CONFIG).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].selector, "library.v1.Library.GetBook");
        assert_eq!(rules[0].location.to_string(), "api.yaml:8");
        let extra = rules[0].endpoint.additional_bindings.as_ref().unwrap();
        assert_eq!(extra[0].get.as_deref(), Some("/v1/books/{name}"));
        assert_eq!(rules[1].selector, "library.v1.Library.MoveBook");
        assert_eq!(rules[1].location.line, Some(12));
        let custom = rules[1].endpoint.custom.as_ref().unwrap();
        assert_eq!(custom.method.as_deref(), Some("MOVE"));
        assert_eq!(rules[1].endpoint.response_body.as_deref(), Some("book"));
    }

    #[test]
    fn unknown_keys_and_bad_selectors_are_errors_with_lines() {
        let cases = [
            (
                "type: google.api.Service\nhttp:\n  rulez: []\n",
                "api.yaml:3:",
                "unknown field `rulez`",
            ),
            (
                "http:\n  rules:\n    - selector: a.S.M\n      gett: /x\n",
                "api.yaml:4:",
                "unknown field `gett`",
            ),
            ("htp: {}\n", "api.yaml:1:", "unknown field `htp`"),
            (
                "http:\n  rules:\n    - selector: a.S.M\n      custom: {method: X, path: /x}\n",
                "api.yaml:4:",
                "unknown field `method`",
            ),
            (
                "http:\n  rules:\n    - selector: \"a.S.*\"\n      get: /x\n",
                "api.yaml:3: error: invalid selector `a.S.*`",
                "no wildcards",
            ),
            (
                "type: google.api.Other\n",
                "api.yaml: error: `type: google.api.Other`",
                "",
            ),
        ];
        for (text, at, what) in cases {
            let errors = parse("api.yaml", text).unwrap_err();
            let e = errors[0].to_string();
            assert!(e.starts_with(at), "{text}: {e}");
            assert!(e.contains(what), "{text}: {e}");
        }
    }
}
