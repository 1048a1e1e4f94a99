//! Scenario 6, the build cost of the generated code: what a user pays in
//! `cargo build` for the gateway, beside prost + tonic's code for the same
//! protos.
//!
//! A synthetic API like a large real one (20 packages of one service each,
//! 300 methods, 604 messages, 320 bindings, 40 of them streaming) is
//! compiled in-process (protox, prost + tonic and the gateway through the
//! `build.rs` API), written into a scratch Cargo workspace under
//! `target/build-cost/` with two crates, `bc-plain` (prost + tonic code)
//! and `bc-gateway` (the same plus the gateway code), each a library and a
//! small server binary, and built offline against the repository's
//! `Cargo.lock` (the same dependency versions as the workspace). The
//! dependencies are built first, behind stub sources; then each crate's
//! library and binary are timed alone, in debug and in release.
//!
//! `bc-plain`'s binary calls every method through its tonic client (what
//! the gateway does), one function per service; `bc-gateway`'s binary
//! merges the routers of every service over a tonic `Channel`. Release binaries are stripped
//! (`strip = true`), as one ships them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

/// Packages with a service (plus one shared package of messages).
const PACKAGES: usize = 20;
/// Methods per service.
const METHODS: usize = 15;

/// One timed build step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// `plain` or `gateway`.
    pub crate_kind: String,
    /// `debug` or `release`.
    pub profile: String,
    /// `lib` or `bin`.
    pub target: String,
    /// Wall time, s.
    pub wall_s: f64,
    /// CPU time of cargo and everything it ran (rustc, the linker), user +
    /// system, s: steadier than wall time on a busy machine.
    pub cpu_s: f64,
}

/// What the build-cost scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildCostResult {
    pub packages: usize,
    pub methods: usize,
    pub messages: usize,
    pub bindings: usize,
    pub streaming: usize,
    /// Lines of prost + tonic code and of gateway code.
    pub prost_tonic_lines: usize,
    pub gateway_lines: usize,
    pub steps: Vec<Step>,
    /// Stripped release binary sizes, bytes.
    pub plain_binary_bytes: u64,
    pub gateway_binary_bytes: u64,
}

impl BuildCostResult {
    /// Sum of lib + bin of one crate and profile, (wall, cpu).
    pub fn total(&self, crate_kind: &str, profile: &str) -> (f64, f64) {
        self.steps
            .iter()
            .filter(|s| s.crate_kind == crate_kind && s.profile == profile)
            .fold((0.0, 0.0), |(w, c), s| (w + s.wall_s, c + s.cpu_s))
    }

    /// The time one step took, (wall, cpu).
    pub fn step(&self, crate_kind: &str, profile: &str, target: &str) -> (f64, f64) {
        self.steps
            .iter()
            .find(|s| s.crate_kind == crate_kind && s.profile == profile && s.target == target)
            .map_or((0.0, 0.0), |s| (s.wall_s, s.cpu_s))
    }

    /// How much the gateway adds, as a multiple of prost + tonic's time
    /// (lib + bin), by CPU time.
    pub fn added(&self, profile: &str) -> f64 {
        let plain = self.total("plain", profile).1;
        (self.total("gateway", profile).1 - plain) / plain.max(1e-9)
    }
}

/// Where the scratch workspace goes and which sources it builds against.
pub struct Setup {
    /// The repository root: its `Cargo.lock` and `gateway-runtime`.
    pub repo: PathBuf,
    /// The scratch workspace (its `target/` holds the dependencies' builds
    /// between runs).
    pub scratch: PathBuf,
    /// Only debug (the quick plan).
    pub debug_only: bool,
    /// Generated code to build instead of generating it (`<package>.rs`
    /// and `<package>.gateway.rs` files): to measure the output of another
    /// generator version.
    pub generated: Option<PathBuf>,
}

impl Setup {
    /// The repository this harness was built from, or `GATEWAY_BENCH_REPO`
    /// (to measure another checkout's runtime); `GATEWAY_BENCH_SCRATCH`
    /// for the scratch workspace, `GATEWAY_BENCH_GENERATED` for code
    /// generated before (with that checkout's generator).
    pub fn from_env(debug_only: bool) -> Setup {
        let repo = std::env::var_os("GATEWAY_BENCH_REPO")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        let repo = repo.canonicalize().expect("repository root");
        let scratch = std::env::var_os("GATEWAY_BENCH_SCRATCH")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target/build-cost"));
        Setup {
            repo,
            scratch,
            debug_only,
            generated: std::env::var_os("GATEWAY_BENCH_GENERATED").map(PathBuf::from),
        }
    }
}

