//! Compiles the test protos once with the vendored protoc, then feeds the
//! same descriptor set to prost/tonic and to the gateway generator.

use std::path::PathBuf;
use std::process::Command;

use prost::Message;

const PROTOS: &[&str] = &[
    "e2e/echo.proto",
    "e2e/awkward.proto",
    "e2e/common.proto",
    "e2e/stream.proto",
    "e2e/proto2.proto",
    "e2e/compat.proto",
    "e2e/everything.proto",
    "e2e/files.proto",
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let protos_dir = root.join("tests/protos");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let set_path = out_dir.join("e2e.fds");

    let status = Command::new(protoc_bin_vendored::protoc_bin_path().unwrap())
        .arg(format!("-I{}", protos_dir.display()))
        .arg(format!("-I{}", root.join("proto").display()))
        .arg(format!(
            "-I{}",
            protoc_bin_vendored::include_path().unwrap().display()
        ))
        .arg("--include_imports")
        .arg("--include_source_info")
        .arg(format!("--descriptor_set_out={}", set_path.display()))
        .args(PROTOS)
        .status()
        .expect("protoc runs");
    assert!(status.success(), "protoc failed");
    let set = std::fs::read(&set_path).unwrap();

    let fds = prost_types::FileDescriptorSet::decode(set.as_slice()).unwrap();
    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .compile_fds(fds)
        .expect("prost/tonic generation");

    protoc_gen_rust_gateway::builder::configure()
        .config_search_path(&protos_dir)
        .gateway_config(protos_dir.join("e2e/global_gateway.yaml"))
        .grpc_api_configuration(protos_dir.join("e2e/everything_service.yaml"))
        .generate_unbound_methods(true)
        .direct_calls(true)
        .openapi(protoc_gen_rust_gateway::openapi::Format::Json)
        .generate_from_descriptor_set(&set, PROTOS)
        .expect("gateway generation");

    println!(
        "cargo:rerun-if-changed={}",
        protos_dir.join("e2e").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("proto").display());
}
