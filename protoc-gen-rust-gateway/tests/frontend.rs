//! The front end through the real plugin binary under a real protoc: the
//! binding model of the test protos (golden), and every diagnostic.

mod support;

use support::{assert_golden, repo_root, run_protoc, scratch};

#[test]
fn binding_model_of_the_test_protos() {
    let root = repo_root().join("tests/protos");
    let run = run_protoc(
        &root,
        &[&root],
        &[
            "frontend/query_service.proto",
            "frontend/streaming_service.proto",
            "frontend/library.proto",
            "frontend/plain.proto",
        ],
        "dump_model=true,allow_delete_body=true,generate_unbound_methods=true",
    );
    assert!(run.success, "protoc failed:\n{}", run.stderr);
    let dump = &run
        .files
        .iter()
        .find(|(name, _)| name == "gateway_model.txt")
        .expect("dump written")
        .1;
    assert_golden("tests/golden/frontend.model.txt", dump);
}

/// Runs the plugin on one scratch proto (`e.proto`, package `e`) and an
/// optional binding file; returns protoc's stderr and whether it succeeded.
fn run_case(proto: &str, yaml: Option<(&str, &str)>, opt: &str) -> (bool, String) {
    let header = "syntax = \"proto3\";\npackage e;\nimport \"meshapi/gateway/annotations.proto\";\nimport \"google/protobuf/timestamp.proto\"; import \"google/protobuf/struct.proto\";\n";
    let mut files = vec![("e.proto".to_string(), format!("{header}{proto}"))];
    if let Some((name, text)) = yaml {
        files.push((name.to_string(), text.to_string()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = scratch(&refs);
    let run = run_protoc(dir.path(), &[dir.path()], &["e.proto"], opt);
    (run.success, run.stderr)
}

fn expect_error(proto: &str, yaml: Option<(&str, &str)>, opt: &str, expected: &[&str]) {
    let (ok, stderr) = run_case(proto, yaml, opt);
    assert!(!ok, "expected a failure, got success; stderr:\n{stderr}");
    for e in expected {
        assert!(
            stderr.contains(e),
            "expected `{e}` in protoc's output:\n{stderr}"
        );
    }
}

const MESSAGES: &str = r#"
message Inner { string id = 1; map<string, string> labels = 2; }
message Req {
  string name = 1;
  Inner inner = 2;
  map<string, string> tags = 3;
  repeated Inner items = 4;
  google.protobuf.Timestamp at = 5; repeated google.protobuf.Timestamp ats = 7; google.protobuf.Struct attrs = 8;
  repeated string names = 6;
}
message Resp { string out = 1; repeated Inner items = 2; }
"#;

fn service(option: &str) -> String {
    format!(
        "{MESSAGES}\nservice Svc {{\n  rpc Call(Req) returns (Resp) {{\n    option (meshapi.gateway.http) = {{ {option} }};\n  }}\n}}\n"
    )
}

#[test]
fn selector_naming_no_method() {
    let yaml = "gateway:\n  endpoints:\n    - selector: ~.Svc.Nope\n      get: /x\n";
    expect_error(
        &format!("{MESSAGES}\nservice Svc {{ rpc Call(Req) returns (Resp); }}\n"),
        Some(("e_gateway.yaml", yaml)),
        "",
        &[
            "e_gateway.yaml:3: error: selector `e.Svc.Nope` names no method: service `e.Svc` has no method `Nope`; it has `Call`",
        ],
    );
    let yaml = "gateway:\n  endpoints:\n    - selector: other.Svc.Call\n      get: /x\n";
    expect_error(
        &format!("{MESSAGES}\nservice Svc {{ rpc Call(Req) returns (Resp); }}\n"),
        Some(("e_gateway.yaml", yaml)),
        "",
        &[
            "e_gateway.yaml:3: error: selector `other.Svc.Call` names no method: there is no service `other.Svc` in the protos given to protoc",
        ],
    );
}

#[test]
fn path_variable_problems() {
    expect_error(
        &service("get: '/v1/{nope}'"),
        None,
        "",
        &[
            "e.proto:18: error: binding GET /v1/{nope} of `e.Svc.Call`: path variable `nope`: message `e.Req` has no field `nope`",
        ],
    );
    expect_error(
        &service("get: '/v1/{tags}'"),
        None,
        "",
        &["path variable `tags` names map field `tags`; path variables must be scalars"],
    );
    expect_error(
        &service("get: '/v1/{inner}'"),
        None,
        "",
        &[
            "path variable `inner` names field `inner` of message type `e.Inner`; path variables must be scalars, enums, repeated scalars, well-known wrappers, Timestamp, Duration or FieldMask",
        ],
    );
    expect_error(
        &service("get: '/v1/{ats}'"),
        None,
        "",
        &["path variable `ats` names field `ats` of message type `google.protobuf.Timestamp`"],
    );
    expect_error(
        &service("get: '/v1/{attrs}'"),
        None,
        "",
        &["path variable `attrs` names field `attrs` of message type `google.protobuf.Struct`"],
    );
    expect_error(
        &service("get: '/v1/{items.id}'"),
        None,
        "",
        &["path variable `items.id`: `items` in `items.id` is not a singular message field"],
    );
    expect_error(
        &service("get: '/v1/{inner.labels}'"),
        None,
        "",
        &["path variable `inner.labels` names map field `labels`"],
    );
    expect_error(
        &service("get: '/v1/{name}/{name}'"),
        None,
        "",
        &["field `name` is bound twice in the path"],
    );
    expect_error(
        &service("get: '/v1/{innerId}'"),
        None,
        "",
        &["message `e.Req` has no field `innerId`"],
    );
}

#[test]
fn json_name_in_a_selector_gets_a_hint() {
    let proto = "message R { string page_token = 1; }\nservice Svc { rpc Call(R) returns (R) { option (meshapi.gateway.http) = { get: '/v1/{pageToken}' }; } }\n";
    expect_error(
        proto,
        None,
        "",
        &[
            "message `e.R` has no field `pageToken`; did you mean `page_token` (field selectors use proto names)?",
        ],
    );
}

#[test]
fn body_and_response_body_problems() {
    expect_error(
        &service("post: '/v1', body: 'nope'"),
        None,
        "",
        &["binding POST /v1 of `e.Svc.Call`: body `nope`: message `e.Req` has no field `nope`"],
    );
    expect_error(
        &service("post: '/v1', response_body: 'nope'"),
        None,
        "",
        &["response_body `nope`: message `e.Resp` has no field `nope`"],
    );
    expect_error(
        &service("post: '/v1/{name}', body: 'name'"),
        None,
        "",
        &["field `name` is bound twice: by the body `name` and by the path variable `name`"],
    );
    // A path variable inside the body field overrides it (AIP-134 style).
    let (ok, stderr) = run_case(&service("patch: '/v1/{inner.id}', body: 'inner'"), None, "");
    assert!(ok, "{stderr}");
    expect_error(
        &service("get: '/v1', body: '*'"),
        None,
        "",
        &["binding GET /v1 of `e.Svc.Call`: GET cannot have a body"],
    );
    expect_error(
        &service("delete: '/v1', body: '*'"),
        None,
        "",
        &["DELETE with a body needs the plugin option `allow_delete_body=true`"],
    );
    let (ok, stderr) = run_case(
        &service("delete: '/v1', body: '*'"),
        None,
        "allow_delete_body=true",
    );
    assert!(ok, "{stderr}");
}

#[test]
fn same_method_and_template_twice() {
    let proto = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc A(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ get: '/v1/{{name}}' }}; }}\n  rpc B(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ get: '/v1/{{inner.id}}' }}; }}\n}}\n"
    );
    expect_error(
        &proto,
        None,
        "",
        &[
            "e.proto:19: error: GET /v1/{inner.id} of `e.Svc.B` matches exactly the same requests as a binding of `e.Svc.A`; change one template or method",
            "  e.proto:18: note: `e.Svc.A` is bound here",
        ],
    );
    // Same template, other method: fine.
    let proto = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc A(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ get: '/v1/{{name}}' }}; }}\n  rpc B(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ post: '/v1/{{name}}', body: '*' }}; }}\n}}\n"
    );
    let (ok, stderr) = run_case(&proto, None, "");
    assert!(ok, "{stderr}");
}