/// Orchestrator side (the whole scenario).
pub fn run(setup: &Setup) -> BuildCostResult {
    let api = Api::new(PACKAGES, METHODS);
    let gen_dir = setup.scratch.join("gen");
    let _ = std::fs::remove_dir_all(&gen_dir);
    match &setup.generated {
        None => api.generate(&setup.scratch.join("protos"), &gen_dir),
        Some(dir) => {
            std::fs::create_dir_all(&gen_dir).expect("output dir");
            for entry in std::fs::read_dir(dir).expect("the generated code") {
                let entry = entry.expect("a generated file");
                std::fs::copy(entry.path(), gen_dir.join(entry.file_name()))
                    .expect("copy a generated file");
            }
        }
    }
    write_workspace(setup, &api);
    let lines = |gateway: bool| -> usize {
        std::fs::read_dir(&gen_dir)
            .expect("generated files")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".gateway.") == gateway)
            .map(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .lines()
                    .count()
            })
            .sum()
    };
    let profiles: &[&str] = if setup.debug_only {
        &["debug"]
    } else {
        &["debug", "release"]
    };
    let mut steps = Vec::new();
    for profile in profiles {
        // The dependencies first, behind stub sources, so that the timed
        // builds compile the generated crates only; one crate at a time,
        // as the timed builds select them (cargo resolves features per
        // selection: built together, the dependencies would be built again
        // with another feature set for each crate alone).
        write_sources(setup, &api, true);
        cargo(setup, profile, &["-p", "bc-plain"]);
        cargo(setup, profile, &["-p", "bc-gateway"]);
        write_sources(setup, &api, false);
        for crate_kind in ["plain", "gateway"] {
            for target in ["lib", "bin"] {
                let package = format!("bc-{crate_kind}");
                let bin = format!("server-{crate_kind}");
                let which = if target == "lib" {
                    vec!["--lib"]
                } else {
                    vec!["--bin", bin.as_str()]
                };
                let mut args = vec!["-p", package.as_str()];
                args.extend(which);
                let (wall_s, cpu_s) = cargo(setup, profile, &args);
                eprintln!(
                    "  [build-cost] {crate_kind:<7} {profile:<7} {target}: {wall_s:.1} s wall, {cpu_s:.1} s CPU"
                );
                steps.push(Step {
                    crate_kind: crate_kind.into(),
                    profile: (*profile).into(),
                    target: target.into(),
                    wall_s,
                    cpu_s,
                });
            }
        }
    }
    let size = |name: &str| {
        let profile = if setup.debug_only { "debug" } else { "release" };
        let path = setup
            .scratch
            .join("target")
            .join(profile)
            .join(format!("server-{name}"));
        std::fs::metadata(&path).map_or(0, |m| m.len())
    };
    BuildCostResult {
        packages: PACKAGES + 1,
        methods: api.methods(),
        messages: api.messages(),
        bindings: api.bindings(),
        streaming: api.streaming(),
        prost_tonic_lines: lines(false),
        gateway_lines: lines(true),
        steps,
        plain_binary_bytes: size("plain"),
        gateway_binary_bytes: size("gateway"),
    }
}

/// Runs `cargo build` in the scratch workspace; returns (wall, CPU) seconds.
/// bash's `time` reports the CPU time of cargo and all it waited for.
fn cargo(setup: &Setup, profile: &str, args: &[&str]) -> (f64, f64) {
    let release = if profile == "release" {
        "--release"
    } else {
        ""
    };
    let script = format!(
        "TIMEFORMAT='%R %U %S'; time cargo build --offline --quiet {release} {}",
        args.join(" ")
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&setup.scratch)
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TARGET_DIR", setup.scratch.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`{script}` failed in {}:\n{stderr}",
        setup.scratch.display()
    );
    let times: Vec<f64> = stderr
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    match times[..] {
        [wall, user, sys] => (wall, user + sys),
        _ => panic!("no timing in cargo's output:\n{stderr}"),
    }
}

/// The synthetic API.
struct Api {
    packages: usize,
    methods: usize,
}

/// The gRPC shape of method `m` of package `p`: the last two methods of
/// each service stream (server streaming; then client or bidi in turn).
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Unary,
    Server,
    Client,
    Bidi,
}

/// Messages of the shared package.
const COMMON: &str = r#"syntax = "proto3";
package bench.common;

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_ACTIVE = 1;
  STATUS_DELETED = 2;
}

