//! Plugin options: `--rust-gateway_opt=key=value,key=value`.

use std::path::PathBuf;

/// How a repeated field bound to a path variable is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepeatedPathSeparator {
    /// `a,b,c`
    #[default]
    Csv,
    /// `a|b|c`
    Pipes,
    /// `a b c`
    Ssv,
    /// `a\tb\tc`
    Tsv,
}

impl RepeatedPathSeparator {
    /// The separator character.
    pub fn char(self) -> char {
        match self {
            RepeatedPathSeparator::Csv => ',',
            RepeatedPathSeparator::Pipes => '|',
            RepeatedPathSeparator::Ssv => ' ',
            RepeatedPathSeparator::Tsv => '\t',
        }
    }

    /// The option spelling.
    pub fn name(self) -> &'static str {
        match self {
            RepeatedPathSeparator::Csv => "csv",
            RepeatedPathSeparator::Pipes => "pipes",
            RepeatedPathSeparator::Ssv => "ssv",
            RepeatedPathSeparator::Tsv => "tsv",
        }
    }
}

/// What a `{field=*}` path variable matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StarVariable {
    /// The Go project's meaning: when it is the last segment of a template,
    /// `{field=*}` takes the rest of the path, slashes included, and the
    /// field receives it with a leading `/` (`/files/{path=*}` on
    /// `/files/a/b.txt` gives `/a/b.txt`).
    #[default]
    CatchAll,
    /// The `google.api.http` meaning: exactly one segment, like `{field}`.
    OneSegment,
}

impl StarVariable {
    /// The option spelling.
    pub fn name(self) -> &'static str {
        match self {
            StarVariable::CatchAll => "catch_all",
            StarVariable::OneSegment => "one_segment",
        }
    }
}

/// Options of the Go plugins (meshapi's, grpc-gateway's, and Go's protoc
/// plugin framework) that only shape Go output. They are accepted so that
/// those projects' command lines and `buf.gen.yaml` files work unchanged,
/// and named in one warning.
pub const GO_ONLY_OPTIONS: &[&str] = &[
    "allow_repeated_fields_in_body",
    "annotate_code",
    "generate_local",
    "log_file",
    "log_level",
    "logtostderr",
    "module",
    "omit_package_doc",
    "paths",
    "register_func_suffix",
    "request_context",
    "standalone",
];

/// Generator options. The defaults are those of the Go project
/// (meshapi/grpc-api-gateway), so the same protoc command lines mean the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Directory under which binding files are looked up (default `.`, the
    /// working directory of protoc).
    pub config_search_path: PathBuf,
    /// A global binding file, loaded before the per-proto files.
    pub gateway_config: Option<PathBuf>,
    /// A grpc-gateway service configuration (`google.api.Service` YAML) whose
    /// `http.rules` bind methods like `(google.api.http)` annotations.
    pub grpc_api_configuration: Option<PathBuf>,
    /// Name pattern of per-proto binding files, without extension; knows
    /// `{{.Name}}`, `{{.Path}}` and `{{.Dir}}`.
    pub gateway_config_pattern: String,
    /// Bind methods without a binding to `POST /<package>.<Service>/<Method>`.
    pub generate_unbound_methods: bool,
    /// Warn about methods without a binding.
    pub warn_on_unbound_methods: bool,
    /// Allow a body on DELETE bindings.
    pub allow_delete_body: bool,
    /// Fill `update_mask` of PATCH requests from the fields present in the body.
    pub allow_patch_feature: bool,
    /// How repeated path parameters are split.
    pub repeated_path_param_separator: RepeatedPathSeparator,
    /// What `{field=*}` means in `meshapi.gateway.http` bindings.
    pub star_variable: StarVariable,
    /// Also write `gateway_model.txt`, a readable dump of the binding model.
    pub dump_model: bool,
    /// Also generate `direct_router`, which calls the service
    /// implementation (tonic's `foo_server::Foo` trait) in process without
    /// protobuf; needs tonic's server code next to the client's.
    pub direct_calls: bool,
    /// OpenAPI documents: format (none by default), grouping, operation ids.
    pub openapi: crate::openapi::OpenApiOptions,
    /// Go-only options that were given (see [`GO_ONLY_OPTIONS`]), in order;
    /// the generator names them in a warning.
    pub ignored_go_options: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_search_path: PathBuf::from("."),
            gateway_config: None,
            grpc_api_configuration: None,
            gateway_config_pattern: "{{.Path}}_gateway".to_string(),
            generate_unbound_methods: false,
            warn_on_unbound_methods: false,
            allow_delete_body: false,
            allow_patch_feature: true,
            repeated_path_param_separator: RepeatedPathSeparator::Csv,
            star_variable: StarVariable::CatchAll,
            dump_model: false,
            direct_calls: false,
            openapi: crate::openapi::OpenApiOptions::default(),
            ignored_go_options: Vec::new(),
        }
    }
}

