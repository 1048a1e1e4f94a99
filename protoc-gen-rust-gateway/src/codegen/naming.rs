//! Names exactly as prost and tonic derive them, so that generated code
//! refers to their items without surprises.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// prost's `to_snake`: snake case, Rust keywords as raw identifiers (or with
/// a trailing `_` where a raw identifier is not allowed).
pub fn to_snake(s: &str) -> String {
    let mut ident = s.to_snake_case();
    match ident.as_str() {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => ident.insert_str(0, "r#"),
        "_" | "super" | "self" | "crate" | "extern" => ident.push('_'),
        _ => {}
    }
    ident
}

/// prost's `to_upper_camel`.
pub fn to_upper_camel(s: &str) -> String {
    let mut ident = s.to_upper_camel_case();
    if ident == "Self" {
        ident.push('_');
    }
    ident
}

/// tonic's module naming (`FooService` → `foo_service`, `ABC` → `a_b_c`).
pub fn naive_snake_case(name: &str) -> String {
    let mut s = String::new();
    let mut it = name.chars().peekable();
    while let Some(x) = it.next() {
        s.push(x.to_ascii_lowercase());
        if let Some(y) = it.peek()
            && y.is_uppercase()
        {
            s.push('_');
        }
    }
    s
}

/// An identifier token, raw when the text starts with `r#`.
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// Text usable inside a longer identifier (`r#type` → `type`).
pub fn bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// How prost maps well-known types when it does not compile them itself.
fn extern_type(full_name: &str) -> Option<TokenStream> {
    let prost_types = quote!(__gw::prost_types);
    Some(match full_name {
        "google.protobuf.BoolValue" => quote!(bool),
        "google.protobuf.BytesValue" => quote!(::std::vec::Vec<u8>),
        "google.protobuf.DoubleValue" => quote!(f64),
        "google.protobuf.Empty" => quote!(()),
        "google.protobuf.FloatValue" => quote!(f32),
        "google.protobuf.Int32Value" => quote!(i32),
        "google.protobuf.Int64Value" => quote!(i64),
        "google.protobuf.StringValue" => quote!(::std::string::String),
        "google.protobuf.UInt32Value" => quote!(u32),
        "google.protobuf.UInt64Value" => quote!(u64),
        other => {
            let name = other.strip_prefix("google.protobuf.")?;
            let path = name
                .split('.')
                .enumerate()
                .map(|(i, part)| {
                    let last = i + 1 == name.split('.').count();
                    ident(&if last {
                        to_upper_camel(part)
                    } else {
                        to_snake(part)
                    })
                })
                .collect::<Vec<_>>();
            quote!(#prost_types #(:: #path)*)
        }
    })
}

/// The Rust path of a message or enum, relative to the module of `package`
/// nested `depth` modules deeper (prost's `resolve_ident`).
pub fn type_path(package: &str, depth: usize, full_name: &str) -> TokenStream {
    if let Some(path) = extern_type(full_name) {
        return path;
    }
    let mut target: Vec<&str> = full_name.split('.').collect();
    let name = target.pop().expect("full names are never empty");
    let name = ident(&to_upper_camel(name));
    let mut parts = relative_modules(package, depth, &target);
    parts.push(quote!(#name));
    quote!(#(#parts)::*)
}

/// Path of the module prost generates for a message's nested items
/// (`pkg.Outer` → `outer`), relative like [`type_path`].
pub fn message_module_path(package: &str, depth: usize, message_full_name: &str) -> TokenStream {
    let target: Vec<&str> = message_full_name.split('.').collect();
    let parts = relative_modules(package, depth, &target);
    quote!(#(#parts)::*)
}

/// The path segments from the module of `package` (nested `depth` modules
/// deeper) to the module of the dotted proto path `target`: a `super` per
/// module to leave, then the modules to enter, named as prost names them.
fn relative_modules(package: &str, depth: usize, target: &[&str]) -> Vec<TokenStream> {
    let local: Vec<&str> = if package.is_empty() {
        Vec::new()
    } else {
        package.split('.').collect()
    };
    let common = local.iter().zip(target).take_while(|(a, b)| a == b).count();
    let supers = (0..local.len() - common + depth).map(|_| quote!(super));
    let modules = target[common..].iter().map(|m| {
        let m = ident(&to_snake(m));
        quote!(#m)
    });
    supers.chain(modules).collect()
}

/// The output file of a package: `<package>.gateway.rs` (`_.gateway.rs`
/// without a package, as prost names `_.rs`).
pub fn output_file(package: &str) -> String {
    if package.is_empty() {
        "_.gateway.rs".to_string()
    } else {
        format!("{package}.gateway.rs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prost_and_tonic_names() {
        assert_eq!(to_snake("GetBook"), "get_book");
        assert_eq!(to_snake("type"), "r#type");
        assert_eq!(to_snake("self"), "self_");
        assert_eq!(to_upper_camel("self"), "Self_");
        assert_eq!(to_upper_camel("foo_bar"), "FooBar");
        assert_eq!(naive_snake_case("ABCServiceX"), "a_b_c_service_x");
        assert_eq!(naive_snake_case("EchoService"), "echo_service");
    }

    #[test]
    fn relative_paths() {
        let p = |pkg: &str, depth, name: &str| type_path(pkg, depth, name).to_string();
        assert_eq!(p("a.b", 0, "a.b.Msg"), "Msg");
        assert_eq!(p("a.b", 1, "a.b.Msg"), "super :: Msg");
        assert_eq!(p("a.b", 0, "a.c.Msg"), "super :: c :: Msg");
        assert_eq!(p("a.b", 0, "a.b.Outer.Inner"), "outer :: Inner");
        assert_eq!(p("", 0, "x.Msg"), "x :: Msg");
        assert_eq!(p("a", 0, "Msg"), "super :: Msg");
        assert_eq!(
            p("a", 0, "google.protobuf.Timestamp"),
            "__gw :: prost_types :: Timestamp"
        );
        assert_eq!(p("a", 0, "google.protobuf.Int32Value"), "i32");
        assert_eq!(p("a", 0, "google.protobuf.Empty"), "()");
        assert_eq!(p("a.b", 0, "a.b.type.Msg"), "r#type :: Msg");
    }
}