message Inner {
  string text = 1;
  int64 value = 2;
  Status status = 3;
}

message PageInfo {
  string next_page_token = 1;
  int32 total_size = 2;
}

message Audit {
  string created_by = 1;
  int64 created_at = 2;
  string updated_by = 3;
  int64 updated_at = 4;
}

message Labels {
  map<string, string> values = 1;
}
"#;

impl Api {
    fn new(packages: usize, methods: usize) -> Api {
        Api { packages, methods }
    }

    fn shape(&self, p: usize, m: usize) -> Shape {
        match self.methods - m {
            2 => Shape::Server,
            1 if p.is_multiple_of(2) => Shape::Client,
            1 => Shape::Bidi,
            _ => Shape::Unary,
        }
    }

    fn methods(&self) -> usize {
        self.packages * self.methods
    }

    fn messages(&self) -> usize {
        self.packages * self.methods * 2 + 4
    }

    /// One binding per method, and a second one on each first method.
    fn bindings(&self) -> usize {
        self.methods() + self.packages
    }

    fn streaming(&self) -> usize {
        self.packages * 2
    }

    /// The proto of package `p`.
    fn proto(&self, p: usize) -> String {
        let mut s = format!(
            "syntax = \"proto3\";\npackage bench.p{p:02};\n\nimport \"bench/common.proto\";\n\n"
        );
        let _ = writeln!(s, "service Service{p:02} {{");
        for m in 0..self.methods {
            let (stream_in, stream_out) = match self.shape(p, m) {
                Shape::Unary => ("", ""),
                Shape::Server => ("", "stream "),
                Shape::Client => ("stream ", ""),
                Shape::Bidi => ("stream ", "stream "),
            };
            let _ = writeln!(
                s,
                "  rpc Method{m:02}({stream_in}M{m:02}Request) returns ({stream_out}M{m:02}Response);"
            );
        }
        s.push_str("}\n");
        for m in 0..self.methods {
            let _ = write!(
                s,
                "\nmessage M{m:02}Request {{\n  string id = 1;\n  string display_name = 2;\n  \
                 int32 page_size = 3;\n  string page_token = 4;\n  bool enabled = 5;\n  \
                 repeated string tags = 6;\n  bench.common.Inner inner = 7;\n  \
                 bench.common.Labels labels = 8;\n}}\n\
                 \nmessage M{m:02}Response {{\n  string id = 1;\n  string display_name = 2;\n  \
                 int64 total = 3;\n  double score = 4;\n  bench.common.Status status = 5;\n  \
                 repeated bench.common.Inner items = 6;\n  bench.common.PageInfo page = 7;\n  \
                 bench.common.Audit audit = 8;\n  map<string, int64> counts = 9;\n  \
                 oneof choice {{\n    string name = 10;\n    int64 number = 11;\n  }}\n}}\n"
            );
        }
        s
    }

    /// The global binding file: GET with a path parameter, POST with a
    /// body, PUT with a body field, DELETE, and an additional binding on
    /// each first method.
    fn bindings_yaml(&self) -> String {
        let mut s = String::from("gateway:\n  endpoints:\n");
        for p in 0..self.packages {
            for m in 0..self.methods {
                let selector = format!("bench.p{p:02}.Service{p:02}.Method{m:02}");
                let path = format!("/v1/p{p:02}/m{m:02}");
                let binding = match (self.shape(p, m), m % 4) {
                    (Shape::Server, _) | (Shape::Unary, 0) => format!("get: \"{path}/{{id}}\""),
                    (Shape::Client | Shape::Bidi, _) | (Shape::Unary, 1) => {
                        format!("post: \"{path}\"\n      body: \"*\"")
                    }
                    (Shape::Unary, 2) => format!("put: \"{path}/{{id}}\"\n      body: \"inner\""),
                    (Shape::Unary, _) => format!("delete: \"{path}/{{id}}\""),
                };
                let _ = write!(s, "    - selector: {selector}\n      {binding}\n");
                if m == 0 {
                    let _ = write!(
                        s,
                        "      additional_bindings:\n        - post: \"{path}:get\"\n          body: \"*\"\n"
                    );
                }
            }
        }
        s
    }

