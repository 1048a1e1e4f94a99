//! The `JsonMessage` impls of common messages written straight as text, in
//! the layout prettyplease gives the tokens of [`super::json::message_impl`].
//!
//! These impls are two thirds of a large generated file, and parsing their
//! tokens back with syn was most of the generator's time. Their shape is
//! fixed: one runtime call per field. So for messages whose fields all take
//! such a call (no oneof, `NullValue`, `Value` or `HttpBody` field, which
//! need several statements) the text is written here, with prettyplease's
//! rules for these few constructs: a line stays whole up to [`MARGIN`]
//! columns; a call that does not fit breaks its turbofish first, then its
//! arguments, one per line with a trailing comma. Anything else (a message
//! of another shape, a line that would still be too long, such as an enum
//! closure that prettyplease would break inside) returns `None` and goes
//! through tokens and prettyplease as before; a test compares both ways
//! over fields of every shape and many name lengths.

use proc_macro2::{TokenStream, TokenTree};
use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

use super::fields::{Scope, Shape, ValueKind, encoded_keys, field_ident, proto_name, real_oneof};
use crate::resolve::is_http_body;

/// prettyplease's line width: a line of up to this many columns is kept
/// whole (at the indentation levels used here; deeper than 29 columns
/// prettyplease allows more).
const MARGIN: usize = 89;

/// The impl of `message` inside the package's const block (indented by
/// four), as prettyplease prints it, or `None` when the message needs the
/// token path.
pub fn message_impl(scope: Scope<'_>, message: &MessageDescriptor) -> Option<String> {
    if message.fields().len() == 0 {
        return None;
    }
    let path = path_text(scope.type_path(message.full_name()))?;
    let mut out = Lines::default();
    out.line(4, format_args!("impl __gw::JsonMessage for {path} {{"))?;
    out.line(
        8,
        format_args!(
            "const FULL_NAME: &'static str = {};",
            proc_macro2::Literal::string(message.full_name())
        ),
    )?;
    out.push("        fn write_json(&self, w: &mut __gw::JsonWriter) {\n");
    out.push("            w.begin_object();\n");
    for field in message.fields() {
        let call = write_call(scope, &field)?;
        out.call(12, &call, ";")?;
    }
    out.push(concat!(
        "            w.end_object();\n",
        "        }\n",
        "        fn merge_json(\n",
        "            &mut self,\n",
        "            r: &mut __gw::JsonReader<'_>,\n",
        "        ) -> ::core::result::Result<(), __gw::JsonError> {\n",
        "            r.object(|r, key| {\n",
        "                match key {\n",
    ));
    for field in message.fields() {
        let json = proc_macro2::Literal::string(field.json_name()).to_string();
        let proto = proc_macro2::Literal::string(&proto_name(&field)).to_string();
        if json == proto {
            out.line(20, format_args!("{json} => {{"))?;
        } else {
            out.line(20, format_args!("{json} | {proto} => {{"))?;
        }
        let call = merge_call(scope, &field)?;
        out.call(24, &call, "?;")?;
        out.push("                    }\n");
    }
    out.push(concat!(
        "                    _ => return ::core::result::Result::Ok(false),\n",
        "                }\n",
        "                ::core::result::Result::Ok(true)\n",
        "            })\n",
        "        }\n",
        "    }\n",
    ));
    Some(out.0)
}

/// A call to a runtime function of `__gw::field`.
struct Call {
    /// The function's name.
    function: &'static str,
    /// The turbofish's arguments (none: no turbofish).
    generics: Vec<String>,
    /// The call's arguments.
    args: Vec<String>,
}

