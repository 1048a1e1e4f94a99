//! The protoc commands and the buf configuration of docs/getting-started.md
//! work: `<!-- run: protoc -->` blocks run with the vendored protoc and this
//! plugin on the PATH; the buf file's options parse.

use std::path::{Path, PathBuf};
use std::process::Command;

use protoc_gen_rust_gateway::options::Options;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_blocks(doc: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let mut out = Vec::new();
    let mut marked = false;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "<!-- run: protoc -->" {
            marked = true;
        } else if marked && line.trim_start().starts_with("```") {
            let block: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.trim_start().starts_with("```"))
                .collect();
            out.push(block.join("\n"));
            marked = false;
        } else if !line.trim().is_empty() {
            marked = false;
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn documented_protoc_commands_generate_the_gateway() {
    let blocks = run_blocks("docs/getting-started.md");
    assert!(
        !blocks.is_empty(),
        "no `<!-- run: protoc -->` block in docs/getting-started.md"
    );
    let openapi = run_blocks("docs/openapi.md");
    assert_eq!(
        openapi.len(),
        1,
        "the `<!-- run: protoc -->` block of docs/openapi.md"
    );
    for block in blocks.into_iter().chain(openapi) {
        // The layout the commands assume: the example's directory, two levels
        // below this repository's proto/ directory.
        let dir = tempfile::tempdir().unwrap();
        let example = dir.path().join("examples/chat");
        copy_dir(&root().join("examples/chat/proto"), &example.join("proto"));
        copy_dir(&root().join("proto"), &dir.path().join("proto"));
        let plugin_dir = Path::new(env!("CARGO_BIN_EXE_protoc-gen-rust-gateway"))
            .parent()
            .unwrap();
        let protoc_dir = protoc_bin_vendored::protoc_bin_path()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let path = format!(
            "{}:{}:{}",
            plugin_dir.display(),
            protoc_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new("sh")
            .arg("-ec")
            .arg(&block)
            .current_dir(&example)
            .env("PATH", path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{block}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let generated = std::fs::read_to_string(example.join("gen/chat.v1.gateway.rs")).unwrap();
        assert!(generated.starts_with("// @generated"));
        assert!(generated.contains("pub mod chat_service_gateway"));
        if block.contains("openapi=json") {
            let doc = std::fs::read_to_string(example.join("gen/chat.v1.openapi.json")).unwrap();
            assert!(doc.contains("\"openapi\": \"3.1.0\""));
        }
    }
}

#[test]
fn buf_example_options_parse() {
    let text = std::fs::read_to_string(root().join("examples/buf/buf.gen.yaml")).unwrap();
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let plugin = config["plugins"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| p["local"] == "protoc-gen-rust-gateway")
        .expect("the gateway plugin is configured");
    let opt: Vec<&str> = plugin["opt"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    let options = Options::parse(&opt.join(",")).unwrap();
    assert_eq!(options.config_search_path, PathBuf::from("proto"));
    assert!(options.warn_on_unbound_methods);
}

#[test]
fn plugin_answers_version_and_help() {
    let plugin = env!("CARGO_BIN_EXE_protoc-gen-rust-gateway");
    let output = Command::new(plugin).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("protoc-gen-rust-gateway {}\n", env!("CARGO_PKG_VERSION"))
    );
    let output = Command::new(plugin).arg("--help").output().unwrap();
    assert!(output.status.success());
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("Usage: protoc-gen-rust-gateway")
    );
    let output = Command::new(plugin).arg("--frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("unknown argument `--frobnicate`")
    );
}