    /// Writes the protos and the binding file under `protos`, then compiles
    /// them into `out` (`<package>.rs` from prost + tonic, and
    /// `<package>.gateway.rs`).
    fn generate(&self, protos: &Path, out: &Path) {
        std::fs::create_dir_all(protos.join("bench")).expect("proto dir");
        std::fs::create_dir_all(out).expect("output dir");
        std::fs::write(protos.join("bench/common.proto"), COMMON).expect("write proto");
        let mut files = vec![protos.join("bench/common.proto")];
        for p in 0..self.packages {
            let path = protos.join(format!("bench/p{p:02}.proto"));
            std::fs::write(&path, self.proto(p)).expect("write proto");
            files.push(path);
        }
        let config = protos.join("bench_gateway.yaml");
        std::fs::write(&config, self.bindings_yaml()).expect("write bindings");
        protoc_gen_rust_gateway::builder::configure()
            .config_search_path(protos)
            .gateway_config(&config)
            .out_dir(out)
            .emit_rerun_if_changed(false)
            .compile_protos(&files, &[protos])
            .unwrap_or_else(|e| panic!("generating the synthetic API: {e}"));
    }

    /// `lib.rs`: one module per package, prost + tonic code and, with the
    /// gateway, the gateway code next to it.
    fn lib(&self, gateway: bool) -> String {
        let include = |package: &str| {
            let mut s = format!("include!(\"../../gen/bench.{package}.rs\");\n");
            if gateway {
                let _ = writeln!(s, "include!(\"../../gen/bench.{package}.gateway.rs\");");
            }
            s
        };
        let mut s = String::from(
            "//! The synthetic API of the build-cost benchmark (generated).\n\
             #![allow(clippy::all, missing_docs)]\npub mod bench {\n",
        );
        let _ = writeln!(s, "pub mod common {{\n{}}}", include("common"));
        for p in 0..self.packages {
            let _ = writeln!(s, "pub mod p{p:02} {{\n{}}}", include(&format!("p{p:02}")));
        }
        s.push_str("}\n");
        s
    }

    /// The plain binary: a tonic client per service, every method called
    /// once, one function per service (as an application calls its
    /// services: one large function would cost the optimizer more than the
    /// same calls spread out).
    fn plain_main(&self) -> String {
        let mut s = String::from("use tonic::transport::Channel;\n");
        for p in 0..self.packages {
            let _ = writeln!(
                s,
                "\nasync fn call_p{p:02}(channel: Channel) {{\n    \
                 let mut c = bc_plain::bench::p{p:02}::service{p:02}_client::Service{p:02}Client::new(channel);"
            );
            for m in 0..self.methods {
                let request = format!("bc_plain::bench::p{p:02}::M{m:02}Request::default()");
                let call = match self.shape(p, m) {
                    Shape::Unary => format!("let _ = c.method{m:02}({request}).await;"),
                    Shape::Server => format!(
                        "if let Ok(r) = c.method{m:02}({request}).await {{ let _ = r.into_inner().message().await; }}"
                    ),
                    Shape::Client => {
                        format!(
                            "let _ = c.method{m:02}(tokio_stream::iter(vec![{request}])).await;"
                        )
                    }
                    Shape::Bidi => format!(
                        "if let Ok(r) = c.method{m:02}(tokio_stream::iter(vec![{request}])).await {{ let _ = r.into_inner().message().await; }}"
                    ),
                };
                let _ = writeln!(s, "    {call}");
            }
            s.push_str("}\n");
        }
        s.push_str(
            "\n#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    \
             let channel = tonic::transport::Endpoint::from_static(\"http://127.0.0.1:1\").connect_lazy();\n    \
             if std::env::args().nth(1).as_deref() == Some(\"--call\") {\n",
        );
        for p in 0..self.packages {
            let _ = writeln!(s, "        call_p{p:02}(channel.clone()).await;");
        }
        s.push_str("    }\n}\n");
        s
    }

    /// The gateway server binary: every service's router over one channel.
    fn gateway_main(&self) -> String {
        let mut s = String::from(
            "#[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    \
             let channel = tonic::transport::Endpoint::from_static(\"http://127.0.0.1:1\").connect_lazy();\n    \
             let gateway = gateway_runtime::Gateway::builder().build();\n    \
             let app = axum::Router::new()\n",
        );
        for p in 0..self.packages {
            let module = format!("bc_gateway::bench::p{p:02}");
            let _ = writeln!(
                s,
                "        .merge({module}::service{p:02}_gateway::router(channel.clone(), &gateway))"
            );
        }
        s.push_str(
            "        ;\n    let app = gateway_runtime::RouterExt::with_gateway_fallbacks(app, &gateway);\n    \
             if std::env::args().nth(1).as_deref() == Some(\"--serve\") {\n        \
             let listener = tokio::net::TcpListener::bind(\"127.0.0.1:0\").await.unwrap();\n        \
             axum::serve(listener, app).await.unwrap();\n    }\n}\n",
        );
        s
    }
}