#[test]
fn streaming_binding_without_a_mode() {
    let proto = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc S(Req) returns (stream Resp) {{ option (meshapi.gateway.http) = {{ post: '/s', body: '*', stream: {{disable_chunked_transfer: true, disable_sse: true}} }}; }}\n}}\n"
    );
    expect_error(
        &proto,
        None,
        "",
        &[
            "binding POST /s of `e.Svc.S`: server-streaming method with no streaming mode left: chunked transfer is disabled; SSE is disabled; WebSocket needs GET, this binding is POST",
        ],
    );
    // A server stream bound with POST keeps SSE (fetch-based SSE clients).
    let proto = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc S(Req) returns (stream Resp) {{ option (meshapi.gateway.http) = {{ post: '/s', body: '*', stream: {{disable_chunked_transfer: true}} }}; }}\n}}\n"
    );
    let (ok, stderr) = run_case(&proto, None, "");
    assert!(ok, "{stderr}");
    let proto = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc B(stream Req) returns (stream Resp) {{ option (meshapi.gateway.http) = {{ post: '/b', body: '*', stream: {{disable_chunked_transfer: true}} }}; }}\n}}\n"
    );
    expect_error(
        &proto,
        None,
        "",
        &[
            "bidi-streaming method with no streaming mode left: chunked transfer is disabled; SSE and WebSocket need GET for request streams, this binding is POST",
        ],
    );
    let proto = format!(
        "{MESSAGES}\nservice Svc {{\n  rpc C(stream Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ get: '/c', stream: {{disable_chunked_transfer: true, disable_websockets: true}} }}; }}\n}}\n"
    );
    expect_error(
        &proto,
        None,
        "",
        &[
            "client-streaming method with no streaming mode left: chunked transfer is disabled; WebSocket is disabled; SSE needs a method that streams responses",
        ],
    );
}

