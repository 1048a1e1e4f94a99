//! Binding files (`*_gateway.yaml|yml|json`) and the raw binding records that
//! annotations and files share.
//!
//! The Go project reads these files through the proto3 JSON mapping, so keys
//! may be written as proto field names (`response_body`) or lowerCamelCase
//! (`responseBody`), and an unknown key is an error. The same records are used
//! for `(meshapi.gateway.http)` annotations, which are transcoded to JSON with
//! proto field names first.
//!
//! YAML is read with `serde_yaml_ng`, the maintained continuation of the
//! deprecated `serde_yaml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Location};
use crate::options::Options;

/// Root of a binding file (`meshapi.gateway.Config`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The gateway section.
    pub gateway: Option<RawGatewaySpec>,
    /// The OpenAPI section (`meshapi.gateway.OpenAPISpec`), read with the
    /// proto3 JSON mapping like the Go project reads it: an unknown key is an
    /// error with its position.
    pub openapi: Option<OpenApiSection>,
}

/// The `openapi:` section of a binding file, a `meshapi.gateway.OpenAPISpec`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenApiSection(pub prost_reflect::DynamicMessage);

impl<'de> Deserialize<'de> for OpenApiSection {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let descriptor = crate::schema::message(crate::schema::OPENAPI_SPEC);
        prost_reflect::DynamicMessage::deserialize(descriptor, deserializer).map(OpenApiSection)
    }
}

/// `meshapi.gateway.GatewaySpec`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGatewaySpec {
    /// Endpoint bindings.
    pub endpoints: Option<Vec<RawEndpoint>>,
}

/// One binding record: `EndpointBinding` (files), `ProtoEndpointBinding`
/// (annotations) or `AdditionalEndpointBinding` (nested). Every field is
/// optional so that "set" can be told from "default" when an annotation and a
/// file entry are merged.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    /// Fully qualified method, or `~.Service.Method` (files only).
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
    pub custom: Option<RawCustomPattern>,
    /// Body selector.
    pub body: Option<String>,
    /// Response body selector.
    #[serde(alias = "responseBody")]
    pub response_body: Option<String>,
    /// Explicit query parameter bindings.
    #[serde(alias = "queryParams")]
    pub query_params: Option<Vec<RawQueryParam>>,
    /// More bindings (not allowed inside an additional binding).
    #[serde(alias = "additionalBindings")]
    pub additional_bindings: Option<Vec<RawEndpoint>>,
    /// Only explicit query parameters are read.
    #[serde(alias = "disableQueryParamDiscovery")]
    pub disable_query_param_discovery: Option<bool>,
    /// Streaming toggles.
    pub stream: Option<RawStreamConfig>,
}

/// `meshapi.gateway.CustomPattern`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomPattern {
    /// HTTP method.
    pub method: Option<String>,
    /// Path template.
    pub path: Option<String>,
}

/// `meshapi.gateway.QueryParameterBinding`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueryParam {
    /// Dotted field path.
    pub selector: Option<String>,
    /// Query parameter name.
    pub name: Option<String>,
    /// Never read this field from the query.
    pub ignore: Option<bool>,
}

/// `meshapi.gateway.StreamConfig`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStreamConfig {
    /// Refuse WebSocket.
    #[serde(alias = "disableWebsockets")]
    pub disable_websockets: Option<bool>,
    /// Refuse SSE.
    #[serde(alias = "disableSse")]
    pub disable_sse: Option<bool>,
    /// Refuse chunked transfer.
    #[serde(alias = "disableChunkedTransfer")]
    pub disable_chunked_transfer: Option<bool>,
}

/// An endpoint entry read from a binding file, with where it came from.
#[derive(Debug, Clone)]
pub struct FileEndpoint {
    /// The record; its selector is already expanded (`~.` replaced).
    pub endpoint: RawEndpoint,
    /// Fully qualified method name, no leading dot.
    pub selector: String,
    /// File and line of the entry.
    pub location: Location,
}

