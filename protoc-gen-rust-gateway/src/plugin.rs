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

/// Builds a descriptor pool from raw encoded `FileDescriptorProto`s without
/// losing custom options.
pub fn pool_from_raw_files(files: &[Vec<u8>]) -> Result<DescriptorPool, String> {
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