#[test]
fn template_errors_point_at_the_character() {
    expect_error(
        &service("get: '/v1/{name'"),
        None,
        "",
        &[
            "invalid path template \"/v1/{name\" at column 5: '{' is never closed\n    /v1/{name\n        ^",
        ],
    );
}

#[test]
fn binding_file_errors() {
    let proto = format!("{MESSAGES}\nservice Svc {{ rpc Call(Req) returns (Resp); }}\n");
    expect_error(
        &proto,
        Some((
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      gett: /x\n",
        )),
        "",
        &["e_gateway.yaml:4:7: error: gateway.endpoints[0]: unknown field `gett`"],
    );
    expect_error(
        &proto,
        Some((
            "e_gateway.json",
            "{\"gateway\": {\"endpoints\": [\n  {\"selector\": \"e.Svc.Call\", \"get\": \"/x\",}\n]}}",
        )),
        "",
        &["e_gateway.json:2:"],
    );
    expect_error(
        &proto,
        Some((
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n",
        )),
        "",
        &[
            "e_gateway.yaml:3: error: binding has no pattern: set one of `get`, `put`, `post`, `delete`, `patch` or `custom`",
        ],
    );
    expect_error(
        &proto,
        Some((
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      get: /a\n      post: /b\n",
        )),
        "",
        &["e_gateway.yaml:3: error: binding sets both GET and POST"],
    );
}

