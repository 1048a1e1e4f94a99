//! OpenAPI documents through the real plugin under a real protoc: golden
//! documents of the e2e protos (generated as the e2e crate generates its
//! gateway), the merged YAML form, and the same documents from the build.rs
//! library path.

mod support;

use support::{assert_golden, repo_root, run_protoc, scratch};

const E2E: &[&str] = &[
    "e2e/echo.proto",
    "e2e/awkward.proto",
    "e2e/common.proto",
    "e2e/stream.proto",
    "e2e/proto2.proto",
    "e2e/compat.proto",
    "e2e/everything.proto",
    "e2e/files.proto",
];

const E2E_OPTIONS: &str = "gateway_config=e2e/global_gateway.yaml,grpc_api_configuration=e2e/everything_service.yaml,generate_unbound_methods=true";

fn openapi_files(opt: &str) -> Vec<(String, String)> {
    let root = repo_root().join("tests/protos");
    let run = run_protoc(&root, &[&root], E2E, &format!("{E2E_OPTIONS},{opt}"));
    assert!(run.success, "{}", run.stderr);
    run.files
        .into_iter()
        .filter(|(name, _)| name.contains(".openapi."))
        .collect()
}

#[test]
fn golden_openapi_documents() {
    let files = openapi_files("openapi=json");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "e2e.awkward.openapi.json",
            "e2e.compat.openapi.json",
            "e2e.echo.v1.openapi.json",
            "e2e.everything.openapi.json",
            "e2e.files.openapi.json",
            "e2e.proto2.openapi.json",
            "e2e.stream.v1.openapi.json",
        ]
    );
    for (name, content) in &files {
        let doc: serde_json::Value = serde_json::from_str(content).unwrap();
        assert_eq!(doc["openapi"], "3.1.0", "{name}");
        assert_golden(&format!("tests/golden/openapi/{name}"), content);
    }
}

/// Runs the official-schema validator (`tests/tools/openapi-validate.sh`)
/// on documents; panics with its report when one is invalid.
fn validate(files: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        paths.push(path);
    }
    let output = std::process::Command::new(repo_root().join("tests/tools/openapi-validate.sh"))
        .args(&paths)
        .output()
        .expect("tests/tools/openapi-validate.sh runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "invalid OpenAPI documents:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(report.matches(": OK").count(), files.len(), "{report}");
}

#[test]
fn every_document_is_valid_openapi_3_1() {
    let mut files = openapi_files("openapi=json");
    // Every option that changes the document.
    files.extend(
        openapi_files("openapi=yaml,openapi_output_mode=merge,openapi_filename=all,openapi_operation_id_mode=fqn")
            .into_iter()
            .map(|(n, c)| (format!("merged-{n}"), c)),
    );
    files.extend(
        openapi_files("openapi=json,openapi_operation_id_mode=method")
            .into_iter()
            .map(|(n, c)| (format!("method-{n}"), c)),
    );
    validate(&files);
}

/// The merged YAML document holds every operation of the per-package ones,
/// with fully qualified ids.
#[test]
fn merged_yaml_document_holds_every_package() {
    let merged =
        openapi_files("openapi=yaml,openapi_output_mode=merge,openapi_operation_id_mode=fqn");
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].0, "apidocs.openapi.yaml");
    let merged: serde_json::Value = serde_yaml_ng::from_str(&merged[0].1).unwrap();
    let mut count = 0;
    for (_, content) in openapi_files("openapi=json") {
        let doc: serde_json::Value = serde_json::from_str(&content).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = merged["paths"][path][method]["operationId"].as_str();
                assert!(id.is_some(), "{method} {path}");
                // Ids set by options stay as they are.
                if id.unwrap().contains('.') {
                    count += 1;
                } else {
                    assert_eq!(id.unwrap(), op["operationId"], "{method} {path}");
                }
            }
        }
    }
    assert!(count > 50, "{count}");
}

