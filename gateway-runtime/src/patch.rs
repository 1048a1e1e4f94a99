//! PATCH with `update_mask`: when the client sent no mask, the mask is the
//! set of fields present in the JSON body (proto names; nested objects are
//! followed into singular message fields; repeated fields, maps and
//! well-known types end a path).

use prost_types::value::Kind;

use crate::bind::BindContext;
use crate::error::GatewayError;

/// One field of a message, as the generated code describes it.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo {
    /// lowerCamelCase JSON name.
    pub json: &'static str,
    /// Proto field name, used in the mask.
    pub proto: &'static str,
    /// Fields of the nested message, for singular message fields.
    pub nested: Option<fn() -> &'static [FieldInfo]>,
}

/// The mask of the fields present in the request body.
pub fn field_mask_from_body(
    cx: &BindContext<'_>,
    fields: &'static [FieldInfo],
) -> Result<prost_types::FieldMask, GatewayError> {
    let mut paths = Vec::new();
    if !cx.body().iter().all(u8::is_ascii_whitespace) {
        let value: prost_types::Value = crate::json::from_slice(cx.body(), cx.json_options())
            .map_err(GatewayError::InvalidBody)?;
        if let Some(Kind::StructValue(object)) = &value.kind {
            collect(object, fields, "", &mut paths);
        }
    }
    // JSON objects are unordered; a sorted mask is deterministic.
    paths.sort();
    Ok(prost_types::FieldMask { paths })
}

fn collect(
    object: &prost_types::Struct,
    fields: &'static [FieldInfo],
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in &object.fields {
        let Some(field) = fields.iter().find(|f| f.json == key || f.proto == key) else {
            continue;
        };
        let path = if prefix.is_empty() {
            field.proto.to_string()
        } else {
            format!("{prefix}.{}", field.proto)
        };
        match (&value.kind, field.nested) {
            (Some(Kind::StructValue(inner)), Some(nested)) => collect(inner, nested(), &path, out),
            _ => out.push(path),
        }
    }
}
