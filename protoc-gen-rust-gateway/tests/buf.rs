//! The buf path with the real buf CLI: `buf generate` in `examples/buf`
//! runs protoc-gen-prost, protoc-gen-tonic and this plugin, and what they
//! write is `examples/buf/gen/` byte for byte (that crate compiles it and
//! serves it in its own tests). `BLESS=1` rewrites `gen/`.
//!
//! Needs `buf` (npm `@bufbuild/buf` 1.75.0), `protoc-gen-prost` and
//! `protoc-gen-tonic` (0.5.0): on the `PATH`, or where `./test.sh` installs
//! them (`target/tools/`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{plugin_binary, repo_root};

/// Directories searched for the tools after the `PATH`.
fn tool_dirs() -> Vec<PathBuf> {
    let tools = repo_root().join("target/tools");
    vec![tools.join("bin"), tools.join("npm/node_modules/.bin")]
}

/// A `PATH` with this plugin's directory and the tool directories first.
fn search_path() -> std::ffi::OsString {
    let mut dirs = vec![plugin_binary().parent().unwrap().to_path_buf()];
    dirs.extend(tool_dirs());
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

fn require(tool: &str, path: &std::ffi::OsStr) {
    let found = std::env::split_paths(path).any(|dir| dir.join(tool).is_file());
    assert!(
        found,
        "`{tool}` is missing: run ./test.sh, which installs buf (npm @bufbuild/buf@1.75.0) and \
         protoc-gen-prost/protoc-gen-tonic 0.5.0 into target/tools"
    );
}

fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_tree(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(name, std::fs::read(&path).unwrap());
        }
    }
}

#[test]
fn buf_generate_writes_the_checked_in_code() {
    let path = search_path();
    for tool in ["buf", "protoc-gen-prost", "protoc-gen-tonic"] {
        require(tool, &path);
    }
    let example = repo_root().join("examples/buf");
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new("buf")
        .env("PATH", &path)
        .env("BUF_CACHE_DIR", cache.path())
        .current_dir(&example)
        .args(["generate", "--output"])
        .arg(out.path())
        .output()
        .expect("buf runs");
    assert!(
        output.status.success(),
        "buf generate failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // `--output` is the base of buf.gen.yaml's `out: gen`.
    let written = out.path().join("gen");
    let mut generated = BTreeMap::new();
    read_tree(&written, &written, &mut generated);
    // Our plugin writes nothing for the annotation package.
    assert!(
        generated.contains_key("notes.v1.gateway.rs"),
        "{:?}",
        generated.keys()
    );
    assert!(
        !generated
            .keys()
            .any(|k| k.ends_with("meshapi.gateway.gateway.rs"))
    );

    let checked_in = example.join("gen");
    if std::env::var_os("BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&checked_in);
        for (name, content) in &generated {
            let file = checked_in.join(name);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        return;
    }
    let mut expected = BTreeMap::new();
    read_tree(&checked_in, &checked_in, &mut expected);
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "files written by buf generate vs examples/buf/gen (BLESS=1 to accept)"
    );
    for (name, content) in &generated {
        assert!(
            content == &expected[name],
            "examples/buf/gen/{name} differs from what buf generate writes (BLESS=1 to accept):\n{}",
            String::from_utf8_lossy(content)
        );
    }
}
