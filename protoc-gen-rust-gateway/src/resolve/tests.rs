//! Unit tests of resolution: selectors, query discovery, aliases.

use super::query::resolve_query;
use super::*;
use crate::config::RawQueryParam;
use crate::model::{BodyModel, PathParam, QueryShape};

/// A pool from proto source, compiled in-process with protox.
fn pool(source: &str) -> DescriptorPool {
    struct One(String);
    impl protox::file::FileResolver for One {
        fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
            if name == "t.proto" {
                protox::file::File::from_source(name, &self.0)
            } else {
                Err(protox::Error::file_not_found(name))
            }
        }
    }
    let mut resolver = protox::file::ChainFileResolver::new();
    resolver.add(One(source.to_string()));
    resolver.add(protox::file::GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler.open_file("t.proto").unwrap();
    compiler.descriptor_pool()
}

const PROTO: &str = r#"
    syntax = "proto3";
    package t;
    import "google/protobuf/timestamp.proto";
    message Inner { string a = 1; int32 b_count = 2; Inner again = 3; repeated string tags = 4; }
    message Req {
      string name = 1;
      Inner inner = 2;
      map<string, int32> counts = 3;
      map<string, Inner> inners = 4;
      repeated Inner list = 5;
      google.protobuf.Timestamp at = 6;
      oneof pick { string x = 7; Inner y = 8; }
    }
"#;

fn spec(params: &[(&str, Option<&str>, bool)], discovery_off: bool) -> BindingSpec {
    BindingSpec {
        family: spec::Family::Meshapi,
        method: HttpMethod::Get,
        path: "/x".into(),
        body: String::new(),
        response_body: String::new(),
        query_params: params
            .iter()
            .map(|(selector, name, ignore)| RawQueryParam {
                selector: Some(selector.to_string()),
                name: name.map(str::to_string),
                ignore: Some(*ignore),
            })
            .collect(),
        disable_query_param_discovery: discovery_off,
        stream: Default::default(),
        location: None,
    }
}

/// Query parameters of a GET binding; `body` is `""`, `"*"` or a field.
fn query(
    params: &[(&str, Option<&str>, bool)],
    discovery_off: bool,
    path: &[&str],
    body: &str,
) -> Vec<String> {
    let pool = pool(PROTO);
    let req = pool.get_message_by_name("t.Req").unwrap();
    let body = &match body {
        "" => BodyModel::None,
        "*" => BodyModel::Whole,
        field => BodyModel::Field(resolve_field_path(&req, field).unwrap()),
    };
    let path_params: Vec<PathParam> = path
        .iter()
        .enumerate()
        .map(|(i, p)| PathParam {
            field: resolve_field_path(&req, p).unwrap(),
            capture: i,
            multi_segment: false,
        })
        .collect();
    let mut diags = Diagnostics::default();
    let q = resolve_query(
        &req,
        &spec(params, discovery_off),
        &path_params,
        body,
        "b",
        &mut diags,
        None,
    );
    assert!(!diags.has_errors(), "{}", diags.render_errors());
    q.iter()
        .map(|p| {
            format!(
                "{}={}{}",
                p.field,
                p.names.join("|"),
                if p.shape == QueryShape::Map {
                    "[map]"
                } else if p.shape == QueryShape::Repeated {
                    "[]"
                } else {
                    ""
                }
            )
        })
        .collect()
}

#[test]
fn selectors_resolve_through_singular_messages_only() {
    let pool = pool(PROTO);
    let req = pool.get_message_by_name("t.Req").unwrap();
    assert_eq!(
        resolve_field_path(&req, "inner.again.b_count")
            .unwrap()
            .proto_path(),
        "inner.again.b_count"
    );
    assert_eq!(
        resolve_field_path(&req, "inner.again.b_count")
            .unwrap()
            .json_path(),
        "inner.again.bCount"
    );
    let err = |s: &str| resolve_field_path(&req, s).unwrap_err();
    assert_eq!(err("nope"), "message `t.Req` has no field `nope`");
    assert_eq!(
        err("inner.bCount"),
        "message `t.Inner` has no field `bCount`; did you mean `b_count` (field selectors use proto names)?"
    );
    assert!(err("list.a").contains("`list` in `list.a` is not a singular message field"));
    assert!(err("counts.a").contains("not a singular message field"));
    assert_eq!(resolve_field_path(&req, "y.a").unwrap().proto_path(), "y.a");
    assert!(
        resolve_response_field_path(&req, "y.a")
            .unwrap_err()
            .contains("is a member of oneof `pick`")
    );
    assert!(err("inner..a").contains("not a valid field path"));
}