#[test]
fn plugin_and_library_write_the_same_documents() {
    let root = repo_root().join("tests/protos");
    let set = tempfile::tempdir().unwrap();
    let set_path = set.path().join("e2e.fds");
    let status = std::process::Command::new(protoc_bin_vendored::protoc_bin_path().unwrap())
        .current_dir(&root)
        .arg(format!("-I{}", root.display()))
        .arg(format!("-I{}", repo_root().join("proto").display()))
        .arg(format!(
            "-I{}",
            protoc_bin_vendored::include_path().unwrap().display()
        ))
        .args(["--include_imports", "--include_source_info"])
        .arg(format!("--descriptor_set_out={}", set_path.display()))
        .args(E2E)
        .status()
        .unwrap();
    assert!(status.success());
    let out = tempfile::tempdir().unwrap();
    let generated = protoc_gen_rust_gateway::builder::configure()
        .config_search_path(&root)
        .gateway_config(root.join("e2e/global_gateway.yaml"))
        .grpc_api_configuration(root.join("e2e/everything_service.yaml"))
        .generate_unbound_methods(true)
        .openapi(protoc_gen_rust_gateway::openapi::Format::Json)
        .emit_rerun_if_changed(false)
        .out_dir(out.path())
        .generate_in_memory(&std::fs::read(&set_path).unwrap(), E2E)
        .unwrap();
    let library: Vec<(String, String)> = generated
        .into_iter()
        .filter(|(n, _)| n.contains(".openapi."))
        .collect();
    assert_eq!(library, openapi_files("openapi=json"));
}

const SMALL: &str = r#"syntax = "proto3";
package e;
import "meshapi/gateway/annotations.proto";
message Req { string id = 1; }
service Svc {
  rpc Call(Req) returns (Req) { option (meshapi.gateway.http) = {get: "/x/{id}"}; }
}
"#;

/// A selector of an `openapi:` section that names nothing is an error that
/// names the binding file and the selector.
#[test]
fn openapi_selectors_that_name_nothing_are_errors() {
    for (yaml, expected) in [
        (
            "openapi:\n  services:\n    - selector: ~.Nope\n",
            "openapi: selector `e.Nope` names no service",
        ),
        (
            "openapi:\n  services:\n    - selector: ~.Svc\n      methods:\n        Cal: {summary: x}\n",
            "openapi: selector `e.Svc.Cal` names no method",
        ),
        (
            "openapi:\n  messages:\n    - selector: ~.Req\n      fields:\n        iid: {description: x}\n",
            "openapi: selector `e.Req.iid` names no field",
        ),
        (
            "openapi:\n  enums:\n    - selector: e.Req\n",
            "openapi: selector `e.Req` names no enum",
        ),
    ] {
        let dir = scratch(&[("e.proto", SMALL), ("e_gateway.yaml", yaml)]);
        let run = run_protoc(dir.path(), &[dir.path()], &["e.proto"], "openapi=json");
        assert!(!run.success, "{yaml}");
        assert!(run.stderr.contains("e_gateway.yaml"), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
}

/// Options and `openapi:` sections reach the document, the binding file's
/// winning over the proto options; without `openapi=`, no document.
#[test]
fn overrides_apply_in_order() {
    let proto = SMALL.replace(
        "rpc Call(Req) returns (Req) {",
        "rpc Call(Req) returns (Req) {\n    option (meshapi.gateway.openapi_operation) = {summary: \"from proto\", deprecated: true};",
    );
    let yaml = "openapi:\n  document:\n    info: {title: T, version: \"2\"}\n    security: [{name: key}]\n    components:\n      security_schemes:\n        key: {type: apiKey, name: X-Key, in: header}\n  services:\n    - selector: ~.Svc\n      methods:\n        Call: {summary: from file, operation_id: call}\n  messages:\n    - selector: ~.Req\n      fields:\n        id: {config: {required: true, path_param_name: ident}, min_length: 1}\n";
    let dir = scratch(&[("e.proto", &proto), ("e_gateway.yaml", yaml)]);
    let run = run_protoc(dir.path(), &[dir.path()], &["e.proto"], "");
    assert!(run.success, "{}", run.stderr);
    assert!(run.files.iter().all(|(n, _)| !n.contains("openapi")));
    let run = run_protoc(dir.path(), &[dir.path()], &["e.proto"], "openapi=json");
    assert!(run.success, "{}", run.stderr);
    let (name, text) = run
        .files
        .iter()
        .find(|(n, _)| n.contains("openapi"))
        .unwrap();
    assert_eq!(name, "e.openapi.json");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["info"]["title"], "T");
    assert_eq!(doc["security"], serde_json::json!([{"key": []}]));
    assert_eq!(doc["components"]["securitySchemes"]["key"]["in"], "header");
    let op = &doc["paths"]["/x/{ident}"]["get"];
    assert_eq!(op["summary"], "from file");
    assert_eq!(op["operationId"], "call");
    assert_eq!(op["deprecated"], true);
    assert_eq!(op["parameters"][0]["name"], "ident");
    let req = &doc["components"]["schemas"]["Req"];
    assert_eq!(req["required"], serde_json::json!(["id"]));
    assert_eq!(req["properties"]["id"]["minLength"], 1);
    validate(&[(name.clone(), text.clone())]);
}