#[test]
fn global_file_rules() {
    let proto = format!("{MESSAGES}\nservice Svc {{ rpc Call(Req) returns (Resp); }}\n");
    let dir = scratch(&[
        (
            "e.proto",
            &format!(
                "syntax = \"proto3\";\npackage e;\nimport \"google/protobuf/timestamp.proto\"; import \"google/protobuf/struct.proto\";\n{proto}"
            ),
        ),
        (
            "global.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      get: /x\n",
        ),
        (
            "other.yaml",
            "gateway:\n  endpoints:\n    - selector: e.Svc.Call\n      get: /x\n",
        ),
        (
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      get: /y\n",
        ),
    ]);
    let run = run_protoc(
        dir.path(),
        &[dir.path()],
        &["e.proto"],
        "gateway_config=global.yaml",
    );
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("global.yaml:3: error: selector `~.Svc.Call` uses `~.`"),
        "{}",
        run.stderr
    );
    // Bound in the global file and in the proto's file, differently.
    let run = run_protoc(
        dir.path(),
        &[dir.path()],
        &["e.proto"],
        "gateway_config=other.yaml",
    );
    assert!(!run.success);
    assert!(
        run.stderr.contains("e_gateway.yaml:3: error: method `e.Svc.Call` is bound twice in binding files, in different ways; keep one entry\n  other.yaml:3: note: first bound here"),
        "{}",
        run.stderr
    );
    let run = run_protoc(
        dir.path(),
        &[dir.path()],
        &["e.proto"],
        "gateway_config=missing.yaml",
    );
    assert!(
        run.stderr.contains(
            "missing.yaml: error: global binding file (option `gateway_config`) not found"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn query_parameter_problems() {
    let proto = format!("{MESSAGES}\nservice Svc {{ rpc Call(Req) returns (Resp); }}\n");
    expect_error(
        &proto,
        Some((
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      get: /x\n      query_params:\n        - selector: items\n          name: it\n",
        )),
        "",
        &["query parameter `it` names field `items`, which cannot be written in a query string"],
    );
    expect_error(
        &proto,
        Some((
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      get: /x/{name}\n      query_params:\n        - selector: name\n          name: n\n",
        )),
        "",
        &[
            "query parameter `n` names field `name`, which is already bound by the path variable `name`",
        ],
    );
    expect_error(
        &proto,
        Some((
            "e_gateway.yaml",
            "gateway:\n  endpoints:\n    - selector: ~.Svc.Call\n      get: /x\n      query_params:\n        - selector: nope\n          name: n\n",
        )),
        "",
        &["query parameter `nope`: message `e.Req` has no field `nope`"],
    );
}

#[test]
fn options_are_checked() {
    expect_error(
        &service("get: '/v1'"),
        None,
        "bogus=1",
        &["--rust-gateway_opt: unknown option `bogus`; known options:"],
    );
}

#[test]
fn unbound_methods_warn_when_asked() {
    let proto = format!("{MESSAGES}\nservice Svc {{ rpc Call(Req) returns (Resp); }}\n");
    let (ok, stderr) = run_case(&proto, None, "warn_on_unbound_methods=true");
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("e.proto:17: warning: method `e.Svc.Call` has no HTTP binding and is not reachable through the gateway"),
        "{stderr}"
    );
    let (ok, stderr) = run_case(&proto, None, "");
    assert!(ok);
    assert!(!stderr.contains("has no HTTP binding"), "{stderr}");
}

#[test]
fn garbage_on_stdin_is_reported_in_the_response() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(support::plugin_binary())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\xff\xff\xff not a request")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    // Field 1 (error) of the response, as a string.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cannot decode the CodeGeneratorRequest"),
        "{text}"
    );
}

#[test]
fn routes_two_routers_cannot_both_hold_are_refused() {
    // `/v1/{name}:cancel` and `/v1/{id}` differ only by the verb: one axum
    // route serves both, which works within a service but not across two
    // routers that are merged.
    let proto = format!(
        "{MESSAGES}\nservice A {{\n  rpc Cancel(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ post: '/v1/{{name}}:cancel', body: '*' }}; }}\n}}\nservice B {{\n  rpc Make(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ post: '/v1/{{name}}', body: '*' }}; }}\n}}\n"
    );
    expect_error(
        &proto,
        None,
        "",
        &[
            "e.proto:21: error: POST /v1/{name} of `e.B.Make` and POST /v1/{name}:cancel of `e.A.Cancel` need the same axum route (`/v1/{s1}` / `/v1/{s1}`), which the routers of two services cannot both hold; bind them in one service or change a template",
            "  e.proto:18: note: POST /v1/{name}:cancel of `e.A.Cancel` is bound here",
        ],
    );
    // In one service the same two bindings are fine: one dispatcher tries both.
    let proto = format!(
        "{MESSAGES}\nservice A {{\n  rpc Cancel(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ post: '/v1/{{name}}:cancel', body: '*' }}; }}\n  rpc Make(Req) returns (Resp) {{ option (meshapi.gateway.http) = {{ post: '/v1/{{name}}', body: '*' }}; }}\n}}\n"
    );
    let (ok, stderr) = run_case(&proto, None, "");
    assert!(ok, "{stderr}");
}