/// The `write_json` call of a field, as [`super::fields::write_field`]
/// writes it, for the shapes that are a single call with plain arguments.
fn write_call(scope: Scope<'_>, field: &FieldDescriptor) -> Option<Call> {
    if real_oneof(field).is_some() {
        return None;
    }
    let name = field_ident(field).to_string();
    let place = format!("&self.{name}");
    let proto2 = field.parent_file().syntax() == prost_reflect::Syntax::Proto2;
    let enum_name = |e: &EnumDescriptor| {
        let path = path_text(scope.type_path(e.full_name()))?;
        Some(format!(
            "|v| {path}::try_from(v).ok().map(|e| e.as_str_name())"
        ))
    };
    let with_name = |function, value: String, e: &EnumDescriptor| {
        Some((function, vec![], vec![value, enum_name(e)?]))
    };
    let (function, generics, last) = match Shape::of(field) {
        Shape::Plain(ValueKind::Enum(e)) => with_name("write_enum", format!("self.{name}"), &e)?,
        Shape::Required(ValueKind::Enum(e)) => {
            with_name("write_enum_required", format!("self.{name}"), &e)?
        }
        Shape::Optional(ValueKind::Enum(e)) if proto2 => {
            with_name("write_proto2_enum_optional", format!("self.{name}"), &e)?
        }
        Shape::Optional(ValueKind::Enum(e)) => {
            with_name("write_enum_optional", format!("self.{name}"), &e)?
        }
        Shape::Repeated(ValueKind::Enum(e)) => with_name("write_enum_list", place, &e)?,
        Shape::Map(_, ValueKind::Enum(e)) => {
            with_name("write_enum_map", format!("self.{name}.iter()"), &e)?
        }
        Shape::Plain(ValueKind::NullValue)
        | Shape::Required(ValueKind::NullValue)
        | Shape::OneofMember(..) => return None,
        Shape::Required(ValueKind::Message(m)) => (
            "write_message_required",
            vec![path_text(scope.type_path(m.full_name()))?, "_".into()],
            vec![place],
        ),
        Shape::Required(_) => ("write_required", vec![], vec![place]),
        Shape::Plain(_) => ("write_plain", vec![], vec![place]),
        Shape::Optional(_) if matches!(field.kind(), Kind::Message(_)) => {
            ("write_wrapper", vec![], vec![place])
        }
        Shape::Optional(_) if proto2 => ("write_proto2_optional", vec![], vec![place]),
        Shape::Optional(_) => ("write_optional", vec![], vec![place]),
        Shape::Message(m) if is_http_body(&m) => return None,
        Shape::Message(m) => (
            "write_message",
            vec![path_text(scope.type_path(m.full_name()))?, "_".into()],
            vec![format!("self.{name}.as_ref()")],
        ),
        Shape::Repeated(_) => ("write_list", vec![], vec![place]),
        Shape::Map(..) => ("write_map", vec![], vec![format!("self.{name}.iter()")]),
    };
    let (json, proto) = encoded_keys(field);
    let mut args = vec!["w".into(), json.to_string(), proto.to_string()];
    args.extend(last);
    Some(Call {
        function,
        generics,
        args,
    })
}

/// The `merge_json` call of a field, as [`super::fields::merge_field`]
/// writes it, for the shapes that are a single call.
fn merge_call(scope: Scope<'_>, field: &FieldDescriptor) -> Option<Call> {
    let target = format!("&mut self.{}", field_ident(field));
    let message_path = |m: &MessageDescriptor| path_text(scope.type_path(m.full_name()));
    let enum_number = |e: &EnumDescriptor| {
        let path = path_text(scope.type_path(e.full_name()))?;
        Some(format!("|s| {path}::from_str_name(s).map(|e| e as i32)"))
    };
    let (function, generics, number) = match Shape::of(field) {
        Shape::Plain(ValueKind::Enum(e)) => ("read_enum", vec![], Some(enum_number(&e)?)),
        Shape::Required(ValueKind::Enum(e)) => {
            ("read_enum_required", vec![], Some(enum_number(&e)?))
        }
        Shape::Optional(ValueKind::Enum(e)) => {
            ("read_enum_optional", vec![], Some(enum_number(&e)?))
        }
        Shape::Repeated(ValueKind::Enum(e)) => ("read_enum_list", vec![], Some(enum_number(&e)?)),
        Shape::Map(key, ValueKind::Enum(e)) => (
            "read_enum_map",
            vec![path_text(key.rust_type())?, "_".into()],
            Some(enum_number(&e)?),
        ),
        Shape::Plain(ValueKind::NullValue)
        | Shape::Required(ValueKind::NullValue)
        | Shape::OneofMember(..) => return None,
        Shape::Plain(_) => ("read_plain", vec![], None),
        Shape::Required(ValueKind::Message(m)) if m.full_name() == "google.protobuf.Value" => {
            return None;
        }
        Shape::Required(ValueKind::Message(m)) => (
            "read_message_required",
            vec![message_path(&m)?, "_".into()],
            None,
        ),
        Shape::Required(_) => ("read_required", vec![], None),
        Shape::Optional(_) => ("read_optional", vec![], None),
        Shape::Message(m) if is_http_body(&m) => return None,
        Shape::Message(m) if m.full_name() == "google.protobuf.Value" => {
            ("read_value", vec![], None)
        }
        Shape::Message(m) => ("read_message", vec![message_path(&m)?, "_".into()], None),
        Shape::Repeated(_) => ("read_list", vec![], None),
        Shape::Map(key, _) => (
            "read_map",
            vec![path_text(key.rust_type())?, "_".into(), "_".into()],
            None,
        ),
    };
    let mut args = vec!["r".into(), target];
    args.extend(number);
    Some(Call {
        function,
        generics,
        args,
    })
}