/// Which binding file is being read.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// Path of the file on disk.
    pub path: PathBuf,
    /// Package of the proto file the file belongs to; `None` for the global
    /// file, where `~.` is not allowed.
    pub package: Option<String>,
}

/// Expands the binding file name pattern for a proto file.
///
/// `{{.Name}}` is the base name without `.proto`, `{{.Path}}` the relative
/// path without `.proto`, `{{.Dir}}` the relative directory (`.` when none).
pub fn expand_pattern(pattern: &str, proto_file: &str) -> String {
    let path = proto_file.strip_suffix(".proto").unwrap_or(proto_file);
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => (".", path),
    };
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            // Checked when the options were parsed.
            out.push_str(&rest[start..]);
            return out;
        };
        match after[..end].trim() {
            ".Name" => out.push_str(name),
            ".Path" => out.push_str(path),
            ".Dir" => out.push_str(dir),
            other => out.push_str(other),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Finds the binding file of a proto file: `<pattern>.yaml`, `.yml`, `.json`
/// under the search path, the first that exists.
pub fn find_config_file(options: &Options, proto_file: &str) -> Option<PathBuf> {
    let stem = expand_pattern(&options.gateway_config_pattern, proto_file);
    ["yaml", "yml", "json"]
        .iter()
        .map(|ext| {
            let name = format!("{stem}.{ext}");
            if options.config_search_path == Path::new(".") {
                // Keep messages short: `a/b_gateway.yaml`, not `./a/b_gateway.yaml`.
                PathBuf::from(name)
            } else {
                options.config_search_path.join(name)
            }
        })
        .find(|path| path.is_file())
}

/// Reads and checks one binding file. Errors name the file and, where the
/// format tells, the line.
pub fn load_file(source: &ConfigSource) -> Result<Vec<FileEndpoint>, Vec<Diagnostic>> {
    let (display, text) = read_file(source)?;
    parse_file(&display, &text, source.package.as_deref())
}

/// A binding file's name as shown in messages, and its text.
pub(crate) fn read_file(source: &ConfigSource) -> Result<(String, String), Vec<Diagnostic>> {
    let display = source.path.display().to_string();
    match std::fs::read_to_string(&source.path) {
        Ok(text) => Ok((display, text)),
        Err(e) => Err(vec![Diagnostic::error(
            Some(Location::file(&display)),
            format!("cannot read binding file: {e}"),
        )]),
    }
}

/// A YAML error as a diagnostic at its line and column (the message without
/// serde_yaml_ng's own " at line L column C").
pub(crate) fn yaml_error(file: &str, e: &serde_yaml_ng::Error) -> Diagnostic {
    let location = Location {
        file: file.to_string(),
        line: e.location().map(|l| l.line() as u32),
        column: e.location().map(|l| l.column() as u32),
    };
    Diagnostic::error(Some(location), strip_yaml_position(&e.to_string()))
}

/// Parses binding file text; `file` is used in messages, its extension picks
/// the format.
pub fn parse_file(
    file: &str,
    text: &str,
    package: Option<&str>,
) -> Result<Vec<FileEndpoint>, Vec<Diagnostic>> {
    parse_config(file, text, package).map(|parsed| parsed.endpoints)
}

/// Everything a binding file holds.
#[derive(Debug, Default)]
pub struct ParsedConfig {
    /// The `gateway:` endpoints, selectors expanded.
    pub endpoints: Vec<FileEndpoint>,
    /// The `openapi:` section, when present.
    pub openapi: Option<OpenApiSection>,
}

/// [`parse_file`], keeping the `openapi:` section too.
pub fn parse_config(
    file: &str,
    text: &str,
    package: Option<&str>,
) -> Result<ParsedConfig, Vec<Diagnostic>> {
    let config = if Path::new(file).extension().is_some_and(|e| e == "json") {
        serde_json::from_str::<RawConfig>(text).map_err(|e| {
            let location = Location {
                file: file.to_string(),
                line: u32::try_from(e.line()).ok().filter(|l| *l > 0),
                column: u32::try_from(e.column()).ok().filter(|c| *c > 0),
            };
            vec![Diagnostic::error(
                Some(location),
                strip_json_position(&e.to_string()),
            )]
        })?
    } else {
        serde_yaml_ng::from_str::<Option<RawConfig>>(text)
            .map_err(|e| vec![yaml_error(file, &e)])?
            .unwrap_or_default()
    };
    let openapi = config.openapi;
    let endpoints = config.gateway.and_then(|g| g.endpoints).unwrap_or_default();
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut search_from = TextCursor::start();
    for endpoint in endpoints {
        let written = endpoint.selector.clone().unwrap_or_default();
        let line = if written.is_empty() {
            None
        } else {
            find_line(text, &written, &mut search_from)
        };
        let location = Location::line(file, line);
        match expand_selector(&written, package) {
            Ok(selector) => out.push(FileEndpoint {
                endpoint,
                selector,
                location,
            }),
            Err(message) => errors.push(Diagnostic::error(Some(location), message)),
        }
    }
    if errors.is_empty() {
        Ok(ParsedConfig {
            endpoints: out,
            openapi,
        })
    } else {
        Err(errors)
    }
}

/// Checks a selector and expands `~.` to the proto file's package.
fn expand_selector(written: &str, package: Option<&str>) -> Result<String, String> {
    if written.is_empty() {
        return Err("endpoint has no `selector`; write `selector: package.Service.Method`".into());
    }
    let selector = match written.strip_prefix("~.") {
        Some(rest) => match package {
            Some(package) if !package.is_empty() => format!("{package}.{rest}"),
            Some(_) => rest.to_string(),
            None => {
                return Err(format!(
                    "selector `{written}` uses `~.`, which stands for the package of the proto file a binding file belongs to; the global binding file belongs to none, so write the package out"
                ));
            }
        },
        None => written.strip_prefix('.').unwrap_or(written).to_string(),
    };
    let valid = selector.split('.').count() >= 2
        && selector.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if !valid {
        return Err(format!(
            "invalid selector `{written}`; expected `package.Service.Method` (or `~.Service.Method`)"
        ));
    }
    Ok(selector)
}

/// A position in a file's text and the line it is on, for finding entries
/// one after another without counting lines from the start each time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextCursor {
    at: usize,
    line: u32,
}

