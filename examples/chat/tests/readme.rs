//! The `<!-- run: example -->` shell blocks of README.md and docs/ run
//! against the example, as a reader would run them.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Backend, Server};

/// Shell blocks marked `<!-- run: example -->`, with where they are.
fn blocks() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut marked = false;
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "<!-- run: example -->" {
                marked = true;
            } else if marked && line.trim_start().starts_with("```") {
                let block: Vec<&str> = lines
                    .by_ref()
                    .take_while(|l| !l.trim_start().starts_with("```"))
                    .collect();
                out.push((path.display().to_string(), block.join("\n")));
                marked = false;
            } else if !line.trim().is_empty() {
                marked = false;
            }
        }
    }
    out
}

#[tokio::test]
async fn documented_curl_commands_work() {
    let server = Server::start(Backend::InProcess).await;
    let blocks = blocks();
    assert!(
        !blocks.is_empty(),
        "README.md has no `<!-- run: example -->` block"
    );
    for (file, block) in blocks {
        let script = block.replace("127.0.0.1:8080", &server.http.to_string());
        let output = tokio::task::spawn_blocking(move || {
            Command::new("sh").arg("-ec").arg(&script).output()
        })
        .await
        .unwrap()
        .expect("sh runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{file}:\n{block}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !stdout.contains(r#""code":"#),
            "an error body:\n{file}:\n{block}\n{stdout}"
        );
        if file.ends_with("README.md") {
            // Each command shows the posted message: the POST's reply, the
            // room's recent messages, and the replayed event.
            assert_eq!(
                stdout.matches(r#""text":"hello""#).count(),
                3,
                "{file}:\n{block}\n{stdout}"
            );
            assert!(stdout.contains("data: {\"id\":\"1\""), "{stdout}");
            assert!(
                stdout.ends_with("id: EOS\nevent: EOS\ndata: \n\n"),
                "{stdout}"
            );
        } else {
            assert!(!stdout.is_empty(), "{file}:\n{block}");
        }
    }
}