/// A path (`super::pkg::Type`, `::std::vec::Vec<u8>`) as prettyplease
/// prints it; `None` for anything else.
fn path_text(tokens: TokenStream) -> Option<String> {
    let mut out = String::new();
    for token in tokens {
        match token {
            TokenTree::Ident(i) => out.push_str(&i.to_string()),
            TokenTree::Punct(p) if matches!(p.as_char(), ':' | '<' | '>') => out.push(p.as_char()),
            _ => return None,
        }
    }
    Some(out)
}

/// Output lines; every write checks the width, so that a line prettyplease
/// would break makes the message take the token path.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn push(&mut self, text: &str) {
        self.0.push_str(text);
    }

    /// One line at `indent`; `None` if it is wider than [`MARGIN`].
    fn line(&mut self, indent: usize, text: std::fmt::Arguments<'_>) -> Option<()> {
        use std::fmt::Write as _;
        let start = self.0.len();
        self.0.extend(std::iter::repeat_n(' ', indent));
        let _ = self.0.write_fmt(text);
        let width = self.0.len() - start;
        self.0.push('\n');
        (width <= MARGIN).then_some(())
    }

    /// `__gw::field::function::<generics>(args)` and `end`, broken as
    /// prettyplease breaks it: whole if it fits; else the turbofish one
    /// argument per line, then the call's arguments the same way if the
    /// rest still does not fit.
    fn call(&mut self, indent: usize, call: &Call, end: &str) -> Option<()> {
        let args = call.args.join(", ");
        let head = format!("__gw::field::{}", call.function);
        if call.generics.is_empty() {
            if indent + head.len() + args.len() + 2 + end.len() <= MARGIN {
                return self.line(indent, format_args!("{head}({args}){end}"));
            }
            return self.broken_args(indent, &head, call, end);
        }
        let generics = call.generics.join(", ");
        let whole = head.len() + 3 + generics.len() + 1 + args.len() + 2 + end.len();
        if indent + whole <= MARGIN {
            return self.line(indent, format_args!("{head}::<{generics}>({args}){end}"));
        }
        self.line(indent, format_args!("{head}::<"))?;
        for g in &call.generics {
            self.line(indent + 4, format_args!("{g},"))?;
        }
        if indent + 1 + args.len() + 2 + end.len() <= MARGIN {
            return self.line(indent, format_args!(">({args}){end}"));
        }
        self.broken_args(indent, ">", call, end)
    }

    fn broken_args(&mut self, indent: usize, head: &str, call: &Call, end: &str) -> Option<()> {
        self.line(indent, format_args!("{head}("))?;
        for a in &call.args {
            self.line(indent + 4, format_args!("{a},"))?;
        }
        self.line(indent, format_args!("){end}"))
    }
}

#[cfg(test)]
mod tests {
    use prost_reflect::DescriptorPool;

    use super::super::{format, impls_block, impls_text, json};
    use super::*;

