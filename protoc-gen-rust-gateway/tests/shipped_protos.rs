//! The protos this crate ships and embeds (`proto/`: the annotation protos
//! under `meshapi/`, Google's `google/api/`) live in the crate, so that it
//! packages and builds alone; the repository's top-level `proto/` and the
//! buf example's vendored `meshapi/` must be the same files, byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir`, by path relative to `root`.
fn tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        assert!(!path.is_symlink(), "{} is a symlink", path.display());
        if path.is_dir() {
            tree(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(name, std::fs::read(&path).unwrap());
        }
    }
}

fn protos(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    tree(dir, dir, &mut out);
    out
}

#[test]
fn copies_of_the_shipped_protos_are_identical() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.parent().unwrap();
    for (ours, copy) in [
        ("proto", "proto"),
        ("proto/meshapi", "examples/buf/proto/meshapi"),
    ] {
        let ours = protos(&crate_dir.join(ours));
        assert!(!ours.is_empty());
        let theirs = protos(&root.join(copy));
        assert_eq!(
            theirs.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{copy}"
        );
        for (name, content) in &ours {
            assert!(
                &theirs[name] == content,
                "{copy}/{name} differs from the generator crate's copy: \
                 edit protoc-gen-rust-gateway/proto/ and copy it over"
            );
        }
    }
}
