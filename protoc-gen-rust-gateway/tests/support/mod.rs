//! Runs the real plugin binary under a real (vendored) protoc.

#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The plugin binary Cargo built for this test.
pub fn plugin_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_protoc-gen-rust-gateway"))
}

/// What a protoc run produced.
#[derive(Debug)]
pub struct ProtocRun {
    pub success: bool,
    pub stderr: String,
    /// Generated files, (relative name, content), sorted by name.
    pub files: Vec<(String, String)>,
}

/// Runs `protoc --rust-gateway_out` in `cwd` on `files`, with the repo's
/// `proto/` and the Google includes on the include path, plus `includes`.
pub fn run_protoc(cwd: &Path, includes: &[&Path], files: &[&str], opt: &str) -> ProtocRun {
    let out = tempfile::tempdir().unwrap();
    let protoc = protoc_bin_vendored::protoc_bin_path().unwrap();
    let mut cmd = Command::new(protoc);
    cmd.current_dir(cwd)
        .arg(format!(
            "--plugin=protoc-gen-rust-gateway={}",
            plugin_binary().display()
        ))
        .arg(format!("--rust-gateway_out={}", out.path().display()));
    if !opt.is_empty() {
        cmd.arg(format!("--rust-gateway_opt={opt}"));
    }
    for include in includes {
        cmd.arg(format!("-I{}", include.display()));
    }
    cmd.arg(format!("-I{}", repo_root().join("proto").display()));
    cmd.arg(format!(
        "-I{}",
        protoc_bin_vendored::include_path().unwrap().display()
    ));
    cmd.args(files);
    let output = cmd.output().expect("protoc runs");
    let mut generated = Vec::new();
    collect(out.path(), out.path(), &mut generated);
    generated.sort();
    ProtocRun {
        success: output.status.success(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        files: generated,
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// Compares `actual` with the golden file at `path` (relative to the repo
/// root); with `BLESS=1` in the environment, rewrites the golden file.
pub fn assert_golden(path: &str, actual: &str) {
    let path = repo_root().join(path);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden file {}; run with BLESS=1", path.display()));
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the generated output at line {} (run with BLESS=1 to accept):\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            first + 1,
            expected
                .lines()
                .skip(first.saturating_sub(3))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n"),
            actual
                .lines()
                .skip(first.saturating_sub(3))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}

/// A scratch directory with the given files written into it.
pub fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}
