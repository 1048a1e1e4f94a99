//! OpenAPI 3.1 documents from the binding model: the same bindings the
//! gateway serves, with streams described as they are served.
//!
//! Pure like the code generator: model and descriptors in, `(file name,
//! text)` pairs out. [`operation`] builds paths and operations, [`schema`]
//! the JSON Schemas of messages, [`overrides`] applies the
//! `meshapi.gateway.openapi` options and the binding files' `openapi:`
//! sections.

mod comments;
pub mod operation;
pub mod overrides;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{DescriptorPool, FileDescriptor};
use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::model::Model;
use crate::options::Options;
use overrides::{Overrides, merge};
use schema::Schemas;

/// The OpenAPI version written.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The HTTP methods a Path Item Object can hold.
const STANDARD_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Document format (option `openapi=json|yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.openapi.json`
    Json,
    /// `.openapi.yaml`
    Yaml,
}

impl Format {
    /// The option spelling, also the file extension.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

/// One document per proto package, or one for everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// `<package>.openapi.<ext>` per proto package.
    #[default]
    Package,
    /// One `<openapi_filename>.openapi.<ext>`.
    Merge,
}

/// How operation ids are derived (the Go plugin's `operation_id_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperationIdMode {
    /// `Service_Method` (the Go plugin's default).
    #[default]
    ServiceAndMethod,
    /// `Method`
    Method,
    /// `package.Service.Method`
    Fqn,
}

/// OpenAPI settings of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiOptions {
    /// Format of the documents; `None` writes no document (the default).
    pub format: Option<Format>,
    /// Per package or merged.
    pub mode: OutputMode,
    /// File name stem in merge mode (the Go plugin's `output_filename`).
    pub filename: String,
    /// Operation ids.
    pub operation_ids: OperationIdMode,
}

impl Default for OpenApiOptions {
    fn default() -> Self {
        OpenApiOptions {
            format: None,
            mode: OutputMode::Package,
            filename: "apidocs".to_string(),
            operation_ids: OperationIdMode::ServiceAndMethod,
        }
    }
}

/// Generates the documents for `files_to_generate`.
pub fn generate(
    model: &Model,
    pool: &DescriptorPool,
    files_to_generate: &[String],
    options: &Options,
    openapi: &OpenApiOptions,
) -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let files: Vec<FileDescriptor> = files_to_generate
        .iter()
        .filter_map(|f| pool.get_file_by_name(f))
        .collect();
    let Some(format) = openapi.format else {
        return Ok(Vec::new());
    };
    let overrides = Overrides::load(pool, &files, options)?;
    // Groups of files, each one document.
    let mut groups: BTreeMap<String, Vec<FileDescriptor>> = BTreeMap::new();
    for file in &files {
        let key = match openapi.mode {
            OutputMode::Package => file.package_name().to_string(),
            OutputMode::Merge => openapi.filename.clone(),
        };
        groups.entry(key).or_default().push(file.clone());
    }
    let mut out = Vec::new();
    for (stem, group) in groups {
        let services: Vec<_> = model
            .services
            .iter()
            .filter(|s| group.contains(&s.descriptor.parent_file()))
            .collect();
        if services.is_empty() {
            continue;
        }
        let document = document(&stem, &group, &services, &overrides, options, openapi);
        let text = match format {
            Format::Json => {
                let mut text = serde_json::to_string_pretty(&document).expect("JSON values print");
                text.push('\n');
                text
            }
            Format::Yaml => serde_yaml_ng::to_string(&document).expect("JSON values print as YAML"),
        };
        let stem = if stem.is_empty() { "default" } else { &stem };
        out.push((format!("{stem}.openapi.{}", format.name()), text));
    }
    Ok(out)
}

fn document(
    title: &str,
    files: &[FileDescriptor],
    services: &[&crate::model::ServiceModel],
    overrides: &Overrides,
    options: &Options,
    openapi: &OpenApiOptions,
) -> Value {
    // Document settings: global file, then each file, then each service.
    let mut settings = overrides.global.clone();
    for file in files {
        if let Some(doc) = overrides.files.get(file.name()) {
            merge(&mut settings, doc.clone());
        }
    }
    for service in services {
        if let Some(doc) = overrides.services.get(service.descriptor.full_name()) {
            merge(&mut settings, doc.clone());
        }
    }
    let default_responses = settings
        .as_object_mut()
        .and_then(|s| s.remove("config"))
        .and_then(|mut c| c.get_mut("defaultResponses").map(Value::take))
        .unwrap_or(Value::Null);

    // Method names that more than one service of this document uses.
    let mut seen = BTreeSet::new();
    let mut ambiguous = BTreeSet::new();
    for service in services {
        for name in service
            .methods
            .iter()
            .map(|m| m.descriptor.name())
            .collect::<BTreeSet<_>>()
        {
            if !seen.insert(name) {
                ambiguous.insert(name);
            }
        }
    }
    let mut schemas = Schemas::default();
    let mut paths: BTreeMap<String, Value> = BTreeMap::new();
    let mut tags = Vec::new();
    for service in services {
        let name = service.descriptor.name().to_string();
        let mut tag = json!({"name": name});
        let text =
            comments::description(&service.descriptor.parent_file(), service.descriptor.path());
        if !text.is_empty() {
            tag["description"] = Value::String(text);
        }
        tags.push(tag);
        for method in &service.methods {
            for binding in &method.bindings {
                let (path, verb, mut op) = operation::operation(
                    method,
                    binding,
                    &mut schemas,
                    overrides,
                    options,
                    openapi,
                    &ambiguous,
                );
                if let Value::Object(responses) = &default_responses {
                    for (status, response) in responses {
                        op["responses"][status] = response.clone();
                    }
                }
                if let Some(o) = overrides.operations.get(method.descriptor.full_name()) {
                    merge(&mut op, o.clone());
                    // An id set for the method names every binding; number
                    // the additional ones as generated ids are numbered, so
                    // ids stay unique (the Go plugin repeats the id).
                    if binding.index > 0
                        && o.get("operationId").is_some()
                        && let Some(Value::String(id)) = op.get_mut("operationId")
                    {
                        id.push_str(&(binding.index + 1).to_string());
                    }
                }
                if !STANDARD_METHODS.contains(&verb.as_str()) {
                    // OpenAPI has no place for other methods (`LIST`, …).
                    continue;
                }
                let item = paths.entry(path).or_insert_with(|| json!({}));
                // Two bindings on one path and method: the router serves the
                // first; so does the document.
                if item.get(&verb).is_none() {
                    item[verb] = op;
                }
            }
        }
    }

    let mut doc = json!({
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": "version not set"},
    });
    let mut settings_components = settings
        .as_object_mut()
        .and_then(|s| s.remove("components"))
        .unwrap_or(Value::Null);
    let mut refs: Vec<&mut Value> = paths.values_mut().collect();
    refs.push(&mut settings_components);
    let component_schemas = schemas.finish(overrides, &mut refs);
    // Tags: the settings' tags describe (or add to) the service tags.
    if let Some(Value::Array(extra)) = settings.as_object_mut().and_then(|s| s.remove("tags")) {
        for tag in extra {
            match tags.iter_mut().find(|t| t["name"] == tag["name"]) {
                Some(existing) => merge(existing, tag),
                None => tags.push(tag),
            }
        }
    }
    doc["tags"] = Value::Array(tags);
    doc["paths"] = Value::Object(paths.into_iter().collect());
    doc["components"] = json!({"schemas": component_schemas});
    merge(&mut doc["components"], settings_components);
    merge(&mut doc, settings);
    doc
}