#[test]
fn go_plugin_options_are_accepted_with_one_warning() {
    // The options of the Go project's buf.gen.yaml files and the rest of its
    // plugin's flags.
    let opt = "paths=source_relative,generate_local=true,omit_package_doc=true,register_func_suffix=GW,\
               request_context=true,standalone=false,log_level=warning,allow_patch_feature=1";
    let (ok, stderr) = run_case(&service("get: '/v1'"), None, opt);
    assert!(ok, "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warnings,
        [
            "warning: ignoring options that only shape the Go plugin's output: paths, generate_local, omit_package_doc, register_func_suffix, request_context, standalone, log_level (docs/migrating.md lists what each option does here)"
        ],
        "{stderr}"
    );
    // A truly unknown key is still an error.
    expect_error(
        &service("get: '/v1'"),
        None,
        "paths=source_relative,bogus=1",
        &["unknown option `bogus`"],
    );
}

#[test]
fn every_openapi_option_kind_loads() {
    let proto = r#"
option (meshapi.gateway.openapi_doc) = { info: { title: "T" version: "1" } security: [{ name: "bearer" }] };
enum Mood { option (meshapi.gateway.openapi_enum) = { description: "mood" }; MOOD_OK = 0; }
message Req {
  option (meshapi.gateway.openapi_schema) = { title: "Req" required: ["name"] };
  string name = 1 [(meshapi.gateway.openapi_field) = { max_length: 10 pattern: "^a" }];
  Mood mood = 2;
}
service Svc {
  option (meshapi.gateway.openapi_service_doc) = { tags: [{ name: "svc" }] };
  rpc Call(Req) returns (Req) {
    option (meshapi.gateway.http) = { get: "/v1/{name}" };
    option (meshapi.gateway.openapi_operation) = { summary: "Call" operation_id: "call" deprecated: true };
  }
}
"#;
    let yaml = "openapi:\n  document:\n    info: {title: From the file}\n  services:\n    - selector: ~.Svc\n      methods: {Call: {summary: s}}\n";
    let (ok, stderr) = run_case(proto, Some(("e_gateway.yaml", yaml)), "");
    assert!(ok, "{stderr}");
    expect_error(
        proto,
        Some(("e_gateway.yaml", "openapi:\n  document:\n    infoo: {}\n")),
        "",
        &["e_gateway.yaml:3:", "unrecognized field name 'infoo'"],
    );
}

const GOOGLE: &str = r#"syntax = "proto3";
package g;
import "google/api/annotations.proto";
import "meshapi/gateway/annotations.proto";
message M { string id = 1; string name = 2; }
service Svc {
  rpc Get(M) returns (M) {
    option (google.api.http) = {
      get: "/v1/{name=*}"
      additional_bindings { custom { kind: "HEAD" path: "/v1/{name=items/*}:peek" } }
    };
  }
  rpc Configured(M) returns (M);
  rpc Both(M) returns (M);
}
"#;

fn google_case(config: &str, yaml: Option<&str>, opt: &str) -> support::ProtocRun {
    let mut files = vec![("g.proto", GOOGLE), ("api.yaml", config)];
    if let Some(yaml) = yaml {
        files.push(("g_gateway.yaml", yaml));
    }
    let dir = scratch(&files);
    let opt = if opt.is_empty() {
        "grpc_api_configuration=api.yaml,dump_model".to_string()
    } else {
        format!("grpc_api_configuration=api.yaml,dump_model,{opt}")
    };
    run_protoc(dir.path(), &[dir.path()], &["g.proto"], &opt)
}

