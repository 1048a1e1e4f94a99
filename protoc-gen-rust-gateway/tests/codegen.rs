//! Generated code through the real plugin under a real protoc: golden files
//! of a small proto, and the same output as the build.rs library path.

mod support;

use std::process::Command;

use support::{assert_golden, repo_root, run_protoc};

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

#[test]
fn golden_generated_code() {
    let root = repo_root().join("tests/protos");
    let run = run_protoc(
        &root,
        &[&root],
        &[
            "e2e/awkward.proto",
            "e2e/common.proto",
            "e2e/compat.proto",
            "e2e/everything.proto",
            "e2e/files.proto",
        ],
        "gateway_config=e2e/global_gateway.yaml,grpc_api_configuration=e2e/everything_service.yaml,direct_calls=true",
    );
    assert!(run.success, "{}", run.stderr);
    let names: Vec<&str> = run.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "e2e.awkward.gateway.rs",
            "e2e.common.gateway.rs",
            "e2e.compat.gateway.rs",
            "e2e.everything.gateway.rs",
            "e2e.files.gateway.rs"
        ]
    );
    for (name, content) in &run.files {
        assert!(content.starts_with("// @generated"), "{name}");
        assert_golden(&format!("tests/golden/{name}"), content);
    }
}

/// proto2: required fields (plain `T`), defaulted optionals, groups (named
/// by their type with proto names), an extension range.
#[test]
fn golden_proto2_generated_code() {
    let root = repo_root().join("tests/protos");
    let run = run_protoc(&root, &[&root], &["e2e/proto2.proto"], "");
    assert!(run.success, "{}", run.stderr);
    let names: Vec<&str> = run.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["e2e.proto2.gateway.rs"]);
    assert_golden("tests/golden/e2e.proto2.gateway.rs", &run.files[0].1);
}

#[test]
fn plugin_and_library_generate_the_same_code() {
    let root = repo_root().join("tests/protos");
    let global = root.join("e2e/global_gateway.yaml");
    let service_config = root.join("e2e/everything_service.yaml");
    let opt = format!(
        "generate_unbound_methods=true,config_search_path={},gateway_config={},grpc_api_configuration={}",
        root.display(),
        global.display(),
        service_config.display()
    );
    let run = run_protoc(&root, &[&root], E2E, &opt);
    assert!(run.success, "{}", run.stderr);

    let set = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new(protoc_bin_vendored::protoc_bin_path().unwrap())
        .current_dir(&root)
        .arg(format!("-I{}", root.display()))
        .arg(format!("-I{}", repo_root().join("proto").display()))
        .arg(format!(
            "-I{}",
            protoc_bin_vendored::include_path().unwrap().display()
        ))
        .args(["--include_imports", "--include_source_info"])
        .arg(format!("--descriptor_set_out={}", set.path().display()))
        .args(E2E)
        .status()
        .unwrap();
    assert!(status.success());
    let library = protoc_gen_rust_gateway::builder::configure()
        .config_search_path(&root)
        .gateway_config(&global)
        .grpc_api_configuration(&service_config)
        .generate_unbound_methods(true)
        .emit_rerun_if_changed(false)
        .generate_in_memory(&std::fs::read(set.path()).unwrap(), E2E)
        .unwrap();
    let mut library = library;
    library.sort();
    assert_eq!(run.files.len(), E2E.len());
    assert_eq!(run.files, library);
}

/// buf hands the plugin the annotation protos with the user's files (they
/// are in the user's module): no file is written for `meshapi.gateway` and
/// `meshapi.gateway.openapi`, and the user's file does not refer to one.
#[test]
fn nothing_for_the_annotation_package() {
    let root = repo_root().join("tests/protos");
    let proto = repo_root().join("proto");
    let run = run_protoc(
        &proto,
        &[&root],
        &[
            "meshapi/gateway/annotations.proto",
            "meshapi/gateway/gateway.proto",
            "meshapi/gateway/config.proto",
            "meshapi/gateway/openapi/openapi.proto",
            "e2e/stream.proto",
        ],
        "",
    );
    assert!(run.success, "{}", run.stderr);
    let names: Vec<&str> = run.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["e2e.stream.v1.gateway.rs"]);
    assert!(
        !run.files[0].1.contains("gateway::__register"),
        "{}",
        run.files[0].1
    );
}

/// The build.rs path without protoc (protox) reads proto2 (groups, defaults,
/// extension ranges, extensions) as protoc does: the same gateway file.
#[test]
fn protox_and_protoc_generate_the_same_proto2_code() {
    let root = repo_root().join("tests/protos");
    let run = run_protoc(&root, &[&root], &["e2e/proto2.proto"], "");
    assert!(run.success, "{}", run.stderr);

    let out = tempfile::tempdir().unwrap();
    protoc_gen_rust_gateway::builder::configure()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .build_tonic(false)
        .compile_protos(&["e2e/proto2.proto"], &[&root])
        .unwrap();
    let name = "e2e.proto2.gateway.rs";
    let generated = std::fs::read_to_string(out.path().join(name)).unwrap();
    assert_eq!(run.files, [(name.to_string(), generated)]);
}