#[test]
fn discovery_recurses_lists_repeated_and_maps_and_stops_at_cycles() {
    assert_eq!(
        query(&[], false, &[], ""),
        [
            "name=name",
            "inner.a=inner.a",
            "inner.b_count=inner.b_count|inner.bCount",
            "inner.tags=inner.tags[]",
            "counts=counts[map]",
            "at=at",
            "x=x",
            // Through the oneof member `y`, and not into `y.again`
            // (Inner is already on the path).
            "y.a=y.a",
            "y.b_count=y.b_count|y.bCount",
            "y.tags=y.tags[]",
        ]
    );
}

#[test]
fn path_and_body_fields_are_not_query_parameters() {
    assert_eq!(
        query(&[], false, &["name"], "inner"),
        [
            "counts=counts[map]",
            "at=at",
            "x=x",
            "y.a=y.a",
            "y.b_count=y.b_count|y.bCount",
            "y.tags=y.tags[]"
        ]
    );
    // A body field inside the oneof member takes the member's fields.
    assert_eq!(
        query(&[], false, &["name"], "y"),
        [
            "inner.a=inner.a",
            "inner.b_count=inner.b_count|inner.bCount",
            "inner.tags=inner.tags[]",
            "counts=counts[map]",
            "at=at",
            "x=x"
        ]
    );
    assert!(query(&[], false, &[], "*").is_empty());
}

#[test]
fn aliases_ignores_and_precedence() {
    // Two names for one field; a name reused for another field: the later wins.
    let q = query(
        &[
            ("name", Some("n"), false),
            ("name", Some("nm"), false),
            ("inner.a", Some("nm"), false),
            ("inner", None, true),
        ],
        false,
        &[],
        "",
    );
    assert_eq!(
        q,
        [
            "name=n",
            "inner.a=nm",
            "counts=counts[map]",
            "at=at",
            "x=x",
            "y.a=y.a",
            "y.b_count=y.b_count|y.bCount",
            "y.tags=y.tags[]"
        ]
    );
    // Discovery off: only explicit names.
    assert_eq!(
        query(&[("at", Some("when"), false)], true, &[], ""),
        ["at=when"]
    );
    assert!(query(&[], true, &[], "").is_empty());
}

#[test]
fn an_aliased_field_still_binds_by_its_json_name_as_in_go() {
    let q = query(&[("y.b_count", Some("bc"), false)], false, &[], "");
    assert!(q.contains(&"y.b_count=bc|y.bCount".to_string()), "{q:?}");
    assert!(!q.iter().any(|p| p.contains("y.b_count|")), "{q:?}");
    // Ignored: no spelling binds it (the Go gateway still binds the JSON
    // name; docs/migrating.md lists the difference).
    let q = query(&[("y.b_count", None, true)], false, &[], "");
    assert!(!q.iter().any(|p| p.starts_with("y.b_count")), "{q:?}");
    // Discovery off: the alias only.
    assert_eq!(
        query(&[("y.b_count", Some("bc"), false)], true, &[], ""),
        ["y.b_count=bc"]
    );
    // A JSON spelling another alias took stays with that alias.
    let q = query(
        &[
            ("y.b_count", Some("bc"), false),
            ("x", Some("y.bCount"), false),
        ],
        false,
        &[],
        "",
    );
    assert!(q.contains(&"y.b_count=bc".to_string()), "{q:?}");
    assert!(q.contains(&"x=y.bCount".to_string()), "{q:?}");
}

#[test]
fn a_discovered_name_taken_by_an_alias_goes_to_the_alias() {
    let q = query(&[("inner.a", Some("name"), false)], false, &[], "");
    assert_eq!(q[0], "inner.a=name");
    assert!(!q.iter().any(|p| p.starts_with("name=")), "{q:?}");
}