#[test]
fn google_api_http_annotations_and_service_configs_bind() {
    let config = "type: google.api.Service\nconfig_version: 3\ndocumentation: {summary: x}\nhttp:\n  rules:\n    - selector: g.Svc.Configured\n      post: /v1/configured/{id}\n      body: \"*\"\n    - selector: g.Svc.Get\n      get: /v1/by-id/{id}\n";
    let run = google_case(config, None, "");
    assert!(run.success, "{}", run.stderr);
    let dump = &run
        .files
        .iter()
        .find(|(n, _)| n == "gateway_model.txt")
        .unwrap()
        .1;
    // Configuration rules first, then the annotation; `{name=*}` is one
    // segment under the Google rule.
    for expected in [
        "from: google.api.http api.yaml:9, g.proto:7",
        "binding 0: GET /v1/by-id/{id}",
        "binding 1: GET /v1/{name=*}\n      at: g.proto:7\n      shape: /v1/*\n",
        "binding 2: HEAD /v1/{name=items/*}:peek",
        "from: google.api.http api.yaml:6",
        "binding 0: POST /v1/configured/{id}",
    ] {
        assert!(dump.contains(expected), "missing `{expected}` in\n{dump}");
    }
}

#[test]
fn one_method_bound_by_both_schemas_is_an_error_naming_both() {
    let config = "http:\n  rules:\n    - selector: g.Svc.Both\n      get: /v1/both/{id}\n";
    let yaml = "gateway:\n  endpoints:\n    - selector: ~.Svc.Both\n      get: /v2/both/{id}\n";
    let run = google_case(config, Some(yaml), "");
    assert!(!run.success);
    assert!(
        run.stderr.contains("g_gateway.yaml:3: error: method `g.Svc.Both` is bound by `meshapi.gateway.http` (file g_gateway.yaml:3) and by `google.api.http` (google.api.http api.yaml:3); a method takes its bindings from one of the two: remove the other"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("api.yaml:3: note: bound by google.api.http here"),
        "{}",
        run.stderr
    );
}

#[test]
fn service_config_problems_name_file_and_line() {
    let run = google_case(
        "http:\n  rules:\n    - selector: g.Svc.Get\n      get: /x\n    - selector: g.Svc.Nope\n      get: /y\n",
        None,
        "",
    );
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("api.yaml:5: error: selector `g.Svc.Nope` names no method"),
        "{}",
        run.stderr
    );
    let run = google_case(
        "http:\n  rules:\n    - selector: g.Svc.Get\n      gets: /x\n",
        None,
        "",
    );
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("api.yaml:4:7: error: http.rules[0]: unknown field `gets`"),
        "{}",
        run.stderr
    );
    let dir = scratch(&[("g.proto", GOOGLE)]);
    let run = run_protoc(
        dir.path(),
        &[dir.path()],
        &["g.proto"],
        "grpc_api_configuration=missing.yaml",
    );
    assert!(!run.success);
    assert!(
        run.stderr.contains(
            "missing.yaml: error: service configuration (option `grpc_api_configuration`) not found"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn editions_files_get_an_error_naming_the_file_not_a_crash() {
    let proto = r#"edition = "2023";
package ed;
import "meshapi/gateway/annotations.proto";
message M { string id = 1; int32 n = 2 [features.field_presence = IMPLICIT]; }
service S { rpc Get(M) returns (M) { option (meshapi.gateway.http) = { get: "/v1/{id}" }; } }
"#;
    let dir = scratch(&[("ed.proto", proto)]);
    let run = run_protoc(dir.path(), &[dir.path()], &["ed.proto"], "");
    assert!(!run.success);
    assert!(
        run.stderr.contains("--rust-gateway_out: error: ed.proto: `edition = \"2023\"` files are not supported: prost and tonic"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn both_annotations_on_one_method_are_an_error() {
    let proto = r#"syntax = "proto3";
package b;
import "google/api/annotations.proto";
import "meshapi/gateway/annotations.proto";
message M { string id = 1; }
service Svc {
  rpc Both(M) returns (M) {
    option (google.api.http) = { get: "/v1/{id}" };
    option (meshapi.gateway.http) = { get: "/v2/{id}" };
  }
}
"#;
    let dir = scratch(&[("b.proto", proto)]);
    let run = run_protoc(dir.path(), &[dir.path()], &["b.proto"], "");
    assert!(!run.success);
    assert!(
        run.stderr.contains("b.proto:7: error: method `b.Svc.Both` is bound by `meshapi.gateway.http` (annotation b.proto:7) and by `google.api.http` (google.api.http b.proto:7)"),
        "{}",
        run.stderr
    );
}

/// A selector through a recursive message deeper than the generator
/// supports is an error at its line, not a stack overflow of the plugin.
#[test]
fn selectors_deeper_than_the_limit_are_refused() {
    let deep = |fields: usize| format!("{}id", "c.".repeat(fields - 1));
    let proto = |response_body: &str| {
        format!(
            "message N {{ string id = 1; N c = 2; }}\nservice Svc {{ rpc Call(N) returns (N) {{ option (meshapi.gateway.http) = {{ post: \"/v1\" body: \"{}\" response_body: \"{response_body}\" }}; }} }}\n",
            deep(16)
        )
    };
    let (ok, stderr) = run_case(&proto(&deep(16)), None, "");
    assert!(ok, "sixteen fields are supported:\n{stderr}");
    expect_error(
        &proto(&deep(41)),
        None,
        "",
        &[&format!(
            "e.proto:6: error: binding POST /v1 of `e.Svc.Call`: response_body `{}`: goes through 41 fields; at most 16 are supported",
            deep(41)
        )],
    );
}

/// prost puts the messages of a file without a `package` in a module `_`;
/// the gateway does not follow it there, and says so at the method.
#[test]
fn a_file_without_a_package_is_refused_at_its_service() {
    let dir = scratch(&[(
        "e.proto",
        "syntax = \"proto3\";\nimport \"meshapi/gateway/annotations.proto\";\nmessage M { string s = 1; }\nservice Svc {\n  rpc Call(M) returns (M) { option (meshapi.gateway.http) = { get: \"/a/{s}\" }; }\n}\n",
    )]);
    let run = run_protoc(dir.path(), &[dir.path()], &["e.proto"], "");
    assert!(!run.success, "expected a failure:\n{}", run.stderr);
    assert!(
        run.stderr.contains(
            "e.proto:5: error: service `Svc` is in a file without a `package`; the gateway's code is named after the package: add a `package` line to bind its methods"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// Two members of one oneof bound by the path, or by the path and the
/// body: every request would set both, the second overwriting the first.
/// Members of different oneofs, a oneof member beside a plain field, and
/// a path variable inside the body's member are fine.
#[test]
fn two_members_of_one_oneof_cannot_both_be_bound() {
    let proto = |option: &str| {
        format!(
            "message Pick {{ oneof o {{ string a = 1; string b = 2; Pick more = 3; }} oneof p {{ string c = 4; }} string d = 5; }}\nservice Svc {{ rpc Call(Pick) returns (Pick) {{ option (meshapi.gateway.http) = {{ {option} }}; }} }}\n"
        )
    };
    expect_error(
        &proto("get: '/v1/{a}/{b}'"),
        None,
        "",
        &[
            "e.proto:6: error: binding GET /v1/{a}/{b} of `e.Svc.Call`: path variables `a` and `b` are members of the same oneof `o`, which holds one of them at a time",
        ],
    );
    expect_error(
        &proto("post: '/v1/{a}' body: 'more'"),
        None,
        "",
        &[
            "binding POST /v1/{a} of `e.Svc.Call`: the body `more` and the path variable `a` are members of the same oneof `o`, which holds one of them at a time",
        ],
    );
    expect_error(
        &proto("get: '/v1/{more.a}/{b}'"),
        None,
        "",
        &["path variables `more.a` and `b` are members of the same oneof `o`"],
    );
    for fine in [
        "get: '/v1/{a}/{c}/{d}'",
        "get: '/v1/{more.a}/{more.c}'",
        "post: '/v1/{more.a}' body: 'more'",
    ] {
        let (ok, stderr) = run_case(&proto(fine), None, "");
        assert!(ok, "{fine}:\n{stderr}");
    }
}