    /// Proto files served to protox by name.
    struct Files(Vec<(&'static str, String)>);

    impl protox::file::FileResolver for Files {
        fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
            match self.0.iter().find(|(n, _)| *n == name) {
                Some((n, source)) => protox::file::File::from_source(n, source),
                None => Err(protox::Error::file_not_found(name)),
            }
        }
    }

    /// Messages with fields of every shape (enums of this package and of
    /// another one), with names from 1 to 75
    /// characters, so that lines fall on both sides of the margin and
    /// calls break in each of their ways; message names as long, and
    /// types from a package far away (long `super::` paths).
    fn pool() -> DescriptorPool {
        let mut a = String::from(
            "syntax = \"proto3\"; package t.v1;\n\
             import \"google/protobuf/wrappers.proto\"; import \"google/protobuf/struct.proto\";\n\
             import \"google/protobuf/timestamp.proto\"; import \"c.proto\";\n\
             enum Color { COLOR_UNSPECIFIED = 0; RED = 1; }\n\
             message Empty {}\n\
             message WithOneof { oneof choice { string text = 1; int32 number = 2; } string after = 3; }\n\
             message WithEnum { Color color = 1; repeated Color colors = 2; string name = 3; }\n\
             message WithValue { google.protobuf.Value value = 1; }\n",
        );
        let mut b = String::from(
            "syntax = \"proto2\"; package t.v1; import \"a.proto\"; import \"google/protobuf/struct.proto\";\n",
        );
        for len in (1..=75).step_by(2) {
            let n = "n".repeat(len);
            a.push_str(&format!(
                "message M{len}{n} {{\n\
                   string s_{n} = 1; int64 i_{n} = 2; bool b{n} = 3; bytes y_{n} = 4;\n\
                   repeated string r_{n} = 5; optional int32 o_{n} = 6;\n\
                   Empty e_{n} = 7; repeated Empty re_{n} = 8;\n\
                   map<string, int64> m_{n} = 9; map<int32, Empty> mm_{n} = 10;\n\
                   google.protobuf.Int32Value w_{n} = 11; google.protobuf.ListValue v_{n} = 12;\n\
                   google.protobuf.Struct st_{n} = 13; google.protobuf.Timestamp ts_{n} = 14;\n\
                   o.Thing{n} far_{n} = 15; repeated double d_{n} = 16;\n\
                   uint64 camelCase{n} = 17; M1n self_{n} = 18; float f = 19;\n\
                   string type = 20; string q_{n} = 21 [json_name = \"na\u{ef}ve\\\"{n}\"];\n\
                   Color c_{n} = 22; repeated Color rc_{n} = 23; map<string, Color> mc_{n} = 24;\n\
                   optional Color oc_{n} = 25;\n\
                 }}\n\
                 message S{len}{n} {{ o.Shade{n} far_shade_{n} = 1; Color c = 2; }}\n"
            ));
            b.push_str(&format!(
                "message P{len}{n} {{\n\
                   required string s_{n} = 1; optional int32 o_{n} = 2;\n\
                   required Empty e_{n} = 3; optional Empty oe_{n} = 4;\n\
                   required google.protobuf.ListValue v_{n} = 5;\n\
                   required Color rq_{n} = 6; optional Color op_{n} = 7;\n\
                 }}\n"
            ));
        }
        let mut c = String::from("syntax = \"proto3\"; package t.o;\n");
        for len in (1..=75).step_by(2) {
            c.push_str(&format!(
                "message Thing{} {{ string x = 1; }}\n",
                "n".repeat(len)
            ));
            c.push_str(&format!(
                "enum Shade{} {{ S{len}_X = 0; }}\n",
                "n".repeat(len)
            ));
        }
        let mut resolver = protox::file::ChainFileResolver::new();
        resolver.add(Files(vec![("a.proto", a), ("b.proto", b), ("c.proto", c)]));
        resolver.add(protox::file::GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true);
        compiler.open_files(["a.proto", "b.proto"]).unwrap();
        compiler.descriptor_pool()
    }

    #[test]
    fn text_impls_are_what_prettyplease_prints() {
        let pool = pool();
        let messages: Vec<MessageDescriptor> = pool
            .all_messages()
            .filter(|m| m.package_name() == "t.v1" && !m.is_map_entry())
            .collect();
        for package in ["t.v1", "t", "x.y.z.w"] {
            let scope = Scope { package, depth: 0 };
            let fast = impls_text(scope, &messages).unwrap();
            let tokens = messages.iter().map(|m| json::message_impl(scope, m));
            let slow = format(impls_block(tokens)).unwrap();
            if fast != slow {
                let line = fast.lines().zip(slow.lines()).position(|(a, b)| a != b);
                panic!("differs from line {line:?} in package {package}:\n{fast}");
            }
        }
    }

    #[test]
    fn both_ways_and_every_break_are_exercised() {
        let pool = pool();
        let scope = Scope {
            package: "t.v1",
            depth: 0,
        };
        let texts: Vec<String> = pool
            .all_messages()
            .filter(|m| m.package_name() == "t.v1" && !m.is_map_entry())
            .filter_map(|m| message_impl(scope, &m))
            .collect();
        let all = texts.concat();
        // Text for many messages, tokens for the oneof, `Value` and empty
        // ones and for long names.
        assert!((10..40).contains(&texts.len()), "{}", texts.len());
        assert!(
            all.contains("__gw::field::write_plain(w, r#\"\"f\":\"#, r#\"\"f\":\"#, &self.f);\n")
        );
        assert!(all.contains("            __gw::field::write_plain(\n                w,\n"));
        assert!(
            all.contains("            >(w, "),
            "turbofish broken, arguments whole"
        );
        assert!(
            all.contains("            >(\n"),
            "turbofish and arguments broken"
        );
        assert!(all.contains(")?;\n"));
        assert!(all.contains("(r, &mut self.r#type)?;"), "raw identifiers");
        assert!(
            all.contains("                |v| Color::try_from(v).ok().map(|e| e.as_str_name()),\n")
        );
        assert!(all.contains("__gw::field::read_enum_map::<"));
        assert!(
            all.contains("|s| super::o::Shade"),
            "enums of another package"
        );
        assert!(
            all.contains("(w, r#\"\"na\u{ef}ve\\\"n\":\"#, r#\"\"q_n\":\"#,"),
            "escapes of JSON names, in keys as JSON text"
        );
    }
}