impl TextCursor {
    /// The start of the text.
    pub(crate) fn start() -> Self {
        TextCursor { at: 0, line: 1 }
    }

    /// A position known to be on `line`.
    pub(crate) fn at(at: usize, line: u32) -> Self {
        TextCursor { at, line }
    }
}

/// Line of the next occurrence of `needle` at or after `from`; moves `from`
/// past it so that repeated selectors map to successive entries.
///
/// serde does not hand out positions of successfully read values, so entry
/// lines are found in the text by the selector as written; entries are in
/// file order, which makes this exact for all but contrived files.
pub(crate) fn find_line(text: &str, needle: &str, from: &mut TextCursor) -> Option<u32> {
    let newlines = |s: &str| s.bytes().filter(|b| *b == b'\n').count() as u32;
    let start = from.at.min(text.len());
    let found = text[start..].find(needle)? + start;
    let line = from.line + newlines(&text[start..found]);
    *from = TextCursor {
        at: found + needle.len(),
        line: line + newlines(needle),
    };
    Some(line)
}

fn strip_yaml_position(message: &str) -> String {
    // serde_yaml_ng appends " at line L column C"; the location says it.
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_variables() {
        assert_eq!(
            expand_pattern("{{.Path}}_gateway", "a/b/echo.proto"),
            "a/b/echo_gateway"
        );
        assert_eq!(
            expand_pattern("{{.Dir}}/gw/{{ .Name }}", "a/b/echo.proto"),
            "a/b/gw/echo"
        );
        assert_eq!(
            expand_pattern("{{.Dir}}/{{.Name}}.gw", "echo.proto"),
            "./echo.gw"
        );
    }

    const YAML: &str = r#"
gateway:
  endpoints:
    - selector: "~.ChatService.StartChat"
      get: "/chat"
      stream:
        disable_sse: true
        disableChunkedTransfer: true
    - selector: "echo.EchoService.Echo"
      get: "/echo/{text}"
      responseBody: "text"
      additional_bindings:
        - post: "/echo"
          body: "*"
      query_params:
        - selector: "options.case_sensitive"
          name: "cs"
        - selector: "internal_flag"
          ignore: true
openapi:
  document:
    info: {title: x}
"#;

    #[test]
    fn yaml_with_both_key_spellings_and_openapi_section() {
        let eps = parse_file("chat_gateway.yaml", YAML, Some("chat.v1")).unwrap();
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].selector, "chat.v1.ChatService.StartChat");
        assert_eq!(eps[0].location.to_string(), "chat_gateway.yaml:4");
        let stream = eps[0].endpoint.stream.unwrap();
        assert_eq!(stream.disable_sse, Some(true));
        assert_eq!(stream.disable_chunked_transfer, Some(true));
        assert_eq!(stream.disable_websockets, None);
        assert_eq!(eps[1].selector, "echo.EchoService.Echo");
        assert_eq!(eps[1].location.line, Some(9));
        assert_eq!(eps[1].endpoint.response_body.as_deref(), Some("text"));
        let extra = eps[1].endpoint.additional_bindings.as_ref().unwrap();
        assert_eq!(extra[0].post.as_deref(), Some("/echo"));
        let q = eps[1].endpoint.query_params.as_ref().unwrap();
        assert_eq!(q[1].ignore, Some(true));
    }

    #[test]
    fn json_file() {
        let text = r#"{"gateway": {"endpoints": [
            {"selector": "a.S.M", "post": "/m", "body": "*", "disableQueryParamDiscovery": true}
        ]}}"#;
        let eps = parse_file("x_gateway.json", text, Some("a")).unwrap();
        assert_eq!(eps[0].endpoint.disable_query_param_discovery, Some(true));
        assert_eq!(eps[0].location.line, Some(2));
    }

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let text = "gateway:\n  endpoints:\n    - selector: a.S.M\n      gett: /x\n";
        let errs = parse_file("a_gateway.yaml", text, Some("a")).unwrap_err();
        let e = errs[0].to_string();
        assert!(e.starts_with("a_gateway.yaml:4:"), "{e}");
        assert!(e.contains("unknown field `gett`"), "{e}");
        let text =
            "{\"gateway\": {\"endpoints\": [\n {\"selector\": \"a.S.M\", \"bodyy\": \"*\"}]}}";
        let errs = parse_file("a_gateway.json", text, Some("a")).unwrap_err();
        let e = errs[0].to_string();
        assert!(e.starts_with("a_gateway.json:2:"), "{e}");
        assert!(e.contains("unknown field `bodyy`"), "{e}");
        let errs = parse_file("a_gateway.yaml", "gatewy: {}\n", None).unwrap_err();
        assert!(errs[0].to_string().contains("unknown field `gatewy`"));
    }

    const OPENAPI_YAML: &str = r#"
