//! The docs tell the truth: every code block in README.md and docs/ is
//! either a real response (checked byte for byte here, marked
//! `<!-- wire: NAME -->`) or an excerpt of a file in the repository that is
//! compiled or run by the tests.

mod common;

use std::path::{Path, PathBuf};

use common::{Backend, Env, sparse};
use gateway_runtime::Gateway;
use gateway_runtime::streaming::SseConfig;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fenced code block.
#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    lang: String,
    /// The `NAME` of a preceding `<!-- wire: NAME -->` comment.
    wire: Option<String>,
    /// A preceding `<!-- run: WHERE -->` comment: the block is run by a test
    /// elsewhere (`example`: examples/chat/tests/readme.rs; `protoc`:
    /// protoc-gen-rust-gateway/tests/docs_commands.rs).
    run: Option<String>,
    text: String,
}

fn blocks() -> Vec<Block> {
    let mut files = vec![
        root().join("README.md"),
        root().join("gateway-runtime/README.md"),
        root().join("protoc-gen-rust-gateway/README.md"),
    ];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        let mut lines = text.lines().enumerate();
        let (mut wire, mut run) = (None, None);
        while let Some((n, line)) = lines.next() {
            if let Some(rest) = line.trim().strip_prefix("<!-- wire:") {
                wire = Some(rest.trim_end_matches("-->").trim().to_string());
                continue;
            }
            if let Some(rest) = line.trim().strip_prefix("<!-- run:") {
                run = Some(rest.trim_end_matches("-->").trim().to_string());
                continue;
            }
            let Some(lang) = line.trim_start().strip_prefix("```") else {
                if !line.trim().is_empty() {
                    wire = None;
                    run = None;
                }
                continue;
            };
            let mut body = String::new();
            for (_, line) in lines.by_ref() {
                if line.trim_start().starts_with("```") {
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            out.push(Block {
                file: name.clone(),
                line: n + 1,
                lang: lang.trim().to_string(),
                wire: wire.take(),
                run: run.take(),
                text: body,
            });
        }
    }
    out
}

/// A line as compared: indentation, comment markers and trailing shell
/// comments (`cmd   # why`) removed.
fn normalize(line: &str) -> &str {
    let line = match line.find("  # ") {
        Some(i) => &line[..i],
        None => line,
    };
    let line = line.trim();
    for marker in ["//! ", "/// ", "// ", "# "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return rest.trim();
        }
    }
    for marker in ["//!", "///", "//", "#"] {
        if line == marker {
            return "";
        }
    }
    line
}

fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(normalize)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Repository files a doc excerpt may come from: everything tracked that is
/// not Markdown or generated output.
fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "docs" | "node_modules") {
                    stack.push(path);
                }
                continue;
            }
            let text_like = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "proto" | "yaml" | "yml" | "json" | "toml" | "html" | "js" | "sh")
            ) || name == "run";
            if text_like && let Ok(text) = std::fs::read_to_string(&path) {
                out.push((
                    path.strip_prefix(root()).unwrap().display().to_string(),
                    text,
                ));
            }
        }
    }
    out
}

#[test]
fn every_code_block_comes_from_a_tested_file() {
    let sources = sources();
    let normalized: Vec<(String, Vec<&str>)> =
        sources.iter().map(|(n, t)| (n.clone(), lines(t))).collect();
    let mut missing = Vec::new();
    for block in blocks()
        .iter()
        .filter(|b| b.wire.is_none() && b.run.is_none())
    {
        let wanted = lines(&block.text);
        if wanted.is_empty() {
            continue;
        }
        let appears = |wanted: &[&str]| {
            normalized
                .iter()
                .any(|(_, have)| have.windows(wanted.len()).any(|w| w == wanted))
        };
        // Shell commands are independent: each must be one a file runs
        // (`.ci/run`, a binary's documented invocation); other blocks are
        // excerpts, found as a whole.
        let found = if block.lang == "sh" {
            wanted
                .iter()
                .all(|line| appears(std::slice::from_ref(line)))
        } else {
            appears(&wanted)
        };
        if !found {
            missing.push(format!(
                "{}:{} ({})\n{}",
                block.file, block.line, block.lang, block.text
            ));
        }
    }
    let runners = ["example", "protoc"];
    for block in blocks().iter().filter(|b| b.run.is_some()) {
        let run = block.run.as_deref().unwrap_or_default();
        assert!(
            runners.contains(&run),
            "{}:{}: unknown runner `{run}`",
            block.file,
            block.line
        );
    }
    assert!(
        missing.is_empty(),
        "code blocks not found in any file of the repository:\n\n{}",
        missing.join("\n")
    );
}

/// The request behind each `<!-- wire: NAME -->` example.
async fn wire(name: &str) -> String {
    let sse = [("Accept", "text/event-stream")];
    let env = match name {
        "sse-ids" => {
            let config = SseConfig::default()
                .id_field("id")
                .event_field("kind")
                .retry(Some(std::time::Duration::from_millis(1500)));
            Env::start(Backend::InProcess, Gateway::builder().sse(config).build()).await
        }
        "error-details" => Env::start(Backend::InProcess, sparse()).await,
        _ => Env::start(Backend::InProcess, Gateway::default()).await,
    };
    let (method, path, body, headers): (&str, &str, Option<&str>, &[(&str, &str)]) = match name {
        "mode-unavailable" => ("GET", "/streaming/server/notifications", None, &[]),
        "sse-generate" => ("GET", "/streaming/server/generate?count=2", None, &sse),
        "sse-failure" => (
            "GET",
            "/streaming/server/generate?count=3&failAfter=1&failCode=5",
            None,
            &sse,
        ),
        "sse-ids" => (
            "GET",
            "/streaming/server/generate?count=2",
            None,
            &[("Accept", "text/event-stream"), ("Last-Event-ID", "c41")],
        ),
        "ndjson-generate" => ("GET", "/streaming/server/generate?count=2", None, &[]),
        "ndjson-failure" => (
            "GET",
            "/streaming/server/generate?count=3&failAfter=1&failCode=14",
            None,
            &[],
        ),
        "error-404" => ("GET", "/nope", None, &[]),
        "error-details" => (
            "POST",
            "/v1/fail",
            Some(r#"{"code":9,"message":"no","withDetails":true}"#),
            &[],
        ),
        other => panic!("no request is defined for wire example `{other}`"),
    };
    let (_, _, text) = env.send(method, path, body, headers).await;
    text
}

#[tokio::test]
async fn wire_examples_are_real_responses() {
    let mut wrong = Vec::new();
    for block in blocks() {
        let Some(name) = &block.wire else { continue };
        let mut actual = wire(name).await;
        // JSON bodies end without a newline; the block ends with one.
        if !actual.ends_with('\n') {
            actual.push('\n');
        }
        if actual != block.text {
            wrong.push(format!(
                "{}:{} `{name}`\n--- documented\n{}--- actual\n{}",
                block.file, block.line, block.text, actual
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