/// The build.rs path that needs no protoc (protox, with the annotation and
/// OpenAPI protos built in) reads protos carrying every OpenAPI option kind
/// and a binding file with an `openapi:` section, and writes what the plugin
/// writes.
#[test]
fn protox_path_matches_the_plugin_on_go_shaped_protos() {
    let root = repo_root().join("tests/protos");
    let global = root.join("e2e/global_gateway.yaml");
    let opt = format!(
        "generate_unbound_methods=true,config_search_path={},gateway_config={}",
        root.display(),
        global.display()
    );
    let run = run_protoc(&root, &[&root], &["e2e/compat.proto"], &opt);
    assert!(run.success, "{}", run.stderr);
    let out = tempfile::tempdir().unwrap();
    protoc_gen_rust_gateway::builder::configure()
        .config_search_path(&root)
        .gateway_config(&global)
        .generate_unbound_methods(true)
        .emit_rerun_if_changed(false)
        .build_tonic(false)
        .out_dir(out.path())
        .compile_protos(&[root.join("e2e/compat.proto")], &[&root])
        .unwrap();
    let library = std::fs::read_to_string(out.path().join("e2e.compat.gateway.rs")).unwrap();
    assert_eq!(run.files, [("e2e.compat.gateway.rs".to_string(), library)]);
}

/// `google.api.http` annotations and a service configuration with the same
/// rules resolve to the same bindings (`e2e.everything.Annotated` under
/// `/a/`, `Configured` under `/c/`).
#[test]
fn annotations_and_service_config_resolve_to_the_same_routes() {
    let root = repo_root().join("tests/protos");
    let run = run_protoc(
        &root,
        &[&root],
        &["e2e/everything.proto"],
        "dump_model,grpc_api_configuration=e2e/everything_service.yaml",
    );
    assert!(run.success, "{}", run.stderr);
    let dump = &run
        .files
        .iter()
        .find(|(n, _)| n == "gateway_model.txt")
        .unwrap()
        .1;
    let section = |service: &str| -> Vec<String> {
        let start = dump
            .find(&format!("service e2e.everything.{service} "))
            .unwrap();
        let rest = &dump[start..];
        let end = rest[1..].find("\nservice ").map_or(rest.len(), |i| i + 1);
        rest[..end]
            .lines()
            .skip(1)
            // Where each binding was written differs, by design.
            .filter(|l| !l.trim_start().starts_with("at:") && !l.trim_start().starts_with("from:"))
            .map(|l| l.replace("/a/", "/").replace("/c/", "/"))
            .collect()
    };
    let annotated = section("Annotated");
    assert!(annotated.len() > 60, "{dump}");
    assert_eq!(annotated, section("Configured"));
}

/// Most repositories vendor googleapis: their copy of google/api on the
/// include path is used instead of the built-in one (here a copy without
/// `response_body`, as older googleapis releases have), by protox and by
/// protoc alike.
#[test]
fn a_vendored_googleapis_copy_wins_over_the_built_in_one() {
    let http = "syntax = \"proto3\";\npackage google.api;\nmessage HttpRule {\n  string selector = 1;\n  oneof pattern { string get = 2; string put = 3; string post = 4; string delete = 5; string patch = 6; CustomHttpPattern custom = 8; }\n  string body = 7;\n  repeated HttpRule additional_bindings = 11;\n}\nmessage CustomHttpPattern { string kind = 1; string path = 2; }\n";
    let annotations = "syntax = \"proto3\";\npackage google.api;\nimport \"google/api/http.proto\";\nimport \"google/protobuf/descriptor.proto\";\nextend google.protobuf.MethodOptions { HttpRule http = 72295728; }\n";
    let service = "syntax = \"proto3\";\npackage v;\nimport \"google/api/annotations.proto\";\nmessage M { string id = 1; }\nservice S { rpc Get(M) returns (M) { option (google.api.http) = { get: \"/v1/{id}\" }; } }\n";
    let dir = support::scratch(&[
        ("google/api/http.proto", http),
        ("google/api/annotations.proto", annotations),
        ("v.proto", service),
    ]);
    let out = tempfile::tempdir().unwrap();
    protoc_gen_rust_gateway::builder::configure()
        .emit_rerun_if_changed(false)
        .build_tonic(false)
        .out_dir(out.path())
        .compile_protos(&[dir.path().join("v.proto")], &[dir.path()])
        .unwrap();
    let generated = std::fs::read_to_string(out.path().join("v.gateway.rs")).unwrap();
    assert!(generated.contains("`GET /v1/{id}`"), "{generated}");
    let run = run_protoc(dir.path(), &[dir.path()], &["v.proto"], "");
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.files, [("v.gateway.rs".to_string(), generated)]);
}
