//! The binding schema itself (`meshapi/gateway/*.proto`) as descriptors, so
//! that parts of binding files that are plain protobuf messages (the
//! `openapi:` section) are read by the proto3 JSON mapping, exactly as the Go
//! project reads them, without a hand-written copy of every message.
//!
//! `schema.binpb` is the encoded `FileDescriptorSet` of
//! `meshapi/gateway/config.proto` and its imports. It is checked in so that
//! the plugin binary needs no proto compiler; a test rebuilds it from the
//! protos and fails when it is stale (`BLESS=1` rewrites it).

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, MessageDescriptor};

/// The encoded descriptor set.
const SCHEMA: &[u8] = include_bytes!("schema.binpb");

/// Full name of the `openapi:` section's message.
pub const OPENAPI_SPEC: &str = "meshapi.gateway.OpenAPISpec";

/// The pool of the binding schema.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(SCHEMA).expect("schema.binpb is checked by a test"))
}

/// A message of the binding schema by full name.
pub fn message(full_name: &str) -> MessageDescriptor {
    pool()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is in schema.binpb"))
}

#[cfg(all(test, feature = "build"))]
mod tests {
    use std::path::Path;

    /// Rebuilds the descriptor set from `proto/` and compares.
    #[test]
    fn schema_binpb_is_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut compiler = protox::Compiler::new([root.join("proto")]).unwrap();
        compiler.include_imports(true).include_source_info(false);
        compiler.open_file("meshapi/gateway/config.proto").unwrap();
        let fresh = compiler.encode_file_descriptor_set();
        let path = root.join("src/schema.binpb");
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let current = std::fs::read(&path).unwrap();
        assert!(
            current == fresh,
            "src/schema.binpb is stale: rerun this test with BLESS=1"
        );
        assert!(
            super::pool()
                .get_message_by_name(super::OPENAPI_SPEC)
                .is_some()
        );
    }
}
