//! The protoc plugin protocol: `CodeGeneratorRequest` in, `CodeGeneratorResponse` out.
//!
//! The request is decoded into our own message with `proto_file` kept as raw
//! bytes: decoding descriptors into `prost_types` drops the custom options
//! (extension 1190, `meshapi.gateway.http`) we need. The raw files are handed
//! to `prost_reflect`, which keeps them.

use prost::Message;
use prost_reflect::DescriptorPool;

/// `google.protobuf.compiler.CodeGeneratorRequest`, with raw descriptor bytes.
#[derive(Clone, PartialEq, Message)]
pub struct CodeGeneratorRequest {
    /// Proto files named on the command line, in order.
    #[prost(string, repeated, tag = "1")]
    pub file_to_generate: Vec<String>,
    /// The `--rust-gateway_opt` text.
    #[prost(string, optional, tag = "2")]
    pub parameter: Option<String>,
    /// Every file in the request and its imports, dependencies first, each an
    /// encoded `FileDescriptorProto`.
    #[prost(bytes = "vec", repeated, tag = "15")]
    pub proto_file: Vec<Vec<u8>>,
}

/// `google.protobuf.compiler.CodeGeneratorResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct CodeGeneratorResponse {
    /// Set when generation failed; protoc prints it and exits non-zero.
    #[prost(string, optional, tag = "1")]
    pub error: Option<String>,
    /// Bit set of supported features.
    #[prost(uint64, optional, tag = "2")]
    pub supported_features: Option<u64>,
    /// Generated files.
    #[prost(message, repeated, tag = "15")]
    pub file: Vec<GeneratedFile>,
}

/// `CodeGeneratorResponse.File`.
#[derive(Clone, PartialEq, Message)]
pub struct GeneratedFile {
    /// Path relative to the output directory.
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// File content.
    #[prost(string, optional, tag = "15")]
    pub content: Option<String>,
}

/// `FEATURE_PROTO3_OPTIONAL`: we handle proto3 `optional` fields.
pub const FEATURE_PROTO3_OPTIONAL: u64 = 1;

/// The two fields of a `FileDescriptorProto` that say which language
/// revision a file is written in (the rest is skipped).
#[derive(Clone, PartialEq, Message)]
struct FileSyntax {
    /// `name`
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    /// `syntax`: `proto2` (or empty), `proto3`, `editions`.
    #[prost(string, optional, tag = "12")]
    syntax: Option<String>,
    /// `edition`, for `syntax = "editions"` (`EDITION_2023` is 1000).
    #[prost(int32, optional, tag = "14")]
    edition: Option<i32>,
}

/// Refuses files written with protobuf editions: prost and tonic, which
/// generate the message and client code the gateway calls, read proto2 and
/// proto3 files only (and prost-reflect cannot load editions descriptors).
pub fn check_syntax(files: &[Vec<u8>]) -> Result<(), String> {
    for raw in files {
        let Ok(file) = FileSyntax::decode(raw.as_slice()) else {
            continue; // The pool reports undecodable files.
        };
        if file.syntax.as_deref() == Some("editions") {
            let edition = match file.edition {
                Some(1000) => "\"2023\"".to_string(),
                Some(1001) => "\"2024\"".to_string(),
                Some(n) => format!("number {n}"),
                None => "(unnamed)".to_string(),
            };
            return Err(format!(
                "{}: `edition = {edition}` files are not supported: prost and tonic, which generate the messages and clients the gateway calls, read `syntax = \"proto2\"` and `syntax = \"proto3\"` files only; write this file in one of those",
                file.name.unwrap_or_default()
            ));
        }
    }
    Ok(())
}

/// Builds a descriptor pool from raw encoded `FileDescriptorProto`s without
/// losing custom options. A panic inside the descriptor library (it has
/// error paths that index out of bounds on unusual input) becomes an error.
pub fn pool_from_raw_files(files: &[Vec<u8>]) -> Result<DescriptorPool, String> {
    check_syntax(files)?;
    without_panics("cannot load the descriptors in the request", || {
        pool_from_checked_files(files)
    })
}

/// Runs `f`; a panic becomes an error that starts with `what`.
fn without_panics<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(format!(
            "{what}: the descriptor library failed ({})",
            panic_message(panic.as_ref())
        ))
    })
}

/// The text of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

fn pool_from_checked_files(files: &[Vec<u8>]) -> Result<DescriptorPool, String> {
    // A FileDescriptorSet is just `repeated FileDescriptorProto file = 1`:
    // frame each raw file as field 1 and decode the set in one go.
    let mut set = Vec::with_capacity(files.iter().map(|f| f.len() + 6).sum());
    for file in files {
        prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut set);
        prost::encoding::encode_varint(file.len() as u64, &mut set);
        set.extend_from_slice(file);
    }
    DescriptorPool::decode(set.as_slice())
        .map_err(|e| format!("invalid descriptors in the request: {e}"))
}

impl CodeGeneratorResponse {
    /// A response that reports an error.
    pub fn failure(message: impl Into<String>) -> Self {
        CodeGeneratorResponse {
            error: Some(message.into()),
            supported_features: Some(FEATURE_PROTO3_OPTIONAL),
            file: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_files_are_refused_by_name() {
        let file = FileSyntax {
            name: Some("ed/v1/ed.proto".into()),
            syntax: Some("editions".into()),
            edition: Some(1000),
        };
        let e = pool_from_raw_files(&[file.encode_to_vec()]).unwrap_err();
        assert!(
            e.starts_with("ed/v1/ed.proto: `edition = \"2023\"` files are not supported"),
            "{e}"
        );
        let proto3 = FileSyntax {
            name: Some("p.proto".into()),
            syntax: Some("proto3".into()),
            edition: None,
        };
        assert!(pool_from_raw_files(&[proto3.encode_to_vec()]).is_ok());
    }

    #[test]
    fn a_panic_in_the_descriptor_library_becomes_an_error() {
        let e = without_panics::<()>("cannot load", || panic!("index out of bounds")).unwrap_err();
        assert_eq!(
            e,
            "cannot load: the descriptor library failed (index out of bounds)"
        );
        assert_eq!(without_panics("x", || Ok(1)), Ok(1));
    }
}
