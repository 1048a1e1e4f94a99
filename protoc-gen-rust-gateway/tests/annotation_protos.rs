//! The annotation protos live in this crate (`proto/meshapi/gateway/`), so
//! that it packages and builds alone; the repository's top-level `proto/`
//! and the buf example's vendored copy must be the same files, byte for
//! byte.

use std::collections::BTreeMap;
use std::path::Path;

fn protos(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            assert!(!path.is_symlink(), "{} is a symlink", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

#[test]
fn copies_of_the_annotation_protos_are_identical() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.parent().unwrap();
    let ours = protos(&crate_dir.join("proto/meshapi/gateway"));
    let names: Vec<&str> = ours.keys().map(String::as_str).collect();
    assert_eq!(names, ["annotations.proto", "gateway.proto"]);
    for copy in [
        "proto/meshapi/gateway",
        "examples/buf/proto/meshapi/gateway",
    ] {
        let theirs = protos(&root.join(copy));
        assert_eq!(
            theirs.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{copy}"
        );
        for (name, content) in &ours {
            assert!(
                &theirs[name] == content,
                "{copy}/{name} differs from protoc-gen-rust-gateway/proto/meshapi/gateway/{name}: \
                 edit the crate's copy and copy it over"
            );
        }
    }
}