/// The scratch workspace's manifests and lock file.
fn write_workspace(setup: &Setup, api: &Api) {
    let _ = api;
    let scratch = &setup.scratch;
    let runtime = setup.repo.join("gateway-runtime");
    std::fs::create_dir_all(scratch).expect("scratch dir");
    std::fs::write(
        scratch.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"plain\", \"gateway\"]\n\n\
         [profile.release]\nstrip = true\n",
    )
    .expect("write manifest");
    // The repository's lock file: the same dependency versions as the
    // workspace (cargo adds the two scratch crates to it).
    std::fs::copy(setup.repo.join("Cargo.lock"), scratch.join("Cargo.lock")).expect("Cargo.lock");
    for (dir, gateway) in [("plain", false), ("gateway", true)] {
        let mut deps = String::from(
            "prost = \"0.14.1\"\ntonic = { version = \"0.14.2\", default-features = false, \
             features = [\"transport\", \"codegen\", \"channel\"] }\ntonic-prost = \"0.14.2\"\n\
             tokio = { version = \"1.44\", features = [\"rt\", \"macros\", \"net\"] }\n",
        );
        if gateway {
            let _ = write!(
                deps,
                "gateway-runtime = {{ path = {:?} }}\naxum = {{ version = \"0.8.9\", default-features = false, features = [\"http1\", \"tokio\"] }}\n",
                runtime.display().to_string()
            );
        } else {
            deps.push_str("tokio-stream = \"0.1\"\n");
        }
        let manifest = format!(
            "[package]\nname = \"bc-{dir}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [[bin]]\nname = \"server-{dir}\"\npath = \"src/main.rs\"\n\n[dependencies]\n{deps}"
        );
        std::fs::create_dir_all(scratch.join(dir).join("src")).expect("crate dir");
        std::fs::write(scratch.join(dir).join("Cargo.toml"), manifest).expect("write manifest");
    }
}

/// The crates' sources: the real ones, or stubs (to build the dependencies
/// alone first).
fn write_sources(setup: &Setup, api: &Api, stub: bool) {
    for (dir, gateway) in [("plain", false), ("gateway", true)] {
        let src = setup.scratch.join(dir).join("src");
        let (lib, main) = if stub {
            // The stubs touch each dependency so that it is built.
            let main = if gateway {
                "fn main() { let _ = gateway_runtime::Gateway::builder().build(); let _: Option<axum::Router> = None; }\n"
            } else {
                "fn main() { let _ = tokio_stream::empty::<()>(); }\n"
            };
            (
                "pub use prost; pub use tonic; pub use tonic_prost;\n".to_string(),
                main.to_string(),
            )
        } else if gateway {
            (api.lib(true), api.gateway_main())
        } else {
            (api.lib(false), api.plain_main())
        };
        std::fs::write(src.join("lib.rs"), lib).expect("write lib");
        std::fs::write(src.join("main.rs"), main).expect("write main");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_api_is_the_size_of_the_issue() {
        let api = Api::new(PACKAGES, METHODS);
        assert_eq!(api.methods(), 300);
        assert_eq!(api.messages(), 604);
        assert_eq!(api.bindings(), 320);
        assert_eq!(api.streaming(), 40);
        let yaml = api.bindings_yaml();
        assert_eq!(yaml.matches("selector:").count(), 300);
    }

    #[test]
    fn the_binaries_are_rust() {
        let api = Api::new(2, METHODS);
        for source in [api.plain_main(), api.gateway_main(), api.lib(true)] {
            syn::parse_file(&source).unwrap_or_else(|e| panic!("{e}:\n{source}"));
        }
    }

    #[test]
    fn the_synthetic_api_generates() {
        let api = Api::new(2, METHODS);
        let dir = tempfile::tempdir().unwrap();
        api.generate(&dir.path().join("protos"), &dir.path().join("gen"));
        let gateway = std::fs::read_to_string(dir.path().join("gen/bench.p01.gateway.rs")).unwrap();
        assert!(gateway.contains("pub fn router"), "{gateway}");
        assert!(gateway.contains("bidi_streaming"));
        let plain = std::fs::read_to_string(dir.path().join("gen/bench.p00.rs")).unwrap();
        assert!(plain.contains("Service00Client"));
    }
}
