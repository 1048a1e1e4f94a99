//! Generator core of `protoc-gen-rust-gateway`.
//!
//! The pipeline is pure: a `CodeGeneratorRequest` (raw descriptors, options)
//! becomes a validated binding [`model::Model`], which becomes Rust source.
//! The `protoc-gen-rust-gateway` binary is a thin wrapper around
//! [`execute`]; `build.rs` users call the same code.

pub mod builder;
pub mod codegen;
pub mod config;
pub mod diagnostic;
pub mod dump;
pub mod model;
pub mod openapi;
pub mod options;
pub mod plugin;
pub mod resolve;
pub mod schema;
pub mod service_config;
pub mod spec;
pub mod template;

use prost::Message;

use crate::diagnostic::Diagnostic;
use crate::options::Options;
use crate::plugin::{
    CodeGeneratorRequest, CodeGeneratorResponse, FEATURE_PROTO3_OPTIONAL, GeneratedFile,
};

/// The result of one generation run.
#[derive(Debug, Default)]
pub struct Output {
    /// Generated files: (path relative to the output directory, content).
    pub files: Vec<(String, String)>,
    /// Warnings, to be shown to the user.
    pub warnings: Vec<Diagnostic>,
    /// Binding files that were read (for `cargo:rerun-if-changed`).
    pub inputs: Vec<std::path::PathBuf>,
}

/// Runs the generator on a decoded request.
pub fn generate(request: &CodeGeneratorRequest) -> Result<Output, Vec<Diagnostic>> {
    let options = Options::parse(request.parameter.as_deref().unwrap_or(""))
        .map_err(|e| vec![Diagnostic::error(None, format!("--rust-gateway_opt: {e}"))])?;
    generate_with(&request.proto_file, &request.file_to_generate, &options)
}

/// Runs the generator on raw encoded `FileDescriptorProto`s (dependencies
/// first) for `files_to_generate`, with typed options.
pub fn generate_with(
    proto_files: &[Vec<u8>],
    files_to_generate: &[String],
    options: &Options,
) -> Result<Output, Vec<Diagnostic>> {
    let pool =
        plugin::pool_from_raw_files(proto_files).map_err(|e| vec![Diagnostic::error(None, e)])?;
    let (model, mut warnings) = resolve::build_model(&pool, files_to_generate, options)?;
    if !options.ignored_go_options.is_empty() {
        warnings.insert(
            0,
            Diagnostic::warning(
                None,
                format!(
                    "ignoring options that only shape the Go plugin's output: {} (docs/migrating.md lists what each option does here)",
                    options.ignored_go_options.join(", ")
                ),
            ),
        );
    }
    let mut files = codegen::generate(&model, &pool, files_to_generate, options)?;
    files.extend(openapi::generate(
        &model,
        &pool,
        files_to_generate,
        options,
        &options.openapi,
    )?);
    if options.dump_model {
        files.push(("gateway_model.txt".to_string(), dump::dump(&model)));
    }
    let inputs = resolve::binding_files(files_to_generate, &pool, options);
    Ok(Output {
        files,
        warnings,
        inputs,
    })
}

/// The plugin entry: encoded `CodeGeneratorRequest` in, encoded
/// `CodeGeneratorResponse` out. Never panics on bad input: every problem is
/// reported in the response's `error` field. Warnings are written to
/// `warnings` (the binary prints them on stderr, which protoc passes on).
pub fn execute(request: &[u8], warnings: &mut dyn std::io::Write) -> Vec<u8> {
    // The last resort: a bug here or in a dependency still becomes a clear
    // message in the response instead of a crashed plugin.
    let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        respond(request, warnings)
    }))
    .unwrap_or_else(|panic| {
        CodeGeneratorResponse::failure(format!(
            "protoc-gen-rust-gateway: internal error ({}); this is a bug, please report it with the proto files that caused it",
            plugin::panic_message(panic.as_ref())
        ))
    });
    response.encode_to_vec()
}

fn respond(request: &[u8], warnings: &mut dyn std::io::Write) -> CodeGeneratorResponse {
    match CodeGeneratorRequest::decode(request) {
        Err(e) => CodeGeneratorResponse::failure(format!(
            "protoc-gen-rust-gateway: cannot decode the CodeGeneratorRequest on stdin ({e}); this program is a protoc plugin: run it through `protoc --rust-gateway_out=DIR`"
        )),
        Ok(request) => match generate(&request) {
            Ok(output) => {
                for w in &output.warnings {
                    let _ = writeln!(warnings, "{w}");
                }
                CodeGeneratorResponse {
                    error: None,
                    supported_features: Some(FEATURE_PROTO3_OPTIONAL),
                    file: output
                        .files
                        .into_iter()
                        .map(|(name, content)| GeneratedFile {
                            name: Some(name),
                            content: Some(content),
                        })
                        .collect(),
                }
            }
            Err(errors) => CodeGeneratorResponse::failure(diagnostic::render(&errors)),
        },
    }
}
