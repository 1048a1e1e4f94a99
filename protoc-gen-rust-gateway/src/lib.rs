//! Generator core of `protoc-gen-rust-gateway`.
//!
//! The pipeline is pure: a `CodeGeneratorRequest` (raw descriptors, options)
//! becomes a validated binding [`model::Model`], which becomes Rust source.
//! The `protoc-gen-rust-gateway` binary is a thin wrapper around
//! [`execute`]; `build.rs` users call the same code.

pub mod config;
pub mod diagnostic;
pub mod dump;
pub mod model;
pub mod options;
pub mod plugin;
pub mod resolve;
pub mod spec;
pub mod template;

use prost::Message;

use crate::diagnostic::Diagnostic;
use crate::options::Options;
use crate::plugin::{CodeGeneratorRequest, CodeGeneratorResponse, FEATURE_PROTO3_OPTIONAL, GeneratedFile};

/// The result of one generation run.
#[derive(Debug, Default)]
pub struct Output {
    /// Generated files: (path relative to the output directory, content).
    pub files: Vec<(String, String)>,
    /// Warnings, to be shown to the user.
    pub warnings: Vec<Diagnostic>,
}

/// Runs the generator on a decoded request.
pub fn generate(request: &CodeGeneratorRequest) -> Result<Output, Vec<Diagnostic>> {
    let options = Options::parse(request.parameter.as_deref().unwrap_or(""))
        .map_err(|e| vec![Diagnostic::error(None, format!("--rust-gateway_opt: {e}"))])?;
    let pool = plugin::pool_from_raw_files(&request.proto_file)
        .map_err(|e| vec![Diagnostic::error(None, e)])?;
    let (model, warnings) = resolve::build_model(&pool, &request.file_to_generate, &options)?;
    let mut files = Vec::new();
    if options.dump_model {
        files.push(("gateway_model.txt".to_string(), dump::dump(&model)));
    }
    Ok(Output { files, warnings })
}

/// The plugin entry: encoded `CodeGeneratorRequest` in, encoded
/// `CodeGeneratorResponse` out. Never panics on bad input: every problem is
/// reported in the response's `error` field. Warnings are written to
/// `warnings` (the binary prints them on stderr, which protoc passes on).
pub fn execute(request: &[u8], warnings: &mut dyn std::io::Write) -> Vec<u8> {
    let response = match CodeGeneratorRequest::decode(request) {
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
    };
    response.encode_to_vec()
}