openapi:
  document:
    info:
      title: Echo API
      version: "1.0"
      contact: {name: team, email: team@example.com}
    servers: [{url: "https://api.example.com", variables: {region: {enumValues: [eu, us], default_value: eu}}}]
    components:
      security_schemes:
        bearer: {type: http, scheme: bearer, bearerFormat: JWT}
    security: [{name: bearer, scopes: []}]
    tags: [{name: echo, description: Echo calls}]
    extensions: {x-team: {owner: ada, tier: 1}}
  services:
    - selector: "~.EchoService"
      methods:
        Echo: {summary: Echo a text, tags: [echo], deprecated: true, responses: {"404": {description: none}}}
  messages:
    - selector: "~.EchoRequest"
      schema: {title: Request, required: [text], types: [OBJECT]}
      fields:
        text: {maxLength: 64, pattern: "^[a-z]+$", examples: [abc]}
  enums:
    - selector: "~.Mood"
      schema: {description: How it feels}
"#;

    #[test]
    fn openapi_section_is_read_into_its_message() {
        let parsed = parse_config("echo_gateway.yaml", OPENAPI_YAML, Some("e")).unwrap();
        let spec = parsed.openapi.expect("the section is kept").0;
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["document"]["info"]["title"], "Echo API");
        assert_eq!(json["document"]["info"]["version"], "1.0");
        assert_eq!(
            json["document"]["servers"][0]["variables"]["region"]["enumValues"][1],
            "us"
        );
        assert_eq!(
            json["document"]["components"]["securitySchemes"]["bearer"]["bearerFormat"],
            "JWT"
        );
        assert_eq!(json["document"]["extensions"]["x-team"]["tier"], 1.0);
        assert_eq!(json["services"][0]["methods"]["Echo"]["deprecated"], true);
        assert_eq!(json["messages"][0]["schema"]["types"][0], "OBJECT");
        assert_eq!(json["messages"][0]["fields"]["text"]["maxLength"], "64");
        assert_eq!(json["enums"][0]["schema"]["description"], "How it feels");
        // The same section in a JSON file.
        let text = r#"{"openapi": {"document": {"info": {"title": "J"}}}}"#;
        let parsed = parse_config("echo_gateway.json", text, Some("e")).unwrap();
        let json = serde_json::to_value(parsed.openapi.unwrap().0).unwrap();
        assert_eq!(json["document"]["info"]["title"], "J");
    }

    #[test]
    fn openapi_section_errors_name_key_file_and_line() {
        let cases = [
            (
                "echo_gateway.yaml",
                "gateway: {}\nopenapi:\n  document:\n    info:\n      titel: x\n",
                "echo_gateway.yaml:5:",
                "titel",
            ),
            (
                "echo_gateway.yaml",
                "openapi:\n  services:\n    - selector: a.S\n      methods:\n        M: {sumary: x}\n",
                "echo_gateway.yaml:5:",
                "sumary",
            ),
            (
                "echo_gateway.yaml",
                "openapi:\n  messages:\n    - schema: {types: [TUPLE]}\n",
                "echo_gateway.yaml:3:",
                "TUPLE",
            ),
            (
                "echo_gateway.json",
                "{\"openapi\": {\n\"documnt\": {}}}",
                "echo_gateway.json:2:",
                "documnt",
            ),
        ];
        for (file, text, at, word) in cases {
            let errs = parse_config(file, text, Some("e")).unwrap_err();
            let e = errs[0].to_string();
            assert!(e.starts_with(at), "{text}: {e}");
            assert!(e.contains(word), "{text}: {e}");
        }
    }

    #[test]
    fn tilde_is_refused_in_the_global_file() {
        let text = "gateway:\n  endpoints:\n    - selector: ~.S.M\n      get: /x\n";
        let errs = parse_file("global.yaml", text, None).unwrap_err();
        let e = errs[0].to_string();
        assert!(
            e.starts_with("global.yaml:3: error: selector `~.S.M` uses `~.`"),
            "{e}"
        );
    }

    #[test]
    fn bad_selectors() {
        for (selector, expected) in [
            ("Echo", "invalid selector `Echo`"),
            ("a..b", "invalid selector `a..b`"),
            ("a.b-c.D", "invalid selector `a.b-c.D`"),
        ] {
            let text =
                format!("gateway:\n  endpoints:\n    - selector: {selector}\n      get: /x\n");
            let errs = parse_file("f.yaml", &text, Some("p")).unwrap_err();
            assert!(errs[0].to_string().contains(expected), "{}", errs[0]);
        }
        let errs = parse_file(
            "f.yaml",
            "gateway:\n  endpoints:\n    - get: /x\n",
            Some("p"),
        )
        .unwrap_err();
        assert!(errs[0].to_string().contains("endpoint has no `selector`"));
    }

    #[test]
    fn empty_files_are_fine() {
        assert!(parse_file("e.yaml", "", None).unwrap().is_empty());
        assert!(
            parse_file("e.yaml", "# nothing\n", None)
                .unwrap()
                .is_empty()
        );
        assert!(
            parse_file("e.yaml", "gateway: {}\n", None)
                .unwrap()
                .is_empty()
        );
    }
}
