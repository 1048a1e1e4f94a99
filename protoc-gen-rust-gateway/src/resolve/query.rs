//! Query parameters: explicit `query_params` entries and discovery of
//! every other bindable field under its proto and JSON spellings.

use std::collections::HashSet;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

use super::binding::resolve_field_path;
use crate::diagnostic::{Diagnostics, Location};
use crate::model::{BodyModel, FieldPath, PathParam, QueryParam, QueryShape, WellKnown};
use crate::spec::BindingSpec;

/// Deepest message nesting explored when discovering query parameters.
pub(super) const MAX_QUERY_DEPTH: usize = 8;

/// How a field can appear in the query string, if it can.
pub(super) fn query_shape(field: &FieldDescriptor) -> Option<QueryShape> {
    if field.is_map() {
        let value = field.kind().as_message()?.map_entry_value_field();
        return (!matches!(value.kind(), Kind::Message(_))).then_some(QueryShape::Map);
    }
    let leaf = match field.kind() {
        Kind::Message(m) => WellKnown::of(&m).is_some_and(|w| w.is_query_leaf()),
        _ => true,
    };
    if !leaf {
        return None;
    }
    Some(if field.is_list() {
        QueryShape::Repeated
    } else {
        QueryShape::Single
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn resolve_query(
    input: &MessageDescriptor,
    spec: &BindingSpec,
    path_params: &[PathParam],
    body: &BodyModel,
    what: &str,
    diags: &mut Diagnostics,
    location: Option<&Location>,
) -> Vec<QueryParam> {
    let bound_elsewhere = |field: &FieldPath| -> Option<String> {
        if let Some(p) = path_params.iter().find(|p| p.field.overlaps(field)) {
            return Some(format!("the path variable `{}`", p.field));
        }
        match body {
            BodyModel::Whole => Some("the body (`*`)".into()),
            BodyModel::Field(b) if b.overlaps(field) => Some(format!("the body `{b}`")),
            _ => None,
        }
    };

    let mut explicit: Vec<QueryParam> = Vec::new();
    let mut ignored: Vec<FieldPath> = Vec::new();
    for q in &spec.query_params {
        let selector = q.selector.as_deref().unwrap_or("");
        if selector.is_empty() {
            diags.error(
                location.cloned(),
                format!("{what}: a `query_params` entry has no `selector`"),
            );
            continue;
        }
        let field = match resolve_field_path(input, selector) {
            Ok(f) => f,
            Err(e) => {
                diags.error(
                    location.cloned(),
                    format!("{what}: query parameter `{selector}`: {e}"),
                );
                continue;
            }
        };
        if q.ignore.unwrap_or(false) {
            ignored.push(field);
            continue;
        }
        let name = q.name.as_deref().unwrap_or("");
        if name.is_empty() {
            diags.error(
                location.cloned(),
                format!("{what}: query parameter `{selector}` needs a `name` (or `ignore: true`)"),
            );
            continue;
        }
        if let Some(other) = bound_elsewhere(&field) {
            diags.error(
                location.cloned(),
                format!("{what}: query parameter `{name}` names field `{field}`, which is already bound by {other}"),
            );
            continue;
        }
        let Some(shape) = query_shape(field.leaf()) else {
            diags.error(
                location.cloned(),
                format!(
                    "{what}: query parameter `{name}` names field `{field}`, which cannot be written in a query string (messages other than well-known types, repeated messages and maps of messages cannot)"
                ),
            );
            continue;
        };
        // A name bound twice: the later entry wins. A field bound under
        // several names: every name sets it (the later in the query wins).
        for p in explicit.iter_mut() {
            p.names.retain(|n| n != name);
        }
        explicit.retain(|p| !p.names.is_empty());
        match explicit.iter_mut().find(|p| p.field == field) {
            Some(p) => p.names.push(name.to_string()),
            None => explicit.push(QueryParam {
                field,
                shape,
                names: vec![name.to_string()],
                explicit: true,
            }),
        }
    }

    let mut params = explicit;
    if matches!(body, BodyModel::Whole) || spec.disable_query_param_discovery {
        return params;
    }
    let mut discovered = Vec::new();
    let mut stack = vec![input.full_name().to_string()];
    discover(input, &mut Vec::new(), &mut stack, &mut discovered);
    let mut taken: HashSet<String> = params.iter().flat_map(|p| p.names.clone()).collect();
    for field in discovered {
        if bound_elsewhere(&field).is_some() || ignored.iter().any(|i| field.starts_with(i)) {
            continue;
        }
        if let Some(aliased) = params.iter_mut().find(|p| p.field == field) {
            // The Go gateway blocks only an aliased field's proto-name path:
            // its other spellings (`displayName` for `display_name`) still
            // bind it. Each is one more name of the explicit entry.
            let proto_path = field.proto_path();
            for name in spellings(&field) {
                if name != proto_path && taken.insert(name.clone()) {
                    aliased.names.push(name);
                }
            }
            continue;
        }
        let Some(shape) = query_shape(field.leaf()) else {
            continue;
        };
        let names: Vec<String> = spellings(&field)
            .into_iter()
            .filter(|n| !taken.contains(n))
            .collect();
        if names.is_empty() {
            continue;
        }
        params.push(QueryParam {
            field,
            shape,
            names,
            explicit: false,
        });
    }
    params
}

/// Collects every query-bindable leaf under `message`.
pub(super) fn discover(
    message: &MessageDescriptor,
    prefix: &mut Vec<FieldDescriptor>,
    stack: &mut Vec<String>,
    out: &mut Vec<FieldPath>,
) {
    for field in message.fields() {
        prefix.push(field.clone());
        match field.kind() {
            Kind::Message(m)
                if !field.is_list() && !field.is_map() && WellKnown::of(&m).is_none() =>
            {
                // Recurse, but never into a type already on the path
                // (recursive messages) and not deeper than a sane limit.
                if !stack.iter().any(|s| s == m.full_name()) && prefix.len() < MAX_QUERY_DEPTH {
                    stack.push(m.full_name().to_string());
                    discover(&m, prefix, stack, out);
                    stack.pop();
                }
            }
            _ => {
                if query_shape(&field).is_some() {
                    out.push(FieldPath(prefix.clone()));
                }
            }
        }
        prefix.pop();
    }
}

/// Every spelling of a dotted path where each segment may be its proto name
/// or its JSON name; capped, falling back to all-proto and all-JSON.
pub(super) fn spellings(field: &FieldPath) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for (i, f) in field.0.iter().enumerate() {
        let variants: Vec<&str> = if f.name() == f.json_name() {
            vec![f.name()]
        } else {
            vec![f.name(), f.json_name()]
        };
        let mut next = Vec::new();
        for prefix in &out {
            for v in &variants {
                next.push(if i == 0 {
                    (*v).to_string()
                } else {
                    format!("{prefix}.{v}")
                });
            }
        }
        out = next;
        if out.len() > 16 {
            let mut capped = vec![field.proto_path(), field.json_path()];
            capped.dedup();
            return capped;
        }
    }
    out
}