/// Every key the plugin knows, for the error message on an unknown one.
const KEYS: &[&str] = &[
    "allow_delete_body",
    "allow_patch_feature",
    "config_search_path",
    "direct_calls",
    "dump_model",
    "gateway_config",
    "gateway_config_pattern",
    "generate_unbound_methods",
    "grpc_api_configuration",
    "openapi",
    "openapi_filename",
    "openapi_operation_id_mode",
    "openapi_output_mode",
    "repeated_path_param_separator",
    "star_variable",
    "warn_on_unbound_methods",
];

impl Options {
    /// Parses protoc's parameter string, e.g.
    /// `allow_delete_body=true,config_search_path=api`.
    ///
    /// A boolean key without a value means `true`; values are spelled as Go
    /// spells booleans (`true`, `1`, `t`, `TRUE`, …). The Go-only options
    /// ([`GO_ONLY_OPTIONS`], and `M<file>=<package>` import mappings) are
    /// accepted and recorded in `ignored_go_options`.
    pub fn parse(parameter: &str) -> Result<Options, String> {
        let mut options = Options::default();
        for item in parameter
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            let text = || {
                value
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("option `{key}` needs a value: `{key}=...`"))
            };
            match key {
                "config_search_path" => options.config_search_path = PathBuf::from(text()?),
                "gateway_config" => options.gateway_config = Some(PathBuf::from(text()?)),
                "grpc_api_configuration" => {
                    options.grpc_api_configuration = Some(PathBuf::from(text()?))
                }
                "gateway_config_pattern" => {
                    let pattern = text()?;
                    check_pattern(pattern)?;
                    options.gateway_config_pattern = pattern.to_string();
                }
                "generate_unbound_methods" => {
                    options.generate_unbound_methods = boolean(key, value)?
                }
                "warn_on_unbound_methods" => options.warn_on_unbound_methods = boolean(key, value)?,
                "allow_delete_body" => options.allow_delete_body = boolean(key, value)?,
                "allow_patch_feature" => options.allow_patch_feature = boolean(key, value)?,
                "dump_model" => options.dump_model = boolean(key, value)?,
                "direct_calls" => options.direct_calls = boolean(key, value)?,
                "repeated_path_param_separator" => {
                    options.repeated_path_param_separator = match text()? {
                        "csv" => RepeatedPathSeparator::Csv,
                        "pipes" => RepeatedPathSeparator::Pipes,
                        "ssv" => RepeatedPathSeparator::Ssv,
                        "tsv" => RepeatedPathSeparator::Tsv,
                        other => {
                            return Err(format!(
                                "option `repeated_path_param_separator` must be one of csv, pipes, ssv, tsv; got `{other}`"
                            ));
                        }
                    }
                }
                "openapi" => {
                    options.openapi.format = Some(match text()? {
                        "json" => crate::openapi::Format::Json,
                        "yaml" => crate::openapi::Format::Yaml,
                        other => {
                            return Err(format!(
                                "option `openapi` must be `json` or `yaml`; got `{other}`"
                            ));
                        }
                    })
                }
                "openapi_output_mode" => {
                    options.openapi.mode = match text()? {
                        "package" => crate::openapi::OutputMode::Package,
                        "merge" => crate::openapi::OutputMode::Merge,
                        other => {
                            return Err(format!(
                                "option `openapi_output_mode` must be `package` or `merge`; got `{other}`"
                            ));
                        }
                    }
                }
                "openapi_filename" => options.openapi.filename = text()?.to_string(),
                "openapi_operation_id_mode" => {
                    options.openapi.operation_ids = match text()? {
                        "service+method" => crate::openapi::OperationIdMode::ServiceAndMethod,
                        "method" => crate::openapi::OperationIdMode::Method,
                        "fqn" => crate::openapi::OperationIdMode::Fqn,
                        other => {
                            return Err(format!(
                                "option `openapi_operation_id_mode` must be `service+method`, `method` or `fqn`; got `{other}`"
                            ));
                        }
                    }
                }
                "star_variable" => {
                    options.star_variable = match text()? {
                        "catch_all" => StarVariable::CatchAll,
                        "one_segment" => StarVariable::OneSegment,
                        other => {
                            return Err(format!(
                                "option `star_variable` must be `catch_all` or `one_segment`; got `{other}`"
                            ));
                        }
                    }
                }
                _ if GO_ONLY_OPTIONS.contains(&key) || is_go_import_mapping(key) => {
                    if !options.ignored_go_options.iter().any(|k| k == key) {
                        options.ignored_go_options.push(key.to_string());
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown option `{key}`; known options: {}",
                        KEYS.join(", ")
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// Go's protoc plugins take `M<proto file>=<Go import path>` mappings.
fn is_go_import_mapping(key: &str) -> bool {
    key.len() > 1 && key.starts_with('M') && key.ends_with(".proto")
}

/// A boolean as Go's `strconv.ParseBool` reads it, which is how the Go
/// plugin reads its options; no value means `true`.
fn boolean(key: &str, value: Option<&str>) -> Result<bool, String> {
    match value {
        None | Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(format!(
            "option `{key}` must be `true` or `false`; got `{other}`"
        )),
    }
}

/// The variables a binding file name pattern may use.
pub(crate) const PATTERN_VARIABLES: &[&str] = &["Name", "Path", "Dir"];

fn check_pattern(pattern: &str) -> Result<(), String> {
    let mut rest = pattern;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            format!("option `gateway_config_pattern`: `{{{{` without `}}}}` in `{pattern}`")
        })?;
        let name = after[..end].trim();
        let name = name.strip_prefix('.').unwrap_or("");
        if !PATTERN_VARIABLES.contains(&name) {
            return Err(format!(
                "option `gateway_config_pattern`: unknown variable `{}` in `{pattern}`; use {{{{.Name}}}}, {{{{.Path}}}} or {{{{.Dir}}}}",
                after[..end].trim()
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_go_plugin() {
        let o = Options::parse("").unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.config_search_path, PathBuf::from("."));
        assert_eq!(o.gateway_config, None);
        assert_eq!(o.gateway_config_pattern, "{{.Path}}_gateway");
        assert!(!o.generate_unbound_methods);
        assert!(!o.warn_on_unbound_methods);
        assert!(!o.allow_delete_body);
        assert!(o.allow_patch_feature);
        assert_eq!(o.repeated_path_param_separator, RepeatedPathSeparator::Csv);
        assert_eq!(o.star_variable, StarVariable::CatchAll);
        assert!(o.ignored_go_options.is_empty());
    }

    #[test]
    fn go_only_options_are_accepted_and_recorded() {
        // The options of the Go examples' buf.gen.yaml files, and the rest of
        // the Go plugin's.
        let o = Options::parse(
            "paths=source_relative,generate_local=true,omit_package_doc,register_func_suffix=GW,\
             request_context=false,standalone=true,log_level=debug,log_file=gen.log,module=example.com/x,\
             Mecho/echo.proto=example.com/echo,annotate_code,paths=import,allow_delete_body=1",
        )
        .unwrap();
        assert_eq!(
            o.ignored_go_options,
            [
                "paths",
                "generate_local",
                "omit_package_doc",
                "register_func_suffix",
                "request_context",
                "standalone",
                "log_level",
                "log_file",
                "module",
                "Mecho/echo.proto",
                "annotate_code",
            ]
        );
        assert!(o.allow_delete_body);
    }

    #[test]
    fn booleans_as_go_spells_them() {
        for (text, expected) in [
            ("1", true),
            ("t", true),
            ("T", true),
            ("TRUE", true),
            ("True", true),
            ("0", false),
            ("f", false),
            ("F", false),
            ("FALSE", false),
            ("False", false),
        ] {
            let o = Options::parse(&format!("allow_delete_body={text}")).unwrap();
            assert_eq!(o.allow_delete_body, expected, "{text}");
        }
    }

    #[test]
    fn direct_calls_is_off_unless_asked() {
        assert!(!Options::parse("").unwrap().direct_calls);
        assert!(Options::parse("direct_calls").unwrap().direct_calls);
        assert!(!Options::parse("direct_calls=false").unwrap().direct_calls);
    }

    #[test]
    fn star_variable() {
        let o = Options::parse("star_variable=one_segment").unwrap();
        assert_eq!(o.star_variable, StarVariable::OneSegment);
        assert_eq!(o.star_variable.name(), "one_segment");
        let o = Options::parse("star_variable=catch_all").unwrap();
        assert_eq!(o.star_variable, StarVariable::CatchAll);
        let e = Options::parse("star_variable=rest").unwrap_err();
        assert!(
            e.contains("must be `catch_all` or `one_segment`; got `rest`"),
            "{e}"
        );
    }

    #[test]
    fn every_key() {
        let o = Options::parse(
            "config_search_path=api, gateway_config=global.yaml,gateway_config_pattern={{.Dir}}/gw_{{ .Name }},\
             generate_unbound_methods=true,warn_on_unbound_methods,allow_delete_body=true,\
             allow_patch_feature=false,repeated_path_param_separator=pipes,log_level=debug,log_file=x.log,dump_model,\
             star_variable=one_segment,grpc_api_configuration=api/service.yaml",
        )
        .unwrap();
        assert_eq!(o.config_search_path, PathBuf::from("api"));
        assert_eq!(o.gateway_config, Some(PathBuf::from("global.yaml")));
        assert_eq!(o.gateway_config_pattern, "{{.Dir}}/gw_{{ .Name }}");
        assert!(o.generate_unbound_methods);
        assert!(o.warn_on_unbound_methods);
        assert!(o.allow_delete_body);
        assert!(!o.allow_patch_feature);
        assert_eq!(
            o.repeated_path_param_separator,
            RepeatedPathSeparator::Pipes
        );
        assert!(o.dump_model);
        assert_eq!(o.star_variable, StarVariable::OneSegment);
        assert_eq!(
            o.grpc_api_configuration,
            Some(PathBuf::from("api/service.yaml"))
        );
        assert_eq!(o.ignored_go_options, ["log_level", "log_file"]);
    }

    #[test]
    fn separators() {
        for (name, c) in [("csv", ','), ("pipes", '|'), ("ssv", ' '), ("tsv", '\t')] {
            let o = Options::parse(&format!("repeated_path_param_separator={name}")).unwrap();
            assert_eq!(o.repeated_path_param_separator.char(), c);
            assert_eq!(o.repeated_path_param_separator.name(), name);
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (
                "bogus=1",
                "unknown option `bogus`; known options: allow_delete_body",
            ),
            (
                "allow_delete_body=yes",
                "option `allow_delete_body` must be `true` or `false`; got `yes`",
            ),
            (
                "repeated_path_param_separator=comma",
                "must be one of csv, pipes, ssv, tsv; got `comma`",
            ),
            (
                "config_search_path",
                "option `config_search_path` needs a value",
            ),
            ("gateway_config=", "option `gateway_config` needs a value"),
            (
                "gateway_config_pattern={{.File}}",
                "unknown variable `.File`",
            ),
            ("gateway_config_pattern={{.Name", "without `}}`"),
        ];
        for (input, expected) in cases {
            let e = Options::parse(input).unwrap_err();
            assert!(e.contains(expected), "{input}: {e}");
        }
    }
}
