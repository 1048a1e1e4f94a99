//! The public API of the crate, item by item, against `tests/public_api.txt`.
//!
//! The list is read from the source with `syn`: starting at `lib.rs`, every
//! public item of the crate root and of its public modules (re-exports
//! followed to their definitions), the public fields and variants of public
//! types, their public inherent methods and the methods of public traits.
//! `__private`, the door of generated code, is listed as one line.
//!
//! A new public item, or one that disappears, fails this test: review the
//! change, then `BLESS=1 cargo test -p gateway-runtime --test public_api`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, UseTree, Visibility};

/// One module of the crate: its items.
struct Module {
    items: Vec<Item>,
}

/// Every module of the crate (test-only modules left out), by path (`""` is
/// the root, `"streaming::config"` a child of a child).
fn load(src: &Path) -> HashMap<String, Module> {
    let mut modules = HashMap::new();
    let root = syn::parse_file(&std::fs::read_to_string(src.join("lib.rs")).unwrap()).unwrap();
    add(&mut modules, String::new(), root.items, src.to_path_buf());
    modules
}

fn add(modules: &mut HashMap<String, Module>, path: String, items: Vec<Item>, dir: PathBuf) {
    for item in &items {
        let Item::Mod(m) = item else { continue };
        if is_cfg_test(&m.attrs) {
            continue;
        }
        let name = m.ident.to_string();
        let child = join(&path, &name);
        if let Some((_, inline)) = &m.content {
            add(modules, child, inline.clone(), dir.join(&name));
            continue;
        }
        let (file, child_dir) = if dir.join(format!("{name}.rs")).exists() {
            (dir.join(format!("{name}.rs")), dir.join(&name))
        } else {
            (dir.join(&name).join("mod.rs"), dir.join(&name))
        };
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        add(modules, child, parsed.items, child_dir);
    }
    modules.insert(path, Module { items });
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}::{name}")
    }
}

fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.meta.to_token_stream().to_string().contains("test"))
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// The name and kind of an item that defines something.
fn defined(item: &Item) -> Option<(String, &'static str)> {
    let (ident, kind) = match item {
        Item::Const(i) => (&i.ident, "const"),
        Item::Enum(i) => (&i.ident, "enum"),
        Item::Fn(i) => (&i.sig.ident, "fn"),
        Item::Mod(i) => (&i.ident, "mod"),
        Item::Static(i) => (&i.ident, "static"),
        Item::Struct(i) => (&i.ident, "struct"),
        Item::Trait(i) => (&i.ident, "trait"),
        Item::Type(i) => (&i.ident, "type"),
        _ => return None,
    };
    Some((ident.to_string(), kind))
}

fn visibility(item: &Item) -> Option<&Visibility> {
    Some(match item {
        Item::Const(i) => &i.vis,
        Item::Enum(i) => &i.vis,
        Item::Fn(i) => &i.vis,
        Item::Mod(i) => &i.vis,
        Item::Static(i) => &i.vis,
        Item::Struct(i) => &i.vis,
        Item::Trait(i) => &i.vis,
        Item::Type(i) => &i.vis,
        Item::Use(i) => &i.vis,
        _ => return None,
    })
}

/// The `use` leaves of a tree: (name it is known by, path it names).
fn leaves(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push((n.ident.to_string(), path));
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((r.rename.to_string(), path));
        }
        UseTree::Group(g) => {
            for t in &g.items {
                leaves(t, prefix, out);
            }
        }
        UseTree::Glob(_) => panic!("glob re-export in the public API: list the items"),
    }
}

struct Api<'a> {
    modules: &'a HashMap<String, Module>,
    lines: BTreeSet<String>,
}

impl<'a> Api<'a> {
    /// Finds where `name`, seen from module `module`, is defined: (module
    /// path, item).
    fn resolve(&self, module: &str, path: &[String]) -> Option<(String, &'a Item)> {
        let (first, rest) = path.split_first()?;
        let base = match first.as_str() {
            "crate" => String::new(),
            "self" => module.to_string(),
            "super" => module
                .rsplit_once("::")
                .map_or(String::new(), |(p, _)| p.into()),
            _ => {
                return self.lookup(module, path);
            }
        };
        if rest.is_empty() {
            return None;
        }
        self.lookup(&base, rest)
    }

    /// Looks `path` up relative to `module`, following `use` declarations.
    fn lookup(&self, module: &str, path: &[String]) -> Option<(String, &'a Item)> {
        let modules: &'a HashMap<String, Module> = self.modules;
        let m = modules.get(module)?;
        let (first, rest) = path.split_first()?;
        if !rest.is_empty() {
            let child = join(module, first);
            if self.modules.contains_key(&child) {
                return self.lookup(&child, rest);
            }
        }
        for item in &m.items {
            if let Some((name, _)) = defined(item)
                && &name == first
                && rest.is_empty()
            {
                return Some((module.to_string(), item));
            }
        }
        for item in &m.items {
            let Item::Use(u) = item else { continue };
            let mut found = Vec::new();
            leaves(&u.tree, &mut Vec::new(), &mut found);
            for (name, target) in found {
                if &name == first {
                    let mut full = target.clone();
                    full.extend(rest.iter().cloned());
                    return self.resolve(module, &full);
                }
            }
        }
        None
    }

    /// Lists the public items of module `module`, known publicly as `public`.
    fn module(&mut self, module: &str, public: &str) {
        let modules: &'a HashMap<String, Module> = self.modules;
        let items = &modules[module].items;
        for item in items {
            if !visibility(item).is_some_and(is_pub) {
                if let Item::Macro(m) = item
                    && m.attrs.iter().any(|a| a.path().is_ident("macro_export"))
                {
                    let name = m.ident.as_ref().unwrap();
                    self.lines.insert(format!("macro gateway_runtime::{name}!"));
                }
                continue;
            }
            if let Item::Use(u) = item {
                let mut found = Vec::new();
                leaves(&u.tree, &mut Vec::new(), &mut found);
                for (name, target) in found {
                    let full = format!("{public}::{name}");
                    let (at, def) = self
                        .resolve(module, &target)
                        .unwrap_or_else(|| panic!("cannot resolve {target:?} in {module:?}"));
                    self.item(&at, def, &full);
                }
                continue;
            }
            let (name, _) = defined(item).unwrap();
            self.item(module, item, &format!("{public}::{name}"));
        }
    }

    /// Lists one public item (and what it makes public) as `full`.
    fn item(&mut self, module: &str, item: &Item, full: &str) {
        let (name, kind) = defined(item).unwrap();
        if let Item::Mod(m) = item {
            if m.attrs.iter().any(|a| {
                a.path().is_ident("doc") && a.meta.to_token_stream().to_string().contains("hidden")
            }) {
                self.lines
                    .insert(format!("mod {full} (hidden: the door of generated code)"));
                return;
            }
            self.lines.insert(format!("mod {full}"));
            self.module(&join(module, &name), full);
            return;
        }
        self.lines.insert(format!("{kind} {full}"));
        match item {
            Item::Struct(s) => {
                for field in &s.fields {
                    if is_pub(&field.vis)
                        && let Some(ident) = &field.ident
                    {
                        self.lines.insert(format!("field {full}::{ident}"));
                    }
                }
                self.methods(&name, full);
            }
            Item::Enum(e) => {
                for variant in &e.variants {
                    self.lines
                        .insert(format!("variant {full}::{}", variant.ident));
                }
                self.methods(&name, full);
            }
            Item::Trait(t) => {
                for inner in &t.items {
                    if let syn::TraitItem::Fn(f) = inner {
                        self.lines.insert(format!("method {full}::{}", f.sig.ident));
                    }
                }
            }
            _ => {}
        }
    }

    /// Public inherent methods and associated consts of the type `name`,
    /// wherever in the crate its `impl` blocks are.
    fn methods(&mut self, name: &str, full: &str) {
        let modules: &'a HashMap<String, Module> = self.modules;
        for m in modules.values() {
            for item in &m.items {
                let Item::Impl(imp) = item else { continue };
                if imp.trait_.is_some() {
                    continue;
                }
                let syn::Type::Path(ty) = &*imp.self_ty else {
                    continue;
                };
                if ty.path.segments.last().is_none_or(|s| s.ident != name) {
                    continue;
                }
                for inner in &imp.items {
                    match inner {
                        ImplItem::Fn(f) if is_pub(&f.vis) => {
                            self.lines.insert(format!("method {full}::{}", f.sig.ident));
                        }
                        ImplItem::Const(c) if is_pub(&c.vis) => {
                            self.lines.insert(format!("const {full}::{}", c.ident));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[test]
fn public_api_is_the_listed_one() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = load(&crate_dir.join("src"));
    let mut api = Api {
        modules: &modules,
        lines: BTreeSet::new(),
    };
    api.module("", "gateway_runtime");
    let mut listed = String::new();
    for line in &api.lines {
        listed.push_str(line);
        listed.push('\n');
    }
    let snapshot = crate_dir.join("tests/public_api.txt");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&snapshot, &listed).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
    if listed != expected {
        let old: BTreeSet<&str> = expected.lines().collect();
        let new: BTreeSet<&str> = listed.lines().collect();
        let added: Vec<_> = new.difference(&old).collect();
        let removed: Vec<_> = old.difference(&new).collect();
        panic!(
            "the public API changed (review, then BLESS=1 to accept)\nadded: {added:#?}\nremoved: {removed:#?}"
        );
    }
}
